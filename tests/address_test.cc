// Tests of ParseAddresses: bare addr-specs of address headers, hostile forms included.
#include "rules/address.h"

#include <gtest/gtest.h>

namespace mda::rules {
namespace {

TEST(ParseAddressesTest, Table) {
  using V = std::vector<std::string>;
  struct Case {
    std::string value;
    V addresses;
  } cases[] = {
      {"bob@example.com", {"bob@example.com"}},
      {"Bob Smith <bob@example.com>", {"bob@example.com"}},
      {"\"bob@example.com\" <phish@evil.net>", {"phish@evil.net"}},
      {"\"Smith, Bob\" <bob@example.com>, alice@example.org",
       {"bob@example.com", "alice@example.org"}},
      {"bob@example.com (Bob Smith)", {"bob@example.com"}},
      {"(comment (nested)) bob@example.com", {"bob@example.com"}},
      {"<@relay.example:bob@example.com>", {"bob@example.com"}},
      {"team: a@x.org, B <b@y.org>;, c@z.org", {"a@x.org", "b@y.org", "c@z.org"}},
      {"undisclosed-recipients:;", {}},
      {"undisclosed-recipients:", {}},
      {"\"john doe\"@example.com", {"\"john doe\"@example.com"}},
      {"bob@[IPv6:::1]", {"bob@[IPv6:::1]"}},
      {"foo", {"foo"}},
      {"", {}},
      {",,,", {}},
      {"=?UTF-8?Q?Bob?= <bob@example.com>", {"bob@example.com"}},
      {"Bob <bob@example.com", {"bob@example.com"}},  // unterminated angle
      {"\"unterminated <x@y>", {"\"unterminated <x@y>"}},
      {"a@x\r\n\t, b@y", {"a@x", "b@y"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseAddresses(c.value), c.addresses) << c.value;
  }
}

}  // namespace
}  // namespace mda::rules
