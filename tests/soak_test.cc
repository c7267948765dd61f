// The soak test (not in the default run: scripts/soak). Four workers deliver a few thousand
// messages, some twice (duplicates), through the real mda with duplicate suppression on,
// each attempt at risk of a SIGKILL at a random moment or of a fault (too few file
// descriptors, so an open fails at a random step); every message is retried until mda
// exits 0, as Exim would. At the end: nothing lost, extra copies only from kills (counted),
// tmp/ empty after a cleanup pass, every message marked in the store, every log line whole.
// And a 1 GiB message, streamed in, sorted under `set max-size` in bounded memory.
//   MDA_SOAK_MESSAGES (default 5000), MDA_SOAK_WORKERS (4), MDA_SOAK_SEED (time),
//   MDA_SOAK_BIG_MB (1024).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mda/file_store.h"
#include "tests/test_util.h"

namespace mda {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? atoi(v) : fallback;
}

struct Attempt {
  bool killed = false;
  bool faulted = false;
  int exit_code = -1;  // -1: killed by a signal
};

TEST(SoakTest, NothingLostExtraCopiesOnlyFromKills) {
  const int kMessages = EnvInt("MDA_SOAK_MESSAGES", 5000);
  const int kWorkers = EnvInt("MDA_SOAK_WORKERS", 4);
  const unsigned seed =
      static_cast<unsigned>(EnvInt("MDA_SOAK_SEED", static_cast<int>(time(nullptr))));
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  chmod((home / ".mda").c_str(), 0700);
  test::WriteFile(home / ".mda/rules",
                  "if Subject: contains \"[ALERT]\" then copy Alerts\n"
                  "if X-Spam-Score: >= 5 then folder Junk\n"
                  "if List-Id: contains \"<dev.example.org>\" then folder Dev\n");
  chmod((home / ".mda/rules").c_str(), 0600);
  test::ChownToTestUser(home / ".mda/rules");

  // The messages and where each must end up; every 10th is delivered a second time.
  std::vector<std::string> messages;
  std::vector<std::set<std::string>> expected;
  for (int i = 0; i < kMessages; ++i) {
    bool alert = i % 7 == 0, spam = i % 5 == 1, list = i % 3 == 2;
    std::string m = "Message-ID: <soak." + std::to_string(i) + "@example.org>\nSubject: message " +
                    std::to_string(i) + (alert ? " [ALERT]" : "") + "\n";
    if (spam) m += "X-Spam-Score: 7.5\n";
    if (list) m += "List-Id: Dev <dev.example.org>\n";
    m += "\n";
    size_t body = 200 + static_cast<size_t>(i % 13) * 2000;  // 0.2 to 24 KB
    while (m.size() < body) m += "body line of message " + std::to_string(i) + "\n";
    messages.push_back(m);
    std::set<std::string> where;
    if (alert) where.insert(".Alerts");
    where.insert(spam ? ".Junk" : list ? ".Dev" : "");
    expected.push_back(where);
  }
  std::vector<int> queue;
  for (int i = 0; i < kMessages; ++i) {
    queue.push_back(i);
    if (i % 10 == 0) queue.push_back(i);
  }
  std::shuffle(queue.begin(), queue.end(), std::mt19937(seed));

  const std::string mda = test::MdaBinary();  // staged once, before the workers exec it
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::map<int, std::vector<Attempt>> attempts;  // by message
  std::vector<std::string> failures;
  auto worker = [&](unsigned worker_seed) {
    std::mt19937 rng(worker_seed);
    for (size_t q; (q = next++) < queue.size();) {
      int id = queue[q];
      for (int round = 0;; ++round) {
        Attempt a;
        a.killed = std::uniform_int_distribution<int>(0, 99)(rng) < 8;
        a.faulted = !a.killed && std::uniform_int_distribution<int>(0, 99)(rng) < 8;
        std::vector<std::string> argv = {mda};
        if (a.faulted) {  // stdin, stdout, stderr and 0 to 5 more descriptors
          int fds = std::uniform_int_distribution<int>(3, 8)(rng);
          argv = {"/bin/sh", "-c", "ulimit -n " + std::to_string(fds) + " && exec \"$0\"", mda};
        }
        test::Child c =
            test::Spawn(argv,
                        {"HOME=" + home.path(), "RECIPIENT=soak@example.org", "LOCAL_PART=soak",
                         "DOMAIN=example.org", "SENDER=a@example.net"},
                        test::TestUid(), test::TestGid());
        const std::string& m = messages[static_cast<size_t>(id)];
        ssize_t n = write(c.input, m.data(), m.size());
        (void)n;
        close(c.input);
        if (a.killed) {  // a random moment of the delivery
          struct timespec delay = {0, std::uniform_int_distribution<long>(0, 3000)(rng) * 1000};
          nanosleep(&delay, nullptr);
          kill(c.pid, SIGKILL);
        }
        std::string output;
        char buf[4096];
        for (ssize_t r; (r = read(c.output, buf, sizeof buf)) > 0;)
          output.append(buf, static_cast<size_t>(r));
        close(c.output);
        int status;
        waitpid(c.pid, &status, 0);
        a.killed = WIFSIGNALED(status);
        a.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::lock_guard<std::mutex> lock(mu);
        attempts[id].push_back(a);
        if (a.exit_code == 0) break;
        if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
          failures.push_back("message " + std::to_string(id) + ": mda died of signal " +
                             std::to_string(WTERMSIG(status)));
          break;
        }
        if (WIFEXITED(status) && a.exit_code != 75) {
          failures.push_back("message " + std::to_string(id) + ": exit " +
                             std::to_string(a.exit_code) + ": " + output);
          break;
        }
        if (round == 100) {
          failures.push_back("message " + std::to_string(id) +
                             ": not delivered after 100 attempts: " + output);
          break;
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w)
    threads.emplace_back(worker, seed + 1 + static_cast<unsigned>(w));
  for (std::thread& t : threads) t.join();
  for (const std::string& f : failures) ADD_FAILURE() << f << " (seed " << seed << ")";

  // Copies per message and folder, each whole.
  std::map<std::pair<int, std::string>, int> copies;
  int torn = 0, stray = 0;
  for (const std::string& folder :
       {std::string(""), std::string(".Alerts"), std::string(".Junk"), std::string(".Dev")}) {
    std::string dir = home / ("Maildir/" + folder + (folder.empty() ? "" : "/") + "new");
    for (const std::string& f : test::ListDir(dir)) {
      std::string stored = test::ReadFile(dir + "/" + f);
      int id = atoi(stored.c_str() + stored.find("<soak.") + 6);
      if (stored != messages[static_cast<size_t>(id)]) ++torn;
      if (!expected[static_cast<size_t>(id)].count(folder)) ++stray;
      copies[{id, folder}]++;
    }
  }
  int lost = 0, extra = 0, extra_beyond_kills = 0, kills = 0, faults = 0, total_attempts = 0,
      clean = 0;
  for (int id = 0; id < kMessages; ++id) {
    int message_kills = 0;
    for (const Attempt& a : attempts[id]) {
      message_kills += a.killed;
      faults += a.faulted;
      clean += !a.killed && !a.faulted;
      ++total_attempts;
    }
    kills += message_kills;
    for (const std::string& folder : expected[static_cast<size_t>(id)]) {
      int n = copies[{id, folder}];
      if (n == 0) ++lost;
      extra += std::max(0, n - 1);
      if (n - 1 > message_kills) ++extra_beyond_kills;
    }
  }
  // tmp/: unnamed O_TMPFILE files leave nothing; the named way leaves a killed delivery's
  // file, which the usual cleanup (tmp/ files older than 36 hours) removes.
  int tmp_left = 0;
  for (const std::string& folder :
       {std::string(""), std::string(".Alerts"), std::string(".Junk"), std::string(".Dev")}) {
    std::string dir = home / ("Maildir/" + folder + (folder.empty() ? "" : "/") + "tmp");
    for (const std::string& f : test::ListDir(dir)) {
      ++tmp_left;
      unlink((dir + "/" + f).c_str());
    }
    EXPECT_TRUE(test::ListDir(dir).empty());
  }
  // The store: every message marked as delivered.
  std::unique_ptr<FileStore> store;
  std::string warning;
  ASSERT_TRUE(
      FileStore::Open(PosixFs(), home / ".mda/dedup.store", "", true, &store, &warning).ok());
  int unmarked = 0;
  for (int id = 0; id < kMessages; ++id) {
    DuplicateStore::Lookup found;
    std::string key =
        *DedupKey("<soak." + std::to_string(id) + "@example.org>", "", "soak@example.org", false);
    ASSERT_TRUE(store->Find(key, {}, 0, &found).ok());
    unmarked += !found.complete;
  }
  // The log: every line whole (concurrent appends never interleave); one per attempt that
  // could open it.
  std::vector<test::LogFields> log = test::ReadLog(home / ".mda/log");
  int lines = 0;
  for (const test::LogFields& l : log) lines += test::Get(l, "level") == "info";

  printf("soak: seed %u, %d messages (%zu deliveries with duplicates), %d workers\n", seed,
         kMessages, queue.size(), kWorkers);
  printf("soak: %d attempts, %d killed, %d with too few descriptors, %d clean\n", total_attempts,
         kills, faults, clean);
  printf(
      "soak: lost %d, torn %d, in a wrong folder %d, extra copies %d (beyond one per kill: %d)\n",
      lost, torn, stray, extra, extra_beyond_kills);
  printf(
      "soak: tmp/ files left by kills and cleaned up %d, unmarked in the store %d, log lines %d\n",
      tmp_left, unmarked, lines);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(stray, 0);
  EXPECT_EQ(extra_beyond_kills, 0);
  EXPECT_EQ(unmarked, 0);
  EXPECT_GE(lines, clean);
  EXPECT_LE(lines, total_attempts);
  EXPECT_GT(kills, 0);
  EXPECT_GT(faults, 0);
}

TEST(SoakTest, OneGigabyteMessage) {
  // 1 GiB streamed into mda with `set max-size`: delivered whole where the size rule says,
  // its body never walked, in bounded memory (peak RSS under 2.5 x the message).
  const size_t kSize = static_cast<size_t>(EnvInt("MDA_SOAK_BIG_MB", 1024)) << 20;
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  chmod((home / ".mda").c_str(), 0700);
  // With the default 1 GiB: max-size 51M, Big over 512M.
  const std::string max_size = std::to_string(kSize / 20 >> 20) + "M";
  test::WriteFile(home / ".mda/rules", "set max-size = " + max_size +
                                           "\n"
                                           "if body contains \"needle\" then folder Found\n"
                                           "if size > " +
                                           std::to_string(kSize / 2) + " then folder Big\n");
  chmod((home / ".mda/rules").c_str(), 0600);
  const std::string head = "Message-ID: <big@example.org>\nSubject: big\n\nneedle\n";
  std::string line(1023, 'x');
  line += '\n';
  test::Child c = test::Spawn({test::MdaBinary()},
                              {"HOME=" + home.path(), "RECIPIENT=b@example.org", "LOCAL_PART=b"},
                              test::TestUid(), test::TestGid());
  std::thread drain([&c] {
    char buf[4096];
    while (read(c.output, buf, sizeof buf) > 0) {
    }
  });
  size_t sent = 0;
  auto send = [&](const char* data, size_t n) {
    while (n > 0) {
      ssize_t w = write(c.input, data, n);
      ASSERT_GT(w, 0);
      data += w;
      n -= static_cast<size_t>(w);
      sent += static_cast<size_t>(w);
    }
  };
  send(head.data(), head.size());
  while (sent + line.size() <= kSize) send(line.data(), line.size());
  close(c.input);
  int status;
  struct rusage usage;
  ASSERT_EQ(wait4(c.pid, &status, 0, &usage), c.pid);
  drain.join();
  close(c.output);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::vector<std::string> files = test::ListDir(home / "Maildir/.Big/new");
  ASSERT_EQ(files.size(), 1u);
  struct stat st;
  ASSERT_EQ(stat((home / ("Maildir/.Big/new/" + files[0])).c_str(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), sent);
  EXPECT_TRUE(test::ListDir(home / "Maildir/.Found/new").empty());
  double rss_ratio = static_cast<double>(usage.ru_maxrss) * 1024 / static_cast<double>(sent);
  printf("soak: a %zu MB message: delivered, peak RSS %.2f x its size\n", sent >> 20, rss_ratio);
  EXPECT_LT(rss_ratio, 2.5);
  EXPECT_NE(test::ReadFile(home / ".mda/log").find("over max-size " + max_size), std::string::npos);
}

}  // namespace
}  // namespace mda
