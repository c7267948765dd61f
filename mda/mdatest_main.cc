// mdatest: runs mda's decision on saved mail as a dry run and shows where each message would go.
//
// Design rationale: mdatest must never disagree with mda, so it calls the same Decide()
// that mda's pipeline calls and stops before delivery: it writes nothing, anywhere. It
// reads messages exactly as mda does (a leading mbox From_ line is not part of the message).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include <exception>
#include <map>
#include <string>

#include "mda/fs.h"
#include "mda/options.h"
#include "mda/pipeline.h"
#include "mda/version.h"

namespace {

void Print(int fd, const std::string& text) {
  (void)mda::WriteAll(mda::PosixFs(), fd, text.data(), text.size(), "output");
}

const char kUsage[] =
    "usage: mdatest [OPTIONS] MESSAGE-FILE... | -\n"
    "\n"
    "Shows, for each saved message, where mda would deliver it and which rule decided,\n"
    "without writing anything. '-' reads one message from standard input.\n"
    "\n"
    "Options (as for mda; each overrides the environment):\n"
    "  --recipient ADDR  --sender ADDR  --local-part NAME  --domain DOMAIN\n"
    "  --home DIR  --maildir DIR  --rules FILE  --folder NAME\n"
    "  -h, --help         this text\n"
    "  -V, --version      the version\n"
    "\n"
    "Exit 0 when every message was read, 1 otherwise, 2 on a usage error.\n";

int Main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  mda::Options options;
  mda::Status s = mda::ParseOptions(argc, argv, /*allow_paths=*/true, &options);
  if (!s.ok()) {
    Print(STDERR_FILENO, "mdatest: " + s.message() + "\n");
    return 2;
  }
  if (options.help) {
    Print(STDOUT_FILENO, kUsage);
    return 0;
  }
  if (options.version) {
    Print(STDOUT_FILENO, "mdatest " MDA_VERSION "\n");
    return 0;
  }
  if (options.paths.empty()) {
    Print(STDERR_FILENO, "mdatest: no message given (see mdatest --help)\n");
    return 2;
  }

  mda::FileSystem& fs = mda::PosixFs();
  mda::Environment env = [](const char* name) { return getenv(name); };
  std::optional<mda::Account> account = mda::LookUpAccount(getuid());
  std::map<std::string, int> per_destination;
  int failures = 0;
  for (const std::string& path : options.paths) {
    int fd = STDIN_FILENO;
    if (path != "-") {
      fd = fs.OpenAt(AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC, 0);
      if (fd < 0) {
        Print(STDERR_FILENO, "mdatest: " + mda::Status::Posix("cannot open " + path, errno).message() + "\n");
        ++failures;
        continue;
      }
    }
    mda::UniqueFd owned(&fs, path == "-" ? -1 : fd);
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      Print(STDERR_FILENO, "mdatest: " + path + " is a directory; give message files\n");
      ++failures;
      continue;
    }
    mda::Message message;
    s = mda::Message::Read(fs, fd, path, &message);
    mda::Evaluation e;
    mda::DecideOptions how;
    how.jit = true;  // one process for many messages: JIT pays off here
    how.lookup_duplicate = true;  // read-only: the store is never written
    if (s.ok()) s = mda::Decide(options, env, account, getuid(), fs, message, how, &e);
    if (!s.ok()) {
      Print(STDERR_FILENO, "mdatest: " + path + ": " + s.message() + "\n");
      ++failures;
      continue;
    }
    const mda::rules::Decision& d = e.decision;
    std::string line = path + ": " + std::to_string(message.content().size()) + " bytes";
    if (!message.from_line().empty()) line += " (after its mbox From_ line)";
    line += ", rule " + d.rule + " -> ";
    std::string destination;
    switch (d.outcome) {
      case mda::rules::Outcome::kDeliver: break;
      case mda::rules::Outcome::kDiscard: destination = "discard"; break;
      case mda::rules::Outcome::kDefer: destination = "defer \"" + d.reason + "\""; break;
      case mda::rules::Outcome::kReject: destination = "reject \"" + d.reason + "\""; break;
    }
    std::string folders;
    if (d.outcome != mda::rules::Outcome::kDefer) {
      for (const std::string& f : d.folders) folders += (folders.empty() ? "" : ", ") + f;
    }
    if (destination.empty()) destination = folders;
    else if (!folders.empty()) destination += " (copies: " + folders + ")";
    ++per_destination[destination];
    line += destination + " in " + e.envelope.maildir;
    if (e.duplicate_of) {
      time_t t = static_cast<time_t>(*e.duplicate_of);
      struct tm tm;
      gmtime_r(&t, &tm);
      char when[32];
      strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
      line += std::string(" -- but a duplicate, first delivered ") + when + ": mda would not deliver it again";
    }
    line += "\n";
    for (const std::string& w : e.warnings) line += "  warning: " + w + "\n";
    Print(STDOUT_FILENO, line);
  }
  std::string summary = "\n" + std::to_string(options.paths.size() - failures) + " message(s)";
  for (const auto& [destination, count] : per_destination) {
    summary += ", " + destination + ": " + std::to_string(count);
  }
  if (failures > 0) summary += ", " + std::to_string(failures) + " unreadable";
  Print(STDOUT_FILENO, summary + "\n");
  return failures > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    Print(STDERR_FILENO, std::string("mdatest: internal error: ") + e.what() + "\n");
  } catch (...) {
    Print(STDERR_FILENO, "mdatest: internal error\n");
  }
  return 1;
}
