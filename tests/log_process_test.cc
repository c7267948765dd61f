// The processing log through the real mda: every outcome writes its documented line, in
// logfmt and in JSON, parsed back; a log that cannot be written never fails a delivery.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/test_util.h"

namespace mda {
namespace {

class LogProcessTest : public testing::TestWithParam<bool> {  // param: JSON
 protected:
  void SetUp() override { test::MakeDirs(home_ / ".mda"); }
  void Rules(const std::string& rules) {
    test::WriteFile(home_ / ".mda/rules", (GetParam() ? "set log-format = json\n" : "") + rules);
  }
  // Delivers and returns the last line of the log, parsed.
  test::LogFields Deliver(const std::string& message, int want_exit) {
    test::Result r = test::Exec({test::MdaBinary()},
                                {"HOME=" + home_.path(), "RECIPIENT=bob@example.com",
                                 "SENDER=alice@example.org", "MESSAGE_ID=1q-log"},
                                message);
    EXPECT_EQ(r.exit_code, want_exit) << r.output;
    std::vector<test::LogFields> log = test::ReadLog(home_ / ".mda/log", GetParam());
    last_count_ = log.size();
    return log.empty() ? test::LogFields() : log.back();
  }
  std::string Folders(const test::LogFields& f) {
    std::string out;
    for (const std::string& v : test::GetAll(f, GetParam() ? "folders" : "folder"))
      out += (out.empty() ? "" : ",") + v;
    return out;
  }
  test::TempDir home_;
  size_t last_count_ = 0;
};

const char kMessage[] =
    "Message-ID: <log.1@example.org>\nSubject: =?UTF-8?Q?caf=C3=A9?= report\nX-Spam-Score: "
    "2\n\nbody\n";

TEST_P(LogProcessTest, Delivered) {
  Rules("if Subject: contains \"report\" then copy Archive folder Work\n");
  test::LogFields f = Deliver(kMessage, 0);
  EXPECT_EQ(test::Get(f, "level"), "info");
  EXPECT_EQ(test::Get(f, "outcome"), "delivered");
  EXPECT_EQ(test::Get(f, "queue_id"), "1q-log");
  EXPECT_EQ(test::Get(f, "message_id"), "<log.1@example.org>");
  EXPECT_EQ(test::Get(f, "sender"), "alice@example.org");
  EXPECT_EQ(test::Get(f, "recipient"), "bob@example.com");
  EXPECT_EQ(test::Get(f, "subject"), "caf\xc3\xa9 report");  // decoded
  EXPECT_EQ(test::Get(f, "size"), std::to_string(sizeof kMessage - 1));
  EXPECT_EQ(test::Get(f, "rule"), (home_ / ".mda/rules") + (GetParam() ? ":2" : ":1"));
  EXPECT_EQ(Folders(f), "Archive,Work");
  std::vector<std::string> files = test::GetAll(f, GetParam() ? "files" : "file");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(access(files[0].c_str(), F_OK), 0) << files[0];  // the stored file, by its full path
  EXPECT_EQ(files[1].rfind(home_ / "Maildir/.Work/new/", 0), 0u) << files[1];
  EXPECT_GT(std::stod(test::Get(f, "duration_ms")), 0.0);
  EXPECT_EQ(test::Get(f, "time").size(), 24u);  // 2026-11-25T06:10:15.123Z
}

TEST_P(LogProcessTest, Duplicate) {
  Rules("");
  Deliver(kMessage, 0);
  test::LogFields f = Deliver(kMessage, 0);
  EXPECT_EQ(test::Get(f, "outcome"), "duplicate");
  EXPECT_EQ(test::Get(f, "first_delivered").size(), 24u);
  EXPECT_EQ(Folders(f), "");
}

TEST_P(LogProcessTest, Discarded) {
  Rules("if X-Spam-Score: > 1 then discard\n");
  test::LogFields f = Deliver(kMessage, 0);
  EXPECT_EQ(test::Get(f, "outcome"), "discarded");
  EXPECT_EQ(test::Get(f, "rule"), (home_ / ".mda/rules") + (GetParam() ? ":2" : ":1"));
}

TEST_P(LogProcessTest, DeferredByARule) {
  Rules("if X-Spam-Score: > 1 then defer \"mailbox moving\"\n");
  test::LogFields f = Deliver(kMessage, 75);
  EXPECT_EQ(test::Get(f, "outcome"), "deferred");
  EXPECT_EQ(test::Get(f, "reason"), "mailbox moving");
}

TEST_P(LogProcessTest, DeferredByAFailure) {
  Rules("");
  test::MakeDirs(home_ / "Maildir/tmp");
  test::MakeDirs(home_ / "Maildir/new");
  chmod((home_ / "Maildir/tmp").c_str(), 0500);
  test::LogFields f = Deliver(kMessage, 75);
  EXPECT_EQ(test::Get(f, "outcome"), "deferred");
  EXPECT_EQ(test::Get(f, "reason").rfind("cannot create " + (home_ / "Maildir/tmp/"), 0), 0u)
      << test::Get(f, "reason");
}

TEST_P(LogProcessTest, Rejected) {
  Rules("if X-Spam-Score: > 1 then reject \"550 no thanks\"\n");
  test::LogFields f = Deliver(kMessage, 77);
  EXPECT_EQ(test::Get(f, "outcome"), "rejected");
  EXPECT_EQ(test::Get(f, "reason"), "550 no thanks");
}

TEST_P(LogProcessTest, FallbackWhenTheRuleFileIsUnusableWithAWarningLine) {
  if (GetParam()) GTEST_SKIP() << "an unusable rule file cannot ask for JSON: its lines are logfmt";
  Rules("if X-Spam-Score > 1 then discard\n");
  test::LogFields f = Deliver(kMessage, 0);
  ASSERT_EQ(last_count_, 2u);
  EXPECT_EQ(test::Get(f, "outcome"), "fallback");
  EXPECT_EQ(Folders(f), "INBOX");
  test::LogFields warning = test::ReadLog(home_ / ".mda/log")[0];
  EXPECT_EQ(test::Get(warning, "level"), "warning");
  EXPECT_NE(test::Get(warning, "reason").find("rule file not used"), std::string::npos);
}

TEST_P(LogProcessTest, RefusedFolderIsAWarningLine) {
  Rules("if Subject: ~ /(caf.)/ then folder \"../$1\"\n");
  test::LogFields f = Deliver(kMessage, 0);
  ASSERT_EQ(last_count_, 2u);
  EXPECT_EQ(Folders(f), "INBOX");
  test::LogFields warning = test::ReadLog(home_ / ".mda/log", GetParam())[0];
  EXPECT_EQ(test::Get(warning, "level"), "warning");
  EXPECT_NE(test::Get(warning, "reason").find("delivered to INBOX instead"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Formats, LogProcessTest, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& p) {
                           return p.param ? "json" : "logfmt";
                         });

// Acceptance 4: a log that cannot be written: delivered all the same, one line on stderr.
TEST(LogFailureTest, UnwritableLogStillDelivers) {
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  test::MakeDirs(home / "logs");
  test::WriteFile(home / ".mda/rules", "set log = ~/logs/mda.log\n");
  chmod((home / "logs").c_str(), 0500);
  test::Result r = test::Exec({test::MdaBinary()},
                              {"HOME=" + home.path(), "RECIPIENT=bob@example.com"}, kMessage);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "mda: cannot open log " + (home / "logs/mda.log") + ": Permission denied\n");
  EXPECT_EQ(test::ListDir(home / "Maildir/new").size(), 1u);
}

TEST(LogFailureTest, LogOffWritesNothing) {
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  test::WriteFile(home / ".mda/rules", "set log = off\n");
  test::Result r = test::Exec({test::MdaBinary()},
                              {"HOME=" + home.path(), "RECIPIENT=bob@example.com"}, kMessage);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "");
  EXPECT_EQ(access((home / ".mda/log").c_str(), F_OK), -1);
}

// examples/logrotate/mda works as written: rotated without signals, and the next delivery
// starts a new log.
TEST(LogrotateTest, ExampleStanzaRotatesAndMdaStartsAFreshLog) {
  if (access("/usr/sbin/logrotate", X_OK) != 0)
    GTEST_SKIP() << "logrotate not installed (scripts/setup --for-tests)";
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  ASSERT_EQ(
      test::Exec({test::MdaBinary()}, {"HOME=" + home.path(), "RECIPIENT=b@x"}, kMessage).exit_code,
      0);
  // The stanza, pointed at this home instead of /home/*.
  std::string stanza = test::ReadFile(std::string(MDA_SOURCE_DIR) + "/examples/logrotate/mda");
  stanza.replace(stanza.find("/home/*/.mda/log"), 16, home / ".mda/log");
  test::TempDir conf;
  test::WriteFile(conf / "mda.conf", stanza);
  chmod((conf / "mda.conf").c_str(), 0644);
  // logrotate (as root) silently ignores a configuration file root does not own.
  if (geteuid() == 0) {
    ASSERT_EQ(chown((conf / "mda.conf").c_str(), 0, 0), 0);
  }
  test::Result r =
      test::ExecAs({"/usr/sbin/logrotate", "-f", "-s", conf / "state", conf / "mda.conf"},
                   {"PATH=/usr/bin:/bin"}, "", geteuid(), getegid());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(test::ListDir(home / ".mda"),
            (std::vector<std::string>{"dedup.lock", "dedup.store", "log.1"}));
  ASSERT_EQ(
      test::Exec({test::MdaBinary()}, {"HOME=" + home.path(), "RECIPIENT=c@x"}, kMessage).exit_code,
      0);
  EXPECT_EQ(test::ReadLog(home / ".mda/log").size(), 1u);
  EXPECT_EQ(test::ReadLog(home / ".mda/log.1").size(), 1u);
}

}  // namespace
}  // namespace mda
