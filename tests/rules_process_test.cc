// The rule language through the real mda binary: fallbacks to INBOX that lose nothing,
// the exit codes of defer and reject, add-header, refused folder names, the warning log.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/test_util.h"

namespace mda {
namespace {

using test::ListDir;
using test::ReadFile;

class RulesProcessTest : public testing::Test {
 protected:
  void SetUp() override {
    test::MakeDirs(home_ / ".mda");
    chmod((home_ / ".mda").c_str(), 0700);
  }
  void Rules(const std::string& text, mode_t mode = 0600) {
    test::WriteFile(home_ / ".mda/rules", text);
    chmod((home_ / ".mda/rules").c_str(), mode);
  }
  test::Result Deliver(const std::string& message, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {test::MdaBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::Exec(
        argv,
        {"HOME=" + home_.path(), "RECIPIENT=bob@example.com", "SENDER=alice@example.org",
         "LOCAL_PART=bob", "DOMAIN=example.com", "MESSAGE_ID=1q-test"},
        message);
  }
  std::vector<std::string> Files(const std::string& folder) {
    return ListDir(home_ / "Maildir/" + folder + "/new");
  }
  std::string Log() {
    return access((home_ / ".mda/log").c_str(), F_OK) == 0 ? ReadFile(home_ / ".mda/log") : "";
  }

  test::TempDir home_;
};

const char kSpam[] = "Subject: win\nX-Spam-Score: 9.1\n\nbody\n";

TEST_F(RulesProcessTest, SortsByRules) {
  Rules("if X-Spam-Score: >= 5 then folder Junk\n");
  test::Result r = Deliver(kSpam);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "");
  ASSERT_EQ(Files(".Junk").size(), 1u);
  EXPECT_EQ(ReadFile(home_ / "Maildir/.Junk/new/" + Files(".Junk")[0]), kSpam);
  EXPECT_TRUE(Files("").empty());
}

TEST_F(RulesProcessTest, NoRuleFileMeansInbox) {
  test::Result r = Deliver(kSpam);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files("").size(), 1u);
  std::vector<test::LogFields> log = test::ReadLog(home_ / ".mda/log");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(test::Get(log[0], "outcome"), "delivered");
  EXPECT_EQ(test::Get(log[0], "rule"), "default");
  EXPECT_EQ(test::Get(log[0], "folder"), "INBOX");
}

TEST_F(RulesProcessTest, BrokenRuleFileMeansInboxAndALoggedErrorWithCaret) {
  Rules("if X-Spam-Score >= 5 then folder Junk\n");
  test::Result r = Deliver(kSpam);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "");  // never a bounce, never output that return_output would bounce
  EXPECT_EQ(Files("").size(), 1u);
  std::vector<test::LogFields> log = test::ReadLog(home_ / ".mda/log");
  ASSERT_EQ(log.size(), 2u);  // the warning, then the message; the error's own newlines escaped
  EXPECT_EQ(test::Get(log[0], "level"), "warning");
  EXPECT_EQ(test::Get(log[0], "queue_id"), "1q-test");
  EXPECT_EQ(test::Get(log[0], "reason"),
            "rule file not used, mail goes to INBOX: " + (home_ / ".mda/rules") +
                ":1:4: expected a test (a header like Subject:, exists, address, body, attachment, "
                "headers, size, sender, recipient, "
                "not, '('), got 'X-Spam-Score'; a header name needs its colon, like X-Spam-Score:\n"
                "if X-Spam-Score >= 5 then folder Junk\n   ^");
  EXPECT_EQ(test::Get(log[1], "outcome"), "fallback");
  EXPECT_EQ(test::Get(log[1], "folder"), "INBOX");
}

TEST_F(RulesProcessTest, RuleFileWritableByOthersIsNotUsed) {
  Rules("if X-Spam-Score: >= 5 then folder Junk\n", 0620);
  test::Result r = Deliver(kSpam);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files("").size(), 1u);
  EXPECT_TRUE(Files(".Junk").empty());
  EXPECT_NE(Log().find("is writable by its group, so others could change it: chmod go-w"),
            std::string::npos)
      << Log();
}

TEST_F(RulesProcessTest, RuleDirectoryWritableByOthersIsNotUsed) {
  Rules("if X-Spam-Score: >= 5 then folder Junk\n");
  chmod((home_ / ".mda").c_str(), 0777);
  test::Result r = Deliver(kSpam);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files("").size(), 1u);
  // The log sits in the same directory, so it is not written either: the reason goes to
  // standard error (Exim's main log with log_output).
  EXPECT_EQ(Log(), "");
  EXPECT_NE(r.output.find((home_ / ".mda") + " is writable by everyone"), std::string::npos)
      << r.output;
}

TEST_F(RulesProcessTest, RuleFileOwnedBySomeoneElseIsNotUsed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give the file away";
  Rules("if X-Spam-Score: >= 5 then folder Junk\n");
  ASSERT_EQ(chown((home_ / ".mda/rules").c_str(), 4242, 4242), 0);
  ASSERT_EQ(chmod((home_ / ".mda/rules").c_str(), 0644), 0);  // readable, so the owner check speaks
  test::Result r = Deliver(kSpam);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files("").size(), 1u);
  EXPECT_NE(Log().find("belongs to uid 4242, not to the mailbox owner"), std::string::npos)
      << Log();
}

TEST_F(RulesProcessTest, IncludedFileOthersCouldChangeIsNotUsed) {
  // An include is held to the rule file's own standard: the whole file is then unusable.
  Rules("include \"junk.rules\"\n");
  test::WriteFile(home_ / ".mda/junk.rules", "if X-Spam-Score: >= 5 then folder Junk\n");
  ASSERT_EQ(chmod((home_ / ".mda/junk.rules").c_str(), 0660), 0);
  ASSERT_EQ(Deliver(kSpam).exit_code, 0);
  EXPECT_EQ(Files("").size(), 1u);
  EXPECT_TRUE(Files(".Junk").empty());
  EXPECT_NE(Log().find((home_ / ".mda/junk.rules") + " is writable by its group"),
            std::string::npos)
      << Log();
  if (geteuid() == 0) {  // someone else's file, readable by all
    ASSERT_EQ(chmod((home_ / ".mda/junk.rules").c_str(), 0644), 0);
    ASSERT_EQ(chown((home_ / ".mda/junk.rules").c_str(), 4242, 4242), 0);
    ASSERT_EQ(Deliver(kSpam).exit_code, 0);
    EXPECT_EQ(Files("").size(), 2u);
    EXPECT_TRUE(Files(".Junk").empty());
    EXPECT_NE(Log().find((home_ / ".mda/junk.rules") + " belongs to uid 4242"), std::string::npos)
        << Log();
  }
  // Made safe, it is used.
  ASSERT_EQ(chmod((home_ / ".mda/junk.rules").c_str(), 0600), 0);
  test::ChownToTestUser(home_ / ".mda/junk.rules");
  ASSERT_EQ(Deliver(kSpam).exit_code, 0);
  EXPECT_EQ(Files(".Junk").size(), 1u);
}

TEST_F(RulesProcessTest, DeferExits75AndDeliversNothing) {
  Rules("if exists Subject: then copy Keep defer \"mailbox migration, back at 6\"\n");
  test::Result r = Deliver(kSpam);
  EXPECT_EQ(r.exit_code, 75);
  EXPECT_EQ(r.output, "mda: deferred by rule " + (home_ / ".mda/rules") +
                          ":1: mailbox migration, back at 6\n");
  EXPECT_TRUE(ListDir(home_ / "Maildir").empty());
}

TEST_F(RulesProcessTest, RejectExits77WithTheReasonOnStdoutAndKeepsCopies) {
  Rules("if X-Spam-Score: > 8 then copy Rejected reject \"550 spam score too high\"\n");
  test::Result r = Deliver(kSpam);
  EXPECT_EQ(r.exit_code, 77);
  EXPECT_EQ(r.output, "550 spam score too high\n");
  EXPECT_EQ(Files(".Rejected").size(), 1u);
  EXPECT_TRUE(Files("").empty());
}

TEST_F(RulesProcessTest, DiscardExits0AndStoresNothing) {
  Rules("if X-Spam-Score: > 8 then discard\n");
  test::Result r = Deliver(kSpam);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(ListDir(home_ / "Maildir").empty());
}

TEST_F(RulesProcessTest, AddHeaderGoesOnTopInTheMessagesLineEnding) {
  Rules("if X-Spam-Score: > 8 then add-header \"X-Sorted-By: mda ($RECIPIENT)\" folder Junk\n");
  ASSERT_EQ(Deliver("Subject: a\r\nX-Spam-Score: 9\r\n\r\nb\r\n").exit_code, 0);
  ASSERT_EQ(Files(".Junk").size(), 1u);
  std::string stored = ReadFile(home_ / "Maildir/.Junk/new/" + Files(".Junk")[0]);
  EXPECT_EQ(stored,
            "X-Sorted-By: mda (bob@example.com)\r\nSubject: a\r\nX-Spam-Score: 9\r\n\r\nb\r\n");
  EXPECT_NE(Files(".Junk")[0].find(",S=" + std::to_string(stored.size())), std::string::npos);
}

TEST_F(RulesProcessTest, CapturedFolderNameThatEscapesGoesToInbox) {
  Rules("if List-Id: ~ /<(.*)>/ then folder Lists/$1\n");
  for (const char* evil : {"../../../etc", "a/../../b", "..", "/abs", "x/", ".hidden"}) {
    test::Result r = Deliver(std::string("List-Id: <") + evil + ">\n\nbody\n");
    ASSERT_EQ(r.exit_code, 0) << evil << r.output;
  }
  EXPECT_EQ(Files("").size(), 6u);
  EXPECT_EQ(ListDir(home_ / "Maildir"), (std::vector<std::string>{"cur", "new", "tmp"}));
  std::vector<test::LogFields> log = test::ReadLog(home_ / ".mda/log");
  ASSERT_EQ(log.size(), 12u);  // a warning and a delivery line each
  EXPECT_EQ(test::Get(log[0], "reason"),
            "rule " + (home_ / ".mda/rules") +
                ":1: folder name 'Lists/../../../etc' has a component that starts or "
                "ends with '.' or contains '..'; delivered to INBOX instead");
  for (size_t i = 1; i < log.size(); i += 2) {
    EXPECT_EQ(test::Get(log[i], "outcome"), "delivered");
    EXPECT_EQ(test::Get(log[i], "folder"), "INBOX");
  }
}

TEST_F(RulesProcessTest, SettingsFromTheRuleFileAndTheCommandLineWins) {
  Rules(
      "set maildir = Mail/box\nset log = ~/.mda/other.log\nif exists Subject: then folder "
      "\"Lists/$LOCAL_PART\"\nif oops\n");
  // The rule file is broken (line 4): INBOX of the default Maildir, logged to the default log.
  ASSERT_EQ(Deliver(kSpam).exit_code, 0);
  EXPECT_EQ(Files("").size(), 1u);
  Rules(
      "set maildir = Mail/box\nset log = ~/.mda/other.log\nif exists Subject: then folder "
      "\"Lists/$LOCAL_PART\"\n");
  test::MakeDirs(home_ / "Mail");  // mda makes the Maildir, not its parents
  ASSERT_EQ(Deliver(kSpam).exit_code, 0);
  EXPECT_EQ(ListDir(home_ / "Mail/box/.Lists.bob/new").size(), 1u);
  ASSERT_EQ(Deliver(kSpam, {"--maildir", home_ / "cli"}).exit_code, 0);
  EXPECT_EQ(ListDir(home_ / "cli/.Lists.bob/new").size(), 1u);
  ASSERT_EQ(Deliver(kSpam, {"--rules", home_ / "nonexistent"}).exit_code,
            0);  // no such file: INBOX
  EXPECT_EQ(Files("").size(), 2u);
}

TEST_F(RulesProcessTest, ARegexThatGivesUpIsLoggedAndCountsAsNoMatch) {
  Rules("if Subject: ~ /(a+)+$/ then folder Slow\n");
  ASSERT_EQ(Deliver("Subject: " + std::string(20000, 'a') + "!\n\nx\n").exit_code, 0);
  EXPECT_EQ(Files("").size(), 1u);
  EXPECT_NE(Log().find("gave up (match limit)"), std::string::npos) << Log();
}

TEST_F(RulesProcessTest, MaxSizeSortsBigMessagesWithoutReadingTheirBody) {
  Rules(
      "set max-size = 2K\nif body contains \"needle\" then folder Found\n"
      "if size > 100K then folder Huge\n");
  std::string small = "Subject: small\n\nthe needle is here\n";
  std::string big = "Subject: big\n\nthe needle is here\n" + std::string(4096, 'x') + "\n";
  std::string huge = "Subject: huge\n\nthe needle is here\n" + std::string(200 * 1024, 'x') + "\n";
  ASSERT_EQ(Deliver(small).exit_code, 0);
  ASSERT_EQ(Deliver(big).exit_code, 0);
  ASSERT_EQ(Deliver(huge).exit_code, 0);
  EXPECT_EQ(Files(".Found").size(), 1u);  // the small one: its body was read
  EXPECT_EQ(Files("").size(), 1u);        // the big one: sorted without its body
  EXPECT_EQ(Files(".Huge").size(), 1u);   // size tests still apply
  std::string log = Log();
  EXPECT_NE(log.find("is over max-size 2K: body tests saw no text"), std::string::npos) << log;
}

// Issue 15, point 5: folders are merged by the directory they name, not their spelling.
TEST_F(RulesProcessTest, TwoSpellingsOfOneFolderGetOneCopy) {
  Rules(
      "if Subject: ~ /^file (.*)$/ then copy $1\n"
      "if exists X-List: then copy \"Lists/a.b\" folder Lists/a/b\n");
  ASSERT_EQ(Deliver("Subject: file inbox\n\nbody\n").exit_code, 0);
  EXPECT_EQ(Files("").size(), 1u);  // the sender's "inbox" is INBOX: one copy, not two
  ASSERT_EQ(Deliver("Subject: file Inbox\nX-List: a\n\nbody\n").exit_code, 0);
  EXPECT_EQ(Files("").size(), 2u);
  EXPECT_EQ(Files(".Lists.a.b").size(), 1u);
}

// Issue 15, point 7: a setting that can never work at delivery makes the rule file
// unusable (INBOX, logged), never a deferral until Exim bounces.
TEST_F(RulesProcessTest, ASettingThatCanNeverWorkMeansInboxNotDeferral) {
  for (const std::string& setting :
       {std::string("set maildir = /nonexistent/x\n"),
        std::string("set maildir = \"") + (home_ / "rules-file") + "/x\"\n",
        std::string("set dedup-store = redis://127.0.0.1:1/0\nset dedup-password-file = "
                    "~/no-such-file\n")}) {
    test::WriteFile(home_ / "rules-file", "");  // a file where a directory is needed
    Rules(setting + "if exists Subject: then folder Junk\n");
    size_t before = Files("").size();
    test::Result r = Deliver(kSpam);
    ASSERT_EQ(r.exit_code, 0) << setting << r.output;
    EXPECT_EQ(Files("").size(), before + 1) << setting;
    EXPECT_NE(
        Log().find("rule file not used, mail goes to INBOX: " + (home_ / ".mda/rules") + ":1:"),
        std::string::npos)
        << setting << Log();
  }
}

// Issue 15, point 12: a rule file reached through a symbolic link is checked where the link
// leads too: a link into a directory others can write lets them choose the rules.
TEST_F(RulesProcessTest, ALinkToARuleFileOthersCouldSwapIsNotUsed) {
  for (const char* dir : {"safe", "shared"}) {
    test::MakeDirs(home_ / dir);
    test::WriteFile(home_ / dir + "/rules", "if X-Spam-Score: >= 5 then folder Junk\n");
    test::ChownToTestUser(home_ / dir + "/rules");
  }
  ASSERT_EQ(chmod((home_ / "shared").c_str(), 0777), 0);
  ASSERT_EQ(symlink((home_ / "safe/rules").c_str(), (home_ / ".mda/rules").c_str()), 0);
  ASSERT_EQ(Deliver(kSpam).exit_code, 0);
  EXPECT_EQ(Files(".Junk").size(), 1u);  // a link to a file only the owner controls: used
  ASSERT_EQ(unlink((home_ / ".mda/rules").c_str()), 0);
  ASSERT_EQ(symlink((home_ / "shared/rules").c_str(), (home_ / ".mda/rules").c_str()), 0);
  test::Result r = Deliver(kSpam);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files(".Junk").size(), 1u);
  EXPECT_EQ(Files("").size(), 1u);
  EXPECT_NE(Log().find("is a link: " + (home_ / "shared") + " is writable by everyone"),
            std::string::npos)
      << Log();
}

}  // namespace
}  // namespace mda
