// Pipeline: one run of mda from its command line to its exit code, as DESIGN.md's data flow:
// message, envelope, rule set, decision, Maildir delivery of each target, log, exit code.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mda/duplicates.h"
#include "mda/envelope.h"
#include "mda/fs.h"
#include "mda/maildir.h"
#include "mda/message.h"
#include "mda/options.h"
#include "rules/ast.h"
#include "rules/decision.h"

namespace mda {

// Exit codes Exim understands (DESIGN.md, "Exit codes of mda").
constexpr int kExitDelivered = 0;
constexpr int kExitTempFail = 75;  // EX_TEMPFAIL: Exim keeps the message and retries
constexpr int kExitRejected = 77;  // EX_NOPERM: a rule rejected the message; Exim bounces it

// What the process runs as; a parameter so tests can play root.
struct Identity {
  uid_t uid;
  uid_t euid;
};

// The front half shared by mda and mdatest: envelope, rules, decision.
struct Evaluation {
  Envelope envelope;
  rules::Decision decision;
  bool rules_found = false;             // a rule file exists (used or not)
  bool rules_used = false;              // ... and was safe and parsed
  std::string log;                      // processing log path; empty when off or no home
  bool log_is_default = false;          // ~/.mda/log: its directory is made when missing
  bool log_known = false;               // Decide got as far as the log settings
  bool log_json = false;                // set log-format = json
  bool log_local_time = false;          // set log-time = local
  std::string syslog;                   // set syslog = FACILITY
  std::vector<std::string> warnings;    // for the log: what the user should fix
  std::string message_id;               // the first Message-ID header, unfolded
  std::string from_address;             // the first From address (addr-spec), when dedup is on
  std::string subject;                  // the first Subject, decoded (for the log)
  DedupConfig dedup;                    // the duplicate store, its period and key
  std::optional<int64_t> duplicate_of;  // mdatest: time of the first complete delivery
};

// A rule file loaded once for many messages (mdatest): the rules, or why they are not used.
struct LoadedRules {
  std::string path;
  rules::RuleSet rules;
  Status status;       // ok; kBadInput: unusable (INBOX, with a warning); kTemporary: I/O error
  bool found = false;  // the file exists
};
LoadedRules LoadRules(FileSystem& fs, const std::string& path, uid_t uid, const std::string& home);

struct DecideOptions {
  bool trace = false;                      // fill Decision::trace
  bool lookup_duplicate = false;           // mdatest: read the duplicate store (never written)
  const LoadedRules* preloaded = nullptr;  // mdatest: rules loaded once, for this path
  DuplicateStore* store = nullptr;         // mdatest: the store, opened read-only once
  // mda: the process ends right after this message, so the rules it loads are kept, not
  // freed (freeing a 1000-rule file took 4M of its 25M instructions).
  bool keep_rules = false;
};

// The duplicate settings of `rules` (default: the file store, 7 days), the command line
// winning over the rule file. A bad value is kBadInput (a bad rule-file value never gets
// here: the parser refused the file).
Status DedupSettings(const Options& options, const rules::RuleSet& rules, const std::string& home,
                     DedupConfig* out);

// Resolves the envelope, loads the rule file (unusable: INBOX, with a warning; an I/O error
// is the returned status), evaluates it, and checks every folder name (a refused name from a
// rule: INBOX, with a warning).
Status Decide(const Options& options, const Environment& env, const std::optional<Account>& account,
              uid_t uid, FileSystem& fs, const Message& message, const DecideOptions& how,
              Evaluation* out);

struct RunResult {
  int exit_code = kExitTempFail;
  std::string diagnostic;  // one line for stderr when not delivered; empty otherwise
  std::string output;      // for stdout: a reject's reason (Exim's return_fail_output)
  Evaluation evaluation;
  std::vector<Delivery> deliveries;
  bool duplicate = false;       // suppressed: delivered before
  int64_t first_delivered = 0;  // ... at this time
  std::string
      outcome;         // for the log: delivered, duplicate, discarded, deferred, rejected, fallback
  std::string reason;  // for the log: why deferred or rejected
  std::optional<size_t> size;  // the message's size, once read
};

// Runs mda on the message readable from `input`. Never throws for an expected failure;
// main() still catches anything (a bug) and exits 75.
RunResult RunMda(const Options& options, FileSystem& fs, const Environment& env, int input,
                 const Identity& identity);

}  // namespace mda
