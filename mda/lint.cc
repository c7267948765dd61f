// Lint: what mdatest --check finds in a rule file that parses.
#include "mda/lint.h"

#include <map>

#include "mda/folder.h"
#include "mda/outgoing.h"
#include "mda/program.h"
#include "rules/diagnostic.h"

namespace mda {
namespace {

using rules::Action;
using rules::Condition;
using rules::Test;

std::string Describe(const Condition& c) {
  switch (c.kind) {
    case Condition::Kind::kAnd:
      return "(" + Describe(*c.left) + " and " + Describe(*c.right) + ")";
    case Condition::Kind::kOr:
      return "(" + Describe(*c.left) + " or " + Describe(*c.right) + ")";
    case Condition::Kind::kNot:
      return "not " + Describe(*c.left);
    case Condition::Kind::kTest:
      return c.test.source;
  }
  return "";
}

// True when the condition holds for every message: `size >= 0`, `A or not A`, and what
// and/or/not make of those. (False means "not known to be always true".)
bool AlwaysTrue(const Condition& c);
bool AlwaysFalse(const Condition& c) {
  switch (c.kind) {
    case Condition::Kind::kAnd:
      return AlwaysFalse(*c.left) || AlwaysFalse(*c.right);
    case Condition::Kind::kOr:
      return AlwaysFalse(*c.left) && AlwaysFalse(*c.right);
    case Condition::Kind::kNot:
      return AlwaysTrue(*c.left);
    case Condition::Kind::kTest:
      return c.test.subject == Test::Subject::kSize &&
             ((c.test.op == Test::Op::kLt && c.test.number <= 0) ||
              (c.test.op == Test::Op::kLe && c.test.number < 0));
  }
  return false;
}
bool AlwaysTrue(const Condition& c) {
  switch (c.kind) {
    case Condition::Kind::kAnd:
      return AlwaysTrue(*c.left) && AlwaysTrue(*c.right);
    case Condition::Kind::kOr: {
      if (AlwaysTrue(*c.left) || AlwaysTrue(*c.right)) return true;
      const Condition* l = c.left.get();
      const Condition* r = c.right.get();
      if (l->kind == Condition::Kind::kNot && Describe(*l->left) == Describe(*r)) return true;
      if (r->kind == Condition::Kind::kNot && Describe(*r->left) == Describe(*l)) return true;
      return false;
    }
    case Condition::Kind::kNot:
      return AlwaysFalse(*c.left);
    case Condition::Kind::kTest:
      return c.test.subject == Test::Subject::kSize &&
             ((c.test.op == Test::Op::kGe && c.test.number <= 0) ||
              (c.test.op == Test::Op::kGt && c.test.number < 0));
  }
  return false;
}

const char* ActionName(Action::Kind k) {
  switch (k) {
    case Action::Kind::kFolder:
      return "folder";
    case Action::Kind::kCopy:
      return "copy";
    case Action::Kind::kDiscard:
      return "discard";
    case Action::Kind::kDefer:
      return "defer";
    case Action::Kind::kReject:
      return "reject";
    case Action::Kind::kAddHeader:
      return "add-header";
    case Action::Kind::kFilter:
      return "filter";
    case Action::Kind::kPipe:
      return "pipe";
    case Action::Kind::kForward:
      return "forward";
    case Action::Kind::kVacation:
      return "vacation";
  }
  return "?";
}

}  // namespace

std::string Diagnostic(const rules::RuleSet& rules, const rules::Location& at,
                       const std::string& level, const std::string& message) {
  const std::string& file = rules.files[static_cast<size_t>(at.file)];
  return rules::Diagnostic(file, rules.sources[static_cast<size_t>(at.file)], at.line, at.col,
                           level + ": " + message);
}

std::vector<Finding> Lint(const rules::RuleSet& rules) {
  std::vector<Finding> findings;
  // Literal folder names by the directory they name: two spellings of one folder
  // ("inbox" and "INBOX", "Lists/a.b" and "Lists/a/b") are one folder.
  std::map<std::string, std::pair<std::string, rules::Location>> by_directory;
  const rules::Rule* always = nullptr;  // an earlier rule that files every message
  size_t forwards = 0;                  // forward addresses in the whole file
  for (const rules::Rule& rule : rules.rules) {
    if (always != nullptr) {
      findings.push_back({false, Diagnostic(rules, rule.location, "warning",
                                            "this rule can never run: the rule at " +
                                                rules.Where(always->location) +
                                                " always files the message first")});
    }
    const Action* final_action = nullptr;
    for (const Action& a : rule.actions) {
      if (final_action != nullptr) {
        findings.push_back(
            {false,
             Diagnostic(rules, a.location, "warning",
                        std::string("'") + ActionName(a.kind) + "' never runs: it comes after '" +
                            ActionName(final_action->kind) + "', which ends the run")});
        continue;
      }
      if ((a.kind == Action::Kind::kFolder || a.kind == Action::Kind::kCopy) &&
          a.argument.find('$') == std::string::npos) {
        std::string dir;
        Status s = FolderDirectory(a.argument, &dir);
        if (!s.ok()) {
          findings.push_back(
              {true, Diagnostic(rules, a.location, "error",
                                s.message() + "; mda would deliver to INBOX instead")});
        } else if (auto [it, added] = by_directory.try_emplace(dir, a.argument, a.location);
                   !added && it->second.first != a.argument) {
          findings.push_back(
              {false,
               Diagnostic(rules, a.location, "warning",
                          "folder '" + a.argument + "' is the same folder as '" + it->second.first +
                              "' at " + rules.Where(it->second.second) + " (" +
                              (dir.empty() ? std::string("INBOX") : "Maildir/" + dir) +
                              "; '.' separates folders as '/' does): use one spelling")});
        }
      }
      if ((a.kind == Action::Kind::kFilter || a.kind == Action::Kind::kPipe) &&
          a.program[0].find('$') == std::string::npos && a.program[0].rfind("~/", 0) != 0) {
        // A warning, not an error: --check may run elsewhere than the mail server.
        std::string path;
        if (Status s = FindProgram(a.program[0], &path); !s.ok()) {
          findings.push_back(
              {false, Diagnostic(rules, a.location, "warning",
                                 s.message() + (a.kind == Action::Kind::kPipe
                                                    ? "; mda would keep the message in INBOX"
                                                    : "; mda would keep the message unfiltered"))});
        }
      }
      if (a.kind == Action::Kind::kForward) {
        forwards += a.program.size();
        if (forwards > kMaxForwardTargets && forwards - a.program.size() <= kMaxForwardTargets) {
          findings.push_back(
              {true, Diagnostic(rules, a.location, "error",
                                "more than " + std::to_string(kMaxForwardTargets) +
                                    " forward addresses in this file: mda forwards a message "
                                    "to at most " +
                                    std::to_string(kMaxForwardTargets) +
                                    " and keeps the rest of them in INBOX")});
        }
      }
      if (a.final()) final_action = &a;
    }
    if (always == nullptr && final_action != nullptr && AlwaysTrue(*rule.condition)) always = &rule;
  }
  return findings;
}

}  // namespace mda
