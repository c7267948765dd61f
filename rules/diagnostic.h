// Diagnostic: a message about a place in a rule file, as every error and warning reads:
// "FILE:LINE:COL: MESSAGE", the line itself, and a caret under the column.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace mda::rules {

// Line `line` (1-based) of `source`, without its line break; empty past the end.
std::string_view LineOf(std::string_view source, int line);

std::string Diagnostic(std::string_view file, std::string_view source, int line, int col,
                       std::string_view message);
// The same as a failure (kBadInput) whose location() is "FILE:LINE:COL".
Status DiagnosticStatus(std::string_view file, std::string_view source, int line, int col,
                        std::string_view message);

}  // namespace mda::rules
