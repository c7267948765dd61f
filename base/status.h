// Status: the result of an operation, ok or a failure with its kind and a message naming the cause.
#pragma once

#include <string>
#include <string_view>

namespace mda {

class Status {
 public:
  enum class Kind {
    kOk,
    kTemporary,  // a local failure that a retry may cure: I/O, disk full, permissions
    kBadInput,   // the user or administrator must fix something: usage, configuration
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Temporary(std::string message) {
    return Status(Kind::kTemporary, std::move(message));
  }
  static Status BadInput(std::string message) {
    return Status(Kind::kBadInput, std::move(message));
  }
  // "CONTEXT: strerror(err)", a temporary failure (leveldb's PosixError).
  static Status Posix(std::string_view context, int err);
  // A bad input at a place in a file, `location` "FILE:LINE:COL": message() reads
  // "FILE:LINE:COL: TEXT"; location() and text() give the two parts.
  static Status BadInputAt(std::string_view location, std::string_view text) {
    Status s(Kind::kBadInput, std::string(location) + ": " + std::string(text));
    s.location_size_ = location.size();
    return s;
  }

  bool ok() const { return kind_ == Kind::kOk; }
  Kind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // Where the failure is ("" when it is nowhere in particular), and the message without it.
  std::string_view location() const { return std::string_view(message_).substr(0, location_size_); }
  std::string_view text() const {
    return location_size_ == 0 ? std::string_view(message_)
                               : std::string_view(message_).substr(location_size_ + 2);
  }

 private:
  Status(Kind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  Kind kind_ = Kind::kOk;
  std::string message_;
  size_t location_size_ = 0;  // message_ starts with the location and ": "
};

}  // namespace mda
