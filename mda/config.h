// Config: what one delivery (or one dry run) is configured by, resolved once: the command
// line (which wins), Exim's environment, the passwd entry, then the rule file's settings.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "mda/duplicate_store.h"
#include "mda/envelope.h"
#include "mda/fs.h"
#include "mda/options.h"
#include "rules/ast.h"
#include "rules/parser.h"

namespace mda {

struct LogSettings {
  std::string path;              // the processing log; empty: none
  bool path_is_default = false;  // ~/.mda/log: its directory is made when missing
  bool json = false;             // set log-format = json
  bool local_time = false;       // set log-time = local
  std::string syslog;            // set syslog = FACILITY: every record; empty: off
  // The warnings (what made mda fall back) go to syslog unless `syslog` does: at the
  // facility `set syslog` names, else mail; only a site's `set! syslog = off` silences them.
  std::string warnings_syslog = "mail";
};

// How the programs of filter and pipe actions run.
struct ProgramSettings {
  int64_t timeout_ms = 30000;     // set program-timeout: then its process group is killed
  bool defer_on_failure = false;  // set pipe-failure = defer (default keep: INBOX)
};

// How forwards and vacation replies leave: the local MTA's sendmail interface.
struct MailOutSettings {
  std::string sendmail = "/usr/sbin/sendmail";  // set sendmail = PATH
  // set forward-sender: the envelope sender of a forward: the original sender (""), the
  // recipient ("recipient"), or an address.
  std::string forward_sender;
};

struct LoadedRules;

struct Config {
  Envelope envelope;  // who the message is for and from; Maildir, rule file, default folder
  LogSettings log;
  DedupConfig dedup;
  std::optional<uint64_t> max_size;  // set max-size: a bigger message's body is not read
  ProgramSettings programs;
  MailOutSettings mail_out;
  bool subscribe = true;  // set subscribe: a folder mda creates is added to `subscriptions`
  // set quota-full = reject: a message over the Maildir++ quota is refused (exit 77), not
  // deferred (exit 75, the default: Exim retries, and its retry rules bounce it at last).
  bool quota_reject = false;
  // The rules to evaluate: the rule file's when it was found and is usable, else none (all
  // mail to envelope.folder). Points into the LoadedRules given to ApplyRules.
  const rules::RuleSet* rules = nullptr;
  std::shared_ptr<const LoadedRules> site_only;  // `rules`, when the user's paths were unusable
  bool rules_found = false;                      // a rule file exists (used or not)
  bool rules_used = false;                       // ... and was safe, parsed, and its paths usable
};

// The settings a rule file may `set`, each with its check: the parser's table.
std::span<const rules::SettingSpec> Settings();

// A rule file loaded (mdatest: once for many messages): the rules, or why they are not used.
// The rules a delivery runs: the site's before.rules, the user's file, the site's after.rules,
// in that order in one RuleSet (so a final action in the before file ends the run before the
// user's rules, and the after file runs only when nothing final ran: Pigeonhole's
// sieve_before and sieve_after). A file that cannot be used leaves nothing of itself.
struct LoadedRules {
  std::string path;  // the user's rule file
  rules::RuleSet rules;
  Status status;            // the user's file: ok; kBadInput: unusable (warning); kTemporary: I/O
  bool found = false;       // the user's file exists
  bool site_rules = false;  // a site file was loaded
  std::vector<std::string> site_warnings;  // site files that exist but could not be used
};
// `site_dir` (the --site-dir option; "" for none): where before.rules and after.rules are,
// root's and written by nobody else. When the directory does not exist, one failed stat.
LoadedRules LoadRules(FileSystem& fs, const std::string& path, uid_t uid, const std::string& home,
                      const std::string& site_dir = "");
inline constexpr char kSiteDir[] = "/etc/mda";

// Step 1, before the message is read: the envelope and the default log. On failure, *out
// keeps what was resolved before it, so that the failure is still logged where it can be.
Status ResolveConfig(const Options& options, const Environment& env,
                     const std::optional<Account>& account, Config* out);

// Step 2, once the message is read: the sender of its mbox From_ line when neither --sender
// nor SENDER named one.
void UseFromLine(std::string_view from_line, Config* config);

// Step 3: the rule file's settings (the command line still wins over them), and the paths
// they name checked. A rule file that is unusable (unsafe, does not parse, names a Maildir
// or password file that can never work) is not used: config->rules stays empty and
// *warnings says why. kTemporary: an I/O error, worth a retry; kBadInput: an option the
// administrator must fix. `loaded` must outlive `config`.
Status ApplyRules(FileSystem& fs, const Options& options, const LoadedRules& loaded, Config* config,
                  std::vector<std::string>* warnings);

}  // namespace mda
