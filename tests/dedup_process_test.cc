// Duplicate suppression through the real mda, as Exim runs it: aliases and case, folding,
// 20 concurrent deliveries on two hosts, Exim's retry after a failure, partial copies,
// SIGKILL. Every test of the shared behaviour runs on both stores: the user's file, and a
// real redis-server (started on a loopback port for the suite).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <random>

#include "tests/redis_server.h"
#include "tests/test_util.h"

namespace mda {
namespace {

using test::ListDir;

enum class Store { kFile, kRedis };

class DedupFixture : public testing::Test {
 protected:
  test::Result Deliver(const std::string& message, const std::string& recipient = "bob@example.com",
                       const std::string& home = "") {
    return test::Exec({test::MdaBinary()},
                      {"HOME=" + (home.empty() ? home_.path() : home), "RECIPIENT=" + recipient,
                       "SENDER=a@example.org", "MESSAGE_ID=" + queue_id_},
                      message);
  }
  std::string ReadLog() { return test::ReadFile(home_ / ".mda/log"); }
  std::string queue_id_ = "1q-retry";  // Exim's queue id: the same on each retry of one message
  size_t Count(const std::string& folder = "") {
    return ListDir(home_ / "Maildir/" + folder + (folder.empty() ? "" : "/") + "new").size();
  }
  // The rule file of `home` (default: ours): `text` after the store's setting.
  virtual void Rules(const std::string& text, const std::string& home = "") {
    std::string h = home.empty() ? home_.path() : home;
    test::MakeDirs(h + "/.mda");
    test::WriteFile(h + "/.mda/rules", text);
  }
  test::TempDir home_;
};

// The shared Redis: one server for the suite, emptied before each test.
test::RedisServer* SharedRedis() {
  static test::RedisServer server;  // stopped and removed at exit
  return &server;
}

class DedupProcessTest : public DedupFixture, public testing::WithParamInterface<Store> {
 protected:
  void SetUp() override {
    if (GetParam() == Store::kRedis) {
      ASSERT_TRUE(SharedRedis()->running());
      ASSERT_EQ(SharedRedis()->Command({"FLUSHALL"}), "OK");
    }
    Rules("");
  }
  void Rules(const std::string& text, const std::string& home = "") override {
    std::string store =
        GetParam() == Store::kRedis ? "set dedup-store = " + SharedRedis()->url(3) + "\n" : "";
    DedupFixture::Rules(store + text, home);
  }
  std::string RedisKeys() { return SharedRedis()->Command({"KEYS", "*"}, 3); }
};

INSTANTIATE_TEST_SUITE_P(Stores, DedupProcessTest, testing::Values(Store::kFile, Store::kRedis),
                         [](const testing::TestParamInfo<Store>& p) {
                           return p.param == Store::kFile ? "File" : "Redis";
                         });

// The file store's own cases (where it lives, what a broken one does).
using FileDedupProcessTest = DedupFixture;

const char kMessage[] = "Message-ID: <20261125.1@example.org>\nSubject: hello\n\nbody\n";

TEST_P(DedupProcessTest, SameMessageToTwoSpellingsOfOneAddressIsDeliveredOnce) {
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

TEST_P(DedupProcessTest, SameMessageIdToTwoUsersIsDeliveredTwice) {
  test::TempDir other;
  Rules("", other.path());
  ASSERT_EQ(Deliver(kMessage, "bob@example.com").exit_code, 0);
  ASSERT_EQ(Deliver(kMessage, "alice@example.com", other.path()).exit_code, 0);
  EXPECT_EQ(Count(), 1u);
  EXPECT_EQ(ListDir(other / "Maildir/new").size(), 1u);
  // Two recipients sharing one mailbox and store: each gets it.
  ASSERT_EQ(Deliver(kMessage, "carol@example.com").exit_code, 0);
  EXPECT_EQ(Count(), 2u);
}

TEST_P(DedupProcessTest, FoldingAndBlanksInTheMessageIdDoNotMakeItNew) {
  queue_id_ = "1q-fold-1";  // three messages as Exim queues them: each its own queue id
  ASSERT_EQ(Deliver("Message-ID: <x.1@example.org>\n\nb\n").exit_code, 0);
  queue_id_ = "1q-fold-2";
  ASSERT_EQ(Deliver("Message-ID:\n  <x.1@example.org>  \n\nb\n").exit_code, 0);
  queue_id_ = "1q-fold-3";
  ASSERT_EQ(Deliver("message-id:\t<x.1@example.org>\r\n\r\nb\r\n").exit_code, 0);
  EXPECT_EQ(Count(), 1u);
}

// Issue 15, point 3: Exim's writer died part-way, mda stored the prefix and marked it; Exim
// retries the same queue id with the whole message: the whole message must be stored.
TEST_P(DedupProcessTest, ACutShortDeliveryIsNotTheOnlyCopyAfterTheRetry) {
  std::string whole =
      "Message-ID: <cut.1@example.org>\nFrom: shop@example.com\nSubject: receipt\n\n";
  for (int i = 0; i < 2000; ++i) whole += "line " + std::to_string(i) + " of the receipt\n";
  queue_id_ = "1q-cut";
  ASSERT_EQ(Deliver(whole.substr(0, whole.size() / 3)).exit_code, 0);
  ASSERT_EQ(Deliver(whole).exit_code, 0);
  bool found = false;
  for (const std::string& name : ListDir(home_ / "Maildir/new")) {
    found = found || test::ReadFile(home_ / "Maildir/new/" + name) == whole;
  }
  EXPECT_TRUE(found) << "only the prefix was stored";
  // A third run of the same queue id with the same bytes: done already, not a third copy.
  ASSERT_EQ(Deliver(whole).exit_code, 0);
  EXPECT_EQ(Count(), 2u);
  // Another queue id with the same message (a list sending it twice): a duplicate.
  queue_id_ = "1q-other";
  ASSERT_EQ(Deliver(whole).exit_code, 0);
  EXPECT_EQ(Count(), 2u);
}

// The same with a partial failure first: the whole message reached Alerts, not Work (exit
// 75); the retry was cut short (a prefix in both); the next retry must still put the whole
// message in Work, whatever the cut-short run marked.
TEST_P(DedupProcessTest, ACutShortRetryAfterAPartialFailureLosesNothing) {
  std::string whole =
      "Message-ID: <cut.2@example.org>\nFrom: shop@example.com\nSubject: receipt\n\n";
  for (int i = 0; i < 2000; ++i) whole += "line " + std::to_string(i) + " of the receipt\n";
  Rules("if exists Subject: then copy Alerts folder Work\n");
  for (const char* sub : {"tmp", "new", "cur"}) test::MakeDirs(home_ / "Maildir/.Work/" + sub);
  ASSERT_EQ(chmod((home_ / "Maildir/.Work/tmp").c_str(), 0500), 0);
  queue_id_ = "1q-cut2";
  EXPECT_EQ(Deliver(whole).exit_code, 75);
  ASSERT_EQ(chmod((home_ / "Maildir/.Work/tmp").c_str(), 0700), 0);
  ASSERT_EQ(Deliver(whole.substr(0, whole.size() / 3)).exit_code, 0);
  ASSERT_EQ(Deliver(whole).exit_code, 0);
  for (const char* folder : {".Alerts", ".Work"}) {
    bool found = false;
    for (const std::string& name : ListDir(home_ / "Maildir/" + folder + "/new")) {
      found = found || test::ReadFile(home_ / "Maildir/" + folder + "/new/" + name) == whole;
    }
    EXPECT_TRUE(found) << folder << " has no whole copy";
  }
  EXPECT_EQ(Count(".Alerts"), 2u);  // the whole message and the prefix: never a third copy
  ASSERT_EQ(Deliver(whole).exit_code, 0);
  EXPECT_EQ(Count(".Alerts"), 2u);
  EXPECT_EQ(Count(".Work"), 2u);
}

// Issue 15, point 16: a sender who guesses a coming Message-ID sends it first from another
// address; the real message still arrives. One sender's message twice is still one copy.
TEST_P(DedupProcessTest, AnotherSenderCannotPreemptAMessageId) {
  queue_id_ = "1q-fake";
  ASSERT_EQ(
      Deliver("Message-ID: <issue/42@github.com>\nFrom: Mallory <mallory@evil.example>\n\nfake\n")
          .exit_code,
      0);
  const std::string real =
      "Message-ID: <issue/42@github.com>\nFrom: GitHub <notifications@github.com>\n\nreal\n";
  queue_id_ = "1q-real";
  ASSERT_EQ(Deliver(real).exit_code, 0);
  EXPECT_EQ(Count(), 2u);
  // The list's second copy (other trace headers) and another spelling of the same From.
  queue_id_ = "1q-list";
  ASSERT_EQ(Deliver("Received: from list\nMessage-ID: <issue/42@github.com>\nFrom: "
                    "notifications@GitHub.COM\n\nreal\n")
                .exit_code,
            0);
  queue_id_ = "1q-resend";  // the same message again, under a new queue id
  ASSERT_EQ(Deliver(real).exit_code, 0);
  EXPECT_EQ(Count(), 2u);
}

TEST_P(DedupProcessTest, NoMessageIdIsNeverADuplicate) {
  ASSERT_EQ(Deliver("Subject: no id\n\nb\n").exit_code, 0);
  ASSERT_EQ(Deliver("Subject: no id\n\nb\n").exit_code, 0);
  EXPECT_EQ(Count(), 2u);
}

TEST_P(DedupProcessTest, DedupOffAndCaseSensitiveSettings) {
  Rules("set dedup = off\n");
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  EXPECT_EQ(Count(), 2u);
  Rules("set dedup-case = sensitive\n");
  ASSERT_EQ(Deliver(kMessage, "Bob@example.com").exit_code, 0);
  ASSERT_EQ(Deliver(kMessage, "bob@EXAMPLE.com").exit_code, 0);  // another local part: delivered
  ASSERT_EQ(Deliver(kMessage, "bob@example.COM").exit_code, 0);  // same as the one before: not
  EXPECT_EQ(Count(), 4u);
}

// Acceptance 2 (step 3), and step 9's: 20 concurrent deliveries of one message through
// two hosts (processes with host names of their own, as two Exim servers sharing the mail
// store), one copy, all exit 0.
TEST_P(DedupProcessTest, TwentyConcurrentDeliveriesOnTwoHostsMakeOneCopy) {
  const bool hosts = test::CanNameHosts();
  std::vector<test::Child> children;
  for (int i = 0; i < 20; ++i) {
    children.push_back(test::SpawnOnHost(
        {test::MdaBinary()},
        {"HOME=" + home_.path(), "RECIPIENT=bob@example.com", "SENDER=a@example.org"},
        test::TestUid(), test::TestGid(), hosts ? (i % 2 ? "host-b" : "host-a") : ""));
  }
  // Everything is written before any stdin is closed, so all 20 race for the key.
  for (test::Child& c : children)
    ASSERT_EQ(write(c.input, kMessage, sizeof kMessage - 1),
              static_cast<ssize_t>(sizeof kMessage - 1));
  for (test::Child& c : children) close(c.input);
  for (test::Child& c : children) {
    int status;
    ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
    close(c.output);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  ASSERT_EQ(Count(), 1u);
  int delivered = 0, duplicates = 0;
  for (const test::LogFields& line : test::ReadLog(home_ / ".mda/log")) {
    delivered += test::Get(line, "outcome") == "delivered";
    duplicates += test::Get(line, "outcome") == "duplicate";
  }
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(duplicates, 19);
  if (hosts) {  // the file's unique name carries the host that delivered it
    std::string name = ListDir(home_ / "Maildir/new")[0];
    EXPECT_TRUE(name.find(".host-a,") != std::string::npos ||
                name.find(".host-b,") != std::string::npos)
        << name;
  } else {
    RecordProperty("hosts", "one host name: no UTS namespaces here");
  }
}

// Acceptance 3: the delivery fails, Exim retries after the fix: exactly one copy.
TEST_P(DedupProcessTest, DeferredDeliveryIsNotADuplicateOnRetry) {
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

TEST_P(DedupProcessTest, RetryAfterAPartialFailureDoesNotCopyTwice) {
  Rules("if exists Subject: then copy Alerts folder Work\n");
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

TEST_P(DedupProcessTest, MdatestReportsADuplicateWithoutWritingTheStore) {
  test::WriteFile(home_ / "m.eml", kMessage);
  std::vector<std::string> env = {"HOME=" + home_.path(), "RECIPIENT=bob@example.com"};
  test::Result before = test::Exec({test::MdatestBinary(), home_ / "m.eml"}, env, "");
  EXPECT_EQ(before.output.find("duplicate"), std::string::npos) << before.output;
  if (GetParam() == Store::kFile) {
    EXPECT_EQ(ListDir(home_ / ".mda"),
              std::vector<std::string>{"rules"});  // nothing created by the dry run
  } else {
    EXPECT_EQ(RedisKeys(), "");
  }
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  struct stat st_before, st_after;
  std::string marks_before, ttl_before;
  if (GetParam() == Store::kFile) {
    ASSERT_EQ(stat((home_ / ".mda/dedup.store").c_str(), &st_before), 0);
  } else {
    std::string marks = "mda:dedup:{bob@example.com}:<20261125.1@example.org>";
    ASSERT_EQ(RedisKeys(), marks);  // the lease ended with the delivery
    marks_before = SharedRedis()->Command({"HGETALL", marks}, 3);
    SharedRedis()->Command({"PERSIST", marks}, 3);  // so an EXPIRE by mdatest would show
  }
  test::Result after = test::Exec({test::MdatestBinary(), home_ / "m.eml"}, env, "");
  EXPECT_NE(after.output.find("\n  duplicate: first delivered 20"), std::string::npos)
      << after.output;
  EXPECT_NE(after.output.find("; mda would not deliver it again\n"), std::string::npos)
      << after.output;
  if (GetParam() == Store::kFile) {
    ASSERT_EQ(stat((home_ / ".mda/dedup.store").c_str(), &st_after), 0);
    EXPECT_EQ(st_before.st_mtim.tv_nsec, st_after.st_mtim.tv_nsec);
    EXPECT_EQ(st_before.st_size, st_after.st_size);
  } else {
    std::string marks = "mda:dedup:{bob@example.com}:<20261125.1@example.org>";
    EXPECT_EQ(RedisKeys(), marks);
    EXPECT_EQ(SharedRedis()->Command({"HGETALL", marks}, 3), marks_before);
    EXPECT_EQ(SharedRedis()->Command({"TTL", marks}, 3), "-1");
  }
}

TEST_F(FileDedupProcessTest, AStoreThatIsNoFileIsSkippedNotADeferralForever) {
  test::MakeDirs(home_ / ".mda/dedup.store");  // a directory where the store should be
  test::Result r = Deliver(kMessage);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Count(), 1u);
  EXPECT_NE(ReadLog().find((home_ / ".mda/dedup.store") +
                           " is not a regular file: remove it; delivered without the "
                           "duplicate check"),
            std::string::npos)
      << ReadLog();
}

// Issue 15, point 4: another local user who can write ~/.mda (or the store) could plant a
// mark for a Message-ID to come, and the real message would be dropped. Such a store is not
// used: the message is delivered unchecked, and the user is told what to fix.
TEST_F(FileDedupProcessTest, AStoreOthersCouldWriteIsNotTrusted) {
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  ASSERT_EQ(chmod((home_ / ".mda/dedup.store").c_str(), 0666), 0);
  // The dry run agrees: no duplicate shown from a store mda would not trust.
  test::WriteFile(home_ / "m.eml", kMessage);
  test::Result dry = test::Exec({test::MdatestBinary(), home_ / "m.eml"},
                                {"HOME=" + home_.path(), "RECIPIENT=bob@example.com"}, "");
  EXPECT_EQ(dry.output.find("duplicate:"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("duplicates are not shown: " + (home_ / ".mda/dedup.store") +
                            " is writable by everyone"),
            std::string::npos)
      << dry.output;
  test::Result r = Deliver(kMessage);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Count(), 2u);
  EXPECT_NE(ReadLog().find((home_ / ".mda/dedup.store") + " is writable by everyone"),
            std::string::npos)
      << ReadLog();
  ASSERT_EQ(chmod((home_ / ".mda/dedup.store").c_str(), 0600), 0);
  if (geteuid() == 0) {
    ASSERT_EQ(chown((home_ / ".mda/dedup.lock").c_str(), 4242, 4242), 0);
    ASSERT_EQ(Deliver(kMessage).exit_code, 0);
    EXPECT_EQ(Count(), 3u);
    EXPECT_NE(ReadLog().find((home_ / ".mda/dedup.lock") + " belongs to uid 4242"),
              std::string::npos)
        << ReadLog();
  }
}

TEST_F(FileDedupProcessTest, ADirectoryOthersCouldWriteHoldsNoTrustedStoreOrLog) {
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  std::string log_before = ReadLog();
  ASSERT_EQ(chmod((home_ / ".mda").c_str(), 0777), 0);
  test::Result r = Deliver(kMessage);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Count(), 2u);            // not suppressed by a store anyone could have written
  EXPECT_EQ(ReadLog(), log_before);  // nor a line written into a log anyone could have planted
  EXPECT_NE(r.output.find("log " + (home_ / ".mda/log") + " not written: " + (home_ / ".mda") +
                          " is writable by everyone"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("delivered without the duplicate check"), std::string::npos) << r.output;
}

TEST_F(FileDedupProcessTest, NoHomeDirectoryMeansNoSuppressionNotNoMail) {
  // The Maildir defaults to ~/Maildir, which cannot exist either: give it one.
  test::Result r =
      test::Exec({test::MdaBinary(), "--maildir", home_ / "box"},
                 {"HOME=" + (home_ / "no-such-home"), "RECIPIENT=bob@example.com"}, kMessage);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ListDir(home_ / "box/new").size(), 1u);
}

TEST_P(DedupProcessTest, DeferByRuleLeavesNoMark) {
  Rules("if exists Subject: then defer \"not now\"\n");
  EXPECT_EQ(Deliver(kMessage).exit_code, 75);
  Rules("");
  ASSERT_EQ(Deliver(kMessage).exit_code, 0);
  EXPECT_EQ(Count(), 1u);
}

// Acceptance 4: SIGKILL at random points of 200 deliveries of 50 messages, each retried
// until exit 0 as Exim would: every message present; extra copies only from kills that
// landed between publishing and marking, and at most one per such kill.
TEST_P(DedupProcessTest, KilledDeliveriesRetriedNeverLoseAndRarelyDuplicate) {
  const unsigned seed = static_cast<unsigned>(time(nullptr));
  std::mt19937 rng(seed);
  std::vector<std::string> messages;
  for (int i = 0; i < 50; ++i) {
    std::string m = "Message-ID: <kill." + std::to_string(i) + "@example.org>\nSubject: m" +
                    std::to_string(i) + "\n\n";
    while (m.size() < 64 * 1024) m += "line of body text for message " + std::to_string(i) + "\n";
    messages.push_back(m);
  }
  int kills = 0;
  for (int attempt = 0; attempt < 200; ++attempt) {
    const std::string& m = messages[static_cast<size_t>(attempt % 50)];
    test::Child c =
        test::Spawn({test::MdaBinary()}, {"HOME=" + home_.path(), "RECIPIENT=bob@example.com"},
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

namespace mda {
namespace {

// Step 9: the Redis store's own cases, each on a server of its own (stopped, paused, ACLs).
class RedisDedupProcessTest : public DedupFixture {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.running()); }
  void Rules(const std::string& text, const std::string& home = "") override {
    DedupFixture::Rules("set dedup-store = " + redis_.url() + "\n" + text, home);
  }
  static std::string Message(int i) {
    return "Message-ID: <m." + std::to_string(i) + "@example.org>\nSubject: m" + std::to_string(i) +
           "\n\nbody\n";
  }
  test::RedisServer redis_;
};

// Acceptance 2: Redis stops in the middle of a run. Deliveries defer (75) at once, nothing
// is stored for them; once it is back, Exim's retries deliver each exactly once.
TEST_F(RedisDedupProcessTest, StoppedMidRunDefersAndLosesNothingOnceBack) {
  Rules("");
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Deliver(Message(i)).exit_code, 0) << i;
  redis_.Stop();
  std::vector<int> deferred;
  for (int i = 10; i < 20; ++i) {
    test::Result r = Deliver(Message(i));
    ASSERT_EQ(r.exit_code, 75) << r.output;
    EXPECT_NE(
        r.output.find("duplicate store " + redis_.url() + ": cannot connect: Connection refused"),
        std::string::npos)
        << r.output;
    deferred.push_back(i);
  }
  EXPECT_EQ(Count(), 10u);
  ASSERT_TRUE(redis_.Start());
  // Exim retries the deferred ones; the first ten come again too (a resent batch): duplicates.
  for (int i : deferred) ASSERT_EQ(Deliver(Message(i)).exit_code, 0) << i;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Deliver(Message(i)).exit_code, 0) << i;
  EXPECT_EQ(Count(), 20u);
  std::map<std::string, int> outcomes;
  for (const test::LogFields& line : test::ReadLog(home_ / ".mda/log"))
    outcomes[test::Get(line, "outcome")]++;
  EXPECT_EQ(outcomes["delivered"], 20);
  EXPECT_EQ(outcomes["deferred"], 10);
  EXPECT_EQ(outcomes["duplicate"], 10);
}

// Acceptance 2: a server that accepts connections and never answers (stopped by SIGSTOP)
// defers within dedup-timeout, not at Exim's transport timeout.
TEST_F(RedisDedupProcessTest, ServerThatDoesNotAnswerDefersWithinTheTimeout) {
  Rules("set dedup-timeout = 400ms\n");
  redis_.Pause();
  test::Result r = Deliver(Message(1));  // returns at all: without the bound it would hang here
  redis_.Resume();
  EXPECT_EQ(r.exit_code, 75) << r.output;
  // The configured bound is what ended the wait (not a refusal, not Exim's timeout).
  EXPECT_NE(r.output.find("no answer within 400 ms"), std::string::npos) << r.output;
  EXPECT_EQ(Count(), 0u);
  ASSERT_EQ(Deliver(Message(1)).exit_code, 0);
  EXPECT_EQ(Count(), 1u);
}

TEST_F(RedisDedupProcessTest, UnreachableWithDeliverSettingDeliversUncheckedAndSaysSo) {
  Rules("set dedup-unreachable = deliver\n");
  ASSERT_EQ(Deliver(Message(1)).exit_code, 0);
  redis_.Stop();
  test::Result r = Deliver(Message(1));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Count(), 2u);  // the price of the setting: a duplicate, never a delay
  std::vector<test::LogFields> log = test::ReadLog(home_ / ".mda/log");
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(test::Get(log[1], "level"), "warning");
  EXPECT_NE(test::Get(log[1], "reason")
                .find("delivered without the duplicate check (dedup-unreachable = deliver)"),
            std::string::npos)
      << test::Get(log[1], "reason");
  EXPECT_EQ(test::Get(log[2], "outcome"), "delivered");
  // A refused AUTH is not "unreachable": a setting to fix, so it defers even so.
  ASSERT_TRUE(redis_.Start());
  Rules("set dedup-unreachable = deliver\nset dedup-password-file = ~/.mda/pw\n");
  test::WriteFile(home_ / ".mda/pw", "wrong\n");
  r = Deliver(Message(2));
  EXPECT_EQ(r.exit_code, 75) << r.output;
}

// Redis fails after the copy is in place (here: the user may claim but not write marks):
// the copy stays and Exim is told 0, with a warning, never 75 (a retry would copy again);
// the claim is still ended.
TEST_F(RedisDedupProcessTest, MarkFailingAfterTheCopyIsAWarningNotADeferral) {
  ASSERT_EQ(redis_.Command({"ACL", "SETUSER", "mail", "on", ">pw", "~*", "+@connection", "+eval",
                            "+get", "+set", "+del", "+pttl", "+hgetall"}),
            "OK");
  test::MakeDirs(home_ / ".mda");
  test::WriteFile(home_ / ".mda/pw", "pw\n");
  DedupFixture::Rules("set dedup-store = redis://mail@127.0.0.1:" + std::to_string(redis_.port()) +
                      "/0\nset dedup-password-file = ~/.mda/pw\n");
  test::Result r = Deliver(Message(1));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Count(), 1u);
  std::vector<test::LogFields> log = test::ReadLog(home_ / ".mda/log");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(test::Get(log[0], "level"), "warning");
  EXPECT_NE(test::Get(log[0], "reason")
                .find("marking the delivery: ERR The user executing the script can"),
            std::string::npos)
      << test::Get(log[0], "reason");
  EXPECT_EQ(test::Get(log[1], "outcome"), "delivered");
  EXPECT_EQ(redis_.Command({"KEYS", "mda:lease:*"}), "");  // the lease did not outlive it
}

// A delivery killed on another host leaves its lease; it expires and the retry delivers.
TEST_F(RedisDedupProcessTest, LeaseLeftByACrashElsewhereExpiresAndTheRetryDelivers) {
  Rules("");
  std::string lease = "mda:lease:{bob@example.com}:<m.1@example.org>";
  ASSERT_EQ(redis_.Command({"SET", lease, "elsewhere:4242:00ff", "PX", "1500"}), "OK");
  test::Result r = Deliver(Message(1));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Count(), 1u);
  // Not taken over (another host's process cannot be checked): the claim script grants a
  // held lease to nobody, so this delivery ran only after Redis expired the crashed one.
  for (const test::LogFields& line : test::ReadLog(home_ / ".mda/log")) {
    EXPECT_EQ(test::Get(line, "level"), "info") << test::Get(line, "reason");
  }
  EXPECT_EQ(redis_.Command({"EXISTS", lease}), "0");  // and it ended its own
}

// Killed on this host: the holder's process is gone, so the lease is taken over at once.
TEST_F(RedisDedupProcessTest, LeaseOfAKilledDeliveryOnThisHostIsTakenOver) {
  Rules("");
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_EQ(waitpid(dead, nullptr, 0), dead);
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  std::string lease = "mda:lease:{bob@example.com}:<m.1@example.org>";
  ASSERT_EQ(redis_.Command({"SET", lease, std::string(host) + ":" + std::to_string(dead) + ":00ff",
                            "PX", "120000"}),
            "OK");
  test::Result r = Deliver(Message(1));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Count(), 1u);
  std::vector<test::LogFields> log = test::ReadLog(home_ / ".mda/log");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_NE(test::Get(log[0], "reason").find("took over the lease of a killed delivery"),
            std::string::npos);
  EXPECT_EQ(redis_.Command({"EXISTS", lease}), "0");
}

TEST_F(RedisDedupProcessTest, AclUserWithPasswordFileAndUnixSocket) {
  // The ACL INSTALL gives for sites whose local users are not trusted: only their own keys.
  ASSERT_EQ(redis_.Command({"ACL", "SETUSER", "mail", "on", ">s3cret word",
                            "~mda:dedup:{bob@example.com}:*", "~mda:lease:{bob@example.com}:*",
                            "+@connection", "+eval", "+get", "+set", "+del", "+pttl", "+pexpire",
                            "+expire", "+hget", "+hset", "+hgetall"}),
            "OK");
  test::MakeDirs(home_ / ".mda");
  test::WriteFile(home_ / ".mda/redis-password", "s3cret word\n");
  DedupFixture::Rules("set dedup-store = unix://mail@" + redis_.socket() +
                      "?db=5\n"
                      "set dedup-password-file = ~/.mda/redis-password\n");
  ASSERT_EQ(Deliver(Message(1)).exit_code, 0);
  ASSERT_EQ(Deliver(Message(1)).exit_code, 0);
  EXPECT_EQ(Count(), 1u);
  EXPECT_EQ(redis_.Command({"KEYS", "*"}, 5), "mda:dedup:{bob@example.com}:<m.1@example.org>");
  test::Result other = Deliver(Message(1), "alice@example.com");  // not bob's key: refused
  EXPECT_EQ(other.exit_code, 75);
  EXPECT_NE(other.output.find("NOPERM"), std::string::npos) << other.output;
  test::WriteFile(home_ / ".mda/redis-password", "wrong\n");
  test::Result r = Deliver(Message(2));
  EXPECT_EQ(r.exit_code, 75);
  EXPECT_NE(r.output.find("AUTH refused: WRONGPASS"), std::string::npos) << r.output;
  EXPECT_EQ(Count(), 1u);
}

// A password in the URL makes the rule file unusable (it would be readable where the rule
// file is): INBOX, with the reason in the log, and the file store meanwhile.
TEST_F(RedisDedupProcessTest, PasswordInTheUrlIsRefused) {
  DedupFixture::Rules("set dedup-store = redis://mail:s3cret@127.0.0.1:" +
                      std::to_string(redis_.port()) + "/0\nif exists Subject: then folder Junk\n");
  ASSERT_EQ(Deliver(Message(1)).exit_code, 0);
  EXPECT_EQ(Count(), 1u);
  EXPECT_EQ(Count(".Junk"), 0u);
  std::vector<test::LogFields> log = test::ReadLog(home_ / ".mda/log");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_NE(test::Get(log[0], "reason").find("a password does not belong in the URL"),
            std::string::npos)
      << test::Get(log[0], "reason");
}

TEST_F(RedisDedupProcessTest, LongMessageIdIsKeyedByItsHash) {
  Rules("");
  std::string id = "<" + std::string(10000, 'x') + "@example.org>";
  std::string message = "Message-ID: " + id + "\n\nbody\n";
  ASSERT_EQ(Deliver(message).exit_code, 0);
  ASSERT_EQ(Deliver(message).exit_code, 0);
  EXPECT_EQ(Count(), 1u);
  std::string keys = redis_.Command({"KEYS", "*"});
  EXPECT_EQ(keys.rfind("mda:dedup:{bob@example.com}:sha256:", 0), 0u) << keys.substr(0, 100);
  EXPECT_EQ(keys.size(), std::string("mda:dedup:{bob@example.com}:sha256:").size() + 64) << keys;
}

// The command line (the Exim transport's, for a whole site) wins over the rule file.
TEST_F(RedisDedupProcessTest, CommandLineNamesTheStoreForEveryone) {
  test::MakeDirs(home_ / ".mda");
  test::WriteFile(home_ / ".mda/rules", "set dedup-store = file\n");
  for (int i = 0; i < 2; ++i) {
    test::Result r = test::Exec({test::MdaBinary(), "--dedup-store", redis_.url(6)},
                                {"HOME=" + home_.path(), "RECIPIENT=bob@example.com"}, Message(1));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  EXPECT_EQ(Count(), 1u);
  EXPECT_EQ(redis_.Command({"KEYS", "*"}, 6), "mda:dedup:{bob@example.com}:<m.1@example.org>");
  EXPECT_FALSE(test::ListDir(home_ / ".mda").size() > 2);  // rules, log: no dedup.store
}

}  // namespace
}  // namespace mda
