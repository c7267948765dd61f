// Variables: the `$` references of a folder name or a text.
#include "rules/variables.h"

namespace mda::rules {
namespace {

// A constant array, not a std::set: a static set is built at every start-up of mda.
constexpr std::string_view kEnvelopeVariables[] = {
    "RECIPIENT", "LOCAL_PART", "LOCAL_PART_PREFIX", "LOCAL_PART_SUFFIX", "DOMAIN",
    "SENDER",    "HOME"};

bool IsEnvelopeVariable(std::string_view name) {
  for (std::string_view v : kEnvelopeVariables) {
    if (v == name) return true;
  }
  return false;
}

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsIdentifierChar(c)) return false;
  }
  return true;
}

}  // namespace

Reference ReadReference(std::string_view text, size_t i) {
  Reference r;
  if (i + 1 >= text.size()) {
    r.problem = "a '$' at the end (write $$ for a dollar sign)";
    return r;
  }
  char c = text[i + 1];
  r.length = 2;
  if (c == '$') {
    r.kind = Reference::Kind::kDollar;
    return r;
  }
  if (c >= '1' && c <= '9') {
    r.kind = Reference::Kind::kGroup;
    r.name = text.substr(i + 1, 1);
    return r;
  }
  if (c == '{') {
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      r.length = text.size() - i;
      r.problem = "'${' without its closing '}'";
      return r;
    }
    r.name = text.substr(i + 2, close - i - 2);
    r.length = close + 1 - i;
    if (!IsIdentifier(r.name)) {
      r.problem = "'${" + std::string(r.name) + "}' is not a variable name";
      return r;
    }
    r.kind = Reference::Kind::kNamed;  // a named group or an envelope variable: both fine
    return r;
  }
  size_t j = i + 1;
  while (j < text.size() && IsIdentifierChar(text[j])) ++j;
  r.name = text.substr(i + 1, j - i - 1);
  r.length = j - i;
  if (!IsEnvelopeVariable(r.name)) {
    r.problem = "unknown variable '$" + std::string(r.name) +
                "' (known: $1..$9, ${name} for a named group, $RECIPIENT, $LOCAL_PART, "
                "$LOCAL_PART_PREFIX, $LOCAL_PART_SUFFIX, $DOMAIN, $SENDER, $HOME; $$ is a "
                "dollar sign)";
    return r;
  }
  r.kind = Reference::Kind::kEnvelope;
  return r;
}

}  // namespace mda::rules
