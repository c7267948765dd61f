// Program: runs the program a rule names, safely, to its end or its time limit.
#include "mda/program.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "base/ascii.h"

namespace mda {
namespace {

class PosixProcessesImpl final : public Processes {
 public:
  int Spawn(const char* path, char* const argv[], char* const envp[], const char* dir,
            const int fds[3], pid_t* pid) override {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    if (int e = posix_spawn_file_actions_init(&actions); e != 0) return e;
    if (int e = posix_spawnattr_init(&attr); e != 0) {
      posix_spawn_file_actions_destroy(&actions);
      return e;
    }
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    int e = 0;
    // dup2 onto 0, 1, 2 clears close-on-exec there (glibc does so even when the numbers
    // are equal); closefrom(3) leaves the program nothing else of ours, whatever a library
    // opened without O_CLOEXEC. Every signal back to its default: mda ignores SIGPIPE, and
    // an ignored signal would stay ignored across exec.
    for (int i = 0; i < 3 && e == 0; ++i) e = posix_spawn_file_actions_adddup2(&actions, fds[i], i);
    if (e == 0) e = posix_spawn_file_actions_addchdir_np(&actions, dir);
    if (e == 0) e = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (e == 0)
      e = posix_spawnattr_setflags(
          &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    if (e == 0) e = posix_spawnattr_setpgroup(&attr, 0);
    if (e == 0) e = posix_spawnattr_setsigdefault(&attr, &all);
    if (e == 0) e = posix_spawnattr_setsigmask(&attr, &none);
    if (e == 0) e = posix_spawn(pid, path, &actions, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    return e;
  }
  ssize_t Write(int fd, const void* buf, size_t count) override {
    ssize_t n;
    do n = write(fd, buf, count);
    while (n < 0 && errno == EINTR);
    return n;
  }
  pid_t Wait(pid_t pid, int* status, int options) override {
    pid_t r;
    do r = waitpid(pid, status, options);
    while (r < 0 && errno == EINTR);
    return r;
  }
};

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// 0 and the path to run, or the errno why `name` cannot be run.
int Locate(const std::string& name, std::string* path) {
  auto executable = [](const std::string& p) {
    struct stat st;
    if (stat(p.c_str(), &st) != 0) return errno;
    if (!S_ISREG(st.st_mode)) return EACCES;
    return access(p.c_str(), X_OK) == 0 ? 0 : errno;
  };
  if (name.empty()) return ENOENT;
  if (name[0] == '/') {
    *path = name;
    return executable(name);
  }
  if (name.find('/') != std::string::npos) return EINVAL;  // the parser refuses these
  int first = ENOENT;
  std::string_view dirs = kProgramPath;
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string candidate = std::string(dirs.substr(0, colon)) + "/" + name;
    dirs.remove_prefix(colon == std::string_view::npos ? dirs.size() : colon + 1);
    int e = executable(candidate);
    if (e == 0) {
      *path = std::move(candidate);
      return 0;
    }
    if (e != ENOENT && first == ENOENT) first = e;
  }
  return first;
}

void Close(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Reads what `fd` has now into `into` (up to `keep` bytes kept, the rest dropped).
// Returns false at the end of the file or on an error (the descriptor is then closed).
bool Drain(int* fd, std::string* into, size_t keep, bool* over) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n > 0) {
      size_t room = keep > into->size() ? keep - into->size() : 0;
      size_t taken = std::min(room, static_cast<size_t>(n));
      into->append(buf, taken);
      if (taken < static_cast<size_t>(n)) *over = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    Close(fd);
    return false;
  }
}

}  // namespace

Processes& PosixProcesses() {
  static PosixProcessesImpl processes;
  return processes;
}

Status FindProgram(const std::string& name, std::string* path) {
  int e = Locate(name, path);
  if (e == 0) return Status::Ok();
  if (e == EINVAL) {
    return Status::BadInput("program " + name +
                            ": give an absolute path or a bare name (found in " + kProgramPath +
                            ")");
  }
  return Status::BadInput(
      Status::Posix(
          name[0] == '/' ? "program " + name : "program " + name + " (in " + kProgramPath + ")", e)
          .message());
}

std::string ProgramResult::Describe(int64_t timeout_ms) const {
  switch (end) {
    case End::kExited:
      return "exited " + std::to_string(code) + (temporary() ? " (temporary failure)" : "");
    case End::kSignaled: {
      const char* name = sigabbrev_np(code);
      return "killed by signal " + std::to_string(code) +
             (name != nullptr ? " (SIG" + std::string(name) + ")" : "");
    }
    case End::kTimedOut:
      return "did not finish within program-timeout " +
             (timeout_ms % 1000 == 0 ? std::to_string(timeout_ms / 1000) + "s"
                                     : std::to_string(timeout_ms) + "ms") +
             ": killed with its process group";
    case End::kNotStarted:
      return std::string("could not be started: ") + strerror(code);
    case End::kLost:
      return std::string("lost track of it: ") + strerror(code);
  }
  return "?";
}

bool ProgramResult::temporary() const {
  switch (end) {
    case End::kExited:
      return code == 75 || code == 73;
    case End::kNotStarted:
      return code == EAGAIN || code == ENOMEM || code == EMFILE || code == ENFILE;
    case End::kLost:
      return true;
    default:
      return false;
  }
}

std::string ProgramResult::FirstLines() const {
  constexpr size_t kLines = 3, kChars = 300;
  // A filter's standard output is a message; what it says about itself is on stderr.
  std::string_view text = errors.empty() ? output : errors;
  std::string out;
  size_t lines = 0;
  while (!text.empty() && lines < kLines && out.size() < kChars) {
    size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    out += (out.empty() ? "" : " / ") + std::string(line.substr(0, kChars - out.size()));
    ++lines;
  }
  return out;
}

ProgramResult RunProgram(Processes& processes, const ProgramCall& call) {
  ProgramResult r;
  int64_t start = NowMs();
  std::string path;
  if (call.argv.empty() || (r.code = Locate(call.argv[0], &path)) != 0) {
    r.code = call.argv.empty() ? ENOENT : r.code;
    return r;
  }
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
      (call.filter && pipe2(err, O_CLOEXEC) != 0)) {
    r.code = errno;
    for (int* fd : {&in[0], &in[1], &out[0], &out[1]}) Close(fd);
    return r;
  }
  std::vector<char*> argv, envp;
  for (const std::string& a : call.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : call.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int fds[3] = {in[0], out[1], call.filter ? err[1] : out[1]};
  pid_t pid = -1;
  int spawned =
      processes.Spawn(path.c_str(), argv.data(), envp.data(), call.dir.c_str(), fds, &pid);
  for (int* fd : {&in[0], &out[1], &err[1]}) Close(fd);
  if (spawned != 0) {
    r.code = spawned;
    for (int* fd : {&in[1], &out[0], &err[0]}) Close(fd);
    return r;
  }
  for (int fd : {in[1], out[0], err[0]}) {
    if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  // A program that stops reading makes our write fail with EPIPE, and raise SIGPIPE, which
  // would kill a caller that does not ignore it (mdatest): held blocked while we write, and
  // taken back after an EPIPE.
  sigset_t pipe_signal, old_mask;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &old_mask);
  // The child's end is seen in poll(2) through a pidfd; without one (a kernel before 5.3),
  // waitpid(WNOHANG) is tried every few milliseconds instead.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  int64_t deadline = start + call.timeout_ms;
  size_t out_keep = call.filter ? call.output_limit : kProgramOutputKept;
  bool reaped = false, timed_out = false;
  int status = 0, lost = 0;
  if (call.input.empty()) Close(&in[1]);
  while (!reaped) {
    int64_t now = NowMs();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    struct pollfd p[4];
    nfds_t n = 0;
    int at_in = -1, at_out = -1, at_err = -1, at_pid = -1;
    if (in[1] >= 0) p[at_in = static_cast<int>(n++)] = {in[1], POLLOUT, 0};
    if (out[0] >= 0) p[at_out = static_cast<int>(n++)] = {out[0], POLLIN, 0};
    if (err[0] >= 0) p[at_err = static_cast<int>(n++)] = {err[0], POLLIN, 0};
    if (pidfd >= 0) p[at_pid = static_cast<int>(n++)] = {pidfd, POLLIN, 0};
    int64_t wait = deadline - now;
    if (pidfd < 0) wait = std::min<int64_t>(wait, 5);
    int ready = poll(p, n, static_cast<int>(wait));
    if (ready < 0 && errno != EINTR) {
      lost = errno;
      break;
    }
    if (ready <= 0 && pidfd >= 0) continue;
    if (at_in >= 0 && p[at_in].revents != 0) {
      size_t left = call.input.size() - r.input_taken;
      ssize_t w =
          processes.Write(in[1], call.input.data() + r.input_taken, std::min<size_t>(left, 65536));
      if (w > 0) {
        r.input_taken += static_cast<size_t>(w);
        if (r.input_taken == call.input.size()) Close(&in[1]);
      } else if (w < 0 && errno == EPIPE) {
        Close(&in[1]);  // it stopped reading: its exit status says whether that was all right
        struct timespec now_please = {0, 0};
        sigtimedwait(&pipe_signal, nullptr, &now_please);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        lost = errno;
        break;
      }
    }
    if (at_out >= 0 && p[at_out].revents != 0) Drain(&out[0], &r.output, out_keep, &r.over_limit);
    bool err_over = false;
    if (at_err >= 0 && p[at_err].revents != 0)
      Drain(&err[0], &r.errors, kProgramOutputKept, &err_over);
    if (pidfd < 0 || (at_pid >= 0 && p[at_pid].revents != 0)) {
      pid_t w = processes.Wait(pid, &status, WNOHANG);
      if (w == pid) {
        reaped = true;
      } else if (w < 0) {
        lost = errno;
        break;
      }
    }
  }
  if (!reaped) {
    // Out of time (or lost): the whole group goes, so that nothing it started keeps
    // running on our behalf; then the child is reaped (SIGKILL cannot be refused).
    kill(-pid, SIGKILL);
    if (processes.Wait(pid, &status, 0) != pid && lost == 0) lost = errno;
  } else {
    // It has ended: what it wrote is in the pipes. A child it left behind that still holds
    // them open does not hold up the delivery: read what is there, and stop.
    bool err_over = false;
    if (out[0] >= 0) Drain(&out[0], &r.output, out_keep, &r.over_limit);
    if (err[0] >= 0) Drain(&err[0], &r.errors, kProgramOutputKept, &err_over);
  }
  for (int* fd : {&in[1], &out[0], &err[0], &pidfd}) Close(fd);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  r.duration_ms = NowMs() - start;
  if (lost != 0) {
    r.end = ProgramResult::End::kLost;
    r.code = lost;
  } else if (timed_out) {
    r.end = ProgramResult::End::kTimedOut;
  } else if (WIFEXITED(status)) {
    r.end = ProgramResult::End::kExited;
    r.code = WEXITSTATUS(status);
  } else {
    r.end = ProgramResult::End::kSignaled;
    r.code = WTERMSIG(status);
  }
  return r;
}

}  // namespace mda
