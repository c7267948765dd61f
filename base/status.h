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

  bool ok() const { return kind_ == Kind::kOk; }
  Kind kind() const { return kind_; }
  const std::string& message() const { return message_; }

 private:
  Status(Kind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  Kind kind_ = Kind::kOk;
  std::string message_;
};

}  // namespace mda
