// ASCII: case and white space of protocol text (header names, charsets, host names, keys),
// never through the locale (<cctype> reads it; mda sets none, and must not depend on one).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mda {

constexpr char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
constexpr char UpperAscii(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

inline std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

// Space and tab: RFC 5322's WSP.
constexpr bool IsBlank(char c) { return c == ' ' || c == '\t'; }
// WSP and the line-break bytes.
constexpr bool IsSpace(char c) { return IsBlank(c) || c == '\r' || c == '\n'; }

// `s` without the IsSpace bytes at either end.
inline std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// The words of `s` between runs of IsSpace bytes.
inline std::vector<std::string_view> SplitSpace(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !IsSpace(s[j])) ++j;
    if (j > i) words.push_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

}  // namespace mda
