// mdatest: mda's decision on saved mail, as a dry run: where every message would go and why.
//
// Design rationale: mdatest must never disagree with mda, so it runs mda's own Decide() and
// stops before delivery. It is strictly read-only: it opens message files and the rule file
// for reading and the duplicate store read-only, and never runs a command. Unlike mda it
// reads many messages in one process, so the rule file is loaded once. Regexes are matched
// by the same interpreter with the same limits as in mda, never JIT: JIT gives up at other
// points, and a dry run that differs from the delivery near the limits is worse than none.
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <exception>
#include <map>
#include <memory>
#include <string>

#include "mda/duplicates.h"
#include "mda/fs.h"
#include "mda/lint.h"
#include "mda/log.h"
#include "mda/mail_source.h"
#include "mda/options.h"
#include "mda/pipeline.h"
#include "mda/rule_file.h"
#include "mda/version.h"

namespace {

using mda::rules::Outcome;

void Print(int fd, const std::string& text) {
  (void)mda::WriteAll(mda::PosixFs(), fd, text.data(), text.size(), "output");
}

const char kUsage[] =
    "usage: mdatest [OPTIONS] PATH...             where each message would go, and why\n"
    "       mdatest --check [--rules FILE]         lint a rule file, no mail needed\n"
    "       mdatest --diff OLD NEW PATH...         only the messages whose destination changes\n"
    "\n"
    "A dry run of mda on saved mail: nothing is written, no command is run. PATH is a message\n"
    "file, a directory of message files, a Maildir (cur/ and new/), an mbox file, or - for one\n"
    "message on standard input.\n"
    "\n"
    "  --rules FILE       rule file (default ~/.mda/rules)\n"
    "  --explain          every rule evaluated: each test, the value it saw, the result, the\n"
    "                     captures, and where evaluation stopped\n"
    "  --format FORMAT    text (default), json (one object per line), tsv\n"
    "  -r, --recursive    also the Maildir++ folders of a Maildir, the subdirectories of a "
    "directory\n"
    "  --recipient ADDR  --sender ADDR  --local-part NAME  --domain DOMAIN  --home DIR\n"
    "  --maildir DIR  --folder NAME  --dedup-store URL  --dedup-password-file FILE   as for mda\n"
    "  -h, --help  -V, --version\n"
    "\n"
    "Exit 0: done (--check: no errors); 1: unreadable input (--check: errors found); 2: usage.\n";

std::string When(int64_t t) { return mda::Rfc3339(t, 0, false).substr(0, 19) + "Z"; }

// "Junk", "Alerts + INBOX", "discard", "defer \"...\"", "reject \"...\" (copies: A)".
std::string Destination(const mda::rules::Decision& d) {
  std::string folders;
  for (const std::string& f : d.folders) folders += (folders.empty() ? "" : " + ") + f;
  switch (d.outcome) {
    case Outcome::kDeliver:
      return folders;
    case Outcome::kDiscard:
      return "discard" + (folders.empty() ? "" : " (copies: " + folders + ")");
    case Outcome::kDefer:
      return "defer \"" + d.reason + "\"";
    case Outcome::kReject:
      return "reject \"" + d.reason + "\"" + (folders.empty() ? "" : " (copies: " + folders + ")");
  }
  return "?";
}

std::string Action(Outcome o) {
  switch (o) {
    case Outcome::kDeliver:
      return "deliver";
    case Outcome::kDiscard:
      return "discard";
    case Outcome::kDefer:
      return "defer";
    case Outcome::kReject:
      return "reject";
  }
  return "?";
}

// Text for a terminal or a TSV field: escapes (ESC, OSC, BEL, C1, Unicode line ends, bytes
// that are not UTF-8) written out, cut at `max` bytes. A Subject or Message-ID is the
// sender's text: it must not act on the terminal of the user who runs mdatest.
constexpr size_t kShownHeader = 200;  // a header value in text and TSV output
constexpr size_t kShownLine = 4096;   // a warning, trace or diagnostic line
std::string OneLine(const std::string& s, size_t max = kShownHeader) {
  return mda::DisplayText(s, max);
}
// The same for text of several lines (a diagnostic with its caret): each line on its own.
std::string Shown(const std::string& s) {
  std::string out;
  size_t start = 0;
  for (;;) {
    size_t nl = s.find('\n', start);
    out += OneLine(s.substr(start, nl - start), kShownLine);
    if (nl == std::string::npos) return out;
    out += "\n";
    start = nl + 1;
  }
}

std::string Json(const std::string& s) { return mda::JsonString(s); }

struct Run {
  mda::Options options;
  mda::Environment env = [](const char* name) { return getenv(name); };
  std::optional<mda::Account> account = mda::LookUpAccount(getuid());
  std::string format = "text";
  std::map<std::string, int> per_destination;
  int messages = 0;
  std::vector<std::string> errors;
};

// The rules and the duplicate store, loaded once for all messages.
struct Context {
  mda::LoadedRules rules;
  std::unique_ptr<mda::DuplicateStore> store;
  bool said_unreachable = false;
};

mda::Status Prepare(Run& run, const std::string& rules_path, Context* ctx) {
  mda::Envelope e;
  mda::Status s = mda::ResolveEnvelope(run.options, run.env, run.account, "", &e);
  if (!s.ok()) return s;
  std::string path = rules_path.empty() ? e.rules : rules_path;
  if (!path.empty()) ctx->rules = mda::LoadRules(mda::PosixFs(), path, getuid(), e.home);
  // The store the rule file names (mda's default file store if it names none, or is not
  // usable); none there, or Redis not reachable: no duplicates shown.
  static const mda::rules::RuleSet kNoRules;
  mda::DedupConfig dedup;
  if (mda::DedupSettings(run.options, ctx->rules.status.ok() ? ctx->rules.rules : kNoRules, e.home,
                         &dedup)
          .ok() &&
      dedup.enabled()) {
    mda::Status opened = mda::OpenForReading(mda::PosixFs(), dedup, &ctx->store);
    if (opened.kind() == mda::Status::Kind::kBadInput) {
      Print(STDERR_FILENO,
            "mdatest: duplicates are not shown: " + OneLine(opened.message(), kShownLine) + "\n");
    }
  }
  return mda::Status::Ok();
}

mda::Status DecideOne(Run& run, Context& ctx, const mda::Message& message,
                      const std::string& rules_path, mda::Evaluation* e) {
  mda::Options options = run.options;
  if (!rules_path.empty()) options.rules = rules_path;
  mda::DecideOptions how;
  how.trace = run.options.explain;
  how.lookup_duplicate = ctx.store != nullptr;
  how.preloaded = &ctx.rules;
  how.store = ctx.store.get();
  mda::Status s =
      mda::Decide(options, run.env, run.account, getuid(), mda::PosixFs(), message, how, e);
  if (ctx.store && ctx.store->unreachable() && !ctx.said_unreachable) {
    // Said once: without it, "no duplicate" would look like an answer.
    Print(STDERR_FILENO, "mdatest: the duplicate store did not answer; duplicates are not shown\n");
    ctx.said_unreachable = true;
  }
  return s;
}

void Report(Run& run, const std::string& name, const mda::Evaluation& e) {
  const mda::rules::Decision& d = e.decision;
  std::string destination = Destination(d);
  ++run.per_destination[destination];
  std::string out;
  if (run.format == "json") {
    out = "{\"name\":" + Json(name) + ",\"message_id\":" + Json(e.message_id) +
          ",\"subject\":" + Json(e.subject) + ",\"rule\":" + Json(d.rule) +
          ",\"action\":" + Json(Action(d.outcome)) + ",\"folders\":[";
    for (size_t i = 0; i < d.folders.size(); ++i) out += (i ? "," : "") + Json(d.folders[i]);
    out += "]";
    if (!d.reason.empty()) out += ",\"reason\":" + Json(d.reason);
    if (e.duplicate_of) out += ",\"duplicate_of\":" + Json(When(*e.duplicate_of));
    out += ",\"warnings\":[";
    for (size_t i = 0; i < e.warnings.size(); ++i) out += (i ? "," : "") + Json(e.warnings[i]);
    out += "]";
    if (run.options.explain) {
      out += ",\"trace\":[";
      for (size_t i = 0; i < d.trace.size(); ++i) out += (i ? "," : "") + Json(d.trace[i]);
      out += "]";
    }
    out += "}\n";
  } else if (run.format == "tsv") {
    std::string folders;
    for (const std::string& f : d.folders) folders += (folders.empty() ? "" : ",") + f;
    out = OneLine(name, kShownLine) + "\t" + OneLine(e.message_id) + "\t" + OneLine(e.subject) +
          "\t" + OneLine(d.rule, kShownLine) + "\t" + Action(d.outcome) + "\t" +
          OneLine(folders, kShownLine) + "\t" + (e.duplicate_of ? When(*e.duplicate_of) : "") +
          "\n";
  } else {
    std::string shown_destination = OneLine(destination, kShownLine),
                rule = OneLine(d.rule, kShownLine);
    out = OneLine(name, kShownLine) + " -> " + shown_destination + "  [" + rule + "]";
    if (!e.message_id.empty()) out += "  " + OneLine(e.message_id);
    if (!e.subject.empty()) out += "  \"" + OneLine(e.subject) + "\"";
    out += "\n";
    if (e.duplicate_of) {
      out += "  duplicate: first delivered " + When(*e.duplicate_of) +
             "; mda would not deliver it again\n";
    }
    for (const std::string& w : e.warnings) out += "  warning: " + Shown(w) + "\n";
    if (run.options.explain) {
      for (const std::string& t : d.trace) out += "  " + Shown(t) + "\n";
      out += d.rule == "default" ? "  => no rule filed it: " + shown_destination + "\n"
                                 : "  => " + rule + " decided: " + shown_destination + "\n";
    }
  }
  Print(STDOUT_FILENO, out);
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
  mda::rules::RuleSet rules;
  bool found = false;
  s = mda::LoadRuleFile(mda::PosixFs(), e.rules, getuid(), e.home, &rules, &found);
  if (!found && s.ok()) {
    Print(STDOUT_FILENO, e.rules + ": no such file: mda delivers everything to INBOX\n");
    return 1;
  }
  if (!s.ok()) {
    // A parse error reads "file:line:col: message", the line, a caret: label it an error.
    std::string text = s.message();
    size_t at = std::string::npos;
    for (size_t i = 0; i + 1 < text.size() && text[i] != '\n'; ++i) {
      // the ": " after ":LINE:COL"
      if (text[i] == ':' && text[i + 1] == ' ' && i > 0 &&
          isdigit(static_cast<unsigned char>(text[i - 1]))) {
        at = i + 2;
        break;
      }
    }
    text = at == std::string::npos ? "error: " + text
                                   : text.substr(0, at) + "error: " + text.substr(at);
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

int Diff(Run& run) {
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
    if (!c->rules.status.ok() || !c->rules.found) {
      Print(STDERR_FILENO,
            "mdatest: " + c->rules.path + ": " +
                (c->rules.found ? c->rules.status.message() : std::string("no such file")) + "\n");
      return 1;
    }
  }
  int moved = 0;
  mda::ForEachMessage(
      mda::PosixFs(), paths, run.options.recursive,
      [&](const std::string& name, const mda::Message& message) {
        mda::Evaluation before, after;
        mda::Status a = DecideOne(run, old_ctx, message, old_rules, &before);
        mda::Status b = DecideOne(run, new_ctx, message, new_rules, &after);
        if (!a.ok() || !b.ok()) {
          run.errors.push_back(name + ": " + (a.ok() ? b : a).message());
          return true;
        }
        ++run.messages;
        std::string from = Destination(before.decision), to = Destination(after.decision);
        if (from != to) {
          ++moved;
          ++run.per_destination[from + " -> " + to];
          Print(STDOUT_FILENO,
                Shown(name + ": " + from + " -> " + to + "  [" + before.decision.rule + " -> " +
                      after.decision.rule + "]") +
                    (after.subject.empty() ? "" : "  \"" + OneLine(after.subject) + "\"") + "\n");
        }
        return true;
      },
      &run.errors);
  std::string summary =
      "\n" + std::to_string(moved) + " of " + std::to_string(run.messages) + " message(s) move";
  for (const auto& [change, count] : run.per_destination)
    summary += "\n  " + std::to_string(count) + "  " + Shown(change);
  Print(STDOUT_FILENO, summary + "\n");
  for (const std::string& err : run.errors) Print(STDERR_FILENO, "mdatest: " + Shown(err) + "\n");
  return run.errors.empty() ? 0 : 1;
}

int Main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
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
  run.format = run.options.format.value_or("text");
  if (run.format != "text" && run.format != "json" && run.format != "tsv") {
    Print(STDERR_FILENO, "mdatest: --format is text, json or tsv, not '" + run.format + "'\n");
    return 2;
  }
  if (geteuid() == 0) {
    Print(
        STDERR_FILENO,
        "mdatest: warning: running as root; run it as the mailbox owner (it reads their rule file "
        "and mail as they would; no link below the paths given is followed)\n");
  }
  if (run.options.check) return Check(run);
  if (run.options.diff) return Diff(run);
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
  if (run.format == "tsv")
    Print(STDOUT_FILENO, "name\tmessage_id\tsubject\trule\taction\tfolders\tduplicate_of\n");
  mda::ForEachMessage(
      mda::PosixFs(), run.options.paths, run.options.recursive,
      [&](const std::string& name, const mda::Message& message) {
        mda::Evaluation e;
        mda::Status d = DecideOne(run, ctx, message, "", &e);
        if (!d.ok()) {
          run.errors.push_back(name + ": " + d.message());
          return true;
        }
        ++run.messages;
        Report(run, name, e);
        return true;
      },
      &run.errors);
  for (const std::string& err : run.errors) Print(STDERR_FILENO, "mdatest: " + Shown(err) + "\n");
  if (run.format == "json") {
    std::string summary = "{\"summary\":{\"messages\":" + std::to_string(run.messages) +
                          ",\"unreadable\":" + std::to_string(run.errors.size()) +
                          ",\"destinations\":{";
    bool first = true;
    for (const auto& [dest, count] : run.per_destination) {
      summary += (first ? "" : ",") + Json(dest) + ":" + std::to_string(count);
      first = false;
    }
    Print(STDOUT_FILENO, summary + "}}}\n");
  } else if (run.format == "text") {
    std::string summary = "\n" + std::to_string(run.messages) + " message(s)";
    for (const auto& [dest, count] : run.per_destination)
      summary += "\n  " + std::to_string(count) + "  " + Shown(dest);
    if (!run.errors.empty()) summary += "\n  " + std::to_string(run.errors.size()) + " unreadable";
    Print(STDOUT_FILENO, summary + "\n");
  }
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
