// Decision: what the rules decided for one message: where it goes, and which rule said so.
//
// The evaluator produces it for mda and mdatest alike; when no rule decides (or there is no
// usable rule file) it is the default folder, rule "default".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mda::rules {

enum class Outcome {
  kDeliver,  // into every target of `targets`
  kDiscard,  // deliberately dropped
  kDefer,    // exit 75 with `reason`
  kReject,   // exit 77 with `reason` on stdout
};

// Where a copy of the message goes: a folder, or a program that it is delivered into.
struct Target {
  std::string folder;                // a folder name as the user writes it (INBOX, Lists/dev)
  std::vector<std::string> program;  // or a program and its arguments, expanded (pipe)
  std::string forward;               // or an address to forward the message to
  std::string rule;  // a program's or forward's: "file:line" of its action (for the log)
  bool is_program() const { return !program.empty(); }
  bool is_forward() const { return !forward.empty(); }
  bool is_folder() const { return program.empty() && forward.empty(); }
};

// A program's argv for people: "| /usr/bin/ticket-import --id 1234", an argument with
// blanks, quotes or nothing in it quoted ("| /bin/sh -c 'exit 1'").
std::string ShowProgram(const std::vector<std::string>& argv);
// Maildir flag letters as the rules name them: "FS" is "flagged seen".
std::string ShowFlags(std::string_view letters);
// The folder name, ShowProgram, or "forward ADDRESS".
std::string ShowTarget(const Target& target);

// A vacation action that was reached: its parameters with the variables expanded.
struct VacationReply {
  int days = 7;
  std::string subject, from, text;
  std::vector<std::string> addresses;
  std::string rule;  // "file:line"
};

// A `filter` action that ran (or, in a dry run, would run).
struct FilterStep {
  std::vector<std::string> program;  // expanded
  std::string rule;                  // "file:line"
  std::string result;                // "replaced the message", "kept the original: exited 1"
  bool replaced = false;
};

struct Decision {
  Outcome outcome = Outcome::kDeliver;
  std::vector<Target> targets;  // in the order they are delivered: copies first, then final
  std::string reason;           // for kDefer and kReject
  std::string rule;             // "file:line" of the deciding rule, or "default"
  std::vector<std::string> add_headers;  // "Name: value" lines to put on top of the message
  std::string flags;  // Maildir flags of every copy stored ("DFRS" letters, in ASCII order)
  std::vector<std::string> edits;         // "file:line: set Name: value" / "...: removed Name"
  std::vector<std::string> warnings;      // for the log: what the user should fix
  std::vector<std::string> trace;         // each rule evaluated and what it saw (mdatest)
  std::vector<FilterStep> filters;        // every filter action reached, in order
  std::optional<VacationReply> vacation;  // the first vacation action reached
  // The message as the last filter that replaced it left it; none: the original.
  std::optional<std::string> message;
};

}  // namespace mda::rules
