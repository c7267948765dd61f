// Tests of Maildir delivery: byte-exact files, unique names, folders made on demand, and
// symbolic links refused.
#include "mda/maildir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>
#include <set>

#include "tests/test_util.h"

namespace mda {
namespace {

using test::ListDir;
using test::ReadFile;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(UniqueNameTest, Format) {
  UniqueNameParts p;
  p.seconds = 1790000000;
  p.micros = 42;
  p.pid = 1234;
  p.counter = 3;
  p.random = 0xabcdef;
  p.host = "mx/1:a";
  EXPECT_EQ(FormatUniqueName(p, 512),
            "1790000000.M000042P1234Q3R0000000000abcdef.mx\\0571\\072a,S=512");
}

TEST(UniqueNameTest, FreshPartsDiffer) {
  std::set<std::string> names;
  for (int i = 0; i < 10000; ++i) names.insert(FormatUniqueName(NewUniqueNameParts(), 1));
  EXPECT_EQ(names.size(), 10000u);
}

TEST(MaildirTest, DeliversVariedMessagesByteForByte) {
  test::TempDir dir;
  Maildir maildir(PosixFs(), dir / "Maildir");
  for (const test::SampleMessage& m : test::VariedMessages(false)) {
    Delivery d;
    Status s = maildir.Deliver("INBOX", m.expected, &d);
    ASSERT_TRUE(s.ok()) << m.name << ": " << s.message();
    EXPECT_EQ(d.folder_path, dir / "Maildir");
    EXPECT_TRUE(d.warnings.empty());
    EXPECT_EQ(ReadFile(d.path()), m.expected) << m.name;
    EXPECT_TRUE(
        std::regex_match(d.name, std::regex(R"(\d+\.M\d{6}P\d+Q\d+R[0-9a-f]{16}\.[^/:]+,S=)" +
                                            std::to_string(m.expected.size()))))
        << d.name;
    EXPECT_EQ(ModeOf(d.path()), 0600);
  }
  EXPECT_EQ(ListDir(dir / "Maildir/new").size(), test::VariedMessages(false).size());
  EXPECT_TRUE(ListDir(dir / "Maildir/tmp").empty());
  EXPECT_TRUE(ListDir(dir / "Maildir/cur").empty());
  EXPECT_EQ(ModeOf(dir / "Maildir"), 0700);
  EXPECT_EQ(ListDir(dir / "Maildir"), (std::vector<std::string>{"cur", "new", "tmp"}));
}

TEST(MaildirTest, CreatesMaildirPlusPlusFoldersOnDemand) {
  test::TempDir dir;
  Maildir maildir(PosixFs(), dir / "Maildir");
  Delivery d;
  ASSERT_TRUE(maildir.Deliver("Lists/dev", "Subject: x\n\n", &d).ok());
  EXPECT_EQ(d.folder_path, dir / "Maildir/.Lists.dev");
  for (const char* sub : {"", "/cur", "/new", "/tmp"}) {
    EXPECT_EQ(ModeOf(dir / "Maildir/.Lists.dev" + sub), 0700) << sub;
  }
  EXPECT_EQ(ListDir(dir / "Maildir/.Lists.dev"),
            (std::vector<std::string>{"cur", "maildirfolder", "new", "tmp"}));
  EXPECT_EQ(ListDir(dir / "Maildir/.Lists.dev/new").size(), 1u);
  // The root was made as well, as a Maildir of its own (INBOX).
  // ... and the new folder subscribed (Dovecot 2.3's format: levels separated by TAB).
  EXPECT_EQ(ListDir(dir / "Maildir"),
            (std::vector<std::string>{".Lists.dev", "cur", "new", "subscriptions", "tmp"}));
  EXPECT_EQ(test::ReadFile(dir / "Maildir/subscriptions"), "V\t2\n\nLists\tdev\n");
  // A second delivery finds the folder as it is.
  ASSERT_TRUE(maildir.Deliver("Lists/dev", "Subject: y\n\n", &d).ok());
  EXPECT_EQ(ListDir(dir / "Maildir/.Lists.dev/new").size(), 2u);
}

TEST(MaildirTest, CompletesAFolderMissingSubdirectories) {
  test::TempDir dir;
  test::MakeDirs(dir / "Maildir/.Junk/new");  // tmp/ and cur/ missing, as after a careless mkdir
  Maildir maildir(PosixFs(), dir / "Maildir");
  Delivery d;
  ASSERT_TRUE(maildir.Deliver("Junk", "x", &d).ok());
  EXPECT_EQ(ListDir(dir / "Maildir/.Junk"),
            (std::vector<std::string>{"cur", "maildirfolder", "new", "tmp"}));
}

TEST(MaildirTest, MissingParentOfRootIsReportedNotCreated) {
  test::TempDir dir;
  Maildir maildir(PosixFs(), dir / "no/such/home/Maildir");
  Delivery d;
  Status s = maildir.Deliver("INBOX", "x", &d);
  EXPECT_EQ(s.kind(), Status::Kind::kTemporary);
  EXPECT_EQ(s.message(), "cannot create Maildir " + (dir / "no/such/home/Maildir") +
                             ": cannot open " + (dir / "no/such/home") +
                             ": No such file or directory");
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(MaildirTest, RefusedFolderNameWritesNothing) {
  test::TempDir dir;
  Maildir maildir(PosixFs(), dir / "Maildir");
  Delivery d;
  Status s = maildir.Deliver("../../etc", "x", &d);
  EXPECT_EQ(s.kind(), Status::Kind::kBadInput);
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

// A symbolic link anywhere below the root is refused; nothing is written through it.
TEST(MaildirTest, SymlinksInsideTheMaildirAreNotFollowed) {
  struct Case {
    std::string link;    // relative to the Maildir
    std::string folder;  // delivered to
  } cases[] = {
      {".Junk", "Junk"},
      {"tmp", "INBOX"},
      {"new", "INBOX"},
      {".Lists.dev/tmp", "Lists/dev"},
  };
  for (const Case& c : cases) {
    test::TempDir dir;
    test::MakeDirs(dir / "elsewhere");
    test::MakeDirs(dir / "Maildir/.Lists.dev");
    test::MakeDirs(dir / "Maildir/cur");
    if (c.link != "tmp") test::MakeDirs(dir / "Maildir/tmp");
    if (c.link != "new") test::MakeDirs(dir / "Maildir/new");
    ASSERT_EQ(symlink((dir / "elsewhere").c_str(), (dir / "Maildir/" + c.link).c_str()), 0);
    Maildir maildir(PosixFs(), dir / "Maildir");
    Delivery d;
    Status s = maildir.Deliver(c.folder, "secret", &d);
    EXPECT_EQ(s.kind(), Status::Kind::kTemporary) << c.link;
    EXPECT_EQ(s.message(), dir / "Maildir/" + c.link +
                               " is a symbolic link; mda does not follow symbolic "
                               "links inside a Maildir (replace it with a directory)");
    EXPECT_TRUE(ListDir(dir / "elsewhere").empty()) << c.link;
  }
}

TEST(MaildirTest, RootMayBeASymlinkChosenByItsOwner) {
  test::TempDir dir;
  test::MakeDirs(dir / "disk2/Maildir");
  ASSERT_EQ(symlink((dir / "disk2/Maildir").c_str(), (dir / "Maildir").c_str()), 0);
  Maildir maildir(PosixFs(), dir / "Maildir");
  Delivery d;
  ASSERT_TRUE(maildir.Deliver("INBOX", "x", &d).ok());
  EXPECT_EQ(ListDir(dir / "disk2/Maildir/new").size(), 1u);
}

TEST(MaildirTest, AFileWhereAFolderShouldBe) {
  test::TempDir dir;
  test::MakeDirs(dir / "Maildir");
  test::WriteFile(dir / "Maildir/.Junk", "not a folder");
  Maildir maildir(PosixFs(), dir / "Maildir");
  Delivery d;
  Status s = maildir.Deliver("Junk", "x", &d);
  EXPECT_EQ(s.message(), dir / "Maildir/.Junk" + " exists but is not a directory (move it away)");
}

}  // namespace
}  // namespace mda
