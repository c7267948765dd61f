// Tests of the regex wrapper: which patterns mda may compile lazily, the literal a match
// must contain, and both checked against PCRE2 itself on random patterns and subjects.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules/regex.h"

#include <gtest/gtest.h>
#include <pcre2.h>

#include <random>

namespace mda::rules {
namespace {

TEST(RegexTest, AlwaysCompilesTable) {
  struct Case {
    const char* pattern;
    const char* flags;
    bool lazy;
  } cases[] = {
      {"ticket-12-[0-9]+", "", true},
      {"^\\[ALERT\\] (disk|cpu)\\b", "i", true},
      {"@example\\.com$", "i", true},
      {"a{2,5}?b*c+?", "", true},
      {"[^]a-z\\d\\-]x", "", true},
      {"(?:ab)+", "s", true},
      {"", "m", true},
      {"*a", "", false},           // nothing to repeat
      {"a**", "", false},          // a quantified quantifier
      {"(ab){3}", "", false},      // braces on a group: PCRE2 copies the group
      {"a{3,2}", "", false},       // out of order
      {"a{1001}", "", false},      // over the lazy limit
      {"a{,3}", "", false},        // literal text in PCRE2 10.42: left to PCRE2
      {"[z-a]", "", false},        // range out of order
      {"[[:alpha:]]", "", false},  // POSIX class
      {"(a", "", false},
      {"a)", "", false},
      {"a\\", "", false},
      {"\\x41", "", false},  // escapes other than \d \w \s \b and punctuation
      {"(?i)a", "", false},
      {"(?=a)", "", false},
      {"caf\xc3\xa9", "", false},  // non-ASCII
      {"a b", "x", false},         // extended mode
      {"a]", "", false},
      {"^*", "", false},
      {"\\b+", "", false},
  };
  for (const Case& c : cases)
    EXPECT_EQ(Regex::AlwaysCompiles(c.pattern, c.flags), c.lazy) << c.pattern;
}

TEST(RegexTest, RequiredLiteralTable) {
  struct Case {
    const char* pattern;
    const char* flags;
    const char* literal;
  } cases[] = {
      {"ticket-12-[0-9]+", "", "ticket-12-"},
      {"^\\[ALERT\\]", "", "[ALERT]"},
      {"^\\[ALERT\\]", "i", "[alert]"},
      {"@Example\\.com$", "i", "@example.com"},
      {"abc+", "", "ab"},  // the quantified c may be repeated: not part of it
      {"abc?", "", "ab"},
      {"abc{0,2}", "", "ab"},
      {"a|b", "", ""},  // alternation: no single literal
      {"(ab)c", "", ""},
      {"mask", "i", "ma"},  // caseless s and k also match non-ASCII letters
      {"desk", "", "desk"},
      {"x.y", "", "x"},
      {"a b", "x", ""},
  };
  for (const Case& c : cases)
    EXPECT_EQ(Regex::RequiredLiteral(c.pattern, c.flags), c.literal) << c.pattern;
}

// PCRE2's own verdict, with the options mda uses.
pcre2_code* Pcre2Compile(const std::string& pattern, bool caseless) {
  int error;
  PCRE2_SIZE offset;
  return pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (caseless ? PCRE2_CASELESS : 0),
                       &error, &offset, nullptr);
}

TEST(RegexTest, LazyPatternsCompileAndTheLiteralNeverHidesAMatch) {
  // Random patterns over regex syntax, random subjects: whatever AlwaysCompiles accepts,
  // PCRE2 compiles; whenever a subject lacks the required literal, PCRE2 finds no match;
  // and the lazy Regex agrees with PCRE2 on every subject.
  std::mt19937 rng(20261125);
  const std::string syntax = "abkK-s.*+?{}[]()|^$\\,0123:";
  const std::string text = "abkKsS-\xe2\x84\xaa\xc5\xbf";  // with KELVIN SIGN and LONG S
  int accepted = 0, with_literal = 0, skipped = 0;
  pcre2_match_data* data = pcre2_match_data_create(32, nullptr);
  for (int n = 0; n < 200000; ++n) {
    std::string pattern;
    int length = std::uniform_int_distribution<int>(0, 10)(rng);
    for (int i = 0; i < length; ++i) pattern += syntax[rng() % syntax.size()];
    bool caseless = rng() % 2;
    const char* flags = caseless ? "i" : "";
    if (!Regex::AlwaysCompiles(pattern, flags)) continue;
    ++accepted;
    pcre2_code* code = Pcre2Compile(pattern, caseless);
    ASSERT_NE(code, nullptr) << "AlwaysCompiles accepted /" << pattern << "/" << flags;
    std::string literal = Regex::RequiredLiteral(pattern, flags);
    with_literal += !literal.empty();
    std::unique_ptr<Regex> lazy;
    size_t offset;
    ASSERT_TRUE(Regex::Compile(pattern, flags, &lazy, &offset).ok());
    for (int s = 0; s < 4; ++s) {
      std::string subject;
      int size = std::uniform_int_distribution<int>(0, 12)(rng);
      for (int i = 0; i < size; ++i) subject += text[rng() % text.size()];
      int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                           data, nullptr);
      Regex::Result mine = lazy->Match(subject, nullptr);
      ASSERT_EQ(mine == Regex::Result::kMatch, rc >= 0)
          << "/" << pattern << "/" << flags << " on " << subject;
      skipped += !literal.empty() && rc < 0;
    }
    pcre2_code_free(code);
  }
  pcre2_match_data_free(data);
  EXPECT_GT(accepted, 10000);
  EXPECT_GT(with_literal, 1000);
  EXPECT_GT(skipped, 1000);
}

TEST(RegexTest, ALazyPatternIsCompiledOnlyWhenItsLiteralIsThere) {
  std::unique_ptr<Regex> r;
  size_t offset;
  ASSERT_TRUE(Regex::Compile("ticket-(\\d+)", "", &r, &offset).ok());
  Captures captures;
  EXPECT_EQ(r->Match("no such thing", &captures), Regex::Result::kNoMatch);
  EXPECT_EQ(r->Match("re: ticket-42 done", &captures), Regex::Result::kMatch);
  ASSERT_EQ(captures.numbered.size(), 2u);
  EXPECT_EQ(captures.numbered[1], "42");
  // Errors are still found at load: a pattern outside the lazy subset is compiled there.
  EXPECT_FALSE(Regex::Compile("ticket-(\\d+", "", &r, &offset).ok());
  EXPECT_FALSE(Regex::Compile("(?<n>x)(?<n>y)", "", &r, &offset).ok());
}

}  // namespace
}  // namespace mda::rules
