// Regex: a PCRE2 pattern compiled once at load, matched with bounded effort.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mda/status.h"

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
  // that are not valid UTF-8. `jit` pays off only when a pattern is matched many times
  // (mdatest over a mailbox), not once per process (mda). Error: message and offset.
  static Status Compile(std::string_view pattern, std::string_view flags, bool jit,
                        std::unique_ptr<Regex>* out, size_t* error_offset);

  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Searches `subject`; on a match fills `captures` if not null.
  Result Match(std::string_view subject, Captures* captures) const;

  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;

  std::string pattern_;
  pcre2_real_code_8* code_ = nullptr;
  pcre2_real_match_context_8* context_ = nullptr;  // shared by all patterns, never freed
  mutable pcre2_real_match_data_8* data_ = nullptr;
  std::vector<std::pair<int, std::string>> names_;  // group number, name
};

}  // namespace mda::rules
