// BodyText: the decoded text a `body` test searches: the message's text parts, transfer
// encoding undone and charset converted to UTF-8, bounded in size.
#pragma once

#include <string>
#include <string_view>

namespace mda::rules {

// Text parts (text/*, or no Content-Type) that are not attachments, at any MIME depth
// (bounded), base64 and quoted-printable decoded, converted to UTF-8, joined by newlines,
// at most `limit` bytes. The MIME structure is our own walk (RFC 2046 delimiters on LF,
// CRLF or lone-CR lines, no copies): mimetic's parser crashed on a lone CR, missed a closing
// boundary at the end, took a boundary in mid-line (ARCHITECTURE.md, "Facts"), and its objects
// made every mda start initialise iostreams (44K instructions) for a walk most deliveries
// never do.
std::string BodyText(std::string_view message, size_t limit);

}  // namespace mda::rules
