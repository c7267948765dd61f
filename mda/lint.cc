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
    case Action::Kind::kFlag:
      return "flag";
    case Action::Kind::kSetHeader:
      return "set-header";
    case Action::Kind::kRemoveHeader:
      return "remove-header";
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

namespace {

class Linter {
 public:
  explicit Linter(const rules::RuleSet& rules) : rules_(rules) {}

  // The rules of a file or block: a rule after one that always files the message (in the
  // same block) never runs.
  void Rules(const std::vector<rules::Rule>& list) {
    const rules::Rule* always = nullptr;  // an earlier rule that files every message
    // Earlier rules of this list whose condition, when it holds, ends the run: by the
    // condition as written. A message that changes between them (a filter, a header edit)
    // may decide otherwise, so those clear it.
    std::map<std::string, const rules::Rule*> final_when;
    for (const rules::Rule& rule : list) {
      if (always != nullptr) {
        Add(false, rule.location,
            "this rule can never run: the rule at " + rules_.Where(always->location) +
                " always files the message first");
      }
      NeverMatching(*rule.condition);
      std::string condition = Describe(*rule.condition);
      if (auto it = final_when.find(condition); it != final_when.end() && always == nullptr) {
        Add(false, rule.location,
            "this rule's condition is the same as the rule's at " +
                rules_.Where(it->second->location) +
                ", which ends the run for every message it matches: " +
                (rule.has_else ? "only its 'else' can run" : "this rule never runs"));
      }
      bool condition_always = AlwaysTrue(*rule.condition);
      if (rule.has_else && condition_always) {
        Add(false, rule.else_location,
            "this 'else' never runs: the condition at " + rules_.Where(rule.location) +
                " holds for every message");
      }
      bool then_final = rule.has_block ? Block(rule.block) : Actions(rule.actions);
      if (rule.has_else) rule.else_is_block ? Block(rule.else_block) : Actions(rule.else_actions);
      if (always == nullptr && then_final && condition_always) always = &rule;
      if (ChangesMessage(rule)) final_when.clear();
      if (then_final) final_when.try_emplace(condition, &rule);
    }
  }

  std::vector<Finding> findings;

 private:
  // A body test of a MIME header never matches: body tests see the decoded text of the
  // text parts, not the parts' headers.
  void NeverMatching(const Condition& c) {
    if (c.kind != Condition::Kind::kTest) {
      if (c.left) NeverMatching(*c.left);
      if (c.right) NeverMatching(*c.right);
      return;
    }
    if (c.test.subject != Test::Subject::kBody) return;
    std::string lower = c.test.source;
    for (char& ch : lower) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    for (const char* header :
         {"content-disposition", "content-type", "content-transfer-encoding"}) {
      if (lower.find(header) == std::string::npos) continue;
      bool negated = c.test.op == Test::Op::kNotMatch;
      Add(false, c.test.location,
          std::string("body tests see the decoded text of the message's text parts, never its "
                      "MIME headers: this test ") +
              (negated ? "always holds" : "never matches") +
              "; for attachments test their names: attachment ~ /\\.pdf$/i");
      return;
    }
  }

  // Whether a rule can change the message later rules test (a filter, a header edit).
  static bool ChangesMessage(const rules::Rule& rule) {
    auto changes = [](const std::vector<Action>& actions) {
      for (const Action& a : actions) {
        if (a.kind == Action::Kind::kFilter || a.kind == Action::Kind::kSetHeader ||
            a.kind == Action::Kind::kRemoveHeader)
          return true;
      }
      return false;
    };
    if (changes(rule.actions) || changes(rule.else_actions)) return true;
    for (const rules::Rule& r : rule.block)
      if (ChangesMessage(r)) return true;
    for (const rules::Rule& r : rule.else_block)
      if (ChangesMessage(r)) return true;
    return false;
  }

  // A block's rules; whether the block always ends the run is not worked out (false).
  bool Block(const std::vector<rules::Rule>& list) {
    Rules(list);
    return false;
  }

  void Add(bool error, const rules::Location& at, const std::string& message) {
    findings.push_back({error, Diagnostic(rules_, at, error ? "error" : "warning", message)});
  }

  // One branch's actions; whether one of them is final.
  bool Actions(const std::vector<Action>& actions) {
    const Action* final_action = nullptr;
    for (const Action& a : actions) {
      if (final_action != nullptr && a.kind != Action::Kind::kFlag) {  // flags count anywhere
        Add(false, a.location,
            std::string("'") + ActionName(a.kind) + "' never runs: it comes after '" +
                ActionName(final_action->kind) + "', which ends the run");
        continue;
      }
      if ((a.kind == Action::Kind::kFolder || a.kind == Action::Kind::kCopy) &&
          a.argument.find('$') == std::string::npos) {
        std::string dir;
        Status s = FolderDirectory(a.argument, &dir);
        if (!s.ok()) {
          Add(true, a.location, s.message() + "; mda would deliver to INBOX instead");
        } else if (auto [it, added] = by_directory_.try_emplace(dir, a.argument, a.location);
                   !added && it->second.first != a.argument) {
          Add(false, a.location,
              "folder '" + a.argument + "' is the same folder as '" + it->second.first + "' at " +
                  rules_.Where(it->second.second) + " (" +
                  (dir.empty() ? std::string("INBOX") : "Maildir/" + dir) +
                  "; '.' separates folders as '/' does): use one spelling");
        }
      }
      if ((a.kind == Action::Kind::kFilter || a.kind == Action::Kind::kPipe) &&
          a.program[0].find('$') == std::string::npos && a.program[0].rfind("~/", 0) != 0) {
        // A warning, not an error: --check may run elsewhere than the mail server.
        std::string path;
        if (Status s = FindProgram(a.program[0], &path); !s.ok()) {
          Add(false, a.location,
              s.message() + (a.kind == Action::Kind::kPipe
                                 ? "; mda would keep the message in INBOX"
                                 : "; mda would keep the message unfiltered"));
        }
      }
      if (a.kind == Action::Kind::kForward) {
        forwards_ += a.program.size();
        if (forwards_ > kMaxForwardTargets && forwards_ - a.program.size() <= kMaxForwardTargets) {
          Add(true, a.location,
              "more than " + std::to_string(kMaxForwardTargets) +
                  " forward addresses in this file: mda forwards a message to at most " +
                  std::to_string(kMaxForwardTargets) + " and keeps the rest of them in INBOX");
        }
      }
      if (a.final()) final_action = &a;
    }
    return final_action != nullptr;
  }

  const rules::RuleSet& rules_;
  // Literal folder names by the directory they name: two spellings of one folder
  // ("inbox" and "INBOX", "Lists/a.b" and "Lists/a/b") are one folder.
  std::map<std::string, std::pair<std::string, rules::Location>> by_directory_;
  size_t forwards_ = 0;  // forward addresses in the whole file
};

}  // namespace

std::vector<Finding> Lint(const rules::RuleSet& rules) {
  Linter linter(rules);
  linter.Rules(rules.rules);
  std::vector<Finding> findings = std::move(linter.findings);
  for (const rules::RefusedSetting& r : rules.refused_settings) {
    findings.push_back(
        {false, Diagnostic(rules, r.location, "warning",
                           "'" + r.name + "' is fixed by the site (set! at " +
                               rules.Where(r.fixed_at) + "): this line has no effect")});
  }
  return findings;
}

}  // namespace mda
