// mdatest: mda's decision on saved mail, as a dry run: where every message would go and why.
//
// Design rationale: mdatest must never disagree with mda, so it runs mda's own DryRun (pipeline.h)
// and stops before delivery. It is strictly read-only: it opens message files and the rule file for
// reading and the duplicate store read-only, and never runs a command. Unlike mda it reads many
// messages in one process, so the rule file is loaded once. Regexes are matched by the same
// interpreter with the same limits as in mda, never JIT: JIT gives up at other points, and a dry
// run that differs from the delivery near the limits is worse than none.
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <exception>
#include <memory>
#include <string>

#include "mda/config.h"
#include "mda/duplicate_store.h"
#include "mda/fs.h"
#include "mda/lint.h"
#include "mda/mail_source.h"
#include "mda/mdatest_report.h"
#include "mda/options.h"
#include "mda/pipeline.h"
#include "mda/rule_file.h"
#include "mda/version.h"

namespace {

void Print(int fd, const std::string& text) {
  (void)mda::WriteAll(mda::PosixFs(), fd, text.data(), text.size(), "output");
}

const char kUsage[] =
    "usage: mdatest [OPTIONS] PATH...             where each message would go, and why\n"
    "       mdatest --check [--rules FILE]         lint a rule file, no mail needed\n"
    "       mdatest --diff OLD NEW PATH...         only the messages whose destination changes\n"
    "\n"
    "A dry run of mda on saved mail: nothing is written, no program is run (filter and pipe\n"
    "actions are shown with their arguments). PATH is a message file, a directory of message\n"
    "files, a Maildir (cur/ and new/), an mbox file, or - for one message on standard input.\n"
    "\n"
    "  --rules FILE       rule file (default ~/.mda/rules)\n"
    "  --explain          every rule evaluated: each test, the value it saw, the result, the\n"
    "                     captures, and where evaluation stopped\n"
    "  --format FORMAT    text (default), json (one object per line), tsv\n"
    "  --run-filters      run the filter programs (spamc...) as mda would, so the rules see\n"
    "                     their verdict; pipe programs are never run\n"
    "  -r, --recursive    also the Maildir++ folders of a Maildir, the subdirectories of a "
    "directory\n"
    "  --recipient ADDR  --sender ADDR  --local-part NAME  --domain DOMAIN  --home DIR\n"
    "  --maildir DIR  --folder NAME  --dedup-store URL  --dedup-password-file FILE\n"
    "  --site-dir DIR                                                   as for mda\n"
    "  -h, --help  -V, --version\n"
    "\n"
    "Exit 0: done (--check: no errors); 1: unreadable input (--check: errors found); 2: usage.\n";

struct Run {
  mda::Options options;
  mda::Environment env = [](const char* name) { return getenv(name); };
  std::optional<mda::Account> account = mda::LookUpAccount(getuid());
  int messages = 0;
  std::vector<std::string> errors;
};

// The rules (as mda resolves them) and the duplicate store, opened once for all messages.
struct Context {
  mda::DryRun dry_run;
  std::unique_ptr<mda::DuplicateStore> store;
  bool said_unreachable = false;
};

mda::Status Prepare(Run& run, const std::string& rules_path, Context* ctx) {
  mda::Status s =
      ctx->dry_run.Open(mda::PosixFs(), run.options, run.env, run.account, getuid(), rules_path);
  if (!s.ok()) return s;
  if (run.options.run_filters) ctx->dry_run.RunFilters(&mda::PosixProcesses());
  // The store the rule file names (mda's default file store if it names none, or is not
  // usable); none there, or Redis not reachable: no duplicates shown.
  const mda::DedupConfig& dedup = ctx->dry_run.config().dedup;
  if (dedup.enabled()) {
    mda::Status opened = mda::OpenForReading(mda::PosixFs(), dedup, &ctx->store);
    if (opened.kind() == mda::Status::Kind::kBadInput) {
      Print(STDERR_FILENO,
            "mdatest: duplicates are not shown: " + mda::Shown(opened.message()) + "\n");
    }
  }
  return mda::Status::Ok();
}

// When mda would take the message for a duplicate: the time of its first complete delivery.
std::optional<int64_t> DuplicateOf(Context& ctx, const std::optional<std::string>& key) {
  if (!ctx.store) return std::nullopt;
  mda::DuplicateStore::Lookup found;
  int64_t cutoff = time(nullptr) - ctx.dry_run.config().dedup.period;
  std::optional<int64_t> first;
  if (key && ctx.store->Find(*key, {}, cutoff, &found).ok() && found.complete)
    first = found.first_delivered;
  if (ctx.store->unreachable() && !ctx.said_unreachable) {
    // Said once: without it, "no duplicate" would look like an answer.
    Print(STDERR_FILENO, "mdatest: the duplicate store did not answer; duplicates are not shown\n");
    ctx.said_unreachable = true;
  }
  return first;
}

int Check(Run& run) {
  mda::Envelope e;
  mda::Status s = mda::ResolveEnvelope(run.options, run.env, run.account, "", &e);
  if (!s.ok() || e.rules.empty()) {
    Print(STDERR_FILENO,
          "mdatest: " + (s.ok() ? std::string("no rule file: give --rules FILE") : s.message()) +
              "\n");
    return 2;
  }
  // As mda loads it: the site's files around the user's (their findings are listed too).
  mda::LoadedRules loaded = mda::LoadRules(mda::PosixFs(), e.rules, getuid(), e.home,
                                           run.options.site_dir.value_or(mda::kSiteDir));
  const mda::rules::RuleSet& rules = loaded.rules;
  bool found = loaded.found;
  s = loaded.status;
  for (const std::string& w : loaded.site_warnings) Print(STDOUT_FILENO, "warning: " + w + "\n");
  if (!found && s.ok()) {
    Print(STDOUT_FILENO, e.rules + ": no such file: mda delivers everything to INBOX\n");
    return 1;
  }
  if (!s.ok()) {
    // A parse error has its place ("file:line:col"), then the message, the line and a
    // caret: labelled an error like the linter's findings.
    std::string text = s.location().empty()
                           ? "error: " + s.message()
                           : std::string(s.location()) + ": error: " + std::string(s.text());
    Print(STDOUT_FILENO, text + "\n" + e.rules +
                             ": 1 error: mda would not use this file (mail would go to INBOX)\n");
    return 1;
  }
  int errors = 0, warnings = 0;
  std::string out;
  for (const mda::Finding& f : mda::Lint(rules)) {
    out += f.text + "\n";
    (f.error ? errors : warnings)++;
  }
  out += e.rules + ": " + std::to_string(rules.rules.size()) + " rule(s) in " +
         std::to_string(rules.files.size()) + " file(s), " + std::to_string(errors) +
         " error(s), " + std::to_string(warnings) + " warning(s)\n";
  Print(STDOUT_FILENO, out);
  return errors > 0 ? 1 : 0;
}

int Diff(Run& run, mda::MdatestReport& report) {
  if (run.options.paths.size() < 3) {
    Print(STDERR_FILENO, "mdatest: --diff needs OLD-RULES NEW-RULES PATH... (see --help)\n");
    return 2;
  }
  std::string old_rules = run.options.paths[0], new_rules = run.options.paths[1];
  std::vector<std::string> paths(run.options.paths.begin() + 2, run.options.paths.end());
  Context old_ctx, new_ctx;
  mda::Status s = Prepare(run, old_rules, &old_ctx);
  if (s.ok()) s = Prepare(run, new_rules, &new_ctx);
  if (!s.ok()) {
    Print(STDERR_FILENO, "mdatest: " + s.message() + "\n");
    return 1;
  }
  for (const Context* c : {&old_ctx, &new_ctx}) {
    const mda::LoadedRules& rules = c->dry_run.rules();
    if (!rules.status.ok() || !rules.found) {
      Print(STDERR_FILENO,
            "mdatest: " + rules.path + ": " +
                (rules.found ? rules.status.message() : std::string("no such file")) + "\n");
      return 1;
    }
  }
  mda::ForEachMessage(
      mda::PosixFs(), paths, run.options.recursive,
      [&](const std::string& name, const mda::Message& message) {
        mda::Evaluation before, after;
        mda::Status a = old_ctx.dry_run.Decide(message, run.options.explain, &before);
        mda::Status b = new_ctx.dry_run.Decide(message, run.options.explain, &after);
        if (!a.ok() || !b.ok()) {
          run.errors.push_back(name + ": " + (a.ok() ? b : a).message());
          return true;
        }
        ++run.messages;
        Print(STDOUT_FILENO, report.Moved(name, before, after));
        return true;
      },
      &run.errors);
  Print(STDOUT_FILENO, report.DiffSummary(run.messages));
  for (const std::string& err : run.errors)
    Print(STDERR_FILENO, "mdatest: " + mda::Shown(err) + "\n");
  return run.errors.empty() ? 0 : 1;
}

int Main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_DFL);  // --run-filters waits for its programs, as mda does
  Run run;
  mda::Status s = mda::ParseOptions(argc, argv, /*allow_paths=*/true, &run.options);
  if (!s.ok()) {
    Print(STDERR_FILENO, "mdatest: " + s.message() + "\n");
    return 2;
  }
  if (run.options.help) {
    Print(STDOUT_FILENO, kUsage);
    return 0;
  }
  if (run.options.version) {
    Print(STDOUT_FILENO, "mdatest " MDA_VERSION "\n");
    return 0;
  }
  std::string format = run.options.format.value_or("text");
  std::optional<mda::MdatestReport::Format> parsed = mda::MdatestReport::ParseFormat(format);
  if (!parsed) {
    Print(STDERR_FILENO, "mdatest: --format is text, json or tsv, not '" + format + "'\n");
    return 2;
  }
  mda::MdatestReport report(*parsed, run.options.explain);
  if (geteuid() == 0) {
    Print(
        STDERR_FILENO,
        "mdatest: warning: running as root; run it as the mailbox owner (it reads their rule file "
        "and mail as they would; no link below the paths given is followed)\n");
  }
  if (run.options.check) return Check(run);
  if (run.options.diff) return Diff(run, report);
  if (run.options.paths.empty()) {
    Print(STDERR_FILENO, "mdatest: no message given (see mdatest --help)\n");
    return 2;
  }
  Context ctx;
  s = Prepare(run, "", &ctx);
  if (!s.ok()) {
    Print(STDERR_FILENO, "mdatest: " + s.message() + "\n");
    return 1;
  }
  Print(STDOUT_FILENO, report.Header());
  mda::ForEachMessage(
      mda::PosixFs(), run.options.paths, run.options.recursive,
      [&](const std::string& name, const mda::Message& message) {
        mda::Evaluation e;
        std::optional<std::string> key;
        mda::Status d = ctx.dry_run.Decide(message, run.options.explain, &e, &key);
        if (!d.ok()) {
          run.errors.push_back(name + ": " + d.message());
          return true;
        }
        ++run.messages;
        Print(STDOUT_FILENO, report.Message(name, e, DuplicateOf(ctx, key)));
        return true;
      },
      &run.errors);
  for (const std::string& err : run.errors)
    Print(STDERR_FILENO, "mdatest: " + mda::Shown(err) + "\n");
  Print(STDOUT_FILENO, report.Summary(run.messages, run.errors.size()));
  return run.errors.empty() ? 0 : 1;
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
