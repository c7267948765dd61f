// HeaderBlock: the message's own top-level header, parsed robustly for matching.
#include "rules/header_block.h"

namespace mda::rules {
namespace {

// The field name of `line` ("Name:" with optional blanks before the colon, RFC 5322's
// obsolete syntax), or empty if the line is not a field.
std::string_view FieldName(std::string_view line, size_t* value_start) {
  size_t i = 0;
  while (i < line.size()) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c == ':' || c <= 32 || c >= 127) break;
    ++i;
  }
  if (i == 0) return {};
  size_t name_end = i;
  while (i < line.size() && IsBlank(line[i])) ++i;
  if (i >= line.size() || line[i] != ':') return {};
  *value_start = i + 1;
  return line.substr(0, name_end);
}

// The line at `pos`: `whole` with its line break (LF or CRLF), `content` without; returns
// where the next line starts.
size_t ReadLine(std::string_view message, size_t pos, std::string_view* whole,
                std::string_view* content) {
  size_t eol = message.find('\n', pos);
  size_t next = eol == std::string_view::npos ? message.size() : eol + 1;
  *whole = message.substr(pos, next - pos);
  *content = *whole;
  if (!content->empty() && content->back() == '\n') content->remove_suffix(1);
  if (!content->empty() && content->back() == '\r') content->remove_suffix(1);
  return next;
}

}  // namespace

HeaderBlock::HeaderBlock(std::string_view message) {
  size_t pos = 0;
  bool in_field = false;  // the previous line was a field or its continuation
  while (pos < message.size()) {
    std::string_view line, content;
    size_t next = ReadLine(message, pos, &line, &content);
    if (content.empty()) {  // the blank line: the body follows
      body_offset_ = next;
      break;
    }
    pos = next;
    body_offset_ = pos;
    if (IsBlank(content[0])) {
      if (in_field) {
        // Unfolding (RFC 5322 2.2.3): the line break goes, the white space stays.
        fields_.back().value.append(content);
      } else {
        ++skipped_lines_;
      }
      continue;
    }
    size_t value_start = 0;
    std::string_view name = FieldName(content, &value_start);
    if (name.empty()) {
      ++skipped_lines_;
      in_field = false;
      continue;
    }
    fields_.push_back(HeaderField{name, std::string(content.substr(value_start))});
    in_field = true;
  }
  for (HeaderField& f : fields_) f.value = std::string(Trim(f.value));
}

std::string EditHeader(std::string_view message, std::string_view name, const std::string* line) {
  size_t first_eol = message.find('\n');
  std::string_view eol =
      first_eol != std::string_view::npos && first_eol > 0 && message[first_eol - 1] == '\r'
          ? "\r\n"
          : "\n";
  std::string replacement;
  if (line != nullptr) {
    for (char c : *line) {
      if (c == '\n') {
        replacement += eol;
      } else if (c != '\r') {
        replacement += c;
      }
    }
    replacement += eol;
  }
  std::string out;
  out.reserve(message.size() + replacement.size());
  bool placed = line == nullptr;
  bool dropping = false;  // inside a field being removed (its continuation lines go too)
  size_t pos = 0;
  while (pos < message.size()) {
    std::string_view whole, content;
    size_t next = ReadLine(message, pos, &whole, &content);
    if (content.empty()) break;  // the blank line: the body follows
    if (IsBlank(content[0])) {
      if (!dropping) out.append(whole);
    } else {
      size_t value_start = 0;
      std::string_view field = FieldName(content, &value_start);
      dropping = !field.empty() && EqualsIgnoreCase(field, name);
      if (dropping && !placed) {
        out += replacement;
        placed = true;
      }
      if (!dropping) out.append(whole);
    }
    pos = next;
  }
  if (!placed) {
    if (!out.empty() && out.back() != '\n') out += eol;  // a header without a final line break
    out += replacement;
  }
  out.append(message.substr(pos));
  return out;
}

std::vector<const HeaderField*> HeaderBlock::Find(std::string_view name) const {
  std::vector<const HeaderField*> found;
  for (const HeaderField& f : fields_) {
    if (EqualsIgnoreCase(f.name, name)) found.push_back(&f);
  }
  return found;
}

}  // namespace mda::rules
