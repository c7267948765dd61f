// The syntax tree of a rule file: rules (condition, actions), settings, and where each came from.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rules/regex.h"

namespace mda::rules {

// A place in a rule file; `file` is an index into RuleSet::files.
struct Location {
  int file = 0;
  int line = 0;
  int col = 0;
};

struct Test {
  // kHeaders: the whole header, one "Name: value" line a field (continuations joined), as
  // procmail's conditions see it; kRawBody: the body as it arrived (not decoded, MIME
  // headers and all), as procmail's B sees it. Their regexes match line by line (^ and $ at
  // each line).
  enum class Subject {
    kHeader,
    kAddress,
    kBody,
    kSize,
    kSender,
    kRecipient,
    kExists,
    kAttachment,
    kHeaders,
    kRawBody
  };
  enum class Op { kMatch, kNotMatch, kIs, kContains, kLt, kLe, kGt, kGe, kEq, kNe, kExists };
  Subject subject = Subject::kHeader;
  std::string header;  // the header name, for kHeader, kAddress and kExists
  Op op = Op::kExists;
  std::string text;              // for kIs and kContains
  double number = 0;             // for the numeric ops
  std::unique_ptr<Regex> regex;  // for kMatch and kNotMatch
  std::string source;            // the test as written, for traces
  Location location;
};

struct Condition {
  enum class Kind { kAnd, kOr, kNot, kTest };
  Kind kind = Kind::kTest;
  std::unique_ptr<Condition> left, right;  // kNot uses left
  Test test;
};

// A vacation action's parameters, as written (subject and text may hold $variables).
struct VacationSpec {
  int days = 7;                        // one reply per sender and text in this many days
  std::string subject;                 // "": "Auto: " + the message's subject
  std::string from;                    // "": the recipient
  std::vector<std::string> addresses;  // the user's other addresses
  std::string text;
};

struct Action {
  // kCopy: `copy NAME` and `copy folder NAME`. kFilter: the message through a program,
  // whose output replaces it. kPipe: deliver into a program, kForward: to addresses through
  // sendmail (`copy pipe`, `copy forward`: copy is set). kVacation: an auto-reply. kFlag:
  // the Maildir flags of every copy (argument: their letters, "DFRS" order). kSetHeader
  // ("Name: value") and kRemoveHeader ("Name") edit the message for later tests and copies.
  enum class Kind {
    kFolder,
    kCopy,
    kDiscard,
    kDefer,
    kReject,
    kAddHeader,
    kFilter,
    kPipe,
    kForward,
    kVacation,
    kFlag,
    kSetHeader,
    kRemoveHeader
  };
  Kind kind = Kind::kFolder;
  std::string argument;              // folder name, reason or header; may hold $variables
  std::vector<std::string> program;  // kFilter, kPipe: the program, then its arguments;
                                     // kForward: the addresses
  bool copy = false;                 // kPipe, kForward: the run goes on
  std::shared_ptr<const VacationSpec> vacation;  // kVacation
  Location location;
  bool final() const {
    switch (kind) {
      case Kind::kCopy:
      case Kind::kAddHeader:
      case Kind::kFilter:
      case Kind::kVacation:
      case Kind::kFlag:
      case Kind::kSetHeader:
      case Kind::kRemoveHeader:
        return false;
      case Kind::kPipe:
      case Kind::kForward:
        return !copy;
      default:
        return true;
    }
  }
};

// A rule: when its condition holds, its actions or its block of rules (`then { RULES }`);
// when not, its else branch if it has one.
struct Rule {
  Location location;  // of its "if"
  std::unique_ptr<Condition> condition;
  std::vector<Action> actions;  // then ACTIONS (has_block false)
  std::vector<Rule> block;      // then { RULES } (has_block true)
  bool has_block = false;
  // else ACTIONS, else { RULES }, or else if ... (one rule in else_block).
  bool has_else = false;
  std::vector<Action> else_actions;
  std::vector<Rule> else_block;
  bool else_is_block = false;
  Location else_location;
};

struct Setting {
  std::string value;
  Location location;
  bool fixed = false;  // `set!` in a site file: a user's file cannot change it
};

// A user's `set` of a setting the site fixed with `set!`: not applied (mdatest --check and
// the log say so).
struct RefusedSetting {
  std::string name;
  Location location;  // of the user's `set`
  Location fixed_at;  // of the site's `set!`
};

struct RuleSet {
  std::vector<std::string> files;    // files[0] is the main rule file, then includes
  std::vector<std::string> sources;  // the text of each file, for diagnostics
  std::vector<Rule> rules;
  std::map<std::string, Setting, std::less<>> settings;  // less<>: looked up by name, no copy
  std::vector<RefusedSetting> refused_settings;
  std::string Where(const Location& l) const {
    return files[static_cast<size_t>(l.file)] + ":" + std::to_string(l.line);
  }
};

}  // namespace mda::rules
