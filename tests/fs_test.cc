// Tests of the file-system seam's real implementation: a call interrupted by a signal
// (EINTR) is retried, not reported as a failure that would defer a delivery.
#include "mda/fs.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>

namespace mda {
namespace {

void Ignore(int) {}

// The scheduler state of thread `tid` of this process ('S': asleep, as in a blocked read).
char ThreadState(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() ? '?' : line[paren + 2];
}

TEST(PosixFsTest, ReadInterruptedBySignalsIsRetried) {
  struct sigaction sa = {}, old = {};
  sa.sa_handler = Ignore;  // no SA_RESTART: the kernel returns EINTR to the blocked read
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pthread_t reader = pthread_self();
  pid_t reader_tid = static_cast<pid_t>(syscall(SYS_gettid));
  std::atomic<int> signals{0};
  std::thread interrupter([&] {
    // Once the reader sleeps in read(), interrupt it again and again, then give it data.
    while (ThreadState(reader_tid) != 'S') std::this_thread::yield();
    for (int i = 0; i < 200; ++i) {
      pthread_kill(reader, SIGUSR1);
      ++signals;
      while (ThreadState(reader_tid) != 'S') std::this_thread::yield();
    }
    ASSERT_EQ(write(fds[1], "x", 1), 1);
  });
  char c = 0;
  ssize_t n = PosixFs().Read(fds[0], &c, 1);
  int err = errno;
  interrupter.join();
  EXPECT_EQ(n, 1) << strerror(err);
  EXPECT_EQ(c, 'x');
  EXPECT_EQ(signals.load(), 200);
  close(fds[0]);
  close(fds[1]);
  sigaction(SIGUSR1, &old, nullptr);
}

}  // namespace
}  // namespace mda
