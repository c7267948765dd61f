// Evaluator: runs a RuleSet over one message and returns the Decision, with a trace.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "rules/ast.h"
#include "rules/decision.h"
#include "rules/header_block.h"

namespace mda::rules {

// What the rules can see of one message.
struct MessageContext {
  std::string_view content;  // the message as stored
  const HeaderBlock* headers = nullptr;
  std::string_view sender, recipient, local_part, domain, home;
  std::string_view local_part_prefix, local_part_suffix;
  // The decoded body text, computed on first use (only a `body` test reaches it).
  std::function<const std::string&()> body_text;
};

// Rules run top to bottom; the first rule whose actions include a final action (folder,
// discard, defer, reject) ends the run; copy and add-header go on. No final action:
// `default_folder`. With `trace`, every rule evaluated leaves a line in Decision::trace.
Decision Evaluate(const RuleSet& rules, const MessageContext& message,
                  const std::string& default_folder, bool trace);

// Expands $1..$9, ${name}, ${1}, $RECIPIENT, $LOCAL_PART, $LOCAL_PART_PREFIX,
// $LOCAL_PART_SUFFIX, $DOMAIN, $SENDER, $HOME and $$.
std::string Expand(std::string_view text, const Captures& captures, const MessageContext& message);

}  // namespace mda::rules
