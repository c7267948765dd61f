// Step 14 through the real mda binary: flags stored in cur/ for every copy, header edits
// stored, and the subscriptions file of a folder mda creates (formats, no duplicate line,
// a held or stale lock, set subscribe = off).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/test_util.h"

namespace mda {
namespace {

using test::ListDir;
using test::ReadFile;

class FlagsProcessTest : public testing::Test {
 protected:
  void SetUp() override {
    test::MakeDirs(home_ / ".mda");
    chmod((home_ / ".mda").c_str(), 0700);
  }
  void Rules(const std::string& text) {
    test::WriteFile(home_ / ".mda/rules", text);
    chmod((home_ / ".mda/rules").c_str(), 0600);
    test::ChownToTestUser(home_ / ".mda/rules");
  }
  test::Result Deliver(const std::string& message) {
    return test::Exec({test::MdaBinary()},
                      {"HOME=" + home_.path(), "RECIPIENT=bob@example.com",
                       "SENDER=alice@example.org", "LOCAL_PART=bob", "DOMAIN=example.com"},
                      message);
  }
  std::string Log() {
    return access((home_ / ".mda/log").c_str(), F_OK) == 0 ? ReadFile(home_ / ".mda/log") : "";
  }
  // A Maildir root made as the test user would have it.
  void MakeMaildir() {
    for (const char* d : {"Maildir/cur", "Maildir/new", "Maildir/tmp"}) test::MakeDirs(home_ / d);
  }

  test::TempDir home_;
};

TEST_F(FlagsProcessTest, FlaggedCopiesGoToCurWithTheInfoSuffix) {
  Rules(
      "if exists X-Copy: then copy Archive\nif X-Spam-Flag: is \"YES\" then folder Junk\n"
      "if exists X-Read: then flag seen flagged\n");
  ASSERT_EQ(Deliver("X-Copy: 1\nX-Read: 1\nMessage-ID: <1@x>\n\nb\n").exit_code, 0);
  for (const char* folder : {"", ".Archive/"}) {
    std::string dir = home_ / "Maildir/" + std::string(folder);
    EXPECT_TRUE(ListDir(dir + "new").empty()) << folder;
    std::vector<std::string> cur = ListDir(dir + "cur");
    ASSERT_EQ(cur.size(), 1u) << folder;
    EXPECT_EQ(cur[0].substr(cur[0].size() - 5), ":2,FS") << cur[0];
    EXPECT_EQ(ReadFile(dir + "cur/" + cur[0]), "X-Copy: 1\nX-Read: 1\nMessage-ID: <1@x>\n\nb\n");
  }
  EXPECT_TRUE(ListDir(home_ / "Maildir/tmp").empty());
  // The form: the flag after the folder.
  Rules("if X-Spam-Flag: is \"YES\" then folder Junk flag seen\n");
  ASSERT_EQ(Deliver("X-Spam-Flag: YES\nMessage-ID: <2@x>\n\nb\n").exit_code, 0);
  ASSERT_EQ(ListDir(home_ / "Maildir/.Junk/cur").size(), 1u);
  EXPECT_NE(ListDir(home_ / "Maildir/.Junk/cur")[0].find(":2,S"), std::string::npos);
  // Without a flag: new/, as always.
  ASSERT_EQ(Deliver("X-Spam-Flag: NO\nMessage-ID: <3@x>\n\nb\n").exit_code, 0);
  EXPECT_EQ(ListDir(home_ / "Maildir/new").size(), 1u);
}

TEST_F(FlagsProcessTest, EditedHeadersAreWhatIsStored) {
  Rules(
      "if Subject: ~ /^\\[EXTERNAL\\] (.*)$/ then set-header \"Subject: $1\"\n"
      "if exists X-Mailer-Tracking: then remove-header \"X-Mailer-Tracking\"\n"
      "if Subject: is \"hello\" then add-header \"X-Seen-Edited: yes\" folder Edited\n");
  ASSERT_EQ(Deliver("Received: from x\r\nSubject: [EXTERNAL] hello\r\nX-Mailer-Tracking: 42\r\n"
                    "\r\nbody\r\n")
                .exit_code,
            0);
  std::vector<std::string> files = ListDir(home_ / "Maildir/.Edited/new");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(ReadFile(home_ / "Maildir/.Edited/new/" + files[0]),
            "X-Seen-Edited: yes\r\nReceived: from x\r\nSubject: hello\r\n\r\nbody\r\n");
}

TEST_F(FlagsProcessTest, NewFoldersAreSubscribedOnce) {
  Rules("if exists X-List: then folder Lists/dev\nif exists X-Junk: then folder Junk\n");
  ASSERT_EQ(Deliver("X-List: 1\n\nb\n").exit_code, 0);
  ASSERT_EQ(Deliver("X-Junk: 1\n\nb\n").exit_code, 0);
  ASSERT_EQ(Deliver("X-List: 1\n\nc\n").exit_code, 0);  // the folder exists: no change
  EXPECT_EQ(ReadFile(home_ / "Maildir/subscriptions"), "V\t2\n\nLists\tdev\nJunk\n");
  struct stat st;
  ASSERT_EQ(stat((home_ / "Maildir/subscriptions").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, test::TestUid());
  EXPECT_EQ(access((home_ / "Maildir/subscriptions.lock").c_str(), F_OK), -1);
}

TEST_F(FlagsProcessTest, AnOlderSubscriptionsFileKeepsItsFormatAndLines) {
  MakeMaildir();
  // Dovecot before 2.3 (and what a user typed): names with '.', no version line; a line
  // for the folder already there is not repeated.
  test::WriteFile(home_ / "Maildir/subscriptions", "Sent\nJunk\n");
  test::ChownToTestUser(home_ / "Maildir/subscriptions");
  Rules("if exists X-List: then folder Lists/dev\nif exists X-Junk: then folder Junk\n");
  ASSERT_EQ(Deliver("X-List: 1\n\nb\n").exit_code, 0);
  ASSERT_EQ(Deliver("X-Junk: 1\n\nb\n").exit_code, 0);
  EXPECT_EQ(ReadFile(home_ / "Maildir/subscriptions"), "Sent\nJunk\nLists.dev\n");
}

TEST_F(FlagsProcessTest, SubscribeOffLeavesTheFileAlone) {
  Rules("set subscribe = off\nif exists X-Junk: then folder Junk\n");
  ASSERT_EQ(Deliver("X-Junk: 1\n\nb\n").exit_code, 0);
  EXPECT_EQ(ListDir(home_ / "Maildir/.Junk/new").size(), 1u);
  EXPECT_EQ(access((home_ / "Maildir/subscriptions").c_str(), F_OK), -1);
}

TEST_F(FlagsProcessTest, AHeldLockCostsTheSubscriptionNeverTheMessage) {
  MakeMaildir();
  test::WriteFile(home_ / "Maildir/subscriptions.lock", "1234:other");
  test::ChownToTestUser(home_ / "Maildir/subscriptions.lock");
  Rules("if exists X-Junk: then folder Junk\n");
  test::Result r = Deliver("X-Junk: 1\n\nb\n");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ListDir(home_ / "Maildir/.Junk/new").size(), 1u);
  EXPECT_EQ(access((home_ / "Maildir/subscriptions").c_str(), F_OK), -1);
  EXPECT_NE(Log().find("subscriptions.lock is held"), std::string::npos) << Log();
  EXPECT_EQ(ReadFile(home_ / "Maildir/subscriptions.lock"), "1234:other");  // not ours to remove
  // A lock older than 30 s is stale (its writer died): removed, and the folder subscribed.
  struct timespec old[2] = {{time(nullptr) - 60, 0}, {time(nullptr) - 60, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, (home_ / "Maildir/subscriptions.lock").c_str(), old, 0), 0);
  Rules("if exists X-Junk: then folder Junk2\n");
  ASSERT_EQ(Deliver("X-Junk: 1\n\nb\n").exit_code, 0);
  EXPECT_EQ(ReadFile(home_ / "Maildir/subscriptions"), "V\t2\n\nJunk2\n");
  EXPECT_EQ(access((home_ / "Maildir/subscriptions.lock").c_str(), F_OK), -1);
}

TEST_F(FlagsProcessTest, ConcurrentDeliveriesLoseNoSubscription) {
  // Twelve deliveries at once, each creating its own folder: the dot-lock serialises their
  // rewrites of the file, so every folder is there exactly once.
  MakeMaildir();
  Rules("if X-Folder: ~ /^(\\w+)$/ then folder \"$1\"\n");
  std::vector<test::Child> children;
  for (int i = 0; i < 12; ++i) {
    children.push_back(test::Spawn({test::MdaBinary()},
                                   {"HOME=" + home_.path(), "RECIPIENT=bob@example.com"},
                                   test::TestUid(), test::TestGid()));
  }
  for (size_t i = 0; i < children.size(); ++i) {
    std::string m =
        "X-Folder: F" + std::to_string(i) + "\nMessage-ID: <c" + std::to_string(i) + "@x>\n\nb\n";
    ASSERT_EQ(write(children[i].input, m.data(), m.size()), static_cast<ssize_t>(m.size()));
    close(children[i].input);
  }
  for (const test::Child& c : children) {
    int status = 0;
    ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
    close(c.output);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  std::string subscriptions = ReadFile(home_ / "Maildir/subscriptions");
  EXPECT_EQ(subscriptions.rfind("V\t2\n\n", 0), 0u) << subscriptions;
  for (int i = 0; i < 12; ++i) {
    std::string line = "\nF" + std::to_string(i) + "\n";
    size_t at = subscriptions.find(line);
    EXPECT_NE(at, std::string::npos) << line << " missing from\n" << subscriptions;
    EXPECT_EQ(subscriptions.find(line, at + 1), std::string::npos) << line << " twice";
  }
  EXPECT_EQ(access((home_ / "Maildir/subscriptions.lock").c_str(), F_OK), -1);
}

}  // namespace
}  // namespace mda
