// Program: runs the program a rule names (filter, pipe) as procmail and Exim's pipe transport
// would, but safely: its argv exactly as given (no shell), a clean environment, its own
// process group, the message on its standard input written while its output is read, and a
// time limit after which the whole group is killed.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mda {

// The PATH a bare program name is looked up in, and the one the program gets: fixed, so
// neither Exim's nor the sender's environment chooses which program runs.
inline constexpr const char* kProgramPath = "/usr/local/bin:/usr/bin:/bin";

// The process calls a program run makes, behind a seam so the fault matrix can make each
// fail. They mirror the system calls: -1 (or an errno, for Spawn) on failure.
class Processes {
 public:
  virtual ~Processes() = default;
  // posix_spawn(3) of `path` in a process group of its own, in directory `dir`, with fds
  // 0, 1 and 2 from `fds` and no other descriptor. 0, or the errno it failed with.
  virtual int Spawn(const char* path, char* const argv[], char* const envp[], const char* dir,
                    const int fds[3], pid_t* pid) = 0;
  virtual ssize_t Write(int fd, const void* buf, size_t count) = 0;
  virtual pid_t Wait(pid_t pid, int* status, int options) = 0;
};

// The real thing. One instance serves the whole process.
Processes& PosixProcesses();

struct ProgramCall {
  std::vector<std::string> argv;  // argv[0] is the program: absolute, or a bare name
  std::vector<std::string> env;   // "NAME=value", the whole environment
  std::string dir;                // the working directory
  std::string_view input;         // what its standard input reads
  int64_t timeout_ms = 30000;     // then its process group is killed
  // A filter: standard output is the new message (kept up to output_limit) and standard
  // error is kept apart. Otherwise both go into `output`, of which the first
  // kProgramOutputKept bytes are kept (for the log) and the rest read and dropped.
  bool filter = false;
  size_t output_limit = 0;
};

// How much of a pipe's output (and of a filter's standard error) is kept for the log.
inline constexpr size_t kProgramOutputKept = 4096;

struct ProgramResult {
  enum class End {
    kExited,      // code: its exit status
    kSignaled,    // code: the signal that ended it
    kTimedOut,    // killed (with its process group) when its time was up
    kNotStarted,  // code: errno of the look-up or spawn
    kLost,        // code: errno of a failed wait or write: what it did is not known
  };
  End end = End::kNotStarted;
  int code = 0;
  std::string output;       // see ProgramCall::filter
  std::string errors;       // a filter's standard error (the first kProgramOutputKept bytes)
  bool over_limit = false;  // the output went over what is kept (a filter's: refused)
  size_t input_taken = 0;   // bytes of the input the program accepted
  int64_t duration_ms = 0;

  bool ok() const { return end == End::kExited && code == 0; }
  // "exited 1", "killed by signal 9", "timed out after 30s", "not started: ...".
  std::string Describe(int64_t timeout_ms) const;
  // EX_TEMPFAIL (75) and EX_CANTCREAT (73), as Exim's pipe transport reads them, and the
  // failures of our own that a retry can mend (no memory, too many processes, a lost wait).
  bool temporary() const;
  // The first lines of what it printed (stdout and stderr), one line for the log.
  std::string FirstLines() const;
};

// The program a rule names: an absolute path as it is, a bare name looked up in
// kProgramPath. kBadInput when there is no such executable file.
Status FindProgram(const std::string& name, std::string* path);

// Runs the program to its end (or its time limit). Never throws; the result says how it
// ended. A program that stops reading raises no SIGPIPE in the caller.
ProgramResult RunProgram(Processes& processes, const ProgramCall& call);

}  // namespace mda
