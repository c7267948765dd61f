// Decision: what the rules decided, shown for people.
#include "rules/decision.h"

namespace mda::rules {

std::string ShowProgram(const std::vector<std::string>& argv) {
  std::string out = "|";
  for (const std::string& a : argv) {
    bool plain = !a.empty() && a.find_first_of(" \t'\"\\$;&|<>()`*?!") == std::string::npos;
    if (plain) {
      out += " " + a;
      continue;
    }
    out += " '";
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += "'";
  }
  return out;
}

std::string ShowFlags(std::string_view letters) {
  std::string out;
  for (char c : letters) {
    const char* name = c == 'D' ? "draft" : c == 'F' ? "flagged" : c == 'R' ? "answered" : "seen";
    out += (out.empty() ? "" : " ") + std::string(name);
  }
  return out;
}

std::string ShowTarget(const Target& target) {
  if (target.is_forward()) return "forward " + target.forward;
  return target.is_program() ? ShowProgram(target.program) : target.folder;
}

}  // namespace mda::rules
