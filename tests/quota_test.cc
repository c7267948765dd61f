// Maildir++ quota (issue 20): the maildirsize file read, checked and recalculated as
// README.maildirquota says, and the real mda binary deferring, rejecting and counting.
#include "mda/quota.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/test_util.h"

namespace mda {
namespace {

using test::ReadFile;
using test::WriteFile;

TEST(QuotaTest, DefinitionLine) {
  QuotaLimits l;
  ASSERT_TRUE(ParseQuotaDefinition("10000000S,1000C", &l));
  EXPECT_EQ(l.bytes, 10000000u);
  EXPECT_EQ(l.count, 1000u);
  ASSERT_TRUE(ParseQuotaDefinition("5000S", &l));
  EXPECT_EQ(l.bytes, 5000u);
  EXPECT_EQ(l.count, 0u);
  ASSERT_TRUE(ParseQuotaDefinition("20C,7X", &l));  // an unknown kind is ignored
  EXPECT_EQ(l.count, 20u);
  EXPECT_EQ(l.bytes, 0u);
  EXPECT_FALSE(ParseQuotaDefinition("", &l));
  EXPECT_FALSE(ParseQuotaDefinition("lots", &l));
  EXPECT_FALSE(ParseQuotaDefinition("-5S", &l));
}

class QuotaFileTest : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* d : {"new", "cur", "tmp", ".Junk/new", ".Junk/cur", ".Junk/tmp"})
      test::MakeDirs(root_ / d);
  }
  void Size(const std::string& text) { WriteFile(root_ / "maildirsize", text); }
  void Age(int64_t seconds) {
    struct timespec times[2];
    clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= seconds;
    times[1] = times[0];
    ASSERT_EQ(utimensat(AT_FDCWD, (root_ / "maildirsize").c_str(), times, 0), 0);
  }
  QuotaCheck Check(uint64_t bytes, uint64_t count = 1) {
    QuotaCheck q;
    Status s = CheckQuota(fs_, root_.path(), bytes, count, time(nullptr), &q);
    EXPECT_TRUE(s.ok()) << s.message();
    return q;
  }
  FileSystem& fs_ = PosixFs();
  test::TempDir root_;
};

TEST_F(QuotaFileTest, NoFileNoQuota) {
  QuotaCheck q = Check(1 << 30);
  EXPECT_FALSE(q.present);
  EXPECT_FALSE(q.over);
  EXPECT_TRUE(q.warning.empty());
  EXPECT_FALSE(AddToQuota(fs_, root_.path(), 1, 1).ok());  // and nothing is made
  EXPECT_NE(access((root_ / "maildirsize").c_str(), F_OK), 0);
}

TEST_F(QuotaFileTest, LinesAddUpAndALimitIsAHardEdge) {
  Size("1000S,10C\n300 3\n-100 -1\n  250   2\n");
  QuotaCheck q = Check(550);  // 450 in use: 1000 exactly is still fine
  EXPECT_TRUE(q.present);
  EXPECT_EQ(q.used.bytes, 450);
  EXPECT_EQ(q.used.count, 4);
  EXPECT_FALSE(q.over);
  EXPECT_FALSE(q.recalculated);
  EXPECT_TRUE(Check(551).over);
  EXPECT_EQ(Check(551).Describe(551, 1),
            "mailbox full: 450 of 1000 bytes in use, the message has 551 (Maildir++ quota, "
            "maildirsize)");
  EXPECT_FALSE(Check(1, 6).over);
  EXPECT_TRUE(Check(1, 7).over);  // count: 4 + 7 > 10
  ASSERT_TRUE(AddToQuota(fs_, root_.path(), 77, 1).ok());
  EXPECT_EQ(ReadFile(root_ / "maildirsize"), "1000S,10C\n300 3\n-100 -1\n  250   2\n77 1\n");
  // A limit of 0 is none (Dovecot writes 0 for an unlimited kind).
  Size("0S,2C\n999999 1\n");
  EXPECT_FALSE(Check(1 << 20).over);
}

TEST_F(QuotaFileTest, RecalculatedFromTheMaildirWhenMaildirSizeSaysSo) {
  // Messages: two with S= in the name (the size it states counts, as Dovecot and Courier do),
  // one without (its size from stat), one in a folder's cur/ with flags; dot files are not
  // messages; a symbolic link to a folder elsewhere is not followed.
  WriteFile(root_ / "new/1.M1P1.h,S=1000", "x");
  WriteFile(root_ / "cur/2.M2P2.h,S=200:2,S", "y");
  WriteFile(root_ / "cur/3.M3P3.h", std::string(30, 'z'));
  WriteFile(root_ / ".Junk/cur/4.M4P4.h,S=4000:2,FS", "w");
  WriteFile(root_ / "new/.hidden", std::string(5000, 'h'));
  test::TempDir elsewhere;
  test::MakeDirs(elsewhere / "new");
  WriteFile(elsewhere / "new/5.M5P5.h,S=90000", "v");
  ASSERT_EQ(symlink(elsewhere.path().c_str(), (root_ / ".Linked").c_str()), 0);
  const std::string counted = "1000000S,100C\n5230 4\n";
  // 1. The file has grown to 5120 bytes.
  std::string big = "1000000S,100C\n";
  while (big.size() < 5120) big += "0 0\n";
  Size(big);
  QuotaCheck q = Check(10);
  EXPECT_TRUE(q.recalculated);
  EXPECT_EQ(q.used.bytes, 5230);
  EXPECT_EQ(q.used.count, 4);
  EXPECT_EQ(ReadFile(root_ / "maildirsize"), counted);
  EXPECT_TRUE(test::ListDir(root_ / "tmp").empty());  // written through tmp/, renamed over
  // 2. One just under that: summed as it says, right or wrong.
  Size("1000000S,100C\n1 1\n");
  EXPECT_FALSE(Check(10).recalculated);
  // 3. A line that does not parse, or one cut short (no newline).
  for (const char* broken :
       {"1000000S,100C\n1 1\nnonsense\n", "1000000S,100C\n12 1\n3", "1000000S,100C\n-9000 -9\n"}) {
    Size(broken);
    q = Check(10);
    EXPECT_TRUE(q.recalculated) << broken;
    EXPECT_EQ(ReadFile(root_ / "maildirsize"), counted) << broken;
  }
  // 4. Full by its lines: recalculated only when older than 15 minutes.
  Size("6000S\n5990 3\n");
  Age(14 * 60);
  q = Check(100);
  EXPECT_FALSE(q.recalculated);
  EXPECT_TRUE(q.over);
  Age(16 * 60);
  q = Check(100);
  EXPECT_TRUE(q.recalculated);
  EXPECT_FALSE(q.over);  // 5230 + 100 fits in 6000
  EXPECT_EQ(ReadFile(root_ / "maildirsize"), "6000S\n5230 4\n");
}

TEST_F(QuotaFileTest, AFileThatCannotBeUsedIsAWarningNotADeferral) {
  // No limit on its first line.
  Size("unlimited\n5 1\n");
  QuotaCheck q = Check(10);
  EXPECT_FALSE(q.present);
  EXPECT_NE(q.warning.find("sets no limit"), std::string::npos) << q.warning;
  // A symbolic link: never followed.
  unlink((root_ / "maildirsize").c_str());
  WriteFile(root_ / "elsewhere", "1S\n");
  ASSERT_EQ(symlink("elsewhere", (root_ / "maildirsize").c_str()), 0);
  q = Check(10);
  EXPECT_FALSE(q.present);
  EXPECT_FALSE(q.over);
  EXPECT_NE(q.warning.find("Too many levels of symbolic links"), std::string::npos) << q.warning;
  EXPECT_FALSE(AddToQuota(fs_, root_.path(), 1, 1).ok());
  EXPECT_EQ(ReadFile(root_ / "elsewhere"), "1S\n");
  // A directory.
  unlink((root_ / "maildirsize").c_str());
  test::MakeDirs(root_ / "maildirsize");
  q = Check(10);
  EXPECT_FALSE(q.present);
  EXPECT_NE(q.warning.find("not a regular file"), std::string::npos) << q.warning;
}

// Through the real mda binary.
class QuotaProcessTest : public testing::Test {
 protected:
  void SetUp() override {
    test::MakeDirs(home_ / ".mda");
    chmod((home_ / ".mda").c_str(), 0700);
    for (const char* d : {"Maildir/new", "Maildir/cur", "Maildir/tmp"}) test::MakeDirs(home_ / d);
  }
  void Rules(const std::string& text) {
    WriteFile(home_ / ".mda/rules", text);
    chmod((home_ / ".mda/rules").c_str(), 0600);
    test::ChownToTestUser(home_ / ".mda/rules");
  }
  void Size(const std::string& text) {
    WriteFile(home_ / "Maildir/maildirsize", text);
    test::ChownToTestUser(home_ / "Maildir/maildirsize");
  }
  test::Result Deliver(const std::string& message) {
    return test::Exec(
        {test::MdaBinary(), "--syslog-socket", home_ / "no-syslog"},
        {"HOME=" + home_.path(), "RECIPIENT=bob@example.com", "SENDER=alice@example.org",
         "LOCAL_PART=bob", "DOMAIN=example.com", "MESSAGE_ID=1qQ-000A-01"},
        message);
  }
  size_t Count(const std::string& folder) {
    return test::ListDir(home_ / "Maildir/" + folder + "new").size() +
           test::ListDir(home_ / "Maildir/" + folder + "cur").size();
  }
  test::TempDir home_;
};

TEST_F(QuotaProcessTest, OverQuotaDefersWithNothingStoredAndEveryCopyCounts) {
  const std::string message =
      "Subject: hello\nMessage-ID: <q1@x>\n\n" + std::string(70, 'b') + "\n";
  ASSERT_EQ(message.size(), 106u);
  Rules("if Subject: is \"hello\" then copy Copies\n");
  Size("1000S,3C\n");
  // Two copies (Copies and INBOX): one line for both.
  test::Result r = Deliver(message);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadFile(home_ / "Maildir/maildirsize"), "1000S,3C\n212 2\n");
  // The same message again: a duplicate, nothing stored, nothing counted.
  ASSERT_EQ(Deliver(message).exit_code, 0);
  EXPECT_EQ(ReadFile(home_ / "Maildir/maildirsize"), "1000S,3C\n212 2\n");
  // A new one would make 4 messages: deferred, nothing stored in either folder.
  std::string second = "Subject: hello\nMessage-ID: <q2@x>\n\nb\n";
  r = Deliver(second);
  EXPECT_EQ(r.exit_code, 75) << r.output;
  EXPECT_NE(r.output.find("mailbox full: 2 of 3 messages in use, the message adds 2"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(Count(""), 1u);
  EXPECT_EQ(Count(".Copies/"), 1u);
  // One without the copy fits: stored and counted.
  r = Deliver("Subject: other\nMessage-ID: <q3@x>\n\nb\n");  // 37 bytes
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadFile(home_ / "Maildir/maildirsize"), "1000S,3C\n212 2\n37 1\n");
  // The user removes a message and the administrator raises the quota; Exim's retry of the
  // deferred one is delivered, both copies.
  Size("1000S,10C\n212 2\n37 1\n");
  r = Deliver(second);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Count(".Copies/"), 2u);
}

TEST_F(QuotaProcessTest, QuotaFullRejectIsABounceWithTheReason) {
  Size("100S\n90 1\n");
  test::TempDir site;
  ASSERT_TRUE(getuid() != 0 || chown(site.path().c_str(), 0, 0) == 0);
  chmod(site.path().c_str(), 0755);
  WriteFile(site / "before.rules", "set! quota-full = reject\n");
  ASSERT_TRUE(getuid() != 0 || chown((site / "before.rules").c_str(), 0, 0) == 0);
  chmod((site / "before.rules").c_str(), 0644);
  if (getuid() != 0) GTEST_SKIP() << "site files must belong to root";
  Rules("set quota-full = defer\n");  // the site fixed it: not the user's to change
  test::Result r = test::Exec(
      {test::MdaBinary(), "--site-dir", site.path(), "--syslog-socket", home_ / "no-syslog"},
      {"HOME=" + home_.path(), "RECIPIENT=bob@example.com", "SENDER=alice@example.org",
       "LOCAL_PART=bob", "DOMAIN=example.com"},
      "Subject: big\n\n" + std::string(20, 'b') + "\n");
  EXPECT_EQ(r.exit_code, 77) << r.output;
  EXPECT_EQ(r.output,
            "mailbox full: 90 of 100 bytes in use, the message has 35 (Maildir++ quota, "
            "maildirsize)\n");
  EXPECT_EQ(Count(""), 0u);
  EXPECT_EQ(ReadFile(home_ / "Maildir/maildirsize"), "100S\n90 1\n");
}

}  // namespace
}  // namespace mda
