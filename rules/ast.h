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
  enum class Subject { kHeader, kAddress, kBody, kSize, kSender, kRecipient, kExists };
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

struct Action {
  // kCopy: `copy NAME` and `copy folder NAME`. kFilter: the message through a program,
  // whose output replaces it. kPipe: deliver into a program (`copy pipe`: copy is set).
  enum class Kind { kFolder, kCopy, kDiscard, kDefer, kReject, kAddHeader, kFilter, kPipe };
  Kind kind = Kind::kFolder;
  std::string argument;              // folder name, reason or header; may hold $variables
  std::vector<std::string> program;  // kFilter, kPipe: the program, then its arguments
  bool copy = false;                 // kPipe: `copy pipe`, the run goes on
  Location location;
  bool final() const {
    switch (kind) {
      case Kind::kCopy:
      case Kind::kAddHeader:
      case Kind::kFilter:
        return false;
      case Kind::kPipe:
        return !copy;
      default:
        return true;
    }
  }
};

struct Rule {
  Location location;  // of its "if"
  std::unique_ptr<Condition> condition;
  std::vector<Action> actions;
};

struct Setting {
  std::string value;
  Location location;
};

struct RuleSet {
  std::vector<std::string> files;    // files[0] is the main rule file, then includes
  std::vector<std::string> sources;  // the text of each file, for diagnostics
  std::vector<Rule> rules;
  std::map<std::string, Setting> settings;
  std::string Where(const Location& l) const {
    return files[static_cast<size_t>(l.file)] + ":" + std::to_string(l.line);
  }
};

}  // namespace mda::rules
