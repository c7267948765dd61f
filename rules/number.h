// The number a numeric test compares: the first signed decimal that stands alone in a value.
#pragma once

#include <optional>
#include <string_view>

namespace mda::rules {

// The first `[+-]digits[.digits]` that touches no letter, digit, '.' or ',' on either side:
// "-0.4", "0012.3", "12.641" and "Yes, score=7.3 required=5.0" (7.3) have one; "7,3",
// "high", "1.2.3" and "x-5" have none. Parsed without locale.
std::optional<double> FirstNumber(std::string_view value);

}  // namespace mda::rules
