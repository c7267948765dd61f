// Tests of RFC 2047 decoding: B and Q, charsets through iconv, adjacent words joined.
#include "rules/rfc2047.h"

#include <gtest/gtest.h>

namespace mda::rules {
namespace {

TEST(Rfc2047Test, Table) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"plain text", "plain text"},
      {"=?UTF-8?B?W1NQQU1dIFlvdSBoYXZlIHdvbiDigqwxMDAwIQ==?=",
       "[SPAM] You have won \xe2\x82\xac"
       "1000!"},
      {"=?ISO-8859-1?Q?R=E9sum=E9_attached?=", "R\xc3\xa9sum\xc3\xa9 attached"},
      {"=?iso-8859-1?q?caf=E9?=", "caf\xc3\xa9"},
      {"=?windows-1252?Q?=80uro?=", "\xe2\x82\xacuro"},
      {"=?ISO-8859-15?Q?=A4?=", "\xe2\x82\xac"},
      // "[ALERT]" split over two encoded words: the white space between them goes.
      {"=?UTF-8?Q?=5BAL?= =?UTF-8?Q?ERT=5D?= disk full", "[ALERT] disk full"},
      {"=?UTF-8?Q?=5BAL?=\r\n =?UTF-8?Q?ERT=5D?=", "[ALERT]"},
      // A UTF-8 character split across two words is joined before conversion.
      {"=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=", "\xe2\x82\xac"},
      // White space between an encoded word and plain text stays.
      {"Re: =?UTF-8?Q?caf=C3=A9?= today", "Re: caf\xc3\xa9 today"},
      {"=?UTF-8*en?Q?lang_tag?=", "lang tag"},  // RFC 2231 language suffix
      {"=?UTF-8?B?YWJj?=", "abc"},              // no padding needed
      {"=?UTF-8?B?YWI?=", "ab"},
      // Left as written: unknown charset, bad encoding, malformed, unterminated.
      {"=?x-unknown-9?Q?abc?=", "=?x-unknown-9?Q?abc?="},
      {"=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="},
      {"=?UTF-8?Q?a=ZZ?=", "=?UTF-8?Q?a=ZZ?="},
      {"=?UTF-8?Q?abc", "=?UTF-8?Q?abc"},
      {"=??Q?abc?=", "=??Q?abc?="},
      {"a =?UTF-8?Q?has space?= b", "a =?UTF-8?Q?has space?= b"},
      // Different charsets side by side are converted separately.
      {"=?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3=A9?=", "\xc3\xa9\xc3\xa9"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DecodeRfc2047(c.in), c.out) << c.in;
  }
}

TEST(Rfc2047Test, InvalidBytesInCharsetBecomeReplacementCharacter) {
  // 0x81 is undefined in windows-1252.
  EXPECT_EQ(DecodeRfc2047("=?windows-1252?Q?a=81b?="),
            "a\xef\xbf\xbd"
            "b");
}

TEST(Rfc2047Test, HostileInputTerminates) {
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "=?UTF-8?Q?a?= ";
  EXPECT_EQ(DecodeRfc2047(many).size(), 20000u + 1);  // joined words, one trailing blank
  std::string opens(100000, '=');
  for (size_t i = 1; i < opens.size(); i += 2) opens[i] = '?';
  EXPECT_EQ(DecodeRfc2047(opens), opens);
}

}  // namespace
}  // namespace mda::rules
