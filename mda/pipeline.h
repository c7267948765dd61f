// Pipeline: one run of mda from its command line to its exit code: Read → ResolveConfig →
// Decide → Claim → Deliver → Mark → Log (ARCHITECTURE.md draws it). DryRun is the same
// front half for mdatest and the tests, so that a dry run never decides otherwise.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mda/config.h"
#include "mda/envelope.h"
#include "mda/fs.h"
#include "mda/log.h"
#include "mda/maildir.h"
#include "mda/message.h"
#include "mda/options.h"
#include "mda/program.h"
#include "rules/decision.h"
#include "rules/header_block.h"

namespace mda {

// Exit codes Exim understands: the only place they are defined.
constexpr int kExitDelivered = 0;  // delivered, a duplicate suppressed, or discarded
constexpr int kExitTempFail = 75;  // EX_TEMPFAIL: Exim keeps the message and retries
constexpr int kExitRejected = 77;  // EX_NOPERM: a rule rejected the message; Exim bounces it

// What the process runs as; a parameter so tests can play root.
struct Identity {
  uid_t uid;
  uid_t euid;
};

// What the rules decided for one message, and what the log says of the message.
struct Evaluation {
  rules::Decision decision;           // decision.message: what the filters made of the message
  std::string message_id;             // the first Message-ID header, unfolded
  std::string subject;                // the first Subject, decoded
  std::vector<std::string> warnings;  // for the log: what the user should fix
  // A vacation action's outcome: mda's "sent to X" / "not sent: why", mdatest's
  // "would reply to X" / "would not reply: why"; "" without one.
  std::string vacation;
  // mdatest: for each forward target, "would forward to X" or "would not forward: why".
  std::vector<std::string> forwards;
  // mdatest: where the dry run's envelope came from, e.g. "sender a@b (Return-Path:)".
  std::vector<std::string> envelope;
};

// The headers the log names a message by (before anything can fail, so that every log
// line of a message names it).
void Identify(const rules::HeaderBlock& headers, Evaluation* out);

// Evaluates the configured rules on the message and checks every folder name they produced
// (a refused name: INBOX, with a warning; names of one directory: one folder). `processes`:
// where filter programs run; nullptr (a dry run): they are shown, not run.
void Decide(const Config& config, const Message& message, const rules::HeaderBlock& headers,
            bool trace, Evaluation* out, Processes* processes = nullptr);

// The mark a delivered target leaves in the duplicate store (the folder's name, or a hash
// of the program and its arguments), before AttemptMarks makes it the attempt's.
std::string TargetMark(const rules::Target& target);

// The message's duplicate key under `config`, or nullopt (dedup off, or no Message-ID).
std::optional<std::string> DuplicateKey(const Config& config, const rules::HeaderBlock& headers,
                                        const std::string& message_id);

// mdatest's front half, and the tests': the configuration resolved and the rule file loaded
// once, as mda resolves them, then each message decided as mda decides it.
class DryRun {
 public:
  // `rules_path`: another rule file than the configured one (mdatest --diff); "": that one.
  // A failure is the options' (kBadInput); the rule file's is Decide's, for each message.
  Status Open(FileSystem& fs, const Options& options, const Environment& env,
              const std::optional<Account>& account, uid_t uid, const std::string& rules_path);
  // Fails only as mda would defer: the rule file could not be read (kTemporary). `key`, when
  // given: the message's duplicate key, from the headers already parsed.
  Status Decide(const Message& message, bool trace, Evaluation* out,
                std::optional<std::string>* key = nullptr);

  const Config& config() const { return config_; }
  const LoadedRules& rules() const { return *loaded_; }
  // mdatest --run-filters: filter programs run (pipes never do in a dry run).
  void RunFilters(Processes* processes) { processes_ = processes; }

 private:
  Processes* processes_ = nullptr;
  FileSystem* fs_ = nullptr;
  Config config_;
  std::unique_ptr<LoadedRules> loaded_;  // config_.rules points into it
  Status applied_;                       // ApplyRules's result
  std::vector<std::string> warnings_;    // ApplyRules's, for every message
  std::string default_recipient_;        // when a message does not say its own
};

struct RunResult {
  int exit_code = kExitTempFail;
  std::string diagnostic;  // one line for stderr when not delivered; empty otherwise
  std::string output;      // for stdout: a reject's reason (Exim's return_fail_output)
  Config config;           // as far as it was resolved
  Evaluation evaluation;
  // The rule file. mda exits right after the run: its main releases this instead of
  // freeing it (freeing a 1000-rule file took 4M of a delivery's 25M instructions).
  std::unique_ptr<LoadedRules> rules;
  std::vector<Delivery> deliveries;
  bool duplicate = false;       // suppressed: delivered before
  int64_t first_delivered = 0;  // ... at this time
  Outcome outcome = Outcome::kDeferred;
  std::string reason;          // for the log: why deferred or rejected
  std::optional<size_t> size;  // the message's size, once read
};

// Runs mda on the message readable from `input`. Never throws for an expected failure;
// main() still catches anything (a bug) and exits 75.
RunResult RunMda(const Options& options, FileSystem& fs, const Environment& env, int input,
                 const Identity& identity, Processes& processes = PosixProcesses());

}  // namespace mda
