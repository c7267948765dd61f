// MimeCodec: base64, quoted-printable, Q encoding, charsets.
#include "rules/mime_codec.h"

#include <errno.h>
#include <iconv.h>

#include <algorithm>
#include <cstdint>

#include "base/ascii.h"

namespace mda::rules {
namespace {

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string DecodeBase64(std::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int nbits = 0;
  for (char c : text) {
    if (c == '=') break;
    int v = Base64Value(c);
    if (v < 0) continue;  // line breaks, blanks, garbage
    bits = (bits << 6) | static_cast<uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xFF));
    }
  }
  return out;
}

bool DecodeBase64Word(std::string_view text, std::string* out) {
  uint32_t bits = 0;
  int nbits = 0;
  for (char c : text) {
    if (c == '=') break;  // padding; tolerated missing too
    int v = Base64Value(c);
    if (v < 0) return false;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out->push_back(static_cast<char>((bits >> nbits) & 0xFF));
    }
  }
  return true;
}

std::string DecodeQuotedPrintable(std::string_view text) {
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
    int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
    int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      out += '=';
      continue;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool DecodeQ(std::string_view text, std::string* out) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '_') {
      out->push_back(' ');
    } else if (c == '=') {
      if (i + 2 >= text.size()) return false;
      int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool CharsetToUtf8(const std::string& charset, const std::string& bytes, std::string* out) {
  if (EqualsIgnoreCase(charset, "utf-8") || EqualsIgnoreCase(charset, "utf8") ||
      EqualsIgnoreCase(charset, "us-ascii")) {
    out->append(bytes);  // invalid UTF-8 stays as it is; the matcher copes
    return true;
  }
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  std::string result;
  char* in = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  char buffer[1024];
  while (in_left > 0) {
    char* outp = buffer;
    size_t out_left = sizeof buffer;
    size_t rc = iconv(cd, &in, &in_left, &outp, &out_left);
    result.append(buffer, static_cast<size_t>(outp - buffer));
    if (rc == static_cast<size_t>(-1)) {
      if (errno == E2BIG) continue;
      // An invalid or truncated sequence: U+FFFD for the byte, and carry on.
      result.append("\xEF\xBF\xBD");
      ++in;
      --in_left;
    }
  }
  iconv_close(cd);
  out->append(result);
  return true;
}

std::string EncodeQuotedPrintable(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  size_t column = 0;
  auto put = [&](std::string_view piece) {
    if (column + piece.size() > 75) {  // a soft break keeps every line within 76
      out += "=\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n') {
      out += '\n';
      column = 0;
      continue;
    }
    bool at_line_end = i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
    bool plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
    if (plain) {
      char one[1] = {static_cast<char>(c)};
      put(std::string_view(one, 1));
    } else {
      char escaped[3] = {'=', kHex[c >> 4], kHex[c & 15]};
      put(std::string_view(escaped, 3));
    }
  }
  return out;
}

std::string EncodeHeaderWords(std::string_view value) {
  bool plain = true;
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 32 || u > 126) plain = false;
  }
  if (plain && value.find("=?") == std::string_view::npos) return std::string(value);
  static const char kHex[] = "0123456789ABCDEF";
  const std::string kStart = "=?UTF-8?Q?", kEnd = "?=";
  std::string out, word;
  auto flush = [&]() {
    if (word.empty()) return;
    if (!out.empty()) out += "\n ";  // folded: one encoded word a line
    out += kStart + word + kEnd;
    word.clear();
  };
  for (size_t i = 0; i < value.size();) {
    // One character (all the bytes of a UTF-8 sequence) at a time, so none is split.
    unsigned char lead = static_cast<unsigned char>(value[i]);
    size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    length = std::min(length, value.size() - i);
    std::string encoded;
    for (size_t k = 0; k < length; ++k) {
      unsigned char c = static_cast<unsigned char>(value[i + k]);
      bool safe = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
      if (c == ' ') {
        encoded += '_';
      } else if (safe) {
        encoded += static_cast<char>(c);
      } else {
        encoded += {'=', kHex[c >> 4], kHex[c & 15]};
      }
    }
    if (kStart.size() + word.size() + encoded.size() + kEnd.size() > 75) flush();
    word += encoded;
    i += length;
  }
  flush();
  return out;
}

}  // namespace mda::rules
