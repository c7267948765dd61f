// Decision: what the rules decided for one message: where it goes, and which rule said so.
//
// Step 1 has no rule language yet, so every message gets Decision::Default(). The rule
// evaluator (step 2) produces the same type, with a trace, for mda and mdatest alike.
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
  std::vector<std::string> folders;  // folder names as the user writes them; copies first
  std::string reason;                // for kDefer and kReject
  std::string rule;                  // "file:line" of the deciding rule, or "default"

  // No rule decided: the default folder (INBOX unless --folder says otherwise).
  static Decision Default(const std::string& folder) {
    Decision d;
    d.folders.push_back(folder);
    d.rule = "default";
    return d;
  }
};

}  // namespace mda::rules
