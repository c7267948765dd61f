// Folder names: the user's folder name checked and mapped to its Maildir++ directory.
#include "mda/folder.h"

#include <cstdint>
#include <vector>

#include "base/ascii.h"
#include "base/utf8.h"

namespace mda {
namespace {

constexpr size_t kMaxDirectoryName = 255;  // NAME_MAX

void FlushBase64(const std::vector<uint16_t>& units, std::string* out) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
  std::vector<unsigned char> bytes;
  for (uint16_t u : units) {
    bytes.push_back(static_cast<unsigned char>(u >> 8));
    bytes.push_back(static_cast<unsigned char>(u & 0xFF));
  }
  *out += '&';
  uint32_t bits = 0;
  int nbits = 0;
  for (unsigned char b : bytes) {
    bits = (bits << 8) | b;
    nbits += 8;
    while (nbits >= 6) {
      nbits -= 6;
      *out += kAlphabet[(bits >> nbits) & 0x3F];
    }
  }
  if (nbits > 0) *out += kAlphabet[(bits << (6 - nbits)) & 0x3F];
  *out += '-';
}

}  // namespace

bool EncodeModifiedUtf7(std::string_view utf8, std::string* out) {
  std::string result;
  std::vector<uint16_t> pending;  // UTF-16 units of the current non-ASCII run
  size_t i = 0;
  while (i < utf8.size()) {
    uint32_t cp;
    size_t length = DecodeUtf8(utf8, i, &cp);
    if (length == 0) return false;
    i += length;
    if (cp >= 0x20 && cp <= 0x7E) {
      if (!pending.empty()) {
        FlushBase64(pending, &result);
        pending.clear();
      }
      result += static_cast<char>(cp);
      if (cp == '&') result += '-';
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      pending.push_back(static_cast<uint16_t>(0xD800 + (cp >> 10)));
      pending.push_back(static_cast<uint16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      pending.push_back(static_cast<uint16_t>(cp));
    }
  }
  if (!pending.empty()) FlushBase64(pending, &result);
  *out = std::move(result);
  return true;
}

Status FolderDirectory(std::string_view folder, std::string* directory) {
  std::string quoted = "folder name '" + std::string(folder) + "'";
  if (folder.empty()) return Status::BadInput("empty folder name");
  if (folder.size() == 5 && EqualsIgnoreCase(folder, "INBOX")) {
    directory->clear();
    return Status::Ok();
  }
  for (unsigned char c : folder) {
    if (c < 0x20 || c == 0x7F) {
      return Status::BadInput("folder name contains a control character; it is refused");
    }
  }
  std::string result;
  size_t start = 0;
  for (;;) {
    size_t slash = folder.find('/', start);
    std::string_view component = folder.substr(start, slash - start);
    if (component.empty()) {
      return Status::BadInput(quoted +
                              " has an empty component (a leading, trailing or double '/')");
    }
    if (component.front() == '.' || component.back() == '.' ||
        component.find("..") != std::string_view::npos) {
      return Status::BadInput(quoted +
                              " has a component that starts or ends with '.' or contains '..'");
    }
    std::string encoded;
    if (!EncodeModifiedUtf7(component, &encoded)) {
      return Status::BadInput(quoted + " is not valid UTF-8");
    }
    result += '.';
    result += encoded;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (result.size() > kMaxDirectoryName) {
    return Status::BadInput(quoted + " is too long (its directory name would exceed 255 bytes)");
  }
  *directory = std::move(result);
  return Status::Ok();
}

}  // namespace mda
