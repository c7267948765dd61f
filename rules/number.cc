// The number a numeric test compares: the first signed decimal that stands alone in a value.
#include "rules/number.h"

#include <charconv>

namespace mda::rules {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}
// What a number may not touch.
bool Sticky(char c) { return IsDigit(c) || IsLetter(c) || c == '.' || c == ','; }

}  // namespace

std::optional<double> FirstNumber(std::string_view v) {
  size_t i = 0;
  while (i < v.size()) {
    bool sign = (v[i] == '+' || v[i] == '-') && i + 1 < v.size() && IsDigit(v[i + 1]);
    if (!sign && !IsDigit(v[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    size_t j = sign ? i + 1 : i;
    while (j < v.size() && IsDigit(v[j])) ++j;
    if (j + 1 < v.size() && v[j] == '.' && IsDigit(v[j + 1])) {
      ++j;
      while (j < v.size() && IsDigit(v[j])) ++j;
    }
    bool free_before = start == 0 || !Sticky(v[start - 1]);
    bool free_after = j == v.size() || !Sticky(v[j]);
    if (free_before && free_after) {
      const char* first = v.data() + start + (v[start] == '+' ? 1 : 0);  // from_chars takes no '+'
      double d = 0;
      auto [ptr, ec] = std::from_chars(first, v.data() + j, d);
      if (ec == std::errc() && ptr == v.data() + j) return d;
    }
    // Not free-standing: skip this whole run of digits, dots and commas, so no tail of it
    // ("3" of "7,3", "2.3" of "1.2.3") counts either.
    while (j < v.size() && (IsDigit(v[j]) || v[j] == '.' || v[j] == ',')) ++j;
    i = j;
  }
  return std::nullopt;
}

}  // namespace mda::rules
