// Addresses: the bare addr-specs of an address header.
#include "rules/address.h"

#include "base/ascii.h"

namespace mda::rules {
namespace {

// One mailbox's text (display name, comments and all): its addr-spec.
void AddMailbox(const std::string& bare, const std::string& angle, bool had_angle,
                std::vector<std::string>* out) {
  std::string spec = had_angle ? angle : bare;
  if (had_angle) {
    // Obsolete route: "@a,@b:local@domain".
    if (!spec.empty() && spec[0] == '@') {
      size_t colon = spec.find(':');
      spec = colon == std::string::npos ? "" : spec.substr(colon + 1);
    }
  }
  spec = std::string(Trim(spec));
  // Inside an addr-spec, white space only survives in quoted local parts.
  std::string compact;
  bool quoted = false;
  for (char c : spec) {
    if (c == '"') quoted = !quoted;
    if (!quoted && IsSpace(c)) continue;
    compact += c;
  }
  if (!compact.empty()) out->push_back(compact);
}

}  // namespace

std::vector<std::string> ParseAddresses(std::string_view v) {
  std::vector<std::string> out;
  std::string bare;   // the mailbox's text outside comments and angle brackets
  std::string angle;  // the text inside <...>
  bool had_angle = false;
  bool in_angle = false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '\\' && i + 1 < v.size()) {  // quoted-pair, anywhere
      (in_angle ? angle : bare) += v.substr(i, 2);
      ++i;
      continue;
    }
    if (c == '"') {  // quoted string: copied whole, its specials are text
      size_t j = i + 1;
      while (j < v.size() && v[j] != '"') j += (v[j] == '\\' && j + 1 < v.size()) ? 2 : 1;
      std::string_view quoted = v.substr(i, std::min(j + 1, v.size()) - i);
      (in_angle ? angle : bare) += quoted;
      i = std::min(j, v.size() - 1);
      continue;
    }
    if (c == '[') {  // domain literal ("bob@[IPv6:::1]"): its ':' ends no group
      size_t j = v.find(']', i);
      j = j == std::string_view::npos ? v.size() - 1 : j;
      (in_angle ? angle : bare) += v.substr(i, j - i + 1);
      i = j;
      continue;
    }
    if (c == '(') {  // comment, nested, dropped
      int depth = 1;
      size_t j = i + 1;
      while (j < v.size() && depth > 0) {
        if (v[j] == '\\')
          ++j;
        else if (v[j] == '(')
          ++depth;
        else if (v[j] == ')')
          --depth;
        ++j;
      }
      i = j - 1;
      (in_angle ? angle : bare) += ' ';
      continue;
    }
    if (in_angle) {
      if (c == '>') {
        in_angle = false;
      } else {
        angle += c;
      }
      continue;
    }
    switch (c) {
      case '<':
        in_angle = true;
        had_angle = true;
        angle.clear();
        break;
      case ':':  // a group's name ends: what came before was its display name
        bare.clear();
        had_angle = false;
        break;
      case ',':
      case ';':  // a mailbox ends (';' also ends a group)
        AddMailbox(bare, angle, had_angle, &out);
        bare.clear();
        angle.clear();
        had_angle = false;
        break;
      default:
        bare += c;
    }
  }
  AddMailbox(bare, angle, had_angle, &out);
  return out;
}

}  // namespace mda::rules
