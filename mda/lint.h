// Lint: what mdatest --check finds in a rule file that parses: actions and rules that can
// never run, folder names that mda would refuse. Each finding is "file:line:col: LEVEL:
// message", the line, and a caret, like the parser's errors.
#pragma once

#include <string>
#include <vector>

#include "rules/ast.h"

namespace mda {

struct Finding {
  bool error = false;  // an error makes --check fail; a warning does not
  std::string text;    // file:line:col: error|warning: message, the line, a caret
};

std::vector<Finding> Lint(const rules::RuleSet& rules);

// "file:line:col: LEVEL: message", the line from the rule set's sources, a caret.
std::string Diagnostic(const rules::RuleSet& rules, const rules::Location& at,
                       const std::string& level, const std::string& message);

}  // namespace mda
