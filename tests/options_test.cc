// Tests of the command-line parser shared by mda and mdatest.
#include "mda/options.h"

#include <gtest/gtest.h>

namespace mda {
namespace {

Status Parse(std::vector<const char*> args, bool allow_paths, Options* out) {
  args.insert(args.begin(), "mda");
  return ParseOptions(static_cast<int>(args.size()), args.data(), allow_paths, out);
}

TEST(OptionsTest, ValuesInBothForms) {
  Options o;
  ASSERT_TRUE(Parse({"--recipient", "bob@example.com", "--sender=", "--maildir=/m", "--rules", "r",
                     "--queue-id", "1abc", "--folder", "Junk", "--home", "/h", "--local-part",
                     "bob", "--domain", "example.com"},
                    false, &o)
                  .ok());
  EXPECT_EQ(o.recipient, "bob@example.com");
  EXPECT_EQ(o.sender, "");  // given and empty: a bounce
  EXPECT_EQ(o.maildir, "/m");
  EXPECT_EQ(o.rules, "r");
  EXPECT_EQ(o.queue_id, "1abc");
  EXPECT_EQ(o.folder, "Junk");
  EXPECT_EQ(o.home, "/h");
  EXPECT_EQ(o.local_part, "bob");
  EXPECT_EQ(o.domain, "example.com");
}

TEST(OptionsTest, UnsetStaysUnset) {
  Options o;
  ASSERT_TRUE(Parse({}, false, &o).ok());
  EXPECT_FALSE(o.recipient.has_value());
  EXPECT_FALSE(o.sender.has_value());
  EXPECT_FALSE(o.help);
}

TEST(OptionsTest, HelpAndVersion) {
  Options o;
  ASSERT_TRUE(Parse({"-h", "--version"}, false, &o).ok());
  EXPECT_TRUE(o.help);
  EXPECT_TRUE(o.version);
}

TEST(OptionsTest, Errors) {
  struct Case {
    std::vector<const char*> args;
    std::string message;
  } cases[] = {
      {{"--bogus"}, "unknown option '--bogus' (see --help)"},
      {{"--bogus=1"}, "unknown option '--bogus' (see --help)"},
      {{"-x"}, "unknown option '-x' (see --help)"},
      {{"--recipient"}, "option '--recipient' needs a value (see --help)"},
      {{"message.eml"},
       "unexpected argument 'message.eml' (mda reads the message on standard input; see mda "
       "--help)"},
  };
  for (const Case& c : cases) {
    Options o;
    Status s = Parse(c.args, false, &o);
    EXPECT_EQ(s.kind(), Status::Kind::kBadInput) << c.message;
    EXPECT_EQ(s.message(), c.message);
  }
}

TEST(OptionsTest, OperandsForMdatest) {
  Options o;
  ASSERT_TRUE(Parse({"a.eml", "-", "--", "--weird-name"}, true, &o).ok());
  EXPECT_EQ(o.paths, (std::vector<std::string>{"a.eml", "-", "--weird-name"}));
}

}  // namespace
}  // namespace mda
