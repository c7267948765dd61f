// Status: the result of an operation, ok or a failure with its kind and a message naming the cause.
#include "base/status.h"

#include <string.h>

namespace mda {

Status Status::Posix(std::string_view context, int err) {
  std::string message(context);
  message += ": ";
  message += strerrordesc_np(err) ? strerrordesc_np(err) : "unknown error";
  return Status(Kind::kTemporary, std::move(message));
}

}  // namespace mda
