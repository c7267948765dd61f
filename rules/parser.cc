// Parser: a rule file (and what it includes) into a RuleSet.
// Over 400 lines on purpose: the whole grammar is one recursive-descent class, read in one place.
#include "rules/parser.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "base/ascii.h"
#include "rules/diagnostic.h"
#include "rules/lexer.h"
#include "rules/variables.h"

namespace mda::rules {
namespace {

using Token = Lexer::Token;

constexpr int kMaxIncludeDepth = 8;
// Totals over the main file and everything it includes: depth alone does not bound the
// work (20 includes a level, 7 levels deep, is 1.3 billion files).
constexpr size_t kMaxFiles = 64;
constexpr size_t kMaxRules = 10000;
constexpr int kMaxConditionDepth = 100;
constexpr int kMaxBlockDepth = 32;    // then { ... } nested at most this deep
constexpr int kMaxElseIfChain = 256;  // `else if` after one another, at most
constexpr size_t kMaxProgramArguments = 255;
constexpr size_t kMaxForwards = 32;  // addresses of one forward action (and of a message)

// Checks the $variables of a folder name or text; the message says what is wrong.
std::optional<std::string> CheckVariables(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') continue;
    Reference r = ReadReference(text, i);
    if (r.kind == Reference::Kind::kBad) return r.problem;
    i += r.length - 1;
  }
  return std::nullopt;
}

std::optional<double> ParseNumber(std::string_view s) {
  if (s.empty()) return std::nullopt;
  const char* first = s.data() + (s[0] == '+' ? 1 : 0);
  double d = 0;
  auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), d, std::chars_format::fixed);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

class Parser {
 public:
  Parser(const ParseOptions& options, RuleSet* out) : options_(options), out_(out) {}

  Status ParseFile(const std::string& path, std::string_view content, const std::string& identity) {
    if (static_cast<int>(stack_.size()) > kMaxIncludeDepth) {
      return Status::BadInput(path + ": includes nested more than " +
                              std::to_string(kMaxIncludeDepth) + " deep");
    }
    stack_.push_back(identity);
    int file = static_cast<int>(out_->files.size());
    out_->files.push_back(path);
    out_->sources.emplace_back(content);
    Lexer lexer(path, content);
    std::string_view saved_content = content_;
    content_ = content;
    Status s;
    for (;;) {
      Token t = lexer.ReadToken();
      if (t == Token::kEof) break;
      if (t == Token::kError) return StartError(lexer, content, lexer.error());
      if (t == Token::kWord && lexer.text() == "if") {
        s = ParseIf(lexer, file, 0, &out_->rules);
      } else if (t == Token::kWord && lexer.text() == "set") {
        s = ParseSet(lexer, file);
      } else if (t == Token::kWord && lexer.text() == "include") {
        s = ParseInclude(lexer, path);
      } else if (t == Token::kRBrace) {
        s = lexer.Error("'}' without a '{' before it");
      } else if (t == Token::kWord && lexer.text() == "else") {
        s = lexer.Error("'else' must follow a rule's actions (if ... then ... else ...)");
      } else {
        s = StartError(lexer, content,
                       lexer.Error(Describe(t, lexer) +
                                   " where a rule should start (with 'if', 'set' or 'include')"));
      }
      if (!s.ok()) return s;
    }
    stack_.pop_back();
    content_ = saved_content;
    return Status::Ok();
  }

 private:
  static std::string Describe(Token t, const Lexer& lexer) {
    switch (t) {
      case Token::kEof:
        return "the end of the file";
      case Token::kWord:
        return "'" + lexer.text() + "'";
      case Token::kHeader:
        return "'" + lexer.text() + ":'";
      case Token::kString:
        return "\"" + lexer.text() + "\"";
      case Token::kLParen:
        return "'('";
      case Token::kRParen:
        return "')'";
      case Token::kMatch:
        return "'~'";
      case Token::kNotMatch:
        return "'!~'";
      case Token::kLt:
        return "'<'";
      case Token::kLe:
        return "'<='";
      case Token::kGt:
        return "'>'";
      case Token::kGe:
        return "'>='";
      case Token::kEq:
        return "'=='";
      case Token::kNe:
        return "'!='";
      case Token::kAssign:
        return "'='";
      case Token::kLBrace:
        return "'{'";
      case Token::kRBrace:
        return "'}'";
      case Token::kError:
        return "an error";
    }
    return "?";
  }

  static std::optional<Test::Op> ComparisonOp(Token t) {
    switch (t) {
      case Token::kLt:
        return Test::Op::kLt;
      case Token::kLe:
        return Test::Op::kLe;
      case Token::kGt:
        return Test::Op::kGt;
      case Token::kGe:
        return Test::Op::kGe;
      case Token::kEq:
        return Test::Op::kEq;
      case Token::kNe:
        return Test::Op::kNe;
      default:
        return std::nullopt;
    }
  }

  // A line pasted from a procmailrc: say what it is and, where possible, what to write.
  static std::string ProcmailHint(std::string_view line) {
    size_t i = line.find_first_not_of(" \t");
    if (i == std::string_view::npos) return "";
    line.remove_prefix(i);
    auto starts = [&](std::string_view p) { return line.substr(0, p.size()) == p; };
    if (starts(":0")) {
      return "this is a procmail recipe start (:0); mda rules read 'if CONDITION then ACTION' with "
             "no "
             "recipe line: procmail's 'c' flag is mda's 'copy', and no lock file is needed";
    }
    if (starts("*")) {
      std::string_view cond = line.substr(1);
      cond.remove_prefix(std::min(cond.find_first_not_of(" \t"), cond.size()));
      if (cond.substr(0, 1) == "^" && cond.find(':') != std::string_view::npos &&
          cond.substr(0, 3) != "^TO") {
        std::string_view header = cond.substr(1, cond.find(':') - 1);
        std::string_view rest = cond.substr(cond.find(':') + 1);
        // procmail's "^Name: value" anchors the value at its start (after the one blank);
        // "^Name:.*value" finds it anywhere.
        bool anywhere = false;
        while (!rest.empty() && IsBlank(rest[0])) rest.remove_prefix(1);
        while (rest.substr(0, 2) == ".*") {
          rest.remove_prefix(2);
          anywhere = true;
        }
        while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
        bool plain_name =
            !header.empty() && header.find_first_of(" .*[(|\\") == std::string_view::npos;
        if (plain_name) {
          std::string re = std::string(anywhere || rest.empty() ? "" : "^") + std::string(rest);
          if (re.find('/') != std::string::npos) re = "...";  // a slash would end the regex
          return "this is a procmail condition; in mda: if " + std::string(header) + ": ~ /" + re +
                 "/i then ...  (procmail matches case-insensitively; " +
                 (anywhere       ? std::string("'.*' finds it anywhere in the value")
                  : rest.empty() ? std::string("any value")
                                 : "the value starts with it, hence the '^'") +
                 ")";
        }
      }
      if (cond.substr(0, 3) == "^TO") {
        return "this is a procmail condition (^TO); in mda: if address To: ~ /.../i or address Cc: "
               "~ /.../i then ...";
      }
      return "this is a procmail condition (*); in mda a condition follows 'if', e.g. if Subject: "
             "~ /.../ then ...";
    }
    if (starts("!")) {
      return "this is a procmail forward (!); in mda: then forward \"address@example.org\" "
             "('copy forward' for procmail's c flag)";
    }
    if (starts("/dev/null")) {
      return "this is procmail's /dev/null (throw the message away); in mda: then discard";
    }
    if (starts("|") && line.find("formail") != std::string_view::npos &&
        line.find("-D") != std::string_view::npos) {
      return "this is procmail's duplicate check (formail -D); mda has it built in and on by "
             "default (set dedup = 7d; keyed on Message-ID and sender, never dropping a retried "
             "message): leave this recipe out";
    }
    if (starts("|")) {
      return "this is a procmail pipe (|); in mda: then pipe \"/path/to/program\" \"arg\" ... "
             "(each argument quoted, no shell; 'copy pipe' for procmail's c flag; 'filter' for "
             ":0fw)";
    }
    if (starts("{") || starts("}")) {
      return "this is a procmail block ({ }); in mda a block follows 'then': if CONDITION then "
             "{ RULES }";
    }
    size_t eq = line.find('=');
    if (eq != std::string_view::npos && eq > 0 &&
        line.substr(0, eq).find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") ==
            std::string_view::npos) {
      std::string_view var = line.substr(0, eq), value = line.substr(eq + 1);
      std::string v(value);
      if (v.rfind("$HOME/", 0) == 0) v = "~/" + v.substr(6);
      if (var == "MAILDIR" || var == "DEFAULT")
        return "this is a procmail variable; in mda: set maildir = " + v;
      if (var == "LOGFILE") return "this is a procmail variable; in mda: set log = " + v;
      return "this is a procmail variable assignment (" + std::string(var) +
             "=); mda settings read 'set NAME = VALUE'";
    }
    if (starts("$MAILDIR/") || starts(".") || line.back() == '/') {
      std::string_view folder = line;
      if (starts("$MAILDIR/")) folder.remove_prefix(9);
      bool maildirpp = !folder.empty() && folder[0] == '.';  // .Lists.dev/: Lists/dev
      while (!folder.empty() && (folder[0] == '.' || folder[0] == '/')) folder.remove_prefix(1);
      while (!folder.empty() && folder.back() == '/') folder.remove_suffix(1);
      std::string name(folder);
      if (maildirpp) std::replace(name.begin(), name.end(), '.', '/');
      if (!name.empty()) {
        return "this looks like a procmail action (a Maildir folder); in mda: then folder " + name;
      }
    }
    return "";
  }

  // The error for a statement that cannot start: the procmail hint when the line is
  // procmail, at its first column, else `fallback`.
  static Status StartError(const Lexer& lexer, std::string_view content, const Status& fallback) {
    std::string_view line = LineOf(content, lexer.line());
    std::string hint = ProcmailHint(line);
    if (hint.empty()) return fallback;
    int col = static_cast<int>(line.find_first_not_of(" \t")) + 1;
    return lexer.Error(hint, lexer.line(), col);
  }

  Status Expect(Lexer& lexer, Token want, const char* what) {
    Token t = lexer.ReadToken();
    if (t == Token::kError) return lexer.error();
    if (t != want)
      return lexer.Error("expected " + std::string(what) + ", got " + Describe(t, lexer));
    return Status::Ok();
  }

  // `if CONDITION then BRANCH [else BRANCH]`, into `into`; `depth`: blocks around it;
  // `chain`: the `else if`s before it (each is a block of one rule, bounded on its own).
  Status ParseIf(Lexer& lexer, int file, int depth, std::vector<Rule>* into, int chain = 0) {
    Rule rule;
    rule.location = {file, lexer.line(), lexer.col()};
    if (++rule_count_ > kMaxRules) {
      return lexer.Error("more than " + std::to_string(kMaxRules) +
                         " rules in this file and its includes: split the work, or include less");
    }
    Status s = ParseOr(lexer, file, 0, &rule.condition);
    if (!s.ok()) return s;
    Token t = lexer.ReadToken();
    if (t == Token::kError) return lexer.error();
    if (t != Token::kWord || lexer.text() != "then") {
      return lexer.Error("expected 'then' (or 'and', 'or') after the condition, got " +
                         Describe(t, lexer));
    }
    s = ParseBranch(lexer, file, depth, &rule.actions, &rule.block, &rule.has_block);
    if (!s.ok()) return s;
    if (NextWordIs(lexer, "else")) {
      lexer.ReadToken();
      rule.has_else = true;
      rule.else_location = {file, lexer.line(), lexer.col()};
      if (NextWordIs(lexer, "if")) {
        // else if ...: a block of that one rule (and its own else).
        lexer.ReadToken();
        if (chain + 1 > kMaxElseIfChain) {
          return lexer.Error("more than " + std::to_string(kMaxElseIfChain) +
                             " 'else if' in one chain: end the chain and start a new rule");
        }
        rule.else_is_block = true;
        s = ParseIf(lexer, file, depth, &rule.else_block, chain + 1);
      } else {
        s = ParseBranch(lexer, file, depth, &rule.else_actions, &rule.else_block,
                        &rule.else_is_block);
      }
      if (!s.ok()) return s;
    }
    into->push_back(std::move(rule));
    return Status::Ok();
  }

  static Status BlockTooDeep(const Lexer& lexer) {
    return lexer.Error("blocks nested more than " + std::to_string(kMaxBlockDepth) +
                       " deep: combine conditions with 'and'");
  }

  // After then or else: `{ RULES }` (a block, possibly empty), or actions.
  Status ParseBranch(Lexer& lexer, int file, int depth, std::vector<Action>* actions,
                     std::vector<Rule>* rules, bool* block) {
    // A brace alone reads as the word "{" would (NextWordIs), without copying the lexer.
    if (!NextWordIs(lexer, "{")) return ParseActions(lexer, file, actions);
    lexer.ReadToken();
    int line = lexer.line(), col = lexer.col();
    if (depth + 1 > kMaxBlockDepth) return BlockTooDeep(lexer);
    *block = true;
    for (;;) {
      Token t = lexer.ReadToken();
      if (t == Token::kError) return lexer.error();
      if (t == Token::kRBrace) return Status::Ok();
      if (t == Token::kEof) {
        return lexer.Error("the '{' at line " + std::to_string(line) + ":" + std::to_string(col) +
                               " is never closed: add '}' after its last rule",
                           line, col);
      }
      if (t != Token::kWord || lexer.text() != "if") {
        Status message =
            lexer.Error("expected a rule ('if ...') or '}' inside the block opened at line " +
                        std::to_string(line) + ", got " + Describe(t, lexer) +
                        (t == Token::kWord && (lexer.text() == "set" || lexer.text() == "include")
                             ? " (settings and includes go outside blocks)"
                             : ""));
        return lexer.TokenStartsLine() ? StartError(lexer, content_, message) : message;
      }
      Status s = ParseIf(lexer, file, depth + 1, rules);
      if (!s.ok()) return s;
    }
  }

  Status ParseOr(Lexer& lexer, int file, int depth, std::unique_ptr<Condition>* out) {
    Status s = ParseAnd(lexer, file, depth, out);
    while (s.ok() && NextWordIs(lexer, "or")) {
      lexer.ReadToken();
      auto node = std::make_unique<Condition>();
      node->kind = Condition::Kind::kOr;
      node->left = std::move(*out);
      s = ParseAnd(lexer, file, depth, &node->right);
      *out = std::move(node);
    }
    return s;
  }

  // Whether the next token is the word `word`, without consuming it.
  static bool NextWordIs(const Lexer& lexer, std::string_view word) {
    return lexer.NextIsWord(word);
  }

  Status ParseAnd(Lexer& lexer, int file, int depth, std::unique_ptr<Condition>* out) {
    Status s = ParseUnary(lexer, file, depth, out);
    while (s.ok() && NextWordIs(lexer, "and")) {
      lexer.ReadToken();
      auto node = std::make_unique<Condition>();
      node->kind = Condition::Kind::kAnd;
      node->left = std::move(*out);
      s = ParseUnary(lexer, file, depth, &node->right);
      *out = std::move(node);
    }
    return s;
  }

  Status ParseUnary(Lexer& lexer, int file, int depth, std::unique_ptr<Condition>* out) {
    if (depth > kMaxConditionDepth) {
      return lexer.Error("condition nested too deeply (more than " +
                         std::to_string(kMaxConditionDepth) + " levels)");
    }
    Token t = lexer.ReadToken();
    if (t == Token::kError) return lexer.error();
    if (t == Token::kWord && lexer.text() == "not") {
      auto node = std::make_unique<Condition>();
      node->kind = Condition::Kind::kNot;
      Status s = ParseUnary(lexer, file, depth + 1, &node->left);
      *out = std::move(node);
      return s;
    }
    if (t == Token::kLParen) {
      Status s = ParseOr(lexer, file, depth + 1, out);
      if (!s.ok()) return s;
      return Expect(lexer, Token::kRParen, "')' to close the '('");
    }
    auto node = std::make_unique<Condition>();
    node->kind = Condition::Kind::kTest;
    node->test.location = {file, lexer.line(), lexer.col()};
    Status s = ParseTest(lexer, t, &node->test);
    *out = std::move(node);
    return s;
  }

  // After the subject: ~ /re/, !~ /re/, is "text", contains "text".
  Status ParseStringOp(Lexer& lexer, Test* test, bool numeric_allowed) {
    Token t = lexer.ReadToken();
    if (t == Token::kError) return lexer.error();
    if (t == Token::kMatch || t == Token::kNotMatch) {
      test->op = t == Token::kMatch ? Test::Op::kMatch : Test::Op::kNotMatch;
      std::string pattern, flags;
      if (!lexer.ReadRegex(&pattern, &flags)) return lexer.error();
      int line = lexer.line(), col = lexer.col();
      std::string compile_flags = flags;
      // `headers` is many lines: ^ and $ match at each (procmail's way), always.
      if ((test->subject == Test::Subject::kHeaders || test->subject == Test::Subject::kRawBody) &&
          flags.find('m') == std::string::npos)
        compile_flags += 'm';
      size_t offset = 0;
      Status s = Regex::Compile(pattern, compile_flags, &test->regex, &offset);
      if (!s.ok()) {
        if (s.kind() == Status::Kind::kTemporary) return s;
        // Point at the character PCRE2 complains about (+1 for the opening slash).
        return lexer.Error(s.message(), line, col + 1 + static_cast<int>(offset));
      }
      test->source += (t == Token::kMatch ? " ~ /" : " !~ /") + pattern + "/" + flags;
      return Status::Ok();
    }
    if (t == Token::kWord && (lexer.text() == "is" || lexer.text() == "contains")) {
      test->op = lexer.text() == "is" ? Test::Op::kIs : Test::Op::kContains;
      std::string word = lexer.text();
      Status s = Expect(lexer, Token::kString, "a \"quoted text\"");
      if (!s.ok()) return s;
      test->text = lexer.text();
      test->source += " " + word + " \"" + test->text + "\"";
      return Status::Ok();
    }
    if (numeric_allowed) {
      std::optional<Test::Op> op = ComparisonOp(t);
      if (!op) {
        return lexer.Error("expected ~, !~, is, contains or a comparison (< <= > >= == !=), got " +
                           Describe(t, lexer));
      }
      std::string op_text = Describe(t, lexer);
      Token n = lexer.ReadToken();
      if (n == Token::kError) return lexer.error();
      std::optional<double> number;
      if (n == Token::kWord) number = ParseNumber(lexer.text());
      if (!number)
        return lexer.Error("expected a number like 5, -0.5 or 12.25, got " + Describe(n, lexer));
      if (*number > kMaxNumber || *number < -kMaxNumber) {
        return lexer.Error("the number " + lexer.text() + " is out of range (-1e15 to 1e15)");
      }
      test->op = *op;
      test->number = *number;
      test->source += " " + op_text.substr(1, op_text.size() - 2) + " " + lexer.text();
      return Status::Ok();
    }
    return lexer.Error("expected ~, !~, is or contains, got " + Describe(t, lexer));
  }

  Status ParseTest(Lexer& lexer, Token t, Test* test) {
    if (t == Token::kHeader) {
      test->subject = Test::Subject::kHeader;
      test->header = lexer.text();
      test->source = test->header + ":";
      return ParseStringOp(lexer, test, /*numeric_allowed=*/true);
    }
    if (t != Token::kWord) {
      return lexer.Error(
          "expected a test (a header like Subject:, exists, address, body, attachment, headers, "
          "size, "
          "sender, recipient, not, '('), got " +
          Describe(t, lexer));
    }
    const std::string word = lexer.text();
    if (word == "exists" || word == "address") {
      Status s = Expect(lexer, Token::kHeader,
                        ("a header name with its colon after '" + word + "', like From:").c_str());
      if (!s.ok()) return s;
      test->header = lexer.text();
      test->source = word + " " + test->header + ":";
      if (word == "exists") {
        test->subject = Test::Subject::kExists;
        test->op = Test::Op::kExists;
        return Status::Ok();
      }
      test->subject = Test::Subject::kAddress;
      return ParseStringOp(lexer, test, false);
    }
    if (word == "body" || word == "sender" || word == "recipient" || word == "attachment" ||
        word == "headers" || word == "rawbody") {
      test->subject = word == "body"         ? Test::Subject::kBody
                      : word == "sender"     ? Test::Subject::kSender
                      : word == "attachment" ? Test::Subject::kAttachment
                      : word == "headers"    ? Test::Subject::kHeaders
                      : word == "rawbody"    ? Test::Subject::kRawBody
                                             : Test::Subject::kRecipient;
      test->source = word;
      return ParseStringOp(lexer, test, false);
    }
    if (word == "size") {
      test->subject = Test::Subject::kSize;
      test->source = "size";
      Token op = lexer.ReadToken();
      std::optional<Test::Op> comparison = ComparisonOp(op);
      if (!comparison) {
        return lexer.Error("expected a comparison (< <= > >= == !=) after 'size', got " +
                           Describe(op, lexer));
      }
      test->op = *comparison;
      std::string op_text = Describe(op, lexer);
      Token n = lexer.ReadToken();
      std::optional<uint64_t> size;
      if (n == Token::kWord) size = ParseSize(lexer.text());
      if (!size) {
        return lexer.Error("expected a size like 500, 20K or 5M (at most 1024G), got " +
                           Describe(n, lexer));
      }
      test->number = static_cast<double>(*size);
      test->source += " " + op_text.substr(1, op_text.size() - 2) + " " + lexer.text();
      return Status::Ok();
    }
    return lexer.Error(
        "expected a test (a header like Subject:, exists, address, body, attachment, headers, "
        "size, sender, recipient, not, '('), got '" +
        word + "'" +
        (word.find('-') != std::string::npos || isupper(static_cast<unsigned char>(word[0]))
             ? "; a header name needs its colon, like " + word + ":"
             : ""));
  }

  Status ParseActions(Lexer& lexer, int file, std::vector<Action>* actions) {
    for (;;) {
      if (lexer.AtEnd()) break;
      std::string_view next = lexer.PeekWord();
      if (next == "if" || next == "set" || next == "include" || next == "else" || next == "{" ||
          next == "}") {
        break;
      }
      Token t = lexer.ReadToken();
      if (t == Token::kError) {
        return lexer.TokenStartsLine() ? StartError(lexer, content_, lexer.error()) : lexer.error();
      }
      Action a;
      a.location = {file, lexer.line(), lexer.col()};
      const std::string word = t == Token::kWord ? lexer.text() : "";
      int line = lexer.line(), col = lexer.col();
      // `copy` is a prefix of a delivering action; `copy NAME` is short for `copy folder NAME`.
      bool copy = word == "copy";
      std::string verb = word;
      if (copy && CopyPrefix(lexer)) {
        lexer.ReadToken();
        verb = lexer.text();
      }
      if (verb == "folder" || verb == "copy") {
        a.kind = copy ? Action::Kind::kCopy : Action::Kind::kFolder;
        if (!lexer.ReadValue(&a.argument))
          return lexer.Error("expected a folder name after '" + word + "'");
        line = lexer.line();
        col = lexer.col();
      } else if (verb == "filter" || verb == "pipe") {
        a.kind = verb == "filter" ? Action::Kind::kFilter : Action::Kind::kPipe;
        a.copy = copy;
        Status s = ParseProgram(lexer, verb, &a.program);
        if (!s.ok()) return s;
      } else if (verb == "forward") {
        a.kind = Action::Kind::kForward;
        a.copy = copy;
        Status s = ParseForward(lexer, &a.program);
        if (!s.ok()) return s;
      } else if (word == "vacation") {
        a.kind = Action::Kind::kVacation;
        auto spec = std::make_shared<VacationSpec>();
        Status s = ParseVacation(lexer, spec.get());
        if (!s.ok()) return s;
        a.vacation = std::move(spec);
      } else if (word == "discard") {
        a.kind = Action::Kind::kDiscard;
      } else if (word == "flag") {
        a.kind = Action::Kind::kFlag;
        Status s = ParseFlags(lexer, &a.argument);
        if (!s.ok()) return s;
      } else if (word == "set-header" || word == "remove-header") {
        a.kind = word == "set-header" ? Action::Kind::kSetHeader : Action::Kind::kRemoveHeader;
        Status s = ParseHeaderEdit(lexer, word, &a.argument);
        if (!s.ok()) return s;
        line = lexer.line();
        col = lexer.col();
      } else if (word == "defer" || word == "reject" || word == "add-header") {
        a.kind = word == "defer"    ? Action::Kind::kDefer
                 : word == "reject" ? Action::Kind::kReject
                                    : Action::Kind::kAddHeader;
        Status s =
            Expect(lexer, Token::kString, ("a \"quoted text\" after '" + word + "'").c_str());
        if (!s.ok()) return s;
        a.argument = lexer.text();
        line = lexer.line();
        col = lexer.col();
        if (a.kind == Action::Kind::kAddHeader) {
          size_t colon = a.argument.find(':');
          std::string_view name =
              std::string_view(a.argument).substr(0, colon == std::string::npos ? 0 : colon);
          bool valid = !name.empty();
          for (char c : name) {
            if (c <= 32 || c >= 127) valid = false;
          }
          if (!valid)
            return lexer.Error(
                "add-header takes \"Name: value\" (a header name without blanks, a "
                "colon, the value)",
                line, col);
        }
      } else {
        Status message = lexer.Error(
            "expected an action (folder, copy, filter, pipe, forward, vacation, discard, defer, "
            "reject, add-header, set-header, remove-header, flag), got " +
            Describe(t, lexer));
        return lexer.TokenStartsLine() ? StartError(lexer, content_, message) : message;
      }
      if (auto problem = CheckVariables(a.argument)) return lexer.Error(*problem, line, col);
      actions->push_back(std::move(a));
    }
    if (actions->empty()) {
      return lexer.Error(
          "'then' and 'else' must be followed by a block ({ RULES }) or at least one action "
          "(folder, "
          "copy, filter, pipe, forward, vacation, discard, defer, reject, add-header, set-header, "
          "remove-header, flag)");
    }
    return Status::Ok();
  }

  // After flag: one or more of seen, flagged, answered, draft; their Maildir letters, in
  // ASCII order (Maildir's info: D draft, F flagged, R replied, S seen).
  Status ParseFlags(Lexer& lexer, std::string* letters) {
    static constexpr std::pair<std::string_view, char> kFlags[] = {
        {"draft", 'D'}, {"flagged", 'F'}, {"answered", 'R'}, {"seen", 'S'}};
    std::string found;
    for (;;) {
      Lexer probe = lexer;
      if (probe.ReadToken() != Token::kWord) break;
      char letter = 0;
      for (const auto& [name, l] : kFlags) {
        if (probe.text() == name) letter = l;
      }
      if (letter == 0) break;
      lexer.ReadToken();
      if (found.find(letter) == std::string::npos) found += letter;
    }
    if (found.empty()) {
      Token t = lexer.ReadToken();
      if (t == Token::kError) return lexer.error();
      return lexer.Error("expected a flag after 'flag' (seen, flagged, answered or draft), got " +
                         Describe(t, lexer));
    }
    std::sort(found.begin(), found.end());
    *letters = std::move(found);
    return Status::Ok();
  }

  // After set-header "Name: value" or remove-header "Name": a literal field name (no
  // variables: the rule alone says which field), never Received or Return-Path (RFC 5293:
  // they record the message's path).
  Status ParseHeaderEdit(Lexer& lexer, const std::string& verb, std::string* argument) {
    bool set = verb == "set-header";
    Status s =
        Expect(lexer, Token::kString,
               set ? "a \"Name: value\" after 'set-header'" : "a \"Name\" after 'remove-header'");
    if (!s.ok()) return s;
    *argument = lexer.text();
    size_t colon = set ? argument->find(':') : argument->size();
    std::string_view name =
        std::string_view(*argument).substr(0, colon == std::string::npos ? 0 : colon);
    bool valid = !name.empty();
    for (char c : name) {
      if (c <= 32 || c >= 127 || c == ':' || c == '$') valid = false;
    }
    if (!valid) {
      return lexer.Error(set ? "set-header takes \"Name: value\" (a header name without blanks "
                               "or variables, a colon, the value)"
                             : "remove-header takes a header name without blanks, colon or "
                               "variables, like \"X-Mailer\"");
    }
    if (EqualsIgnoreCase(name, "Received") || EqualsIgnoreCase(name, "Return-Path")) {
      return lexer.Error(std::string(name) + " cannot be " + (set ? "changed" : "removed") +
                         ": it records the message's path (RFC 5293); mda leaves it as it "
                         "arrived");
    }
    return Status::Ok();
  }

  // Whether `copy` is followed by `folder NAME` or `pipe "PROGRAM"`; otherwise the word
  // after it is a folder's name (`copy pipe` alone is a copy into the folder "pipe").
  static bool CopyPrefix(const Lexer& lexer) {
    Lexer probe = lexer;
    if (probe.ReadToken() != Token::kWord) return false;
    if (probe.text() == "pipe" || probe.text() == "forward")
      return probe.ReadToken() == Token::kString;
    if (probe.text() != "folder") return false;
    std::string name;
    return probe.ReadValue(&name) && name != "if" && name != "set" && name != "include";
  }

  // After filter or pipe: "PROGRAM" "ARG"... , each a quoted text (one argv element each,
  // whatever its expansion holds). The program is named by the rule alone: an absolute
  // path, ~/ or $HOME/ and a path, or a bare name found in the fixed PATH; no other
  // variable, so that no sender can choose what runs.
  Status ParseProgram(Lexer& lexer, const std::string& verb, std::vector<std::string>* program) {
    std::vector<std::pair<int, int>> places;  // of each element, for the shell check
    for (;;) {
      Lexer probe = lexer;
      if (probe.ReadToken() != Token::kString) break;
      lexer.ReadToken();
      int line = lexer.line(), col = lexer.col();
      const std::string& text = lexer.text();
      if (program->size() >= kMaxProgramArguments) {
        return lexer.Error("more than " + std::to_string(kMaxProgramArguments) + " arguments", line,
                           col);
      }
      if (text.find('\0') != std::string::npos)
        return lexer.Error("an argument cannot hold a NUL byte", line, col);
      if (auto problem = CheckVariables(text)) return lexer.Error(*problem, line, col);
      if (program->empty()) {
        if (auto problem = CheckProgramName(text)) return lexer.Error(*problem, line, col);
      }
      program->push_back(text);
      places.emplace_back(line, col);
    }
    if (!program->empty()) return CheckShellScript(lexer, *program, places);
    {
      Token t = lexer.ReadToken();
      if (t == Token::kError) return lexer.error();
      return lexer.Error("expected the program after '" + verb +
                         "', quoted, like \"/usr/bin/spamc\" (then its arguments, each "
                         "quoted), got " +
                         Describe(t, lexer));
    }
  }

  // A shell's -c script is code: a value expanded into it (a capture, the sender, the
  // local part's suffix, all chosen by whoever sends the mail) could run as a command. Only
  // $HOME may be there; values go after the script, as arguments ($$1 in the script).
  Status CheckShellScript(const Lexer& lexer, const std::vector<std::string>& program,
                          const std::vector<std::pair<int, int>>& places) {
    std::string_view name = program[0];
    name.remove_prefix(name.rfind('/') == std::string_view::npos ? 0 : name.rfind('/') + 1);
    static constexpr std::string_view kShells[] = {"sh",  "bash", "dash", "zsh",
                                                   "ksh", "mksh", "ash",  "busybox"};
    bool shell = false;
    for (std::string_view s : kShells) shell = shell || name == s;
    if (!shell) return Status::Ok();
    for (size_t i = 1; i + 1 < program.size(); ++i) {
      const std::string& option = program[i];
      if (option.size() < 2 || option[0] != '-' || option.find('c') == std::string::npos) continue;
      std::string_view script = program[i + 1];
      for (size_t j = 0; j < script.size(); ++j) {
        if (script[j] != '$') continue;
        Reference r = ReadReference(script, j);
        if ((r.kind == Reference::Kind::kGroup || r.kind == Reference::Kind::kNamed ||
             r.kind == Reference::Kind::kEnvelope) &&
            r.name != "HOME") {
          return lexer.Error(
              "$" + std::string(r.name) + " in a shell script would make a value from the " +
                  "message shell code; write $$1 (the shell's $1) in the script " +
                  "and pass the value as an argument after it: \"" + std::string(program[0]) +
                  "\" \"" + option + "\" \"... $$1 ...\" \"sh\" \"$" + std::string(r.name) + "\"",
              places[i + 1].first, places[i + 1].second);
        }
        j += r.length - 1;
      }
      break;
    }
    return Status::Ok();
  }

  // After forward: "ADDRESS"..., each a plain address (no variables: the rule alone says
  // where mail goes, never the message).
  Status ParseForward(Lexer& lexer, std::vector<std::string>* addresses) {
    for (;;) {
      Lexer probe = lexer;
      if (probe.ReadToken() != Token::kString) break;
      lexer.ReadToken();
      const std::string& address = lexer.text();
      if (auto problem = CheckAddress(address)) return lexer.Error("forward: " + *problem);
      if (addresses->size() >= kMaxForwards) {
        return lexer.Error("more than " + std::to_string(kMaxForwards) +
                           " addresses: a message is forwarded to at most " +
                           std::to_string(kMaxForwards));
      }
      addresses->push_back(address);
    }
    if (addresses->empty()) {
      Token t = lexer.ReadToken();
      if (t == Token::kError) return lexer.error();
      return lexer.Error(
          "expected an address after 'forward', quoted, like \"me@example.net\", got " +
          Describe(t, lexer));
    }
    return Status::Ok();
  }

  // A mailbox address as sendmail takes it on its command line: local@domain, no blanks,
  // no control characters, no variable, not an option.
  static std::optional<std::string> CheckAddress(std::string_view address) {
    size_t at = address.rfind('@');
    if (address.empty() || at == std::string_view::npos || at == 0 || at + 1 == address.size())
      return "'" + std::string(address) + "' is not an address like \"me@example.net\"";
    if (address[0] == '-') return "an address cannot start with '-'";
    if (address.size() > 254) return "an address is at most 254 characters";
    for (char c : address) {
      if (static_cast<unsigned char>(c) <= 32 || c == 127 || c == '<' || c == '>' || c == ',' ||
          c == '"' || c == '(' || c == ')')
        return "'" + std::string(address) +
               "' is not a bare address (no blanks, brackets, quotes or commas)";
      if (c == '$')
        return "an address cannot hold a $variable: the rule alone says where mail goes";
    }
    return std::nullopt;
  }

  // After vacation: [days N] [subject "TEXT"] [from "ADDRESS"] [addresses "A" "B" ...] "TEXT".
  // `addresses` takes the strings that follow it; when nothing follows them, the last is the
  // reply's text.
  Status ParseVacation(Lexer& lexer, VacationSpec* spec) {
    bool have_text = false;
    std::vector<std::pair<int, int>> places;  // of each address, for its error
    for (;;) {
      Lexer probe = lexer;
      Token t = probe.ReadToken();
      if (t == Token::kString) {
        if (have_text) break;  // the next action's business (there is none that takes one)
        lexer.ReadToken();
        spec->text = lexer.text();
        have_text = true;
        continue;
      }
      if (t != Token::kWord || have_text) break;
      const std::string option = probe.text();
      if (option != "days" && option != "subject" && option != "from" && option != "addresses")
        break;
      lexer.ReadToken();
      if (option == "days") {
        Token n = lexer.ReadToken();
        int days = 0;
        bool number = n == Token::kWord && !lexer.text().empty() && lexer.text().size() < 5 &&
                      lexer.text().find_first_not_of("0123456789") == std::string::npos;
        if (number) days = std::stoi(lexer.text());
        if (!number || days < 1 || days > 365)
          return lexer.Error("expected a number of days from 1 to 365 after 'days', got " +
                             Describe(n, lexer));
        spec->days = days;
      } else if (option == "subject") {
        Status s = Expect(lexer, Token::kString, "a \"quoted subject\" after 'subject'");
        if (!s.ok()) return s;
        spec->subject = lexer.text();
        if (auto problem = CheckVariables(spec->subject)) return lexer.Error(*problem);
      } else if (option == "from") {
        Status s = Expect(lexer, Token::kString, "a \"quoted address\" after 'from'");
        if (!s.ok()) return s;
        if (auto problem = CheckAddress(lexer.text()))
          return lexer.Error("vacation from: " + *problem);
        spec->from = lexer.text();
      } else {
        size_t before = spec->addresses.size();
        for (;;) {
          Lexer next = lexer;
          if (next.ReadToken() != Token::kString) break;
          lexer.ReadToken();
          spec->addresses.push_back(lexer.text());
          places.emplace_back(lexer.line(), lexer.col());
        }
        if (spec->addresses.size() == before)
          return lexer.Error("expected at least one \"quoted address\" after 'addresses'");
      }
    }
    if (!have_text && !spec->addresses.empty()) {
      // `addresses "a" "b" "TEXT"`: the last string was the text.
      spec->text = spec->addresses.back();
      spec->addresses.pop_back();
      have_text = true;
    }
    for (size_t i = 0; i < spec->addresses.size(); ++i) {
      if (auto problem = CheckAddress(spec->addresses[i]))
        return lexer.Error("vacation addresses: " + *problem, places[i].first, places[i].second);
    }
    if (!have_text || spec->text.empty()) {
      return lexer.Error(
          "vacation needs the reply's text, quoted, last: vacation days 7 subject \"Away\" "
          "\"I am away until ...\"");
    }
    if (auto problem = CheckVariables(spec->text)) return lexer.Error(*problem);
    return Status::Ok();
  }

  static std::optional<std::string> CheckProgramName(std::string_view name) {
    std::string_view path = name;
    if (path.substr(0, 2) == "~/") path.remove_prefix(2);
    if (path.substr(0, 6) == "$HOME/") path.remove_prefix(6);
    if (path.substr(0, 7) == "${HOME}/") path.remove_prefix(7);
    if (path.empty() || name.back() == '/')
      return "the program is a path to a file, like \"/usr/bin/spamc\"";
    if (path.find('$') != std::string_view::npos) {
      return "the program's name cannot hold a $variable (other than a leading $HOME/): the "
             "rule alone chooses what runs; pass values as arguments";
    }
    for (char c : path) {
      if (static_cast<unsigned char>(c) < 32 || c == 127)
        return "the program's name cannot hold control characters";
    }
    if (path.size() == name.size() && name[0] != '/' && name.find('/') != std::string_view::npos) {
      return "a program is an absolute path (\"/usr/local/bin/x\"), in your home (\"~/bin/x\"), "
             "or a bare name found in /usr/local/bin:/usr/bin:/bin; not a relative path";
    }
    return std::nullopt;
  }

  Status ParseSet(Lexer& lexer, int file) {
    bool fixed = lexer.ConsumeBang();
    if (fixed && !options_.site) {
      return lexer.Error(
          "'set!' fixes a setting for every user and belongs in the site's rule files "
          "(/etc/mda/before.rules, after.rules); here, write 'set'");
    }
    Token t = lexer.ReadToken();
    if (t == Token::kError) return lexer.error();
    if (t != Token::kWord)
      return lexer.Error("expected a setting name after 'set', got " + Describe(t, lexer));
    std::string name = lexer.text();
    int line = lexer.line(), col = lexer.col();
    Status s = Expect(lexer, Token::kAssign, ("'=' after 'set " + name + "'").c_str());
    if (!s.ok()) return s;
    std::string value;
    if (!lexer.ReadValue(&value)) return lexer.error();
    int vline = lexer.line(), vcol = lexer.col();
    const SettingSpec* spec = nullptr;
    for (const SettingSpec& candidate : options_.settings) {
      if (candidate.name == name) spec = &candidate;
    }
    if (spec == nullptr) {
      std::string known;
      for (const SettingSpec& candidate : options_.settings)
        known += (known.empty() ? "" : ", ") + std::string(candidate.name);
      return lexer.Error("unknown setting '" + name + "' (known: " + known + ")", line, col);
    }
    std::string problem = spec->check(value);
    if (!problem.empty()) return lexer.Error(problem + ", not '" + value + "'", vline, vcol);
    auto it = out_->settings.find(name);
    if (it != out_->settings.end() && it->second.fixed && !options_.site) {
      out_->refused_settings.push_back({name, Location{file, line, col}, it->second.location});
      return Status::Ok();
    }
    out_->settings[name] = Setting{value, Location{file, line, col}, fixed};
    return Status::Ok();
  }

  Status ParseInclude(Lexer& lexer, const std::string& including) {
    Status s = Expect(lexer, Token::kString, "a \"file name\" after 'include'");
    if (!s.ok()) return s;
    std::string target = lexer.text();
    int line = lexer.line(), col = lexer.col();
    if (target.empty()) return lexer.Error("include needs a file name", line, col);
    if (target.rfind("~/", 0) == 0) {
      if (options_.home.empty())
        return lexer.Error("'~' in an include, and no home directory is known", line, col);
      target = options_.home + target.substr(1);
    } else if (target[0] != '/') {
      size_t slash = including.rfind('/');
      target = (slash == std::string::npos ? std::string(".") : including.substr(0, slash)) + "/" +
               target;
    }
    if (!options_.read_include) return lexer.Error("include is not available here", line, col);
    if (out_->files.size() >= kMaxFiles) {
      return lexer.Error("this include of " + target + " goes over " + std::to_string(kMaxFiles) +
                             " files read in all (a file included twice counts twice)",
                         line, col);
    }
    std::string content, identity;
    s = options_.read_include(target, &content, &identity);
    if (!s.ok()) {
      if (s.kind() == Status::Kind::kTemporary) return s;
      return lexer.Error("cannot include " + target + ": " + s.message(), line, col);
    }
    for (const std::string& open : stack_) {
      if (open == identity)
        return lexer.Error("include cycle: " + target + " is already being read", line, col);
    }
    if (static_cast<int>(stack_.size()) >= kMaxIncludeDepth) {
      return lexer.Error("includes nested more than " + std::to_string(kMaxIncludeDepth) + " deep",
                         line, col);
    }
    return ParseFile(target, content, identity);
  }

  const ParseOptions& options_;
  RuleSet* out_;
  std::vector<std::string> stack_;  // identities of the files being read
  size_t rule_count_ = 0;           // rules read, nested ones included
  std::string_view content_;        // the text of the file being read
};

}  // namespace

std::optional<uint64_t> ParseSize(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t multiplier = 1;
  char last = text.back();
  if (last == 'K' || last == 'k') multiplier = 1024;
  if (last == 'M' || last == 'm') multiplier = 1024 * 1024;
  if (last == 'G' || last == 'g') multiplier = 1024ull * 1024 * 1024;
  if (multiplier != 1) text.remove_suffix(1);
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  if (n > kMaxSize / multiplier) return std::nullopt;
  return n * multiplier;
}

std::optional<uint64_t> ParsePeriod(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t unit = 1;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return std::nullopt;  // a bare number: 7 what? Make the user say.
  }
  text.remove_suffix(1);
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || n == 0)
    return std::nullopt;
  if (n > kMaxPeriod / unit) return std::nullopt;
  return n * unit;
}

Status ParseRules(const std::string& path, std::string_view content, const std::string& identity,
                  const ParseOptions& options, RuleSet* out) {
  Parser parser(options, out);
  return parser.ParseFile(path, content, identity);
}

}  // namespace mda::rules
