// Log: lines appended to the processing log, each with one write(2).
#include "mda/log.h"

#include <errno.h>
#include <time.h>

namespace mda {

std::string LogfmtValue(std::string_view v) {
  bool plain = !v.empty();
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) plain = false;
  }
  if (plain) return std::string(v);
  std::string out = "\"";
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[5];
          snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

Status AppendLogLine(FileSystem& fs, const std::string& path, const std::string& line) {
  int fd = fs.OpenAt(AT_FDCWD, path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
  if (fd < 0) return Status::Posix("cannot open log " + path, errno);
  UniqueFd file(&fs, fd);
  std::string record = line + "\n";
  ssize_t n = fs.Write(fd, record.data(), record.size());  // one write: never interleaved
  if (n < 0) return Status::Posix("cannot write log " + path, errno);
  if (static_cast<size_t>(n) != record.size()) return Status::Temporary("short write to log " + path);
  if (file.Close() != 0) return Status::Posix("cannot close log " + path, errno);
  return Status::Ok();
}

std::string Rfc3339Now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace mda
