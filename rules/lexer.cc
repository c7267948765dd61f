// Lexer: the tokens of a rule file, read on the parser's demand.
#include "rules/lexer.h"

#include "base/ascii.h"
#include "rules/diagnostic.h"

namespace mda::rules {
namespace {

bool IsWordChar(char c) {
  return !IsSpace(c) && c != '(' && c != ')' && c != '"' && c != '#' && c != ':' && c != '~' &&
         c != '<' && c != '>' && c != '=' && c != '!';
}

}  // namespace

Status Lexer::Error(const std::string& message, int line, int col) const {
  return DiagnosticStatus(filename_, input_, line, col, message);
}

size_t Lexer::NextTokenStart() const {
  // The parser peeks several times at one place (the end of a rule's actions, else, the
  // next rule): the comments between rules are skipped once.
  if (peeked_from_ == pos_) return peeked_to_;
  size_t p = pos_;
  while (p < input_.size()) {
    char c = input_[p];
    if (c == '\n' || IsSpace(c)) {
      ++p;
    } else if (c == '#') {
      while (p < input_.size() && input_[p] != '\n') ++p;
    } else {
      break;
    }
  }
  peeked_from_ = pos_;
  peeked_to_ = p;
  return p;
}

bool Lexer::ConsumeBang() {
  if (pos_ >= input_.size() || input_[pos_] != '!') return false;
  ++pos_;
  return true;
}

bool Lexer::AtEnd() const { return NextTokenStart() >= input_.size(); }

std::string_view Lexer::PeekWord() const {
  // ReadToken's view of what comes next, without copying the lexer: blanks and comments
  // skipped, then a word that is not a header name (no colon after it).
  size_t p = NextTokenStart();
  size_t end = p;
  while (end < input_.size() && IsWordChar(input_[end])) ++end;
  if (end < input_.size() && input_[end] == ':') return {};
  return input_.substr(p, end - p);
}

bool Lexer::NextIsWord(std::string_view word) const { return PeekWord() == word; }

bool Lexer::TokenStartsLine() const {
  // Tokens never span lines, so after ReadToken the current line is the token's line and
  // line_start_ its first byte; col_ is counted from there.
  if (line_ != current_line_) return false;
  for (size_t i = line_start_; i < line_start_ + static_cast<size_t>(col_ - 1) && i < input_.size();
       ++i) {
    if (input_[i] != ' ' && input_[i] != '\t') return false;
  }
  return true;
}

void Lexer::SkipBlanksAndComments() {
  while (pos_ < input_.size()) {
    char c = input_[pos_];
    if (c == '\n') {
      ++pos_;
      ++current_line_;
      line_start_ = pos_;
    } else if (IsSpace(c)) {
      ++pos_;
    } else if (c == '#') {
      while (pos_ < input_.size() && input_[pos_] != '\n') ++pos_;
    } else {
      break;
    }
  }
}

void Lexer::Mark() {
  line_ = current_line_;
  col_ = static_cast<int>(pos_ - line_start_) + 1;
}

bool Lexer::ReadQuoted() {
  // At the opening quote. Escapes: \" \\ \n \t; a string does not span lines.
  ++pos_;
  text_.clear();
  while (pos_ < input_.size()) {
    char c = input_[pos_];
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c == '\n') break;
    if (c == '\\' && pos_ + 1 < input_.size()) {
      char e = input_[pos_ + 1];
      if (e == 'n') {
        text_ += '\n';
      } else if (e == 't') {
        text_ += '\t';
      } else if (e == '"' || e == '\\') {
        text_ += e;
      } else {
        text_ += '\\';
        text_ += e;
      }
      pos_ += 2;
      continue;
    }
    text_ += c;
    ++pos_;
  }
  error_ = Error("unterminated string: add the closing '\"' on this line");
  return false;
}

Lexer::Token Lexer::ReadToken() {
  SkipBlanksAndComments();
  Mark();
  text_.clear();
  if (pos_ >= input_.size()) return Token::kEof;
  char c = input_[pos_];
  char next = pos_ + 1 < input_.size() ? input_[pos_ + 1] : '\0';
  switch (c) {
    case '(':
      ++pos_;
      return Token::kLParen;
    case ')':
      ++pos_;
      return Token::kRParen;
    case '~':
      ++pos_;
      return Token::kMatch;
    case '"':
      return ReadQuoted() ? Token::kString : Token::kError;
    case '<':
      pos_ += next == '=' ? 2 : 1;
      return next == '=' ? Token::kLe : Token::kLt;
    case '>':
      pos_ += next == '=' ? 2 : 1;
      return next == '=' ? Token::kGe : Token::kGt;
    case '=':
      pos_ += next == '=' ? 2 : 1;
      return next == '=' ? Token::kEq : Token::kAssign;
    case '!':
      if (next == '~') {
        pos_ += 2;
        return Token::kNotMatch;
      }
      if (next == '=') {
        pos_ += 2;
        return Token::kNe;
      }
      error_ = Error("'!' must be followed by '~' or '='");
      return Token::kError;
    case ':':
      error_ = Error("':' without a header name before it");
      return Token::kError;
    default:
      break;
  }
  size_t start = pos_;
  while (pos_ < input_.size() && IsWordChar(input_[pos_])) ++pos_;
  text_.assign(input_.data() + start, pos_ - start);
  // A brace alone is a block's; ${name} and Lists/{x} stay words (and folder names).
  if (pos_ - start == 1 && input_[start] == '{') return Token::kLBrace;
  if (pos_ - start == 1 && input_[start] == '}') return Token::kRBrace;
  if (pos_ < input_.size() && input_[pos_] == ':') {
    ++pos_;
    return Token::kHeader;
  }
  return Token::kWord;
}

bool Lexer::ReadRegex(std::string* pattern, std::string* flags) {
  SkipBlanksAndComments();
  Mark();
  if (pos_ >= input_.size() || input_[pos_] != '/') {
    error_ = Error("expected a regex in slashes, like /pattern/i");
    return false;
  }
  ++pos_;
  pattern->clear();
  while (pos_ < input_.size() && input_[pos_] != '/' && input_[pos_] != '\n') {
    if (input_[pos_] == '\\' && pos_ + 1 < input_.size() && input_[pos_ + 1] != '\n') {
      if (input_[pos_ + 1] != '/') *pattern += '\\';
      *pattern += input_[pos_ + 1];
      pos_ += 2;
      continue;
    }
    *pattern += input_[pos_++];
  }
  if (pos_ >= input_.size() || input_[pos_] != '/') {
    error_ = Error(
        "unterminated regex: end it with '/' on the same line (write \\/ for a slash inside)");
    return false;
  }
  ++pos_;
  flags->clear();
  while (pos_ < input_.size() && ((input_[pos_] >= 'a' && input_[pos_] <= 'z') ||
                                  (input_[pos_] >= 'A' && input_[pos_] <= 'Z'))) {
    *flags += input_[pos_++];
  }
  return true;
}

bool Lexer::ReadValue(std::string* value) {
  SkipBlanksAndComments();
  Mark();
  if (pos_ < input_.size() && input_[pos_] == '"') {
    if (!ReadQuoted()) return false;
    *value = text_;
    return true;
  }
  value->clear();
  while (pos_ < input_.size() && !IsSpace(input_[pos_]) && input_[pos_] != '#')
    *value += input_[pos_++];
  if (value->empty()) {
    error_ = Error("expected a value here");
    return false;
  }
  return true;
}

}  // namespace mda::rules
