// Variables: the `$` references of a folder name or a text ($$, $1..$9, ${name}, $NAME), read
// the same way by the parser, which refuses a bad one, and the evaluator, which expands them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mda::rules {

struct Reference {
  enum class Kind {
    kDollar,    // $$: a dollar sign
    kGroup,     // $1..$9: a numbered capture
    kNamed,     // ${name}: a named capture or an envelope variable
    kEnvelope,  // $NAME: an envelope variable ($RECIPIENT, $LOCAL_PART, ...)
    kBad,       // none of these: `problem` says why
  };
  Kind kind = Kind::kBad;
  std::string_view name;  // kGroup: the digit; kNamed: what is in the braces; kEnvelope: NAME
  size_t length = 1;      // bytes from the '$' to the reference's end
  std::string problem;    // kBad
};

// The reference that starts at text[i], a '$'.
Reference ReadReference(std::string_view text, size_t i);

}  // namespace mda::rules
