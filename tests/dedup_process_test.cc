// Duplicate suppression through the real mda, as Exim runs it: aliases and case, folding,
// 20 concurrent deliveries, Exim's retry after a failure, partial copies, SIGKILL.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <random>

#include "tests/test_util.h"

namespace mda {
namespace {

using test::ListDir;

class DedupProcessTest : public testing::Test {
 protected:
  test::Result Deliver(const std::string& message, const std::string& recipient = "bob@example.com",
                       const std::string& home = "") {
    return test::Exec({test::MdaBinary()},
                      {"HOME=" + (home.empty() ? home_.path() : home), "RECIPIENT=" + recipient, "SENDER=a@example.org",
                       "MESSAGE_ID=1q-retry"},
                      message);
  }
  size_t Count(const std::string& folder = "") {
    return ListDir(home_ / "Maildir/" + folder + (folder.empty() ? "" : "/") + "new").size();
  }
  test::TempDir home_;
};

const char kMessage[] = "Message-ID: <20261125.1@example.org>\nSubject: hello\n\nbody\n";

TEST_F(DedupProcessTest, SameMessageToTwoSpellingsOfOneAddressIsDeliveredOnce) {
  ASSERT_EQ(Deliver(kMessage, "Bob@Example.COM").exit_code, 0);
  test::Result second = Deliver(kMessage, "bob@example.com");
  ASSERT_EQ(second.exit_code, 0);
  EXPECT_EQ(second.output, "");
  EXPECT_EQ(Count(), 1u);
  std::vector<test::LogFields> log = test::ReadLog(home_ / ".mda/log");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(test::Get(log[0], "outcome"), "delivered");
  EXPECT_EQ(test::Get(log[1], "outcome"), "duplicate");
  EXPECT_EQ(test::Get(log[1], "queue_id"), "1q-retry");
  EXPECT_EQ(test::Get(log[1], "message_id"), "<20261125.1@example.org>");
  EXPECT_EQ(test::Get(log[1], "recipient"), "bob@example.com");
  EXPECT_EQ(test::Get(log[1], "first_delivered").substr(0, 2), "20");
  EXPECT_EQ(test::Get(log[1], "folder"), "");  // nothing stored
}

TEST_F(DedupProcessTest, SameMessageIdToTwoUsersIsDeliveredTwice) {
  test::TempDir other;
  ASSERT_EQ(Deliver(kMessage, "bob@example.com").exit_code, 0);
  ASSERT_EQ(Deliver(kMessage, "alice@example.com", other.path()).exit_code, 0);
  EXPECT_EQ(Count(), 1u);
  EXPECT_EQ(ListDir(other / "Maildir/new").size(), 1u);
  // Two recipients sharing one mailbox and store: each gets it.
  ASSERT_EQ(Deliver(kMessage, "carol@example.com").exit_code, 0);
  EXPECT_EQ(Count(), 2u);
}

TEST_F(DedupProcessTest, FoldingAndBlanksInTheMessageIdDoNotMakeItNew) {
  ASSERT_EQ(Deliver("Message-ID: <x.1@example.org>\n\nb\n").exit_code, 0);
  ASSERT_EQ(Deliver("Message-ID:\n  <x.1@example.org>  \n\nb\n").exit_code, 0);
  ASSERT_EQ(Deliver("message-id:\t<x.1@example.org>\r\n\r\nb\r\n").exit_code, 0);
  EXPECT_EQ(Count(), 1u);
}

TEST_F(DedupProcessTest, NoMessageIdIsNeverADuplicate) {
  ASSERT_EQ(Deliver("Subject: no id\n\nb\n").exit_code, 0);
  ASSERT_EQ(Deliver("Subject: no id\n\nb\n").exit_code, 0);
  EXPECT_EQ(Count(), 2u);
}

TEST_F(DedupProcessTest, DedupOffAndCaseSensitiveSettings) {
  test::MakeDirs(home_ / ".mda");
  test::WriteFile(home_ / ".mda/rules", "set dedup = off\n");
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  EXPECT_EQ(Count(), 2u);
  test::WriteFile(home_ / ".mda/rules", "set dedup-case = sensitive\n");
  ASSERT_EQ(Deliver(kMessage, "Bob@example.com").exit_code, 0);
  ASSERT_EQ(Deliver(kMessage, "bob@EXAMPLE.com").exit_code, 0);  // another local part: delivered
  ASSERT_EQ(Deliver(kMessage, "bob@example.COM").exit_code, 0);  // same as the one before: not
  EXPECT_EQ(Count(), 4u);
}

// Acceptance 2: 20 concurrent deliveries of one message, one copy, all exit 0.
TEST_F(DedupProcessTest, TwentyConcurrentDeliveriesMakeOneCopy) {
  std::vector<test::Child> children;
  for (int i = 0; i < 20; ++i) {
    children.push_back(test::Spawn({test::MdaBinary()},
                                   {"HOME=" + home_.path(), "RECIPIENT=bob@example.com", "SENDER=a@example.org"},
                                   test::TestUid(), test::TestGid()));
  }
  // Everything is written before any stdin is closed, so all 20 race for the key.
  for (test::Child& c : children) ASSERT_EQ(write(c.input, kMessage, sizeof kMessage - 1), static_cast<ssize_t>(sizeof kMessage - 1));
  for (test::Child& c : children) close(c.input);
  for (test::Child& c : children) {
    int status;
    ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
    close(c.output);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  EXPECT_EQ(Count(), 1u);
  int delivered = 0, duplicates = 0;
  for (const test::LogFields& line : test::ReadLog(home_ / ".mda/log")) {
    delivered += test::Get(line, "outcome") == "delivered";
    duplicates += test::Get(line, "outcome") == "duplicate";
  }
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(duplicates, 19);
}

// Acceptance 3: the delivery fails, Exim retries after the fix: exactly one copy.
TEST_F(DedupProcessTest, DeferredDeliveryIsNotADuplicateOnRetry) {
  test::MakeDirs(home_ / "Maildir/tmp");
  test::MakeDirs(home_ / "Maildir/new");
  test::MakeDirs(home_ / "Maildir/cur");
  ASSERT_EQ(chmod((home_ / "Maildir/tmp").c_str(), 0500), 0);
  test::Result failed = Deliver(kMessage);
  EXPECT_EQ(failed.exit_code, 75) << failed.output;
  EXPECT_EQ(Count(), 0u);
  ASSERT_EQ(chmod((home_ / "Maildir/tmp").c_str(), 0700), 0);
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);  // and a later duplicate is suppressed
  EXPECT_EQ(Count(), 1u);
}

TEST_F(DedupProcessTest, RetryAfterAPartialFailureDoesNotCopyTwice) {
  test::MakeDirs(home_ / ".mda");
  test::WriteFile(home_ / ".mda/rules", "if exists Subject: then copy Alerts folder Work\n");
  test::MakeDirs(home_ / "Maildir/.Work/tmp");
  test::MakeDirs(home_ / "Maildir/.Work/new");
  test::MakeDirs(home_ / "Maildir/.Work/cur");
  ASSERT_EQ(chmod((home_ / "Maildir/.Work/tmp").c_str(), 0500), 0);
  EXPECT_EQ(Deliver(kMessage).exit_code, 75);
  EXPECT_EQ(Count(".Alerts"), 1u);
  EXPECT_EQ(Count(".Work"), 0u);
  ASSERT_EQ(chmod((home_ / "Maildir/.Work/tmp").c_str(), 0700), 0);
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  EXPECT_EQ(Count(".Alerts"), 1u);  // not a second copy
  EXPECT_EQ(Count(".Work"), 1u);
}

TEST_F(DedupProcessTest, MdatestReportsADuplicateWithoutWritingTheStore) {
  test::WriteFile(home_ / "m.eml", kMessage);
  std::vector<std::string> env = {"HOME=" + home_.path(), "RECIPIENT=bob@example.com"};
  test::Result before = test::Exec({test::MdatestBinary(), home_ / "m.eml"}, env, "");
  EXPECT_EQ(before.output.find("duplicate"), std::string::npos) << before.output;
  EXPECT_TRUE(ListDir(home_ / ".mda").empty());  // nothing created by the dry run
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  struct stat st_before, st_after;
  ASSERT_EQ(stat((home_ / ".mda/dedup.store").c_str(), &st_before), 0);
  test::Result after = test::Exec({test::MdatestBinary(), home_ / "m.eml"}, env, "");
  EXPECT_NE(after.output.find("\n  duplicate: first delivered 20"), std::string::npos) << after.output;
  EXPECT_NE(after.output.find("; mda would not deliver it again\n"), std::string::npos) << after.output;
  ASSERT_EQ(stat((home_ / ".mda/dedup.store").c_str(), &st_after), 0);
  EXPECT_EQ(st_before.st_mtim.tv_nsec, st_after.st_mtim.tv_nsec);
  EXPECT_EQ(st_before.st_size, st_after.st_size);
}

TEST_F(DedupProcessTest, UnusableStoreDefersAndDeliversNothing) {
  test::MakeDirs(home_ / ".mda/dedup.store");  // a directory where the database should be
  test::Result r = Deliver(kMessage);
  EXPECT_EQ(r.exit_code, 75);
  EXPECT_EQ(r.output.rfind("mda: cannot open duplicate store " + (home_ / ".mda/dedup.store") + ": ", 0), 0u) << r.output;
  EXPECT_EQ(Count(), 0u);
}

TEST_F(DedupProcessTest, NoHomeDirectoryMeansNoSuppressionNotNoMail) {
  // The Maildir defaults to ~/Maildir, which cannot exist either: give it one.
  test::Result r = test::Exec({test::MdaBinary(), "--maildir", home_ / "box"},
                 {"HOME=" + (home_ / "no-such-home"), "RECIPIENT=bob@example.com"}, kMessage);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ListDir(home_ / "box/new").size(), 1u);
}

TEST_F(DedupProcessTest, DeferByRuleLeavesNoMark) {
  test::MakeDirs(home_ / ".mda");
  test::WriteFile(home_ / ".mda/rules", "if exists Subject: then defer \"not now\"\n");
  EXPECT_EQ(Deliver(kMessage).exit_code, 75);
  test::WriteFile(home_ / ".mda/rules", "");
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  EXPECT_EQ(Count(), 1u);
}

// Acceptance 4: SIGKILL at random points of 200 deliveries of 50 messages, each retried
// until exit 0 as Exim would: every message present; extra copies only from kills that
// landed between publishing and marking, and at most one per such kill.
TEST_F(DedupProcessTest, KilledDeliveriesRetriedNeverLoseAndRarelyDuplicate) {
  const unsigned seed = static_cast<unsigned>(time(nullptr));
  std::mt19937 rng(seed);
  std::vector<std::string> messages;
  for (int i = 0; i < 50; ++i) {
    std::string m = "Message-ID: <kill." + std::to_string(i) + "@example.org>\nSubject: m" + std::to_string(i) + "\n\n";
    while (m.size() < 64 * 1024) m += "line of body text for message " + std::to_string(i) + "\n";
    messages.push_back(m);
  }
  int kills = 0;
  for (int attempt = 0; attempt < 200; ++attempt) {
    const std::string& m = messages[static_cast<size_t>(attempt % 50)];
    test::Child c = test::Spawn({test::MdaBinary()}, {"HOME=" + home_.path(), "RECIPIENT=bob@example.com"},
                                test::TestUid(), test::TestGid());
    ssize_t n = write(c.input, m.data(), m.size());
    (void)n;
    close(c.input);
    // A random moment (0-4 ms) in the delivery: read, lock, store, write, fsync, link, mark.
    struct timespec delay = {0, std::uniform_int_distribution<long>(0, 4000)(rng) * 1000};
    nanosleep(&delay, nullptr);
    kill(c.pid, SIGKILL);
    int status;
    ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
    close(c.output);
    if (WIFSIGNALED(status)) ++kills;
  }
  // Exim retries every message until it exits 0.
  for (const std::string& m : messages) {
    test::Result r = Deliver(m);
    ASSERT_EQ(r.exit_code, 0) << r.output << " (seed " << seed << ")";
  }
  std::map<std::string, int> copies;
  for (const std::string& f : ListDir(home_ / "Maildir/new")) {
    std::string stored = test::ReadFile(home_ / "Maildir/new/" + f);
    size_t s = stored.find("Subject: ");
    copies[stored.substr(s, stored.find('\n', s) - s)]++;
    bool whole = false;
    for (const std::string& m : messages) whole = whole || stored == m;
    ASSERT_TRUE(whole) << f << " is not a whole message (seed " << seed << ")";
  }
  int extra = 0;
  for (int i = 0; i < 50; ++i) {
    int n = copies["Subject: m" + std::to_string(i)];
    ASSERT_GE(n, 1) << "message " << i << " lost (seed " << seed << ")";
    extra += n - 1;
  }
  EXPECT_LE(extra, kills) << "seed " << seed;
  RecordProperty("kills", kills);
  RecordProperty("extra_copies", extra);
}

}  // namespace
}  // namespace mda
