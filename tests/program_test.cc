// RunProgram with real programs: what they read is the message exactly, each argument is one
// argv element, the environment and descriptors are only what we give, and every way a
// program can misbehave (never reads, stops reading, never ends, floods its output, leaves a
// child holding the pipe) still ends on time with the right verdict.
#include "mda/program.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/test_util.h"

namespace mda {
namespace {

ProgramCall Call(std::vector<std::string> argv, std::string_view input = "",
                 int64_t timeout_ms = 20000) {
  ProgramCall call;
  call.argv = std::move(argv);
  call.env = {"PATH=/usr/bin:/bin", "HOME=/nonexistent"};
  call.dir = "/";
  call.input = input;
  call.timeout_ms = timeout_ms;
  return call;
}

std::string BigMessage(size_t size) {
  std::string m = "Subject: big\r\n\r\n";
  while (m.size() < size) m += "line of the body with \x01 and \xff bytes\r\n";
  m.resize(size);
  return m;
}

// Whether process `pid` is gone (or a zombie: dead, waiting to be reaped by its parent).
bool Dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

// Waits (at most 10 s) for `pid` to die: a killed process is gone once the kernel has run it.
bool DiesSoon(pid_t pid) {
  struct timespec pause = {0, 2 * 1000 * 1000};
  for (int i = 0; i < 5000; ++i) {
    if (Dead(pid)) return true;
    nanosleep(&pause, nullptr);
  }
  return false;
}

TEST(ProgramTest, WhatItReadsIsTheMessageExactly) {
  test::TempDir dir;
  std::string message = BigMessage(3 * 1024 * 1024);
  message[100] = '\0';
  ProgramResult r = RunProgram(PosixProcesses(),
                               Call({"/bin/sh", "-c", "cat > \"$1\"", "sh", dir / "got"}, message));
  EXPECT_TRUE(r.ok()) << r.Describe(20000);
  EXPECT_EQ(r.input_taken, message.size());
  EXPECT_EQ(test::ReadFile(dir / "got"), message);
}

TEST(ProgramTest, EachArgumentIsOneElementWhateverItHolds) {
  std::vector<std::string> values = {"a b",        "-rf", "$(touch /tmp/x)", "", "x\ny",
                                     "; rm -rf ~", "*"};
  std::vector<std::string> argv = {"printf", "[%s]\\n"};
  argv.insert(argv.end(), values.begin(), values.end());
  ProgramResult r = RunProgram(PosixProcesses(), Call(argv));
  ASSERT_TRUE(r.ok()) << r.Describe(20000) << r.output;
  std::string want;
  for (const std::string& v : values) want += "[" + v + "]\n";
  EXPECT_EQ(r.output, want);
}

TEST(ProgramTest, ABareNameIsFoundInTheFixedPathOnly) {
  std::string path;
  EXPECT_TRUE(FindProgram("cat", &path).ok());
  EXPECT_TRUE(path == "/usr/bin/cat" || path == "/bin/cat") << path;
  EXPECT_EQ(FindProgram("no-such-program-anywhere", &path).kind(), Status::Kind::kBadInput);
  EXPECT_EQ(FindProgram("bin/cat", &path).kind(), Status::Kind::kBadInput);
  // The caller's PATH plays no part.
  test::TempDir dir;
  test::WriteFile(dir / "only-here", "#!/bin/sh\nexit 0\n");
  chmod((dir / "only-here").c_str(), 0755);
  std::string old = getenv("PATH") != nullptr ? getenv("PATH") : "";
  setenv("PATH", dir.path().c_str(), 1);
  Status s = FindProgram("only-here", &path);
  setenv("PATH", old.c_str(), 1);
  EXPECT_FALSE(s.ok());

  ProgramResult r = RunProgram(PosixProcesses(), Call({"no-such-program-anywhere"}));
  EXPECT_EQ(r.end, ProgramResult::End::kNotStarted);
  EXPECT_EQ(r.code, ENOENT);
  EXPECT_FALSE(r.temporary());
  test::WriteFile(dir / "not-executable", "#!/bin/sh\nexit 0\n");
  r = RunProgram(PosixProcesses(), Call({dir / "not-executable"}));
  EXPECT_EQ(r.end, ProgramResult::End::kNotStarted);
  EXPECT_EQ(r.code, EACCES);
}

TEST(ProgramTest, OnlyTheEnvironmentAndDirectoryGiven) {
  ProgramCall call = Call({"/usr/bin/env"});
  call.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/bob", "SENDER=a@b.c"};
  setenv("MDA_TEST_SECRET", "leaked", 1);
  ProgramResult r = RunProgram(PosixProcesses(), call);
  unsetenv("MDA_TEST_SECRET");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.output, "PATH=/usr/local/bin:/usr/bin:/bin\nHOME=/home/bob\nSENDER=a@b.c\n");

  test::TempDir dir;
  call = Call({"/bin/pwd"});
  call.dir = dir.path();
  r = RunProgram(PosixProcesses(), call);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.output, dir.path() + "\n");
}

TEST(ProgramTest, NoOtherDescriptorIsInherited) {
  int leaky = open("/dev/null", O_RDONLY);  // no O_CLOEXEC, as a careless library would
  ASSERT_GE(leaky, 3);
  ProgramResult r = RunProgram(PosixProcesses(), Call({"/bin/sh", "-c", "ls /proc/$$/fd"}));
  close(leaky);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.output, "0\n1\n2\n");
}

TEST(ProgramTest, SignalsAreAtTheirDefaultsAndNoneIsBlocked) {
  // mda ignores SIGPIPE; a program must not inherit that. (glibc's posix_spawn leaves its
  // two internal real-time signals, 32 and 33, ignored; a glibc program sets its own.)
  signal(SIGPIPE, SIG_IGN);
  ProgramResult r =
      RunProgram(PosixProcesses(), Call({"/bin/grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"}));
  signal(SIGPIPE, SIG_DFL);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.output.substr(0, r.output.find('\n')), "SigBlk:\t0000000000000000");
  size_t ignored = r.output.find("SigIgn:\t");
  ASSERT_NE(ignored, std::string::npos);
  uint64_t mask = strtoull(r.output.substr(ignored + 8, 16).c_str(), nullptr, 16);
  EXPECT_EQ(mask & 0x7fffffffu, 0u) << r.output;  // signals 1..31
}

TEST(ProgramTest, ExitCodesAsEximReadsThem) {
  struct {
    const char* script;
    ProgramResult::End end;
    int code;
    bool ok, temporary;
  } cases[] = {
      {"exit 0", ProgramResult::End::kExited, 0, true, false},
      {"exit 75", ProgramResult::End::kExited, 75, false, true},
      {"exit 73", ProgramResult::End::kExited, 73, false, true},
      {"exit 1", ProgramResult::End::kExited, 1, false, false},
      {"exit 77", ProgramResult::End::kExited, 77, false, false},
      {"kill -9 $$", ProgramResult::End::kSignaled, 9, false, false},
  };
  for (const auto& c : cases) {
    ProgramResult r = RunProgram(PosixProcesses(), Call({"/bin/sh", "-c", c.script}, "x\n"));
    EXPECT_EQ(r.end, c.end) << c.script;
    EXPECT_EQ(r.code, c.code) << c.script;
    EXPECT_EQ(r.ok(), c.ok) << c.script;
    EXPECT_EQ(r.temporary(), c.temporary) << c.script;
  }
  ProgramResult r = RunProgram(PosixProcesses(), Call({"/bin/sh", "-c", "kill -9 $$"}));
  EXPECT_EQ(r.Describe(1000), "killed by signal 9 (SIGKILL)");
}

TEST(ProgramTest, AProgramThatNeverReadsDoesNotHangTheDelivery) {
  std::string message = BigMessage(50 * 1024 * 1024);
  ProgramResult r = RunProgram(PosixProcesses(), Call({"/bin/sh", "-c", "echo ignored"}, message));
  EXPECT_TRUE(r.ok()) << r.Describe(20000);
  EXPECT_LT(r.input_taken, message.size());
  EXPECT_EQ(r.output, "ignored\n");
}

TEST(ProgramTest, AProgramThatClosesItsInputEarlyIsJudgedByItsExitStatus) {
  std::string message = BigMessage(4 * 1024 * 1024);
  ProgramResult r =
      RunProgram(PosixProcesses(),
                 Call({"/bin/sh", "-c", "head -c 100 > /dev/null; exec 0<&-; exit 0"}, message));
  EXPECT_TRUE(r.ok()) << r.Describe(20000);
  EXPECT_LT(r.input_taken, message.size());
  r = RunProgram(PosixProcesses(),
                 Call({"/bin/sh", "-c", "head -c 100 > /dev/null; exit 1"}, message));
  EXPECT_EQ(r.end, ProgramResult::End::kExited);
  EXPECT_EQ(r.code, 1);
}

TEST(ProgramTest, ReadingAndWritingAtOnceNoDeadlock) {
  // It echoes what it reads: 20 MB each way, more than either pipe holds.
  std::string message = BigMessage(20 * 1024 * 1024);
  ProgramCall call = Call({"/bin/cat"}, message);
  call.filter = true;
  call.output_limit = message.size() + 1;
  ProgramResult r = RunProgram(PosixProcesses(), call);
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.over_limit);
  EXPECT_TRUE(r.output == message);
}

TEST(ProgramTest, OutOfTimeTheWholeProcessGroupIsKilled) {
  // The program starts a child of its own and then never ends; both must go.
  ProgramResult r = RunProgram(
      PosixProcesses(), Call({"/bin/sh", "-c", "sleep 1000 & echo $!; exec sleep 1000"}, "", 300));
  EXPECT_EQ(r.end, ProgramResult::End::kTimedOut);
  EXPECT_FALSE(r.temporary());
  EXPECT_LT(r.duration_ms, 10000);
  EXPECT_EQ(r.Describe(300),
            "did not finish within program-timeout 300ms: killed with its process group");
  pid_t child = atoi(r.output.c_str());
  ASSERT_GT(child, 0) << r.output;
  EXPECT_TRUE(DiesSoon(child)) << "the program's own child " << child << " outlived it";
}

TEST(ProgramTest, AHundredMegabytesOfOutputAreReadAndDropped) {
  ProgramResult r =
      RunProgram(PosixProcesses(), Call({"/bin/sh", "-c", "head -c 100000000 /dev/zero; exit 3"}));
  EXPECT_EQ(r.end, ProgramResult::End::kExited);
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.output.size(), kProgramOutputKept);
  EXPECT_TRUE(r.over_limit);

  ProgramCall call = Call({"/bin/sh", "-c", "head -c 100000000 /dev/zero"});
  call.filter = true;
  call.output_limit = 1 << 20;
  r = RunProgram(PosixProcesses(), call);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.output.size(), 1u << 20);
  EXPECT_TRUE(r.over_limit);
}

TEST(ProgramTest, AChildLeftHoldingThePipeDoesNotHoldUpTheDelivery) {
  // The program exits at once; what it left behind keeps its output open for 1000 s.
  ProgramResult r = RunProgram(
      PosixProcesses(),
      Call({"/bin/sh", "-c", "sleep 1000 & echo $!; echo done; exit 0"}, "message\n", 20000));
  EXPECT_TRUE(r.ok()) << r.Describe(20000);
  EXPECT_LT(r.duration_ms, 10000);
  pid_t child = atoi(r.output.c_str());
  ASSERT_GT(child, 0);
  EXPECT_NE(r.output.find("done\n"), std::string::npos);
  kill(child, SIGKILL);
}

TEST(ProgramTest, AFilterKeepsItsErrorsApartAndTheFirstLinesAreForTheLog) {
  ProgramCall call =
      Call({"/bin/sh", "-c", "cat; echo 'spamd: connection refused' >&2; echo second >&2; exit 74"},
           "Subject: x\n\nbody\n");
  call.filter = true;
  call.output_limit = 1000;
  ProgramResult r = RunProgram(PosixProcesses(), call);
  EXPECT_EQ(r.output, "Subject: x\n\nbody\n");
  EXPECT_EQ(r.errors, "spamd: connection refused\nsecond\n");
  EXPECT_EQ(r.FirstLines(), "spamd: connection refused / second");
}

}  // namespace
}  // namespace mda
