// Regex: a PCRE2 pattern compiled once at load, matched with bounded effort.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules/regex.h"

#include <pcre2.h>

namespace mda::rules {
namespace {

// One match context for every pattern (the limits are the same; the programs are single
// threaded): a thousand-rule file needs no thousand contexts. Made once, kept for the
// process's life. JIT's default 32 KiB stack fails on long subjects (libraries.md: a
// 200 KB body), so it gets up to 1 MiB.
pcre2_match_context* SharedMatchContext(bool jit) {
  static pcre2_match_context* context = [] {
    pcre2_match_context* c = pcre2_match_context_create(nullptr);
    if (c == nullptr) return c;
    pcre2_set_match_limit(c, Regex::kMatchLimit);
    pcre2_set_depth_limit(c, Regex::kDepthLimit);
    pcre2_set_heap_limit(c, Regex::kHeapLimitKiB);
    return c;
  }();
  static pcre2_jit_stack* stack = nullptr;
  if (jit && stack == nullptr && context != nullptr) {
    stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
    if (stack != nullptr) pcre2_jit_stack_assign(context, nullptr, stack);
  }
  return context;
}

}  // namespace

Status Regex::Compile(std::string_view pattern, std::string_view flags, bool jit,
                      std::unique_ptr<Regex>* out, size_t* error_offset) {
  uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
  for (char f : flags) {
    switch (f) {
      case 'i': options |= PCRE2_CASELESS; break;
      case 'm': options |= PCRE2_MULTILINE; break;
      case 's': options |= PCRE2_DOTALL; break;
      case 'x': options |= PCRE2_EXTENDED; break;
      default:
        *error_offset = 0;
        return Status::BadInput(std::string("unknown regex flag '") + f + "' (use i, m, s or x)");
    }
  }
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   options, &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    *error_offset = offset;
    return Status::BadInput("bad regex: " + std::string(reinterpret_cast<char*>(message)));
  }
  std::unique_ptr<Regex> r(new Regex());
  r->pattern_ = std::string(pattern);
  r->code_ = code;
  r->context_ = SharedMatchContext(jit);
  if (r->context_ == nullptr) return Status::Temporary("out of memory compiling a regex");
  // JIT failure is not an error: the interpreter serves.
  if (jit) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);

  uint32_t count = 0, entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
  for (uint32_t i = 0; i < count; ++i) {
    PCRE2_SPTR entry = table + i * entry_size;
    int number = (entry[0] << 8) | entry[1];
    r->names_.emplace_back(number, reinterpret_cast<const char*>(entry + 2));
  }
  *out = std::move(r);
  return Status::Ok();
}

Regex::~Regex() {
  pcre2_match_data_free(data_);
  pcre2_code_free(code_);
}

Regex::Result Regex::Match(std::string_view subject, Captures* captures) const {
  if (data_ == nullptr) {
    data_ = pcre2_match_data_create_from_pattern(code_, nullptr);
    if (data_ == nullptr) return Result::kLimit;
  }
  int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                       data_, context_);
  if (rc == PCRE2_ERROR_NOMATCH) return Result::kNoMatch;
  if (rc < 0) return Result::kLimit;  // match, depth or heap limit, or JIT stack: gave up
  if (captures != nullptr) {
    PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data_);
    uint32_t pairs = pcre2_get_ovector_count(data_);
    captures->numbered.clear();
    captures->named.clear();
    for (uint32_t i = 0; i < pairs && i < 10; ++i) {
      if (static_cast<int>(i) < rc && ovector[2 * i] != PCRE2_UNSET) {
        captures->numbered.emplace_back(subject.substr(ovector[2 * i], ovector[2 * i + 1] - ovector[2 * i]));
      } else {
        captures->numbered.emplace_back();
      }
    }
    for (const auto& [number, name] : names_) {
      uint32_t n = static_cast<uint32_t>(number);
      if (n < pairs && static_cast<int>(n) < rc && ovector[2 * n] != PCRE2_UNSET) {
        captures->named[name] = std::string(subject.substr(ovector[2 * n], ovector[2 * n + 1] - ovector[2 * n]));
      } else {
        captures->named[name] = "";
      }
    }
  }
  return Result::kMatch;
}

}  // namespace mda::rules
