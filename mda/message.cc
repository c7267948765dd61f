// Message: one mail message read whole from a descriptor, kept byte for byte, minus an mbox From_
// line.
#include "mda/message.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <new>

#include "base/ascii.h"

namespace mda {

size_t FromLineLength(std::string_view bytes) {
  if (bytes.substr(0, 5) != "From ") return 0;
  // RFC 5322's obsolete syntax allows blanks before the colon of a header: "From : x".
  size_t i = 5;
  while (i < bytes.size() && IsBlank(bytes[i])) ++i;
  if (i < bytes.size() && bytes[i] == ':') return 0;
  size_t eol = bytes.find('\n');
  return eol == std::string_view::npos ? bytes.size() : eol + 1;
}

Status Message::Read(FileSystem& fs, int fd, const std::string& what, Message* out) {
  // Start with the file's size when it has one (a saved message), else 64 KiB, and
  // double: realloc() of large blocks is an mremap, so a 50 MB pipe costs few copies.
  size_t capacity = 64 * 1024;
  struct stat st;
  if (fs.FstatAt(fd, "", &st, AT_EMPTY_PATH) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    capacity = static_cast<size_t>(st.st_size) + 1;  // +1 sees EOF without another grow
  }
  char* buffer = static_cast<char*>(malloc(capacity));
  if (buffer == nullptr) return Status::Temporary("cannot read " + what + ": out of memory");
  size_t size = 0;
  for (;;) {
    if (size == capacity) {
      size_t grown = capacity * 2;
      char* bigger = static_cast<char*>(realloc(buffer, grown));
      if (bigger == nullptr) {
        free(buffer);
        return Status::Temporary("cannot read " + what + ": out of memory after " +
                                 std::to_string(size) + " bytes");
      }
      buffer = bigger;
      capacity = grown;
    }
    ssize_t n = fs.Read(fd, buffer + size, capacity - size);
    if (n < 0) {
      int err = errno;
      free(buffer);
      return Status::Posix("cannot read " + what, err);
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  out->data_.reset(buffer);
  out->size_ = size;
  out->Locate();
  return Status::Ok();
}

Message Message::FromBytes(std::string_view bytes) {
  Message m;
  char* buffer = static_cast<char*>(malloc(bytes.size() + 1));
  if (buffer == nullptr) throw std::bad_alloc();
  memcpy(buffer, bytes.data(), bytes.size());
  m.data_.reset(buffer);
  m.size_ = bytes.size();
  m.Locate();
  return m;
}

void Message::Locate() { start_ = FromLineLength(std::string_view(data_.get(), size_)); }

std::string_view Message::from_line() const {
  if (!data_) return {};
  std::string_view line(data_.get(), start_);
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace mda
