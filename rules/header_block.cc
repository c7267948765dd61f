// HeaderBlock: the message's own top-level header, parsed robustly for matching.
#include "rules/header_block.h"

namespace mda::rules {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

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

void Trim(std::string* s) {
  size_t b = 0, e = s->size();
  while (b < e && (IsBlank((*s)[b]) || (*s)[b] == '\r' || (*s)[b] == '\n')) ++b;
  while (e > b && (IsBlank((*s)[e - 1]) || (*s)[e - 1] == '\r' || (*s)[e - 1] == '\n')) --e;
  *s = s->substr(b, e - b);
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

HeaderBlock::HeaderBlock(std::string_view message) {
  size_t pos = 0;
  bool in_field = false;  // the previous line was a field or its continuation
  while (pos < message.size()) {
    size_t eol = message.find('\n', pos);
    size_t next = eol == std::string_view::npos ? message.size() : eol + 1;
    std::string_view line = message.substr(pos, next - pos);
    std::string_view content = line;
    if (!content.empty() && content.back() == '\n') content.remove_suffix(1);
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
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
  for (HeaderField& f : fields_) Trim(&f.value);
}

std::vector<const HeaderField*> HeaderBlock::Find(std::string_view name) const {
  std::vector<const HeaderField*> found;
  for (const HeaderField& f : fields_) {
    if (EqualsIgnoreCase(f.name, name)) found.push_back(&f);
  }
  return found;
}

}  // namespace mda::rules
