// Tests of HeaderBlock: the top-level header parsed as users mean it, where mimetic is not.
#include "rules/header_block.h"

#include <gtest/gtest.h>

namespace mda::rules {
namespace {

std::vector<std::string> Values(const HeaderBlock& h, std::string_view name) {
  std::vector<std::string> v;
  for (const HeaderField* f : h.Find(name)) v.push_back(f->value);
  return v;
}

TEST(HeaderBlockTest, Table) {
  struct Case {
    std::string message, name;
    std::vector<std::string> values;
  } cases[] = {
      {"Subject: hi\n\nbody", "subject", {"hi"}},
      {"Subject: hi\r\nX: y\r\n\r\nSubject: body\r\n", "Subject", {"hi"}},  // CRLF; body ignored
      {"X-Spam-Status: Yes, score=7.3\n\trequired=5.0 tests=A,\n B\n\n",
       "x-spam-status",
       {"Yes, score=7.3\trequired=5.0 tests=A, B"}},  // unfolded
      {"Received: a\nReceived: b\nreceived: c\n\n", "RECEIVED", {"a", "b", "c"}},
      {"Subject: kept\nX-Last: no blank line", "X-Last", {"no blank line"}},
      {"A: 1\nthis line is malformed\nB: 2\n\n", "B", {"2"}},  // skipped, header goes on
      {"A: 1\n\xff\xfe: 8-bit name\nB: 2\n\n", "B", {"2"}},
      {"From : obsolete\n\n", "From", {"obsolete"}},
      {"Empty:\nE2:   \n\n", "Empty", {""}},
      {"Subject: =?UTF-8?Q?x?=  \n\n", "Subject", {"=?UTF-8?Q?x?="}},  // trimmed, not decoded
      {"Subject: a\n\nContent-Type: message/rfc822\n\nSubject: inner\n", "Subject", {"a"}},
      {"\n\nSubject: after blank\n", "Subject", {}},
      {" leading continuation\nA: 1\n\n", "A", {"1"}},
  };
  for (const Case& c : cases) {
    HeaderBlock h(c.message);
    EXPECT_EQ(Values(h, c.name), c.values) << c.message;
  }
}

TEST(HeaderBlockTest, BodyOffsetAndSkipped) {
  std::string m = "A: 1\nbad line\n B: continuation of nothing\n\nbody\n";
  HeaderBlock h(m);
  EXPECT_EQ(m.substr(h.body_offset()), "body\n");
  EXPECT_EQ(h.skipped_lines(), 2u);
  HeaderBlock crlf("A: 1\r\n\r\nbody");
  EXPECT_EQ(crlf.body_offset(), 8u);
  HeaderBlock none("A: 1");
  EXPECT_EQ(none.body_offset(), 4u);
}

TEST(HeaderBlockTest, HugeInputs) {
  std::string m = "Subject: " + std::string(1 << 20, 'x') + "\n";
  for (int i = 0; i < 100000; ++i) m += "X-H: " + std::to_string(i) + "\n";
  m += "\nbody";
  HeaderBlock h(m);
  EXPECT_EQ(h.fields().size(), 100001u);
  EXPECT_EQ(h.Find("subject")[0]->value.size(), 1u << 20);
}

}  // namespace
}  // namespace mda::rules
