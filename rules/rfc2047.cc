// RFC 2047 encoded words decoded to UTF-8.
#include "rules/rfc2047.h"

#include <vector>

#include "base/ascii.h"
#include "rules/mime_codec.h"

namespace mda::rules {
namespace {

struct EncodedWord {
  size_t begin = 0, end = 0;  // [begin, end) in the value
  std::string charset;        // without an RFC 2231 "*language"
  std::string bytes;          // decoded, still in `charset`
};

// The next occurrence of `what` at or after a position, for positions that only grow: a
// search is remembered and answers every later question it already covers, so all the
// searches over one value cost one pass over it. Without this, every "=?" searched to the
// end of the value: a 1 MB Subject of "=?a?q?x" cost minutes (issue 15).
class NextOf {
 public:
  NextOf(std::string_view value, std::string_view what, bool any_of)
      : value_(value), what_(what), any_of_(any_of) {}
  size_t From(size_t start) {
    if (!(searched_ && start >= from_ && start <= at_)) {
      from_ = start;
      at_ = any_of_ ? value_.find_first_of(what_, start) : value_.find(what_, start);
      searched_ = true;
    }
    return at_;  // npos compares greater than every start: it answers all later ones
  }

 private:
  std::string_view value_, what_;
  bool any_of_;
  bool searched_ = false;
  size_t from_ = 0, at_ = 0;
};

// The searches ParseWord makes, shared by every word of one value.
struct WordScanner {
  explicit WordScanner(std::string_view v)
      : value(v),
        question(v, "?", false),
        close(v, "?=", false),
        blank_in_charset(v, " \t", true),
        blank_in_text(v, " \t", true) {}
  std::string_view value;
  NextOf question, close, blank_in_charset, blank_in_text;
};

// Parses an encoded word starting at value[pos] ("=?"); false if there is none there.
// Calls for one value come with growing `pos`.
bool ParseWord(WordScanner& scan, size_t pos, EncodedWord* w) {
  // =?charset?enc?text?= ; no white space inside (RFC 2047 section 2).
  std::string_view value = scan.value;
  size_t q1 = scan.question.From(pos + 2);
  if (q1 == std::string_view::npos || q1 == pos + 2) return false;
  if (q1 + 2 >= value.size() || value[q1 + 2] != '?') return false;
  char enc = value[q1 + 1];
  if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q') return false;
  size_t text_begin = q1 + 3;
  size_t close = scan.close.From(text_begin);
  if (close == std::string_view::npos) return false;
  if (scan.blank_in_charset.From(pos + 2) < q1 || scan.blank_in_text.From(text_begin) < close)
    return false;
  std::string_view charset = value.substr(pos + 2, q1 - pos - 2);
  std::string_view text = value.substr(text_begin, close - text_begin);
  if (size_t star = charset.find('*'); star != std::string_view::npos)
    charset = charset.substr(0, star);
  w->charset.assign(charset);
  w->bytes.clear();
  // A bad word stops decoding at its first bad character, at the latest at the next "=?"
  // (Q: '=' must start a hex pair; B: '=' ends it): linear over the value too.
  bool ok =
      (enc == 'B' || enc == 'b') ? DecodeBase64Word(text, &w->bytes) : DecodeQ(text, &w->bytes);
  if (!ok) return false;
  w->begin = pos;
  w->end = close + 2;
  return true;
}

}  // namespace

std::string DecodeRfc2047(std::string_view value) {
  if (value.find("=?") == std::string_view::npos) return std::string(value);
  std::string out;
  size_t pos = 0;                // next byte of `value` not yet copied or decoded
  std::vector<EncodedWord> run;  // adjacent encoded words not yet converted
  auto flush = [&] {
    size_t i = 0;
    while (i < run.size()) {
      std::string bytes = run[i].bytes;
      size_t j = i + 1;
      while (j < run.size() && EqualsIgnoreCase(run[j].charset, run[i].charset)) {
        bytes += run[j].bytes;
        ++j;
      }
      if (!CharsetToUtf8(run[i].charset, bytes, &out)) {
        // Unknown charset: keep these words as they were written.
        out.append(value.substr(run[i].begin, run[j - 1].end - run[i].begin));
      }
      i = j;
    }
    run.clear();
  };
  size_t scan = 0;
  WordScanner scanner(value);
  while ((scan = value.find("=?", scan)) != std::string_view::npos) {
    EncodedWord w;
    if (!ParseWord(scanner, scan, &w)) {
      scan += 2;
      continue;
    }
    std::string_view between = value.substr(pos, scan - pos);
    bool only_space = between.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (!(only_space && !run.empty())) {
      flush();
      out.append(between);
    }
    run.push_back(std::move(w));
    pos = scan = run.back().end;
  }
  flush();
  out.append(value.substr(pos));
  return out;
}

}  // namespace mda::rules
