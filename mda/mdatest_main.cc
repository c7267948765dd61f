// mdatest: mda's decision on saved mail, as a dry run: where every message would go and why.
//
// Design rationale: mdatest must never disagree with mda, so it runs mda's own DryRun (pipeline.h)
// and stops before delivery. It is strictly read-only: it opens message files and the rule file for
// reading and the duplicate store read-only, and never runs a command. Unlike mda it reads many
// messages in one process, so the rule file is loaded once. Regexes are matched by the same
// interpreter with the same limits as in mda, never JIT: JIT gives up at other points, and a dry
// run that differs from the delivery near the limits is worse than none.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "mda/config.h"
#include "mda/duplicate_store.h"
#include "mda/fs.h"
#include "mda/lint.h"
#include "mda/log_stats.h"
#include "mda/mail_source.h"
#include "mda/mdatest_report.h"
#include "mda/options.h"
#include "mda/pipeline.h"
#include "mda/procmail_convert.h"
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
    "                                              (OLD: a rule file; placed: the folder each\n"
    "                                              message is in now; none: INBOX)\n"
    "       mdatest --stats [--since 7d] [LOG...]  summarise the log (default ~/.mda/log)\n"
    "       mdatest --from-procmail FILE           a .procmailrc as mda rules (stdout), and what\n"
    "                                              was not converted (stderr; exit 1 if anything)\n"
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
    "  --user NAME        (root only) judge as NAME would be judged: root's rights are dropped\n"
    "                     for NAME's, as mda runs under Exim\n"
    "  -h, --help  -V, --version\n"
    "\n"
    "Saved mail's envelope: the sender from its Return-Path: (else an mbox From_ line, else its\n"
    "From:), the recipient from Delivered-To: or Envelope-To:; --sender and --recipient win.\n"
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

// Drops root's privileges for good and becomes `name`: its groups, gid, uid, HOME and
// passwd entry, as mda runs under Exim's check_local_user. Returns why not, or "".
std::string BecomeUser(const std::string& name, Run* run) {
  struct passwd* pw = getpwnam(name.c_str());
  if (pw == nullptr) return "no such user";
  if (pw->pw_uid == 0) return "that is root; mda never runs as root";
  std::string home = pw->pw_dir;
  uid_t uid = pw->pw_uid;
  gid_t gid = pw->pw_gid;
  if (initgroups(name.c_str(), gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
    return std::string("cannot become the user: ") + strerror(errno);
  if (setuid(0) == 0) return "could still regain root; refusing";
  setenv("HOME", home.c_str(), 1);
  setenv("USER", name.c_str(), 1);
  setenv("LOGNAME", name.c_str(), 1);
  run->account = mda::LookUpAccount(uid);
  return "";
}

// Progress over a big mailbox, on standard error when it is a terminal and the report goes
// elsewhere (a file, a pipe; on the terminal the report itself shows progress; never when
// standard error is not a terminal): the count every 500 messages or 200 ms, then cleared.
class Progress {
 public:
  Progress() : shown_(isatty(STDERR_FILENO) == 1 && isatty(STDOUT_FILENO) != 1) {
    last_ms_ = NowMs();
  }
  ~Progress() {
    if (drawn_) Print(STDERR_FILENO, "\r\033[K");
  }
  void Tick(int messages) {
    if (!shown_ || messages == 0) return;
    int64_t ms = NowMs();
    if (messages % 500 != 0 && ms - last_ms_ < 200) return;
    last_ms_ = ms;
    drawn_ = true;
    Print(STDERR_FILENO, "\rmdatest: " + std::to_string(messages) + " messages...\033[K");
  }

 private:
  static int64_t NowMs() {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  }
  bool shown_;
  bool drawn_ = false;
  int64_t last_ms_ = 0;
};

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
    // caret: labelled an error like the linter's findings. Every one of the user's file,
    // not only the first (the site's files have theirs among the warnings above).
    constexpr size_t kMaxErrors = 50;
    std::vector<mda::Status> all;
    if (s.location().rfind(e.rules + ":", 0) == 0) {
      all = mda::AllParseErrors(mda::PosixFs(), e.rules, getuid(), e.home, mda::Settings(),
                                kMaxErrors);
    }
    if (all.empty()) all.push_back(s);
    std::string out;
    for (const mda::Status& err : all) {
      out += err.location().empty()
                 ? "error: " + err.message() + "\n"
                 : std::string(err.location()) + ": error: " + std::string(err.text()) + "\n";
    }
    std::string count = std::to_string(all.size()) + (all.size() == 1 ? " error" : " errors");
    if (all.size() >= kMaxErrors) count = "the first " + count + " (there may be more)";
    Print(STDOUT_FILENO, out + e.rules + ": " + count +
                             ": mda would not use this file (mail would go to INBOX)\n");
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

// Every rule and else of `rules`, as the log's rule= names them (file:line), in file order.
// The rules and elses that can decide (have a final action): a copy, a filter or a header
// edit never decides, so the log never names it and --stats does not list it as unused.
void RuleLocations(const mda::rules::RuleSet& set, const std::vector<mda::rules::Rule>& rules,
                   std::vector<std::string>* out) {
  auto decides = [](const std::vector<mda::rules::Action>& actions) {
    return std::any_of(actions.begin(), actions.end(),
                       [](const mda::rules::Action& a) { return a.final(); });
  };
  for (const mda::rules::Rule& r : rules) {
    if (!r.has_block && decides(r.actions)) out->push_back(set.Where(r.location));
    RuleLocations(set, r.block, out);
    if (r.has_else && r.else_block.empty() && decides(r.else_actions))
      out->push_back(set.Where(r.else_location));
    RuleLocations(set, r.else_block, out);
  }
}

// mdatest --stats [--since PERIOD] [LOG...]: procmail's mailstat, for mda's log.
int Stats(Run& run) {
  std::optional<int64_t> since;
  if (run.options.since) {
    std::optional<uint64_t> period = mda::rules::ParsePeriod(*run.options.since);
    if (!period) {
      Print(STDERR_FILENO, "mdatest: --since is a period like 7d, 12h or 30m\n");
      return 2;
    }
    since = static_cast<int64_t>(time(nullptr)) - static_cast<int64_t>(*period);
  }
  mda::Envelope e;
  mda::Status s = mda::ResolveEnvelope(run.options, run.env, run.account, "", &e);
  // The rule file as mda loads it (the site's with it): its rules that never decided, and
  // its log (a converted LOGFILE's `set log`) when none is given.
  std::optional<mda::LoadedRules> loaded;
  if (s.ok() && !e.rules.empty()) {
    loaded = mda::LoadRules(mda::PosixFs(), e.rules, getuid(), e.home,
                            run.options.site_dir.value_or(mda::kSiteDir));
    if (!loaded->status.ok() || !(loaded->found || loaded->site_rules)) loaded.reset();
  }
  std::vector<std::string> logs = run.options.paths;
  if (logs.empty()) {
    if (!s.ok() || e.home.empty()) {
      Print(STDERR_FILENO, "mdatest: --stats: no log given and no home directory\n");
      return 2;
    }
    std::string path = e.home + "/.mda/log";
    if (loaded) {
      auto it = loaded->rules.settings.find("log");
      std::string set;
      if (it != loaded->rules.settings.end() && it->second.value != "off" &&
          mda::ExpandPath(it->second.value, e.home, "the log setting", &set).ok())
        path = set;
    }
    logs.push_back(path);
  }
  mda::LogStats stats;
  for (const std::string& path : logs) {
    int fd = path == "-" ? dup(STDIN_FILENO) : open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      Print(STDERR_FILENO, "mdatest: " + path + ": " + strerror(errno) + "\n");
      return 1;
    }
    std::string pending;
    std::vector<char> buf(1 << 20);
    for (ssize_t n; (n = read(fd, buf.data(), buf.size())) != 0;) {
      if (n < 0) {
        if (errno == EINTR) continue;
        Print(STDERR_FILENO, "mdatest: " + path + ": " + strerror(errno) + "\n");
        close(fd);
        return 1;
      }
      pending.append(buf.data(), static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
        stats.Add(std::string_view(pending).substr(start, nl - start), since);
      pending.erase(0, start);
    }
    if (!pending.empty()) stats.Add(pending, since);
    close(fd);
  }
  // The rules that never decided: those of the rule file (with the site's) as mda loads it.
  if (loaded) {
    std::vector<std::string> all;
    RuleLocations(loaded->rules, loaded->rules.rules, &all);
    for (const std::string& r : all) {
      bool listed = std::find(stats.never_fired.begin(), stats.never_fired.end(), r) !=
                    stats.never_fired.end();
      if (!stats.rules.count(r) && !listed) stats.never_fired.push_back(r);
    }
  }
  Print(STDOUT_FILENO,
        run.options.format.value_or("text") == "json" ? stats.Json() : stats.Text(10));
  return 0;
}

// mdatest --from-procmail FILE: the mda rules on stdout, the report on stderr; exit 0 when
// everything was converted, 1 when something was left as a NOT CONVERTED comment.
int FromProcmail(Run& run) {
  const std::string& path = *run.options.from_procmail;
  auto read_file = [](const std::string& file, std::string* text) {
    int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return mda::Status::Posix("cannot open " + file, errno);
    text->clear();
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) {
      text->append(buf, static_cast<size_t>(n));
      if (text->size() > mda::kMaxRuleFileSize) break;
    }
    close(fd);
    return mda::Status::Ok();
  };
  std::string text;
  if (mda::Status s = read_file(path, &text); !s.ok()) {
    Print(STDERR_FILENO, "mdatest: " + s.message() + "\n");
    return 2;
  }
  mda::Envelope e;
  mda::Status s = mda::ResolveEnvelope(run.options, run.env, run.account, "", &e);
  if (!s.ok() || e.home.empty()) {
    Print(STDERR_FILENO, "mdatest: --from-procmail needs the home directory (--home DIR)\n");
    return 2;
  }
  mda::ProcmailConversion c = mda::ConvertProcmailrc(path, text, e.home, read_file);
  // The output must be a rule file mda uses: checked here, so a converter bug is never a
  // user's surprise at delivery.
  mda::rules::RuleSet rules;
  mda::rules::ParseOptions options;
  options.home = e.home;
  options.settings = mda::Settings();
  mda::Status parsed = mda::rules::ParseRules("(converted)", c.rules, "converted", options, &rules);
  Print(STDOUT_FILENO, c.rules);
  std::string report;
  for (const std::string& line : c.report) report += line + "\n";
  report += path + ": " +
            (c.not_converted == 0 ? std::string("converted completely")
                                  : std::to_string(c.not_converted) +
                                        " part(s) NOT CONVERTED (kept as comments in the output)") +
            "\n";
  if (!parsed.ok())
    report += "mdatest: the converted rules do not parse (a bug): " + parsed.message() + "\n";
  Print(STDERR_FILENO, report);
  return parsed.ok() && c.not_converted == 0 ? 0 : 1;
}

// A folder name for comparing: INBOX in one spelling, Maildir++'s dots as slashes.
std::string FolderKey(std::string folder) {
  std::replace(folder.begin(), folder.end(), '.', '/');
  std::string upper = folder;
  for (char& c : upper) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return upper == "INBOX" ? "INBOX" : folder;
}

// The folder a saved message is in, from its path (MAILDIR/cur/F is INBOX,
// MAILDIR/.Lists.dev/new/F is Lists/dev); nullopt when it is in no Maildir's cur/ or new/.
std::optional<std::string> PlacedIn(const std::string& name) {
  size_t slash = name.rfind('/');
  if (slash == std::string::npos || slash == 0) return std::nullopt;
  std::string dir = name.substr(0, slash);
  size_t d = dir.rfind('/');
  std::string sub = dir.substr(d == std::string::npos ? 0 : d + 1);
  if ((sub != "cur" && sub != "new") || d == std::string::npos || d == 0) return std::nullopt;
  std::string folder_dir = dir.substr(0, d);
  size_t f = folder_dir.rfind('/');
  std::string folder = folder_dir.substr(f == std::string::npos ? 0 : f + 1);
  if (folder.size() > 1 && folder[0] == '.' && folder != "..") {
    folder = folder.substr(1);
    std::replace(folder.begin(), folder.end(), '.', '/');
    return folder;
  }
  return std::string("INBOX");
}

int Diff(Run& run, mda::MdatestReport& report) {
  if (run.options.paths.size() < 3) {
    Print(STDERR_FILENO, "mdatest: --diff needs OLD-RULES NEW-RULES PATH... (see --help)\n");
    return 2;
  }
  std::string old_rules = run.options.paths[0], new_rules = run.options.paths[1];
  std::vector<std::string> paths(run.options.paths.begin() + 2, run.options.paths.end());
  // OLD may be "placed" (where each message is now: after procmail, what would move) or
  // "none" (no rules: everything in INBOX). A file of that name is ./placed or ./none.
  bool placed = old_rules == "placed", none = old_rules == "none";
  Context old_ctx, new_ctx;
  mda::Status s = placed || none ? mda::Status::Ok() : Prepare(run, old_rules, &old_ctx);
  if (s.ok()) s = Prepare(run, new_rules, &new_ctx);
  if (!s.ok()) {
    Print(STDERR_FILENO, "mdatest: " + s.message() + "\n");
    return 1;
  }
  for (const Context* c : {&old_ctx, &new_ctx}) {
    if ((placed || none) && c == &old_ctx) continue;
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
        mda::Status a = mda::Status::Ok();
        if (placed || none) {
          std::optional<std::string> in =
              none ? std::optional<std::string>("INBOX") : PlacedIn(name);
          if (!in) {
            run.errors.push_back(name +
                                 ": not in a Maildir's cur/ or new/: no placement to compare with");
            return true;
          }
          before.decision.targets.push_back(mda::rules::Target{*in, {}, "", ""});
          before.decision.rule = old_rules;
        } else {
          a = old_ctx.dry_run.Decide(message, run.options.explain, &before);
        }
        mda::Status b = new_ctx.dry_run.Decide(message, run.options.explain, &after);
        if (!a.ok() || !b.ok()) {
          run.errors.push_back(name + ": " + (a.ok() ? b : a).message());
          return true;
        }
        ++run.messages;
        if (placed && after.decision.outcome == mda::rules::Outcome::kDeliver) {
          // A message stored as one of several copies stays where it is if that folder is
          // among the new destinations.
          std::string here = FolderKey(before.decision.targets[0].folder);
          bool stays = false;
          for (const mda::rules::Target& t : after.decision.targets)
            stays = stays || (t.is_folder() && FolderKey(t.folder) == here);
          if (stays) return true;
        }
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
  if (run.options.user) {
    // Root judging as a user would be judged: that user's ids, home and passwd entry, and
    // nothing of root's left (a file only root can read is not the user's to use).
    if (geteuid() != 0) {
      Print(STDERR_FILENO, "mdatest: --user is for root; run mdatest as yourself instead\n");
      return 2;
    }
    if (std::string why = BecomeUser(*run.options.user, &run); !why.empty()) {
      Print(STDERR_FILENO, "mdatest: --user " + *run.options.user + ": " + why + "\n");
      return 2;
    }
  } else if (geteuid() == 0) {
    // Root would judge a user's rule file by root's ownership: wrong both ways (a user's
    // file "not root's", and root reads what the user cannot). Say how to do it right.
    mda::Envelope e;
    struct stat st;
    if (mda::ResolveEnvelope(run.options, run.env, run.account, "", &e).ok() && !e.rules.empty() &&
        stat(e.rules.c_str(), &st) == 0 && st.st_uid != 0) {
      struct passwd* owner = getpwuid(st.st_uid);
      std::string name = owner ? owner->pw_name : std::to_string(st.st_uid);
      Print(STDERR_FILENO, "mdatest: " + e.rules + " is " + name +
                               "'s; run as root, mdatest would judge it by root's rights, not " +
                               name + "'s. Run it as the user: runuser -u " + name +
                               " -- mdatest ..., or give --user " + name + "\n");
      return 2;
    }
    Print(
        STDERR_FILENO,
        "mdatest: warning: running as root; run it as the mailbox owner (it reads their rule file "
        "and mail as they would; no link below the paths given is followed)\n");
  }
  if (run.options.check) return Check(run);
  if (run.options.stats) return Stats(run);
  if (run.options.from_procmail) return FromProcmail(run);
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
  Progress progress;
  mda::ForEachMessage(
      mda::PosixFs(), run.options.paths, run.options.recursive,
      [&](const std::string& name, const mda::Message& message) {
        progress.Tick(run.messages);
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
