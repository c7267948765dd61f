// BodyText: the decoded text a `body` test searches.
#include "rules/body_text.h"

#include <algorithm>
#include <vector>

#include "base/ascii.h"
#include "rules/header_block.h"
#include "rules/mime_codec.h"
#include "rules/rfc2047.h"

namespace mda::rules {
namespace {

constexpr size_t kMaxParse = 16 * 1024 * 1024;  // bytes of a message walked at most
constexpr int kMaxDepth = 16;                   // MIME nesting followed at most
constexpr size_t kMaxBoundary = 200;            // longest multipart boundary followed

// Appends one part's text, decoded, within the limit.
void AppendPart(const std::string& raw, const std::string& encoding, const std::string& charset,
                size_t limit, std::string* out) {
  if (out->size() >= limit) return;
  std::string bytes;
  std::string enc = LowerAscii(Trim(encoding));
  if (enc == "base64") {
    bytes = DecodeBase64(raw);
  } else if (enc == "quoted-printable") {
    bytes = DecodeQuotedPrintable(raw);
  } else {
    bytes = raw;
  }
  std::string text;
  if (charset.empty() || !CharsetToUtf8(charset, bytes, &text)) text = std::move(bytes);
  if (!out->empty()) *out += '\n';
  out->append(text, 0, std::min(text.size(), limit - std::min(limit, out->size())));
}

// A header parameter such as boundary="x" or charset=utf-8, from our own header parse.
std::string Param(std::string_view value, std::string_view name) {
  std::string lower = LowerAscii(value);
  size_t pos = 0;
  while ((pos = lower.find(LowerAscii(name), pos)) != std::string::npos) {
    size_t eq = pos + name.size();
    bool starts =
        pos == 0 || lower[pos - 1] == ';' || lower[pos - 1] == ' ' || lower[pos - 1] == '\t';
    while (eq < lower.size() && (lower[eq] == ' ' || lower[eq] == '\t')) ++eq;
    if (!starts || eq >= lower.size() || lower[eq] != '=') {
      ++pos;
      continue;
    }
    ++eq;
    while (eq < value.size() && (value[eq] == ' ' || value[eq] == '\t')) ++eq;
    if (eq < value.size() && value[eq] == '"') {
      size_t close = value.find('"', eq + 1);
      return std::string(
          value.substr(eq + 1, (close == std::string_view::npos ? value.size() : close) - eq - 1));
    }
    size_t end = value.find_first_of("; \t", eq);
    return std::string(value.substr(eq, (end == std::string_view::npos ? value.size() : end) - eq));
  }
  return "";
}

// Where a line begins in `text` at or after `from`: 0, or after LF, or after a lone CR.
bool LineStart(std::string_view text, size_t pos) {
  if (pos == 0) return true;
  char before = text[pos - 1];
  return before == '\n' || (before == '\r' && text[pos] != '\n');
}

// The body parts of a multipart body (RFC 2046 5.1.1): what lies between delimiter lines
// "--boundary" (a closing one ends in "--"; blanks may follow), minus the line break
// before each delimiter, which belongs to it. No preamble, no epilogue; without a closing
// delimiter the last part runs to the end. LF, CRLF and lone CR all end lines.
std::vector<std::string_view> SplitParts(std::string_view body, std::string_view boundary) {
  std::vector<std::string_view> parts;
  std::string delimiter = "--" + std::string(boundary);
  size_t part_start = std::string_view::npos;  // none open yet (the preamble)
  size_t pos = 0;
  while ((pos = body.find(delimiter, pos)) != std::string_view::npos) {
    size_t after = pos + delimiter.size();
    if (!LineStart(body, pos)) {
      pos = after;
      continue;
    }
    bool closing = body.substr(after, 2) == "--";
    size_t end = after + (closing ? 2 : 0);
    while (end < body.size() && (body[end] == ' ' || body[end] == '\t')) ++end;
    if (end < body.size() && body[end] != '\n' && body[end] != '\r') {  // "--boundaryX": not ours
      pos = after;
      continue;
    }
    if (part_start != std::string_view::npos) {
      size_t part_end = pos;
      if (part_end > part_start && body[part_end - 1] == '\n') --part_end;
      if (part_end > part_start && body[part_end - 1] == '\r') --part_end;
      parts.push_back(body.substr(part_start, part_end - part_start));
    }
    if (closing) return parts;
    if (end < body.size() && body[end] == '\r') ++end;
    if (end < body.size() && body[end] == '\n') ++end;
    part_start = end;
    pos = end;
  }
  if (part_start != std::string_view::npos && part_start <= body.size())
    parts.push_back(body.substr(part_start));
  return parts;
}

// One MIME entity (a header, a blank line, a body), as both walks read it.
struct Entity {
  explicit Entity(std::string_view entity) : headers(entity) {
    content_type = First("Content-Type");
    type = LowerAscii(Trim(std::string_view(content_type).substr(0, content_type.find(';'))));
    body = entity.substr(std::min(headers.body_offset(), entity.size()));
  }
  // The first value of the field `name`, or "".
  std::string First(std::string_view name) const {
    auto fields = headers.Find(name);
    return fields.empty() ? "" : std::string(fields[0]->value);
  }
  // Its parts (multipart/*, with a boundary we follow) or nothing; *nested: the message
  // inside a message/rfc822.
  std::vector<std::string_view> Children() const {
    if (type.rfind("multipart/", 0) == 0) {
      std::string boundary = Param(content_type, "boundary");
      // No way to find the parts. RFC 2046 allows 70 characters; a longer boundary would
      // make the delimiter search cost its length for every byte of the body.
      if (boundary.empty() || boundary.size() > kMaxBoundary) return {};
      return SplitParts(body, boundary);
    }
    if (type == "message/rfc822") return {body};
    return {};
  }
  bool container() const { return type.rfind("multipart/", 0) == 0 || type == "message/rfc822"; }

  HeaderBlock headers;
  std::string content_type, type;  // type: lower case, no parameters
  std::string_view body;
};

// Appends the text of one MIME entity (its header and body): text/* parts that are not
// attachments, at any depth, forwarded messages' text included (not their headers).
void Walk(std::string_view entity, int depth, size_t limit, std::string* out) {
  if (depth > kMaxDepth || out->size() >= limit) return;
  Entity e(entity);
  if (e.container()) {
    for (std::string_view part : e.Children()) Walk(part, depth + 1, limit, out);
    return;
  }
  if (!e.type.empty() && e.type.rfind("text/", 0) != 0) return;
  std::string disposition_field = e.First("Content-Disposition");
  std::string disposition =
      LowerAscii(Trim(std::string_view(disposition_field).substr(0, disposition_field.find(';'))));
  if (disposition == "attachment") return;
  AppendPart(std::string(e.body), e.First("Content-Transfer-Encoding"),
             Param(e.content_type, "charset"), limit, out);
}

constexpr size_t kMaxNames = 1000;    // attachment names collected at most
constexpr size_t kMaxSections = 100;  // RFC 2231 continuations joined at most

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    int hi = 0, lo = 0;
    if (text[i] == '%' && i + 2 < text.size() && (hi = HexValue(text[i + 1])) >= 0 &&
        (lo = HexValue(text[i + 2])) >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

struct Parameter {
  std::string attribute;  // lower case
  std::string value;      // unquoted
};

// The parameters after the first ';' of a structured value: attribute=token or
// attribute="quoted \"string\"", separated by ';'. One pass, no backtracking.
std::vector<Parameter> Parameters(std::string_view value) {
  std::vector<Parameter> out;
  size_t i = value.find(';');
  if (i == std::string_view::npos) return out;
  while (i < value.size() && out.size() < 4 * kMaxSections) {
    while (i < value.size() && (value[i] == ';' || IsSpace(value[i]))) ++i;
    size_t start = i;
    while (i < value.size() && value[i] != '=' && value[i] != ';') ++i;
    Parameter p;
    p.attribute = LowerAscii(Trim(value.substr(start, i - start)));
    if (i >= value.size() || value[i] == ';') continue;  // no value: not a parameter
    ++i;
    while (i < value.size() && IsBlank(value[i])) ++i;
    if (i < value.size() && value[i] == '"') {
      for (++i; i < value.size() && value[i] != '"'; ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) ++i;
        p.value += value[i];
      }
      ++i;  // the closing quote
      while (i < value.size() && value[i] != ';') ++i;
    } else {
      start = i;
      while (i < value.size() && value[i] != ';') ++i;
      p.value = std::string(Trim(value.substr(start, i - start)));
    }
    if (!p.attribute.empty()) out.push_back(std::move(p));
  }
  return out;
}

// charset'language'bytes (RFC 2231 4): the bytes in UTF-8 (kept as they are when the
// charset is unknown).
std::string FromCharset(std::string_view charset, const std::string& bytes) {
  std::string text;
  if (charset.empty() || !CharsetToUtf8(std::string(charset), bytes, &text)) return bytes;
  return text;
}

void WalkNames(std::string_view entity, int depth, std::vector<std::string>* out) {
  if (depth > kMaxDepth || out->size() >= kMaxNames) return;
  Entity e(entity);
  std::string name = DecodedParam(e.First("Content-Disposition"), "filename");
  if (name.empty()) name = DecodedParam(e.content_type, "name");
  if (!name.empty()) out->push_back(std::move(name));
  for (std::string_view part : e.Children()) WalkNames(part, depth + 1, out);
}

}  // namespace

std::string DecodedParam(std::string_view value, std::string_view name) {
  std::vector<Parameter> params = Parameters(value);
  std::string plain;
  bool have_plain = false;
  std::string extended_name = std::string(name) + "*";
  std::vector<std::pair<size_t, const Parameter*>> sections;
  for (const Parameter& p : params) {
    if (p.attribute == name && !have_plain) {
      plain = p.value;
      have_plain = true;
    } else if (p.attribute == extended_name) {
      // name*=charset'language'%XX...
      size_t q1 = p.value.find('\'');
      size_t q2 = q1 == std::string::npos ? q1 : p.value.find('\'', q1 + 1);
      if (q2 == std::string::npos) return PercentDecode(p.value);
      return FromCharset(std::string_view(p.value).substr(0, q1),
                         PercentDecode(std::string_view(p.value).substr(q2 + 1)));
    } else if (p.attribute.rfind(extended_name, 0) == 0) {
      // name*N or name*N*: a section of a continued value.
      std::string_view rest = std::string_view(p.attribute).substr(extended_name.size());
      bool encoded = !rest.empty() && rest.back() == '*';
      if (encoded) rest.remove_suffix(1);
      if (rest.empty() || rest.size() > 3 ||
          rest.find_first_not_of("0123456789") != std::string_view::npos) {
        continue;
      }
      size_t index = static_cast<size_t>(std::stoi(std::string(rest)));
      if (index < kMaxSections) sections.emplace_back(index * 2 + (encoded ? 1 : 0), &p);
    }
  }
  if (!sections.empty()) {
    std::sort(sections.begin(), sections.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string bytes, charset;
    size_t expected = 0;
    for (const auto& [key, p] : sections) {
      if (key / 2 != expected) break;  // a gap ends the value (RFC 2231 3)
      ++expected;
      std::string_view v = p->value;
      if (key % 2 == 1) {
        if (key / 2 == 0) {  // the first encoded section carries charset'language'
          size_t q1 = v.find('\'');
          size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
          if (q2 != std::string_view::npos) {
            charset = std::string(v.substr(0, q1));
            v.remove_prefix(q2 + 1);
          }
        }
        bytes += PercentDecode(v);
      } else {
        bytes += v;
      }
    }
    if (!bytes.empty()) return FromCharset(charset, bytes);
  }
  return have_plain ? DecodeRfc2047(plain) : "";
}

std::vector<std::string> AttachmentNames(std::string_view message) {
  std::vector<std::string> names;
  WalkNames(message.substr(0, std::min(message.size(), kMaxParse)), 0, &names);
  return names;
}

std::string BodyText(std::string_view message, size_t limit) {
  std::string out;
  Walk(message.substr(0, std::min(message.size(), kMaxParse)), 0, limit, &out);
  return out;
}

}  // namespace mda::rules
