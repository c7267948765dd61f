// Decision: what the rules decided for one message: where it goes, and which rule said so.
//
// The evaluator produces it for mda and mdatest alike; when no rule decides (or there is no
// usable rule file) it is the default folder, rule "default".
#pragma once

#include <string>
#include <vector>

namespace mda::rules {

enum class Outcome {
  kDeliver,  // into every folder of `folders`
  kDiscard,  // deliberately dropped
  kDefer,    // exit 75 with `reason`
  kReject,   // exit 77 with `reason` on stdout
};

struct Decision {
  Outcome outcome = Outcome::kDeliver;
  std::vector<std::string> folders;      // folder names as the user writes them; copies first
  std::string reason;                    // for kDefer and kReject
  std::string rule;                      // "file:line" of the deciding rule, or "default"
  std::vector<std::string> add_headers;  // "Name: value" lines to put on top of the message
  std::vector<std::string> warnings;     // for the log: what the user should fix
  std::vector<std::string> trace;        // each rule evaluated and what it saw (mdatest)
};

}  // namespace mda::rules
