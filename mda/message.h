// Message: one mail message read whole from a descriptor, kept byte for byte, minus an mbox From_
// line.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "mda/fs.h"

namespace mda {

class Message {
 public:
  Message() = default;

  // Reads `fd` to end of file with read(2) into one buffer. `what` names the source in errors.
  // Any input is accepted: LF or CRLF, no final newline, NUL bytes, any size memory allows.
  static Status Read(FileSystem& fs, int fd, const std::string& what, Message* out);
  // For tests and mdatest's callers that already hold the bytes.
  static Message FromBytes(std::string_view bytes);

  // The message as it is stored: the input without a leading mbox "From " line.
  std::string_view content() const {
    return data_ ? std::string_view(data_.get() + start_, size_ - start_) : std::string_view();
  }
  // The mbox From_ line Exim's default message_prefix adds ("From sender date"), without
  // its line end; empty when the input had none.
  std::string_view from_line() const;

 private:
  void Locate();  // finds where content starts

  std::unique_ptr<char[], void (*)(void*)> data_{nullptr, &std::free};
  size_t size_ = 0;
  size_t start_ = 0;
};

// Length of the mbox From_ line at the start of `bytes` including its line end, or 0.
// "From " starts it; an (obsolete) header spelled "From :" does not.
size_t FromLineLength(std::string_view bytes);

}  // namespace mda
