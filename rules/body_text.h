// BodyText: the decoded text a `body` test searches: the message's text parts, transfer
// encoding undone and charset converted to UTF-8, bounded in size.
#pragma once

#include <string>
#include <string_view>

namespace mda::rules {

// Text parts (text/*, or no Content-Type) that are not attachments, at any MIME depth
// (bounded), base64 and quoted-printable decoded, converted to UTF-8, joined by newlines,
// at most `limit` bytes. mimetic gives the MIME structure of multipart messages, fed a
// copy with LF line ends (its parser crashes on a lone CR, notes/libraries.md); anything it
// throws falls back to the raw body.
std::string BodyText(std::string_view message, size_t limit);

// Quoted-printable (RFC 2045): "=XX", soft line breaks; malformed escapes kept as written.
std::string DecodeQuotedPrintable(std::string_view text);

}  // namespace mda::rules
