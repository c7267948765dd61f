// HeaderBlock: the message's own top-level header, parsed robustly for matching: fields in
// order, folded values unfolded, names compared case-insensitively.
//
// Robust where mimetic is not (ARCHITECTURE.md, "Facts"): LF or CRLF; a line that is neither a
// field nor a continuation is skipped without ending the header; a header with no blank line
// after it keeps its last field; 8-bit bytes in values are kept. Only the top-level header
// is read: never the body, so never the header of an attached or forwarded message.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/ascii.h"

namespace mda::rules {

struct HeaderField {
  std::string_view name;  // as written (points into the message)
  std::string value;      // unfolded (line breaks before white space removed), trimmed
};

class HeaderBlock {
 public:
  // Parses the header of `message` (which must outlive the block: names point into it).
  explicit HeaderBlock(std::string_view message);

  const std::vector<HeaderField>& fields() const { return fields_; }
  // Every field called `name` (case-insensitive), in order.
  std::vector<const HeaderField*> Find(std::string_view name) const;
  // Offset of the body: just after the blank line, or the message size if there is none.
  size_t body_offset() const { return body_offset_; }
  size_t skipped_lines() const { return skipped_lines_; }

 private:
  std::vector<HeaderField> fields_;
  size_t body_offset_ = 0;
  size_t skipped_lines_ = 0;
};

// The message with every field called `name` (case-insensitive) removed, continuation lines
// included; with `line` ("Name: value", no line break at its end), that line in place of the
// first of them, or at the end of the header when there was none. Lines are read as
// HeaderBlock reads them; the message's own line ending (LF or CRLF) is kept, and a line
// break inside `line` is written in it. The body is not touched.
std::string EditHeader(std::string_view message, std::string_view name, const std::string* line);

}  // namespace mda::rules
