// Evaluator: runs a RuleSet over one message and returns the Decision, with a trace.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  // The decoded body text of `content` (the message, or what a filter made of it), asked
  // for on first use: only a `body` test reaches it.
  std::function<std::string(std::string_view content)> body_text;
  // Runs a `filter` action's program (expanded argv) on the message as it stands: the new
  // message, or nullopt when the original is kept; *result says which and why. Unset (a
  // dry run): filters are shown, not run.
  std::function<std::optional<std::string>(const std::vector<std::string>& program,
                                           std::string_view content, std::string* result)>
      filter;
};

// Rules run top to bottom; the first rule whose actions include a final action (folder,
// pipe, discard, defer, reject) ends the run; copy, copy pipe, filter and add-header go on.
// A filter that replaces the message does so for every later test and delivery. No final
// action: `default_folder`. With `trace`, every rule evaluated leaves a line in Decision::trace.
Decision Evaluate(const RuleSet& rules, const MessageContext& message,
                  const std::string& default_folder, bool trace);

// Expands $1..$9, ${name}, ${1}, $RECIPIENT, $LOCAL_PART, $LOCAL_PART_PREFIX,
// $LOCAL_PART_SUFFIX, $DOMAIN, $SENDER, $HOME and $$.
std::string Expand(std::string_view text, const Captures& captures, const MessageContext& message);

// A filter's or pipe's program and arguments: each element expanded on its own, so that a
// value never becomes two arguments; a program written "~/bin/x" is in the home directory.
std::vector<std::string> ExpandProgram(const std::vector<std::string>& program,
                                       const Captures& captures, const MessageContext& message);

}  // namespace mda::rules
