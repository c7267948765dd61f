// Regex: a PCRE2 pattern compiled once (at load, or at its first use), matched with bounded effort.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

struct pcre2_real_code_8;
struct pcre2_real_match_context_8;
struct pcre2_real_match_data_8;
struct pcre2_real_jit_stack_8;

namespace mda::rules {

// What a match captured: $0..$9 and named groups.
struct Captures {
  std::vector<std::string> numbered;         // [0] is the whole match
  std::map<std::string, std::string> named;  // ${name}
};

class Regex {
 public:
  enum class Result { kMatch, kNoMatch, kLimit /* gave up: counted as no match */ };

  // Match effort limits (libraries.md: (a+)+$ on 30 a's takes 103 ms unbounded, 1.1 ms
  // with a match limit of 1e5).
  static constexpr uint32_t kMatchLimit = 100000;
  static constexpr uint32_t kDepthLimit = 10000;
  static constexpr uint32_t kHeapLimitKiB = 20 * 1024;

  // Compiles `pattern` with `flags` (any of "imsx"). UTF mode that still searches subjects
  // that are not valid UTF-8. Error: message and offset. Never JIT, in mda and mdatest
  // alike: JIT gives up at other points than the interpreter under the same match limit,
  // so a dry run with it could file a message where the delivery would not (issue 15).
  // A pattern that AlwaysCompiles is compiled at its first Match, and not at all when the
  // subject lacks its RequiredLiteral: a 1000-rule file costs what its rules need, not 1000
  // compilations (8M of 20M instructions). Both only ever skip certain non-matches.
  static Status Compile(std::string_view pattern, std::string_view flags,
                        std::unique_ptr<Regex>* out, size_t* error_offset);

  // Whether PCRE2 is certain to compile `pattern` with `flags`: literal characters,
  // escaped punctuation, \d \w \s (and capitals), \b \B, '.', simple classes, the
  // quantifiers * + ? {n,m} (max 1000, on single items), groups ( and (?:, |, ^ and $,
  // ASCII only, at most 500 bytes, flags i m s. Anything else is compiled at load.
  static bool AlwaysCompiles(std::string_view pattern, std::string_view flags);
  // Text that every match of `pattern` contains (ASCII; compared case-insensitively under
  // the i flag), or "" if there is none this simple scan can prove: the literal prefix
  // (after ^) of a pattern without |, minus a last character that a quantifier follows.
  static std::string RequiredLiteral(std::string_view pattern, std::string_view flags);

  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Searches `subject`; on a match fills `captures` if not null.
  Result Match(std::string_view subject, Captures* captures) const;

  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;

  bool CompileNow(size_t* error_offset, std::string* error) const;

  std::string pattern_;
  uint32_t options_ = 0;
  bool caseless_ = false;
  std::string literal_;                            // RequiredLiteral; empty: none
  mutable pcre2_real_code_8* code_ = nullptr;      // null until compiled (lazily, without jit)
  mutable bool failed_ = false;                    // a lazy compile failed (cannot happen)
  pcre2_real_match_context_8* context_ = nullptr;  // shared by all patterns, never freed
  mutable pcre2_real_match_data_8* data_ = nullptr;
  mutable std::vector<std::pair<int, std::string>> names_;  // group number, name
};

}  // namespace mda::rules
