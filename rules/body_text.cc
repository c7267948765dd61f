// BodyText: the decoded text a `body` test searches.
#include "rules/body_text.h"

#include <mimetic/mimetic.h>

#include "rules/header_block.h"
#include "rules/rfc2047.h"

namespace mda::rules {
namespace {

constexpr size_t kMaxParse = 16 * 1024 * 1024;  // bytes handed to mimetic at most
constexpr int kMaxDepth = 16;                   // MIME nesting followed at most

std::string Lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// Appends one part's text, decoded, within the limit.
void AppendPart(const std::string& raw, const std::string& encoding, const std::string& charset,
                size_t limit, std::string* out) {
  if (out->size() >= limit) return;
  std::string bytes;
  std::string enc = Lowered(encoding);
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

void Walk(const mimetic::MimeEntity& e, int depth, size_t limit, std::string* out) {
  if (depth > kMaxDepth || out->size() >= limit) return;
  const mimetic::Header& h = e.header();
  std::string type = Lowered(h.contentType().type());
  std::string subtype = Lowered(h.contentType().subtype());
  if (type == "multipart") {
    for (const mimetic::MimeEntity* part : e.body().parts()) {
      if (part != nullptr) Walk(*part, depth + 1, limit, out);
    }
    return;
  }
  if (type == "message" && subtype == "rfc822") {
    // A forwarded message: its text is part of what the user reads; its header is not.
    // mimetic parses it as the part's one child; if it did not, parse it here.
    if (!e.body().parts().empty()) {
      for (const mimetic::MimeEntity* part : e.body().parts()) {
        if (part != nullptr) Walk(*part, depth + 1, limit, out);
      }
      return;
    }
    std::string inner(e.body());
    mimetic::MimeEntity child(inner.begin(), inner.end());
    Walk(child, depth + 1, limit, out);
    return;
  }
  if (!type.empty() && type != "text") return;
  if (h.hasField("Content-Disposition") && Lowered(h.contentDisposition().type()) == "attachment") return;
  AppendPart(e.body(), h.contentTransferEncoding().mechanism(), h.contentType().param("charset"), limit, out);
}

// A header parameter such as boundary="x" or charset=utf-8, from our own header parse.
std::string Param(std::string_view value, std::string_view name) {
  std::string lower = Lowered(value);
  size_t pos = 0;
  while ((pos = lower.find(Lowered(name), pos)) != std::string::npos) {
    size_t eq = pos + name.size();
    bool starts = pos == 0 || lower[pos - 1] == ';' || lower[pos - 1] == ' ' || lower[pos - 1] == '\t';
    while (eq < lower.size() && (lower[eq] == ' ' || lower[eq] == '\t')) ++eq;
    if (!starts || eq >= lower.size() || lower[eq] != '=') {
      ++pos;
      continue;
    }
    ++eq;
    while (eq < value.size() && (value[eq] == ' ' || value[eq] == '\t')) ++eq;
    if (eq < value.size() && value[eq] == '"') {
      size_t close = value.find('"', eq + 1);
      return std::string(value.substr(eq + 1, (close == std::string_view::npos ? value.size() : close) - eq - 1));
    }
    size_t end = value.find_first_of("; \t", eq);
    return std::string(value.substr(eq, (end == std::string_view::npos ? value.size() : end) - eq));
  }
  return "";
}

}  // namespace

std::string DecodeQuotedPrintable(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\n') {  // soft line break
      ++i;
      continue;
    }
    if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
      i += 2;
      continue;
    }
    int hi = i + 1 < text.size() ? hex(text[i + 1]) : -1;
    int lo = i + 2 < text.size() ? hex(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      out += '=';
      continue;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string BodyText(std::string_view message, size_t limit) {
  HeaderBlock headers(message);
  std::string content_type, encoding;
  if (auto f = headers.Find("Content-Type"); !f.empty()) content_type = f[0]->value;
  if (auto f = headers.Find("Content-Transfer-Encoding"); !f.empty()) encoding = f[0]->value;
  std::string type = Lowered(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  std::string out;
  std::string_view body = message.substr(std::min(headers.body_offset(), message.size()));

  if (type.rfind("multipart/", 0) != 0 && type != "message/rfc822") {
    // A single part, described by the header we parsed ourselves.
    if (type.empty() || type.rfind("text/", 0) == 0) {
      AppendPart(std::string(body.substr(0, std::min(body.size(), kMaxParse))), encoding,
                 Param(content_type, "charset"), limit, &out);
    }
    return out;
  }
  // MIME structure from mimetic, on a bounded copy with LF line ends.
  std::string normalized;
  std::string_view input = message.substr(0, std::min(message.size(), kMaxParse));
  normalized.reserve(input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    if (input[i] == '\r') {
      normalized += '\n';
      if (i + 1 < input.size() && input[i + 1] == '\n') ++i;
    } else {
      normalized += input[i];
    }
  }
  try {
    mimetic::MimeEntity entity(normalized.begin(), normalized.end());
    Walk(entity, 0, limit, &out);
  } catch (...) {
    out.clear();
    AppendPart(std::string(body.substr(0, std::min(body.size(), limit))), "", "", limit, &out);
  }
  return out;
}

}  // namespace mda::rules
