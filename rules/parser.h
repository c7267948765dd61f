// Parser: a rule file (and what it includes) into a RuleSet, every regex compiled once, every
// error reported as "file:line:col: message", the line, and a caret.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "rules/ast.h"

namespace mda::rules {

// A name `set NAME = VALUE` may give. The rule language knows only the syntax of a setting;
// which names exist and which values they take belong to the program that reads the rules
// (mda gives its table: Settings() in its config.h).
struct SettingSpec {
  std::string_view name;
  // "" when `value` is good; else what a good value is ("log-format is logfmt or json").
  std::string (*check)(std::string_view value);
};

struct ParseOptions {
  std::string home;  // "~/" in include paths
  // The settings known; any other name is an error ("unknown setting", with the list).
  std::span<const SettingSpec> settings;
  // Reads an included file (rules/ does no I/O of its own): its content, and an identity
  // (such as "device:inode") that tells two paths to the same file apart for cycle detection.
  std::function<Status(const std::string& path, std::string* content, std::string* identity)>
      read_include;
  // A site file (/etc/mda/before.rules, after.rules): `set!` is allowed. In any other file a
  // `set` of a setting an earlier site file fixed is not applied (RuleSet::refused_settings).
  bool site = false;
};

// Parses `content`, the rule file `path` whose identity is `identity`, into `out`.
Status ParseRules(const std::string& path, std::string_view content, const std::string& identity,
                  const ParseOptions& options, RuleSet* out);

// Every number of the language has a range; a value outside it is a parse error.
inline constexpr uint64_t kMaxSize = uint64_t{1} << 40;         // 1 TiB: sizes and max-size
inline constexpr uint64_t kMaxPeriod = uint64_t{3650} * 86400;  // 10 years: set dedup
inline constexpr double kMaxNumber = 1e15;                      // header comparisons, either sign

// "20M" -> 20971520: an integer with an optional K, M or G suffix (powers of 1024), at most
// kMaxSize.
std::optional<uint64_t> ParseSize(std::string_view text);
// "7d" -> 604800: a positive integer with its unit, s, m, h, d or w (required), at most
// kMaxPeriod.
std::optional<uint64_t> ParsePeriod(std::string_view text);

}  // namespace mda::rules
