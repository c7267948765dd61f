// SIGKILL at random moments of a delivery never leaves a partial file in new/ (acceptance 4).
//
// The kill moments are drawn at random (seeded, reported on failure): while stdin is still
// being fed, or a random number of microseconds after it was closed, which spreads them over
// reading, writing tmp/, fsync, link and the directory fsync. The delays choose *when* to
// kill; nothing waits on them for correctness, and the assertions hold whenever the kill lands.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <random>

#include "tests/test_util.h"

namespace mda {
namespace {

TEST(KillTest, KilledDeliveriesNeverLeaveAPartialFileInNew) {
  const int kRuns = 200;
  std::string message = "Subject: kill test\n\n";
  while (message.size() < 512 * 1024) message += "the quick brown fox jumps over the lazy dog\n";

  test::TempDir home;
  const unsigned seed = static_cast<unsigned>(time(nullptr));
  std::mt19937 rng(seed);
  int completed = 0, killed = 0;
  for (int run = 0; run < kRuns; ++run) {
    test::Child c = test::Spawn({test::MdaBinary()},
                                {"HOME=" + home.path(), "RECIPIENT=bob@example.com", "SENDER=a@b"},
                                test::TestUid(), test::TestGid());
    // Feed a random number of 16 KiB chunks (up to all of them), slowly enough that
    // mda is mid-read at the kill when the message is not complete.
    size_t chunks = message.size() / 16384;
    size_t feed = std::uniform_int_distribution<size_t>(0, chunks + chunks / 2)(rng);
    size_t written = 0;
    for (size_t i = 0; i < feed && written < message.size(); ++i) {
      ssize_t n = write(c.input, message.data() + written,
                        std::min<size_t>(16384, message.size() - written));
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
    if (written == message.size()) {
      close(c.input);
      c.input = -1;
      // Kill a random moment into the delivery itself (0 to 3 ms).
      struct timespec delay = {0, std::uniform_int_distribution<long>(0, 3000)(rng) * 1000};
      nanosleep(&delay, nullptr);
    }
    kill(c.pid, SIGKILL);
    int status;
    ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
    if (c.input >= 0) close(c.input);
    close(c.output);
    if (WIFEXITED(status)) {
      ASSERT_EQ(WEXITSTATUS(status), 0) << "seed " << seed;
      ++completed;
    } else {
      ASSERT_EQ(WTERMSIG(status), SIGKILL);
      ++killed;
    }
  }
  // Every file in new/ is the whole message; there is one for each completed run, and at
  // most one more for each run killed after its link() into new/.
  std::vector<std::string> files = test::ListDir(home / "Maildir/new");
  for (const std::string& f : files) {
    std::string stored = test::ReadFile(home / "Maildir/new/" + f);
    ASSERT_EQ(stored.size(), message.size()) << f << " is partial (seed " << seed << ")";
    ASSERT_TRUE(stored == message) << f << " differs (seed " << seed << ")";
  }
  EXPECT_GE(files.size(), static_cast<size_t>(completed)) << "seed " << seed;
  EXPECT_LE(files.size(), static_cast<size_t>(completed + killed)) << "seed " << seed;
  EXPECT_EQ(completed + killed, kRuns);
  RecordProperty("completed", completed);
  RecordProperty("killed", killed);
  RecordProperty("left_in_tmp", static_cast<int>(test::ListDir(home / "Maildir/tmp").size()));
}

}  // namespace
}  // namespace mda
