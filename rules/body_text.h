// BodyText: the decoded text a `body` test searches: the message's text parts, transfer
// encoding undone and charset converted to UTF-8, bounded in size.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mda::rules {

// Text parts (text/*, or no Content-Type) that are not attachments, at any MIME depth
// (bounded), base64 and quoted-printable decoded, converted to UTF-8, joined by newlines,
// at most `limit` bytes. The MIME structure is our own walk (RFC 2046 delimiters on LF,
// CRLF or lone-CR lines, no copies): mimetic's parser crashed on a lone CR, missed a closing
// boundary at the end, took a boundary in mid-line (ARCHITECTURE.md, "Facts"), and its objects
// made every mda start initialise iostreams (44K instructions) for a walk most deliveries
// never do.
std::string BodyText(std::string_view message, size_t limit);

// The file names of the message's parts, in order, at any MIME depth (bounded like BodyText),
// inside attached messages too: Content-Disposition's filename, else Content-Type's name;
// RFC 2231 continuations and charsets and RFC 2047 words decoded to UTF-8. At most 1000.
std::vector<std::string> AttachmentNames(std::string_view message);

// A parameter of a structured header value such as Content-Disposition (RFC 2045 5.1): its
// value unquoted; the RFC 2231 form (name*=charset'lang'%XX, name*0=..., name*1*=...)
// preferred and decoded to UTF-8; RFC 2047 words in a plain value decoded. "" when absent.
std::string DecodedParam(std::string_view value, std::string_view name);

}  // namespace mda::rules
