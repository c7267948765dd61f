// Evaluator: runs a RuleSet over one message and returns the Decision, with a trace.
#include "rules/evaluator.h"

#include <cstdio>
#include <optional>
#include <vector>

#include "base/ascii.h"
#include "base/utf8.h"
#include "rules/address.h"
#include "rules/body_text.h"
#include "rules/mime_codec.h"
#include "rules/number.h"
#include "rules/rfc2047.h"
#include "rules/variables.h"

namespace mda::rules {
namespace {

constexpr size_t kMaxRawBody = 1024 * 1024;  // rawbody tests see at most the first MiB

// Raw bytes as regex text: what is not UTF-8 (an unencoded Latin-1 Subject or body) becomes
// U+FFFD, so that '.' steps over it as procmail's does over any byte.
void AppendValidUtf8(std::string_view in, std::string* out) {
  for (size_t i = 0; i < in.size();) {
    uint32_t cp;
    size_t n = DecodeUtf8(in, i, &cp);
    if (n == 0) {
      *out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out->append(in, i, n);
      i += n;
    }
  }
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() && LowerAscii(haystack[i + j]) == LowerAscii(needle[j])) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

bool Compare(double value, Test::Op op, double limit) {
  switch (op) {
    case Test::Op::kLt:
      return value < limit;
    case Test::Op::kLe:
      return value <= limit;
    case Test::Op::kGt:
      return value > limit;
    case Test::Op::kGe:
      return value >= limit;
    case Test::Op::kEq:
      return value == limit;
    case Test::Op::kNe:
      return value != limit;
    default:
      return false;
  }
}

std::string Shorten(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out += (static_cast<unsigned char>(c) < 32) ? ' ' : c;
  if (s.size() > 80) out += "...";
  return out;
}

class Run {
 public:
  Run(const RuleSet& rules, const MessageContext& m, bool trace, Decision* d)
      : rules_(rules), m_(m), trace_(trace), d_(d), content_(m.content), headers_(m.headers) {
    decoded_.resize(m.headers->fields().size());
  }

  // A filter's output is the message from now on: every later test sees its header, body
  // and size. `content` must outlive the run.
  void Replace(std::string_view content) {
    content_ = content;
    filtered_headers_.emplace(content);
    headers_ = &*filtered_headers_;
    decoded_.assign(headers_->fields().size(), std::nullopt);
    body_.reset();
    attachments_.reset();
    headers_text_.reset();
    raw_body_.reset();
  }
  std::string_view content() const { return content_; }

  bool Eval(const Condition& c) {
    switch (c.kind) {
      case Condition::Kind::kAnd:
        return Eval(*c.left) && Eval(*c.right);
      case Condition::Kind::kOr:
        return Eval(*c.left) || Eval(*c.right);
      case Condition::Kind::kNot:
        return !Eval(*c.left);
      case Condition::Kind::kTest:
        return EvalTest(c.test);
    }
    return false;
  }

  const Captures& captures() const { return captures_; }
  // A rule's captures are its own: the next rule starts from those of the rules around it.
  // While a rule's condition is evaluated, the first match that replaces the captures moves
  // the old ones into *slot (and sets *saved), so that nothing is copied when nothing
  // matches; the rule then restores them.
  void SaveCapturesInto(Captures* slot, bool* saved) {
    save_slot_ = slot;
    saved_ = saved;
  }
  void RestoreCaptures(Captures* slot) { captures_ = std::move(*slot); }

 private:
  // A header value as users mean it: unfolded (HeaderBlock) and RFC 2047-decoded, cached.
  const std::string& Decoded(const HeaderField* f) {
    size_t index = static_cast<size_t>(f - headers_->fields().data());
    if (!decoded_[index]) decoded_[index] = DecodeRfc2047(f->value);
    return *decoded_[index];
  }

  // One string test on one value; `seen` collects what the trace shows.
  bool StringTest(const Test& t, std::string_view value) {
    switch (t.op) {
      case Test::Op::kMatch:
      case Test::Op::kNotMatch: {
        // A pattern that gave up once in this message gives up on the rest of it without
        // being run again, and after kMaxGaveUp patterns gave up, every pattern does: the
        // regex work of one message is bounded (30 000 Subject lines cost one limit, not
        // 30 000), and so is its log (one warning per rule).
        for (const Test* g : gave_up_) {
          if (g == &t) return false;
        }
        if (gave_up_.size() >= kMaxGaveUp) return false;
        Captures found;
        Regex::Result r = t.regex->Match(value, &found);
        if (r == Regex::Result::kLimit) {
          gave_up_.push_back(&t);
          std::string more = gave_up_.size() == kMaxGaveUp
                                 ? "; this is the " + std::to_string(kMaxGaveUp) +
                                       "th pattern to give up on this message: all other regex "
                                       "tests count as no match"
                                 : "";
          d_->warnings.push_back(
              rules_.Where(t.location) + ": regex /" + t.regex->pattern() +
              "/ gave up (match limit) on " + t.source.substr(0, t.source.find(' ')) +
              "; counted as no match for the whole message: simplify the pattern "
              "(nested repeats like (a+)+)" +
              more);
          return false;
        }
        if (r == Regex::Result::kMatch) {
          // A pattern without groups keeps the captures it found ($1 of the rule around
          // it stays $1 under `if Subject: ~ /\[ANNOUNCE\]/`).
          if (t.op == Test::Op::kMatch && (found.numbered.size() > 1 || !found.named.empty())) {
            if (trace_) {
              captured_.clear();
              for (size_t i = 1; i < found.numbered.size(); ++i) {
                if (!found.numbered[i].empty())
                  captured_ += " $" + std::to_string(i) + "='" + Shorten(found.numbered[i]) + "'";
              }
              for (const auto& [group, text] : found.named)
                captured_ += " ${" + group + "}='" + Shorten(text) + "'";
            }
            if (save_slot_ != nullptr && !*saved_) {
              *save_slot_ = std::move(captures_);
              *saved_ = true;
            }
            captures_ = std::move(found);
          }
          return true;
        }
        return false;
      }
      case Test::Op::kIs: {
        if (value.size() != t.text.size()) return false;
        for (size_t i = 0; i < value.size(); ++i) {
          if (LowerAscii(value[i]) != LowerAscii(t.text[i])) return false;
        }
        return true;
      }
      case Test::Op::kContains:
        return ContainsIgnoreCase(value, t.text);
      default: {
        std::optional<double> n = FirstNumber(value);
        return n && Compare(*n, t.op, t.number);
      }
    }
  }

  // Any of `values` passes; for !~, none matches.
  bool AnyValue(const Test& t, const std::vector<std::string_view>& values, std::string* seen) {
    bool negated = t.op == Test::Op::kNotMatch;
    for (std::string_view v : values) {
      if (trace_) {
        if (!seen->empty()) *seen += ", ";
        *seen += "'" + Shorten(v) + "'";
        if (t.op >= Test::Op::kLt && t.op <= Test::Op::kNe) {
          std::optional<double> n = FirstNumber(v);
          char number[32];
          if (n) snprintf(number, sizeof number, "%g", *n);
          *seen += n ? std::string(" (") + number + ")" : " (no number)";
        }
      }
      if (StringTest(t, v)) return !negated;
    }
    return negated;
  }

  bool EvalTest(const Test& t) {
    std::string seen;
    bool result = false;
    std::vector<std::string_view> values;
    std::vector<std::string> owned;
    switch (t.subject) {
      case Test::Subject::kExists:
        result = !headers_->Find(t.header).empty();
        break;
      case Test::Subject::kHeader:
        for (const HeaderField* f : headers_->Find(t.header)) values.push_back(Decoded(f));
        if (values.empty()) seen = "no such header";
        result = AnyValue(t, values, &seen);
        break;
      case Test::Subject::kAddress:
        for (const HeaderField* f : headers_->Find(t.header)) {
          for (std::string& a : ParseAddresses(f->value)) owned.push_back(std::move(a));
        }
        for (const std::string& a : owned) values.push_back(a);
        if (values.empty()) seen = "no address";
        result = AnyValue(t, values, &seen);
        break;
      case Test::Subject::kBody:
        if (!body_) body_ = m_.body_text ? m_.body_text(content_) : std::string();
        values.push_back(*body_);
        result = AnyValue(t, values, &seen);
        if (trace_) seen = std::to_string(values[0].size()) + " bytes of text";
        break;
      case Test::Subject::kHeaders:
        if (!headers_text_) {
          headers_text_.emplace();
          for (const HeaderField& f : headers_->fields()) {
            headers_text_->append(f.name);
            *headers_text_ += ": ";
            AppendValidUtf8(f.value, &*headers_text_);
            *headers_text_ += '\n';
          }
        }
        values.push_back(*headers_text_);
        result = AnyValue(t, values, &seen);
        if (trace_) seen = std::to_string(headers_->fields().size()) + " header lines";
        break;
      case Test::Subject::kRawBody:
        if (!raw_body_) {
          raw_body_.emplace();
          size_t at = std::min(headers_->body_offset(), content_.size());
          AppendValidUtf8(content_.substr(at, kMaxRawBody), &*raw_body_);
        }
        values.push_back(*raw_body_);
        result = AnyValue(t, values, &seen);
        if (trace_) seen = std::to_string(raw_body_->size()) + " bytes of the body as it arrived";
        break;
      case Test::Subject::kAttachment:
        if (!attachments_) attachments_ = AttachmentNames(content_);
        for (const std::string& name : *attachments_) values.push_back(name);
        if (values.empty()) seen = "no attachment names";
        result = AnyValue(t, values, &seen);
        break;
      case Test::Subject::kSize:
        result = Compare(static_cast<double>(content_.size()), t.op, t.number);
        seen = std::to_string(content_.size()) + " bytes";
        break;
      case Test::Subject::kSender:
        values.push_back(m_.sender);
        result = AnyValue(t, values, &seen);
        break;
      case Test::Subject::kRecipient:
        values.push_back(m_.recipient);
        result = AnyValue(t, values, &seen);
        break;
    }
    if (trace_) {
      d_->trace.push_back(
          "  " + rules_.Where(t.location) + ": " + t.source + (seen.empty() ? "" : " saw " + seen) +
          " -> " + (result ? "true" : "false") +
          (result && t.op == Test::Op::kMatch && !captured_.empty() ? ", captures" + captured_
                                                                    : ""));
      captured_.clear();
    }
    return result;
  }

  const RuleSet& rules_;
  const MessageContext& m_;
  bool trace_;
  Decision* d_;
  Captures captures_;
  Captures* save_slot_ = nullptr;  // SaveCapturesInto's
  bool* saved_ = nullptr;
  std::string captured_;  // the captures of this test's match, for the trace
  std::vector<std::optional<std::string>> decoded_;
  static constexpr size_t kMaxGaveUp = 8;
  std::vector<const Test*> gave_up_;  // regex tests that hit a limit on this message
  std::string_view content_;          // the message as it stands (a filter may replace it)
  const HeaderBlock* headers_;        // ... and its header
  std::optional<HeaderBlock> filtered_headers_;
  std::optional<std::string> body_;          // the body text of content_, once a test asked
  std::optional<std::string> headers_text_;  // "Name: value" lines, once a test asked
  std::optional<std::string> raw_body_;      // the body as it arrived, likewise
  std::optional<std::vector<std::string>> attachments_;  // its parts' file names, likewise
};

// A header line that came from a rule: captures may carry line breaks or control characters
// from the message; they must not start a new header line.
std::string SanitizeHeader(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 32 && c != '\t') c = ' ';
  }
  return s;
}

}  // namespace

std::string Expand(std::string_view text, const Captures& captures, const MessageContext& m) {
  std::string out;
  auto variable = [&](std::string_view name) -> std::string {
    if (name.size() == 1 && name[0] >= '0' && name[0] <= '9') {
      size_t i = static_cast<size_t>(name[0] - '0');
      return i < captures.numbered.size() ? captures.numbered[i] : "";
    }
    if (name == "RECIPIENT") return std::string(m.recipient);
    if (name == "LOCAL_PART") return std::string(m.local_part);
    if (name == "LOCAL_PART_PREFIX") return std::string(m.local_part_prefix);
    if (name == "LOCAL_PART_SUFFIX") return std::string(m.local_part_suffix);
    if (name == "DOMAIN") return std::string(m.domain);
    if (name == "SENDER") return std::string(m.sender);
    if (name == "HOME") return std::string(m.home);
    auto it = captures.named.find(std::string(name));
    return it == captures.named.end() ? "" : it->second;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    // The parser refused every bad reference; were one here, it would stay as written.
    Reference r = ReadReference(text, i);
    if (r.kind == Reference::Kind::kDollar) {
      out += '$';
    } else if (r.kind == Reference::Kind::kBad) {
      out += text.substr(i, r.length);
    } else {
      out += variable(r.name);
    }
    i += r.length - 1;
  }
  return out;
}

std::vector<std::string> ExpandProgram(const std::vector<std::string>& program,
                                       const Captures& captures, const MessageContext& message) {
  std::vector<std::string> argv;
  for (const std::string& element : program) argv.push_back(Expand(element, captures, message));
  if (!argv.empty() && argv[0].rfind("~/", 0) == 0)
    argv[0] = std::string(message.home) + argv[0].substr(1);
  return argv;
}

namespace {

// The rules of a file or a block, in order, for one message: fills the decision; true once
// a final action ended the run.
class Walker {
 public:
  Walker(const RuleSet& rules, const MessageContext& message, bool trace, Decision* d, Run* run,
         std::vector<Target>* copies)
      : rules_(rules), message_(message), trace_(trace), d_(*d), run_(*run), copies_(*copies) {}

  bool Rules(const std::vector<Rule>& rules, int depth) {
    for (const Rule& rule : rules) {
      Captures outer;
      bool replaced = false;
      run_.SaveCapturesInto(&outer, &replaced);
      size_t traced = d_.trace.size();
      bool matched = run_.Eval(*rule.condition);
      run_.SaveCapturesInto(nullptr, nullptr);
      if (trace_) {
        // A rule inside a block is shown indented under its block's rule, its tests too.
        for (size_t i = traced; i < d_.trace.size(); ++i)
          d_.trace[i].insert(0, static_cast<size_t>(depth) * 2, ' ');
        d_.trace.push_back(
            std::string(static_cast<size_t>(depth) * 2, ' ') + rules_.Where(rule.location) + ": " +
            (matched ? "matched" : "did not match") +
            (!matched && rule.has_else ? ", else at " + rules_.Where(rule.else_location) : ""));
      }
      bool ended = false;
      if (matched) {
        ended =
            rule.has_block ? Rules(rule.block, depth + 1) : Actions(rule.location, rule.actions);
      } else if (rule.has_else) {
        ended = rule.else_is_block ? Rules(rule.else_block, depth + 1)
                                   : Actions(rule.else_location, rule.else_actions);
      }
      if (replaced) run_.RestoreCaptures(&outer);
      if (ended) return true;
    }
    return false;
  }

 private:
  // Removes the pending add-header lines of `name`: a later set-header or remove-header of
  // a field decides what the message carries.
  void DropAddedHeaders(std::string_view name) {
    std::erase_if(d_.add_headers, [name](const std::string& line) {
      return EqualsIgnoreCase(std::string_view(line).substr(0, line.find(':')), name);
    });
  }

  // The message with one field removed or replaced, for every later test and copy.
  void EditMessage(const Action& a, std::string_view name, const std::string* line) {
    std::string edited = EditHeader(run_.content(), name, line);
    d_.message = std::move(edited);
    run_.Replace(*d_.message);
    DropAddedHeaders(name);
    if (trace_) {
      d_.trace.push_back("  " + rules_.Where(a.location) + ": " +
                         (line ? "set-header " + *line : "remove-header " + std::string(name)));
    }
    d_.edits.push_back(rules_.Where(a.location) + ": " +
                       (line ? "set " + *line : "removed " + std::string(name)));
  }

  void AddFlags(const Action& a) {
    for (char c : a.argument) {
      if (d_.flags.find(c) == std::string::npos) d_.flags += c;
    }
    std::sort(d_.flags.begin(), d_.flags.end());
    if (trace_)
      d_.trace.push_back("  " + rules_.Where(a.location) + ": flag " + ShowFlags(a.argument));
  }

  // `where`: the rule's `if` (or its `else`), which the log names as the deciding rule.
  bool Actions(const Location& where, const std::vector<Action>& actions) {
    for (const Action& a : actions) {
      std::string arg = Expand(a.argument, run_.captures(), message_);
      switch (a.kind) {
        case Action::Kind::kCopy:
          copies_.push_back(Target{std::move(arg), {}, "", ""});
          continue;
        case Action::Kind::kAddHeader:
          d_.add_headers.push_back(SanitizeHeader(std::move(arg)));
          continue;
        case Action::Kind::kFlag:
          continue;  // taken with the rule's final action, or after the branch
        case Action::Kind::kSetHeader: {
          size_t colon = a.argument.find(':');
          std::string name = a.argument.substr(0, colon);
          std::string value(
              Trim(std::string_view(SanitizeHeader(std::move(arg))).substr(colon + 1)));
          std::string line =
              name + ": " + (IsAddressHeader(name) ? value : EncodeHeaderWords(value));
          EditMessage(a, name, &line);
          continue;
        }
        case Action::Kind::kRemoveHeader:
          EditMessage(a, a.argument, nullptr);
          continue;
        case Action::Kind::kFilter: {
          FilterStep step{ExpandProgram(a.program, run_.captures(), message_),
                          rules_.Where(a.location), "", false};
          if (!message_.filter) {
            step.result = "not run (a dry run; mdatest --run-filters runs it)";
          } else if (std::optional<std::string> out =
                         message_.filter(step.program, run_.content(), &step.result)) {
            d_.message = std::move(*out);
            run_.Replace(*d_.message);
            step.replaced = true;
          }
          if (trace_) {
            d_.trace.push_back("  " + step.rule + ": filter " +
                               ShowProgram(step.program).substr(2) + " -> " + step.result);
          }
          d_.filters.push_back(std::move(step));
          continue;
        }
        case Action::Kind::kPipe:
          if (a.copy) {
            copies_.push_back(Target{"", ExpandProgram(a.program, run_.captures(), message_), "",
                                     rules_.Where(a.location)});
            continue;
          }
          d_.outcome = Outcome::kDeliver;
          d_.targets.push_back(Target{"", ExpandProgram(a.program, run_.captures(), message_), "",
                                      rules_.Where(a.location)});
          break;
        case Action::Kind::kForward: {
          std::vector<Target>& to = a.copy ? copies_ : d_.targets;
          for (const std::string& address : a.program)
            to.push_back(Target{"", {}, address, rules_.Where(a.location)});
          if (a.copy) continue;
          d_.outcome = Outcome::kDeliver;
          break;
        }
        case Action::Kind::kVacation:
          if (!d_.vacation) {  // the first one reached answers
            const VacationSpec& v = *a.vacation;
            d_.vacation = VacationReply{
                v.days,      SanitizeHeader(Expand(v.subject, run_.captures(), message_)),
                v.from,      Expand(v.text, run_.captures(), message_),
                v.addresses, rules_.Where(a.location)};
          }
          continue;
        case Action::Kind::kFolder:
          d_.outcome = Outcome::kDeliver;
          d_.targets.push_back(Target{std::move(arg), {}, "", ""});
          break;
        case Action::Kind::kDiscard:
          d_.outcome = Outcome::kDiscard;
          break;
        case Action::Kind::kDefer:
          d_.outcome = Outcome::kDefer;
          d_.reason = SanitizeHeader(std::move(arg));
          break;
        case Action::Kind::kReject:
          d_.outcome = Outcome::kReject;
          d_.reason = SanitizeHeader(std::move(arg));
          break;
      }
      d_.rule = rules_.Where(where);  // the first final action ends the run
      // ... but the rule's flags count wherever they stand in it (`folder Junk flag seen`).
      for (const Action& rest : actions) {
        if (rest.kind == Action::Kind::kFlag) AddFlags(rest);
      }
      return true;
    }
    for (const Action& a : actions) {
      if (a.kind == Action::Kind::kFlag) AddFlags(a);
    }
    return false;
  }

  // Address fields keep their UTF-8 (RFC 6532): encoding the whole value would hide the
  // address; other values with 8-bit text become RFC 2047 words.
  static bool IsAddressHeader(std::string_view name) {
    for (std::string_view a : {"From", "To", "Cc", "Bcc", "Reply-To", "Sender", "Resent-From",
                               "Resent-To", "Resent-Cc", "Resent-Sender"}) {
      if (EqualsIgnoreCase(name, a)) return true;
    }
    return false;
  }

  const RuleSet& rules_;
  const MessageContext& message_;
  bool trace_;
  Decision& d_;
  Run& run_;
  std::vector<Target>& copies_;
};

}  // namespace

Decision Evaluate(const RuleSet& rules, const MessageContext& message,
                  const std::string& default_folder, bool trace) {
  Decision d;
  Run run(rules, message, trace, &d);
  std::vector<Target> copies;
  bool decided = Walker(rules, message, trace, &d, &run, &copies).Rules(rules.rules, 0);
  if (!decided) {
    d.outcome = Outcome::kDeliver;
    d.targets.push_back(Target{default_folder, {}, "", ""});
    d.rule = "default";
  }
  // Copies first, then the final target; a folder (or a program) named twice gets one copy.
  std::vector<Target> targets = std::move(copies);
  if (d.outcome == Outcome::kDeliver) {
    for (Target& t : d.targets) targets.push_back(std::move(t));
  }
  d.targets.clear();
  for (Target& t : targets) {
    bool seen = false;
    for (const Target& g : d.targets) {
      seen = seen || (g.folder == t.folder && g.program == t.program &&
                      EqualsIgnoreCase(g.forward, t.forward));
    }
    if (!seen) d.targets.push_back(std::move(t));
  }
  return d;
}

}  // namespace mda::rules
