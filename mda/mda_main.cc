// mda: the mail delivery agent Exim's pipe transport runs once per message and recipient.
//
// Design rationale (the why; ARCHITECTURE.md draws the whole):
// - Exim hands the message on stdin and the envelope in the environment, runs us as the
//   mailbox owner, and reads only our exit code: 0 means delivered, 75 means "keep it and
//   retry", anything else (a signal included) bounces the message. So every failure we can
//   see becomes 75 with nothing half-visible in the Maildir, and a bug caught here becomes
//   75 too, never a bounce.
// - We start once per message, so start-up is the product: no iostreams, no locale, no
//   static initialisers that work; stdin is read with read(2) into one buffer.
// - stdout and stderr are one pipe back to Exim (over 20K of output kills us): we write one
//   short line on failure and nothing on success (return_output would bounce on any output).
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <exception>
#include <string>

#include "mda/fs.h"
#include "mda/options.h"
#include "mda/pipeline.h"
#include "mda/version.h"

// The rule file of this run, never freed (see Main).
mda::LoadedRules* g_kept_rules = nullptr;

namespace {

// A failed write is ignored: nobody is listening, and the exit code still tells Exim.
void WriteStderr(const std::string& text) {
  (void)mda::WriteAll(mda::PosixFs(), STDERR_FILENO, text.data(), text.size(), "stderr");
}

void WriteStdout(const std::string& text) {
  (void)mda::WriteAll(mda::PosixFs(), STDOUT_FILENO, text.data(), text.size(), "stdout");
}

const char kUsage[] =
    "usage: mda [OPTIONS] < MESSAGE\n"
    "\n"
    "Delivers the message on standard input into the recipient's Maildir, as Exim's pipe\n"
    "transport runs it. Exit 0: delivered (or discarded, or a duplicate suppressed); exit 75:\n"
    "not delivered, Exim keeps the message and retries (the reason is the one line on\n"
    "standard error); exit 77: a rule rejected the message, Exim bounces it with the\n"
    "reason mda printed on standard output (return_fail_output).\n"
    "\n"
    "Each option overrides what Exim's environment says:\n"
    "  --recipient ADDR   envelope recipient (RECIPIENT)\n"
    "  --sender ADDR      envelope sender (SENDER; empty for a bounce)\n"
    "  --local-part NAME  recipient's local part (LOCAL_PART)\n"
    "  --domain DOMAIN    recipient's domain (DOMAIN)\n"
    "  --local-part-prefix P, --local-part-suffix S\n"
    "                     what Exim's router removed from the local part\n"
    "  --home DIR         home directory (HOME; if empty, the passwd entry's)\n"
    "  --queue-id ID      Exim's queue id (MESSAGE_ID)\n"
    "  --maildir DIR      Maildir root (default ~/Maildir; relative paths are below HOME)\n"
    "  --rules FILE       rule file (default ~/.mda/rules)\n"
    "  --site-dir DIR     the site's before.rules and after.rules, run before and after\n"
    "                     the user's (default /etc/mda; root's, written by no one else)\n"
    "  --syslog-socket PATH\n"
    "                     where syslog listens (default /dev/log)\n"
    "  --folder NAME      folder for mail no rule sorts (default INBOX; Lists/dev is\n"
    "                     the Maildir++ folder .Lists.dev)\n"
    "  --dedup-store URL  duplicate store: file (default, ~/.mda/dedup.store) or a Redis\n"
    "                     shared by several hosts, redis://HOST:PORT/DB or unix:///PATH?db=DB\n"
    "  --dedup-password-file FILE\n"
    "                     the Redis password, alone on the file's first line\n"
    "  -h, --help         this text\n"
    "  -V, --version      the version\n";

// SIGXCPU: the CPU-time limit (RLIMIT_CPU, inherited from Exim or a shell) was reached.
// Its default action kills us, and Exim bounces a death by signal. Any instant is a safe
// place to stop (kill -9 is tested: a file in new/ is always complete, a claim ends with the
// process, a retry of this queue id redoes only what is not done), so stop as a temporary
// failure: Exim keeps the message and retries.
void OnCpuLimit(int) {
  static const char kMessage[] =
      "mda: CPU time limit reached (SIGXCPU) (exit 75: Exim keeps the message and retries)\n";
  if (write(STDERR_FILENO, kMessage, sizeof kMessage - 1) < 0) {
    // nothing more to do: the exit code says it
  }
  _exit(mda::kExitTempFail);
}

int Main(int argc, char** argv) {
  // Exim leaves SIGPIPE at its default: a write to a closed output pipe would kill us,
  // and death by signal is a bounce. A failed write is handled where it happens.
  signal(SIGPIPE, SIG_IGN);
  // Likewise SIGXFSZ: a message beyond the file-size limit (RLIMIT_FSIZE, inherited from
  // Exim or a shell) would kill us mid-write; ignored, the write fails with EFBIG and the
  // delivery is a temporary failure like a full disk.
  signal(SIGXFSZ, SIG_IGN);
  signal(SIGXCPU, OnCpuLimit);
  // An ignored SIGCHLD (a parent may leave it so) makes the kernel reap our children
  // itself: a rule's program would end with its exit status lost, and a delivery that
  // worked would be retried. Ours to wait for.
  signal(SIGCHLD, SIG_DFL);
  // Files are 0600 and directories 0700 by their explicit modes; the umask only narrows.
  umask(077);

  mda::Options options;
  mda::Status s = mda::ParseOptions(argc, argv, /*allow_paths=*/false, &options);
  if (!s.ok()) {
    WriteStderr("mda: " + s.message() + " (exit 75)\n");
    return mda::kExitTempFail;
  }
  if (options.help) {
    WriteStdout(kUsage);
    return 0;
  }
  if (options.version) {
    WriteStdout("mda " MDA_VERSION "\n");
    return 0;
  }
  mda::RunResult result = mda::RunMda(
      options, mda::PosixFs(), [](const char* name) { return getenv(name); }, STDIN_FILENO,
      mda::Identity{getuid(), geteuid()});
  // The process ends now: the rules are kept, not freed (freeing a 1000-rule file took 4M
  // of a delivery's 25M instructions). Reachable from a global: not a leak.
  g_kept_rules = result.rules.release();
  if (!result.output.empty()) WriteStdout(result.output + "\n");
  if (!result.diagnostic.empty()) WriteStderr("mda: " + result.diagnostic + "\n");
  return result.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    WriteStderr(std::string("mda: internal error: ") + e.what() + " (exit 75)\n");
  } catch (...) {
    WriteStderr("mda: internal error (exit 75)\n");
  }
  return mda::kExitTempFail;
}
