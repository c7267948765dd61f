// Regex: a PCRE2 pattern compiled once at load, matched with bounded effort.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules/regex.h"

#include <pcre2.h>

#include "base/ascii.h"

namespace mda::rules {
namespace {

// One match context for every pattern (the limits are the same; the programs are single
// threaded): a thousand-rule file needs no thousand contexts. Made once, kept for the
// process's life.
pcre2_match_context* SharedMatchContext() {
  static pcre2_match_context* context = [] {
    pcre2_match_context* c = pcre2_match_context_create(nullptr);
    if (c == nullptr) return c;
    pcre2_set_match_limit(c, Regex::kMatchLimit);
    pcre2_set_depth_limit(c, Regex::kDepthLimit);
    pcre2_set_heap_limit(c, Regex::kHeapLimitKiB);
    return c;
  }();
  return context;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsPunct(char c) { return c > ' ' && c < 0x7f && !IsAlnum(c); }
constexpr size_t kMaxLazyPattern = 500;
constexpr int kMaxLazyDepth = 50;
constexpr long kMaxLazyRepeat = 1000;

// {n}, {n,}, {n,m} at p[*pos] (at '{'), advancing past it; false if it is not one we accept.
bool ReadBraces(std::string_view p, size_t* pos) {
  size_t i = *pos + 1;
  auto number = [&](long* out) {
    size_t start = i;
    *out = 0;
    while (i < p.size() && IsDigit(p[i]) && i - start < 5) *out = *out * 10 + (p[i++] - '0');
    return i > start && (i >= p.size() || !IsDigit(p[i]));
  };
  long lo = 0, hi = 0;
  if (!number(&lo)) return false;
  hi = lo;
  if (i < p.size() && p[i] == ',') {
    ++i;
    if (i < p.size() && p[i] == '}') {
      hi = kMaxLazyRepeat;
    } else if (!number(&hi)) {
      return false;
    }
  }
  if (i >= p.size() || p[i] != '}' || lo > hi || hi > kMaxLazyRepeat) return false;
  *pos = i + 1;
  return true;
}

// A class "[...]" at p[*pos], advancing past it: literal characters, escaped punctuation,
// \d \w \s and capitals, ranges of two literal characters in order.
bool ReadClass(std::string_view p, size_t* pos) {
  size_t i = *pos + 1;
  if (i < p.size() && p[i] == '^') ++i;
  bool first = true;
  while (i < p.size()) {
    char c = p[i];
    if (c == ']' && !first) {
      *pos = i + 1;
      return true;
    }
    first = false;
    int lo = -1;  // a literal character that may start a range
    if (c == '\\') {
      if (i + 1 >= p.size()) return false;
      char e = p[i + 1];
      if (IsPunct(e) || e == ' ') {
        lo = static_cast<unsigned char>(e);
      } else if (std::string_view("dDwWsS").find(e) == std::string_view::npos) {
        return false;
      }
      i += 2;
    } else if (c == '[' || c < ' ' || c > '~') {
      return false;  // POSIX classes, controls, non-ASCII: leave them to PCRE2 at load
    } else {
      lo = static_cast<unsigned char>(c);
      ++i;
    }
    if (i + 1 < p.size() && p[i] == '-' && p[i + 1] != ']') {
      char h = p[i + 1];
      if (lo < 0 || h == '\\' || h == '[' || h < ' ' || h > '~' ||
          static_cast<unsigned char>(h) < lo)
        return false;
      i += 2;
    }
  }
  return false;  // unterminated
}

}  // namespace

bool Regex::AlwaysCompiles(std::string_view p, std::string_view flags) {
  if (p.size() > kMaxLazyPattern || flags.find_first_not_of("ims") != std::string_view::npos)
    return false;
  int depth = 0;
  bool repeatable = false;  // the item before may take a quantifier
  bool single = false;      // ...and it is a single character or class (braces allowed)
  size_t i = 0;
  while (i < p.size()) {
    char c = p[i];
    if (c < ' ' || c > '~') return false;
    if (c == '*' || c == '+' || c == '?' || c == '{') {
      if (!repeatable) return false;
      if (c == '{') {
        if (!single || !ReadBraces(p, &i)) return false;
      } else {
        ++i;
      }
      if (i < p.size() && p[i] == '?') ++i;  // lazy
      if (i < p.size() && (p[i] == '*' || p[i] == '+' || p[i] == '?' || p[i] == '{')) return false;
      repeatable = single = false;
      continue;
    }
    repeatable = single = true;
    switch (c) {
      case '\\': {
        if (i + 1 >= p.size()) return false;
        char e = p[i + 1];
        if (e == 'b' || e == 'B') {
          repeatable = single = false;
        } else if (!IsPunct(e) && e != ' ' &&
                   std::string_view("dDwWsS").find(e) == std::string_view::npos) {
          return false;
        }
        i += 2;
        break;
      }
      case '[':
        if (!ReadClass(p, &i)) return false;
        break;
      case '(':
        if (i + 1 < p.size() && (p[i + 1] == '?' || p[i + 1] == '*')) {
          if (p.substr(i, 3) != "(?:") return false;
          i += 2;
        }
        ++i;
        if (++depth > kMaxLazyDepth) return false;
        repeatable = single = false;
        break;
      case ')':
        if (depth-- == 0) return false;
        single = false;  // a group: * + ? only (PCRE2 copies a group for {n,m})
        ++i;
        break;
      case '|':
      case '^':
      case '$':
        repeatable = single = false;
        ++i;
        break;
      case ']':
      case '}':
        return false;
      default:  // '.', a letter, a digit, other punctuation, a space
        ++i;
        break;
    }
  }
  return depth == 0;
}

std::string Regex::RequiredLiteral(std::string_view p, std::string_view flags) {
  if (flags.find('x') != std::string_view::npos || p.find('|') != std::string_view::npos) return "";
  bool caseless = flags.find('i') != std::string_view::npos;
  std::string literal;
  size_t i = p.substr(0, 1) == "^" ? 1 : 0;
  while (i < p.size()) {
    char c = p[i];
    size_t width = 1;
    if (c == '\\' && i + 1 < p.size() && (IsPunct(p[i + 1]) || p[i + 1] == ' ')) {
      c = p[i + 1];
      width = 2;
    } else if (!(IsAlnum(c) || c == ' ' || c == '-' || c == '_' || c == '@' || c == ',' ||
                 c == ':' || c == ';' || c == '\'' || c == '"' || c == '!' || c == '%' ||
                 c == '&' || c == '=' || c == '<' || c == '>' || c == '/' || c == '~' ||
                 c == '#')) {
      break;
    }
    // Under i, PCRE2 also matches k and s to non-ASCII letters (KELVIN SIGN, LONG S):
    // a byte search would miss those, so the literal ends before them.
    char lower = LowerAscii(c);
    if (caseless && (lower == 'k' || lower == 's')) {
      literal += '\0';  // marks "stop here", removed below with what a quantifier takes
      i += width;
      break;
    }
    literal += caseless ? lower : c;
    i += width;
  }
  // A quantifier after the last character makes it optional or repeated: drop it.
  if (i < p.size() && (p[i] == '*' || p[i] == '+' || p[i] == '?' || p[i] == '{') &&
      !literal.empty()) {
    literal.pop_back();
  }
  if (size_t stop = literal.find('\0'); stop != std::string::npos) literal.resize(stop);
  return literal;
}

Status Regex::Compile(std::string_view pattern, std::string_view flags, std::unique_ptr<Regex>* out,
                      size_t* error_offset) {
  uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
  for (char f : flags) {
    switch (f) {
      case 'i':
        options |= PCRE2_CASELESS;
        break;
      case 'm':
        options |= PCRE2_MULTILINE;
        break;
      case 's':
        options |= PCRE2_DOTALL;
        break;
      case 'x':
        options |= PCRE2_EXTENDED;
        break;
      default:
        *error_offset = 0;
        return Status::BadInput(std::string("unknown regex flag '") + f + "' (use i, m, s or x)");
    }
  }
  std::unique_ptr<Regex> r(new Regex());
  r->pattern_ = std::string(pattern);
  r->options_ = options;
  r->caseless_ = (options & PCRE2_CASELESS) != 0;
  r->context_ = SharedMatchContext();
  if (r->context_ == nullptr) return Status::Temporary("out of memory compiling a regex");
  if (AlwaysCompiles(pattern, flags)) {
    r->literal_ = RequiredLiteral(pattern, flags);
    *out = std::move(r);
    return Status::Ok();
  }
  std::string error;
  if (!r->CompileNow(error_offset, &error)) {
    if (error.empty()) return Status::Temporary("out of memory compiling a regex");
    return Status::BadInput("bad regex: " + error);
  }
  *out = std::move(r);
  return Status::Ok();
}

bool Regex::CompileNow(size_t* error_offset, std::string* error) const {
  int code = 0;
  PCRE2_SIZE offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern_.data()), pattern_.size(), options_,
                        &code, &offset, nullptr);
  if (code_ == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(code, message, sizeof message);
    *error_offset = offset;
    *error = reinterpret_cast<char*>(message);
    return false;
  }
  uint32_t count = 0, entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(code_, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(code_, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(code_, PCRE2_INFO_NAMETABLE, &table);
  for (uint32_t i = 0; i < count; ++i) {
    PCRE2_SPTR entry = table + i * entry_size;
    int number = (entry[0] << 8) | entry[1];
    names_.emplace_back(number, reinterpret_cast<const char*>(entry + 2));
  }
  return true;
}

Regex::~Regex() {
  pcre2_match_data_free(data_);
  pcre2_code_free(code_);
}

namespace {

bool ContainsCaseless(std::string_view haystack, std::string_view lowered_needle) {
  if (lowered_needle.empty()) return true;
  char first = lowered_needle[0];
  char first_upper = UpperAscii(first);
  for (size_t i = 0; i + lowered_needle.size() <= haystack.size(); ++i) {
    if (haystack[i] != first && haystack[i] != first_upper) continue;
    size_t j = 1;
    for (; j < lowered_needle.size(); ++j) {
      if (LowerAscii(haystack[i + j]) != lowered_needle[j]) break;
    }
    if (j == lowered_needle.size()) return true;
  }
  return false;
}

}  // namespace

Regex::Result Regex::Match(std::string_view subject, Captures* captures) const {
  // A subject without the literal every match contains cannot match: no need to compile.
  if (!literal_.empty() && !(caseless_ ? ContainsCaseless(subject, literal_)
                                       : subject.find(literal_) != std::string_view::npos)) {
    return Result::kNoMatch;
  }
  if (code_ == nullptr) {
    size_t offset;
    std::string error;
    if (failed_ || !CompileNow(&offset, &error)) {
      failed_ = true;  // AlwaysCompiles said it would: counted as a regex that gave up
      return Result::kLimit;
    }
  }
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
        captures->numbered.emplace_back(
            subject.substr(ovector[2 * i], ovector[2 * i + 1] - ovector[2 * i]));
      } else {
        captures->numbered.emplace_back();
      }
    }
    for (const auto& [number, name] : names_) {
      uint32_t n = static_cast<uint32_t>(number);
      if (n < pairs && static_cast<int>(n) < rc && ovector[2 * n] != PCRE2_UNSET) {
        captures->named[name] =
            std::string(subject.substr(ovector[2 * n], ovector[2 * n + 1] - ovector[2 * n]));
      } else {
        captures->named[name] = "";
      }
    }
  }
  return Result::kMatch;
}

}  // namespace mda::rules
