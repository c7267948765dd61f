// RFC 2047 encoded words (=?charset?B|Q?text?=) decoded to UTF-8, as users read headers.
#pragma once

#include <string>
#include <string_view>

namespace mda::rules {

// Decodes every encoded word of a header value to UTF-8: B and Q encodings, any charset
// glibc's iconv knows (UTF-8, ISO-8859-x, windows-125x, ...), RFC 2231 language suffixes
// ("=?UTF-8*en?Q?...?="). White space between adjacent encoded words is dropped, and the
// bytes of adjacent words in the same charset are joined before conversion, so a character
// split across two words survives. A malformed word or an unknown charset is left as it is;
// text outside encoded words is kept byte for byte.
std::string DecodeRfc2047(std::string_view value);

}  // namespace mda::rules
