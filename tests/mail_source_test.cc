// Tests of the message sources mdatest reads: mbox (mboxrd escaping, CRLF), Maildirs with
// their Maildir++ folders, directories, in a stable order.
#include "mda/mail_source.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace mda {
namespace {

TEST(SplitMboxTest, Table) {
  using V = std::vector<std::string>;
  struct Case {
    std::string mbox;
    V messages;
  } cases[] = {
      {"From a@x Wed Nov 25 04:28:04 2026\nSubject: 1\n\nbody 1\n\nFrom b@x Wed Nov 25 04:28:05 "
       "2026\nSubject: 2\n\nbody 2\n\n",
       {"From a@x Wed Nov 25 04:28:04 2026\nSubject: 1\n\nbody 1\n",
        "From b@x Wed Nov 25 04:28:05 2026\nSubject: 2\n\nbody 2\n"}},
      // mboxrd escaping: one '>' comes off; a "From " inside a paragraph is not a separator.
      {"From a@x Wed Nov 25 04:28:04 2026\nSubject: 1\n\n>From the start\n>>From "
       "quoted\nline\nFrom mid-paragraph\n",
       {"From a@x Wed Nov 25 04:28:04 2026\nSubject: 1\n\nFrom the start\n>From quoted\nline\nFrom "
        "mid-paragraph\n"}},
      // CRLF
      {"From a@x Wed Nov 25 04:28:04 2026\r\nSubject: 1\r\n\r\nb1\r\n\r\nFrom b@x Wed Nov 25 "
       "04:28:05 2026\r\nSubject: 2\r\n\r\nb2\r\n",
       {"From a@x Wed Nov 25 04:28:04 2026\r\nSubject: 1\r\n\r\nb1\r\n",
        "From b@x Wed Nov 25 04:28:05 2026\r\nSubject: 2\r\n\r\nb2\r\n"}},
      // "From :" is an obsolete header, not a separator; blank lines inside a body stay.
      {"From a@x Wed Nov 25 04:28:04 2026\nSubject: 1\n\npara 1\n\n\npara 2\n\nFrom : "
       "header-like\n",
       {"From a@x Wed Nov 25 04:28:04 2026\nSubject: 1\n\npara 1\n\n\npara 2\n\nFrom : "
        "header-like\n"}},
      {"", {}},
  };
  for (const Case& c : cases) EXPECT_EQ(SplitMbox(c.mbox), c.messages) << c.mbox;
}

TEST(ForEachMessageTest, MaildirsMboxesDirectoriesInOrder) {
  test::TempDir dir;
  test::MakeDirs(dir / "Maildir/cur");
  test::MakeDirs(dir / "Maildir/new");
  test::MakeDirs(dir / "Maildir/tmp");
  test::MakeDirs(dir / "Maildir/.Lists.dev/cur");
  test::MakeDirs(dir / "Maildir/.Lists.dev/new");
  test::WriteFile(dir / "Maildir/cur/2:2,S", "Subject: cur two\r\n\r\nCRLF body\r\n");
  test::WriteFile(dir / "Maildir/cur/1:2,S", "Subject: cur one\n\n");
  test::WriteFile(dir / "Maildir/new/3", "Subject: new three\n\n");
  test::WriteFile(dir / "Maildir/tmp/partial", "Subject: never read\n");
  test::WriteFile(dir / "Maildir/.Lists.dev/new/4", "Subject: list four\n\n");
  test::WriteFile(dir / "box.mbox",
                  "From a@x Wed Nov 25 04:28:04 2026\nSubject: m1\n\n\nFrom b@x Wed Nov 25 "
                  "04:28:05 2026\nSubject: m2\n\n");
  test::MakeDirs(dir / "plain/sub");
  test::WriteFile(dir / "plain/a.eml", "Subject: plain a\n\n");
  test::WriteFile(dir / "plain/sub/b.eml", "Subject: plain b\n\n");

  auto walk = [&](std::vector<std::string> paths, bool recursive) {
    std::vector<std::string> seen;
    std::vector<std::string> errors;
    ForEachMessage(
        PosixFs(), paths, recursive,
        [&](const std::string& name, const Message& m) {
          std::string content(m.content());
          size_t s = content.find("Subject: ") + 9;
          seen.push_back(name.substr(dir.path().size() + 1) + "=" +
                         content.substr(s, content.find_first_of("\r\n", s) - s));
          return true;
        },
        &errors);
    EXPECT_TRUE(errors.empty()) << errors[0];
    return seen;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(
      walk({dir / "Maildir"}, false),
      (V{"Maildir/cur/1:2,S=cur one", "Maildir/cur/2:2,S=cur two", "Maildir/new/3=new three"}));
  EXPECT_EQ(walk({dir / "Maildir"}, true),
            (V{"Maildir/cur/1:2,S=cur one", "Maildir/cur/2:2,S=cur two", "Maildir/new/3=new three",
               "Maildir/.Lists.dev/new/4=list four"}));
  EXPECT_EQ(walk({dir / "box.mbox"}, false), (V{"box.mbox#1=m1", "box.mbox#2=m2"}));
  EXPECT_EQ(walk({dir / "plain"}, false), (V{"plain/a.eml=plain a"}));
  EXPECT_EQ(walk({dir / "plain"}, true), (V{"plain/a.eml=plain a", "plain/sub/b.eml=plain b"}));

  std::vector<std::string> errors;
  ForEachMessage(
      PosixFs(), {dir / "missing"}, false, [](const std::string&, const Message&) { return true; },
      &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "cannot read " + (dir / "missing") + ": No such file or directory");
}

}  // namespace
}  // namespace mda
