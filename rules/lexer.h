// Lexer: the tokens of a rule file, read on the parser's demand (ninja's Lexer is the model).
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace mda::rules {

class Lexer {
 public:
  enum class Token {
    kEof,
    kWord,    // if, folder, 5.0, 20M, Lists/dev, ...
    kHeader,  // X-Spam-Score:  (text() is the name without the colon)
    kString,  // "text" (text() is unescaped)
    kLParen,
    kRParen,
    kMatch,     // ~
    kNotMatch,  // !~
    kLt,
    kLe,
    kGt,
    kGe,
    kEq,      // ==
    kNe,      // !=
    kAssign,  // =
    kLBrace,  // { standing alone (a block of rules); inside a word it is the word's
    kRBrace,  // }
    kError,   // error() says what
  };

  Lexer(std::string_view filename, std::string_view input) : filename_(filename), input_(input) {}

  Token ReadToken();
  // Reads "/pattern/flags" (after ~ or !~). "\/" stands for "/"; other escapes are PCRE2's.
  bool ReadRegex(std::string* pattern, std::string* flags);
  // Reads a value: a "quoted string" or a run of non-blank characters up to a blank or '#'.
  bool ReadValue(std::string* value);

  const std::string& text() const { return text_; }
  const Status& error() const { return error_; }
  // Line and column (1-based) where the last token began.
  int line() const { return line_; }
  int col() const { return col_; }
  // Whether only blanks stand before the last token on its line.
  bool TokenStartsLine() const;
  // Whether the next token would be the word `word` (ReadToken's kWord), consuming nothing.
  bool NextIsWord(std::string_view word) const;
  // The word ReadToken would read next ("{" and "}" included), or "" when a header name,
  // a string, an operator or the end comes next. Consumes nothing.
  std::string_view PeekWord() const;
  // Whether only blanks and comments are left.
  bool AtEnd() const;
  // After the word `set`: consumes a '!' that follows it directly (`set!`).
  bool ConsumeBang();

  // "file:line:col: message", then the line, then a caret under the column.
  // A failure at `line`:`col` of this file: kBadInput, its location() "FILE:LINE:COL".
  Status Error(const std::string& message, int line, int col) const;
  Status Error(const std::string& message) const { return Error(message, line_, col_); }

 private:
  void SkipBlanksAndComments();
  size_t NextTokenStart() const;  // where the next token begins (blanks, comments skipped)
  void Mark();                    // remembers the current position as the token's start
  bool ReadQuoted();

  std::string_view filename_;
  std::string_view input_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int current_line_ = 1;
  int line_ = 1, col_ = 1;
  std::string text_;
  Status error_;
  mutable size_t peeked_from_ = static_cast<size_t>(-1), peeked_to_ = 0;  // NextTokenStart's
};

}  // namespace mda::rules
