// UTF-8: the one decoder of the program (RFC 3629: no overlong form, no surrogate, nothing
// above U+10FFFF), for folder names (modified UTF-7) and the log's escapes.
#pragma once

#include <cstdint>
#include <string_view>

namespace mda {

// The length of the valid UTF-8 sequence at s[i] and its code point in *cp, or 0 if there is
// none (a stray or truncated byte, an overlong form, a surrogate).
inline size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  int extra = c >= 0xF0 && c <= 0xF4  ? 3
              : c >= 0xE0 && c < 0xF0 ? 2
              : c >= 0xC2 && c < 0xE0 ? 1
                                      : -1;
  if (extra < 0 || i + static_cast<size_t>(extra) >= s.size()) return 0;
  uint32_t v = c & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((cc & 0xC0) != 0x80) return 0;
    v = (v << 6) | (cc & 0x3F);
  }
  if ((extra == 2 && v < 0x800) || (extra == 3 && (v < 0x10000 || v > 0x10FFFF)) ||
      (v >= 0xD800 && v <= 0xDFFF)) {
    return 0;
  }
  *cp = v;
  return static_cast<size_t>(extra) + 1;
}

}  // namespace mda
