// MimeCodec: the content codecs of MIME (RFC 2045, 2047): base64, quoted-printable, the
// Q encoding of header words, and charsets to UTF-8 (iconv), for headers and bodies alike.
#pragma once

#include <string>
#include <string_view>

namespace mda::rules {

// Base64 as in RFC 2045 (a body): characters outside the alphabet are skipped, decoding
// stops at '='.
std::string DecodeBase64(std::string_view text);
// Base64 of an encoded word (RFC 2047 "B"): appends the bytes; false on a character
// outside the alphabet. Padding is optional.
bool DecodeBase64Word(std::string_view text, std::string* out);
// Quoted-printable (a body): soft line breaks removed, =XX decoded, a bad escape kept.
std::string DecodeQuotedPrintable(std::string_view text);
// RFC 2047's "Q" (a header word): '_' is a space, =XX a byte; appends; false on a bad escape.
bool DecodeQ(std::string_view text, std::string* out);

// The other way, for the mail mda writes (a vacation reply): quoted-printable for a UTF-8
// text body (lines of at most 76 characters, CRLF or LF kept as LF, = and bytes outside
// printable ASCII escaped, trailing blanks escaped)...
std::string EncodeQuotedPrintable(std::string_view text);
// ... and a header value as RFC 2047 "Q" encoded words (=?UTF-8?Q?...?=) when it holds
// anything but printable ASCII, each word at most 75 characters, never splitting a UTF-8
// character; plain ASCII unchanged.
std::string EncodeHeaderWords(std::string_view value);

// Converts `bytes` in `charset` to UTF-8, appending to `out`; bytes invalid in the charset
// become U+FFFD. UTF-8 and US-ASCII pass through unchanged. False (nothing appended) if
// iconv does not know the charset.
bool CharsetToUtf8(const std::string& charset, const std::string& bytes, std::string* out);

}  // namespace mda::rules
