// Pipeline: one run of mda from its command line to its exit code, as DESIGN.md's data flow:
// message, envelope, decision, Maildir delivery of each target, exit code.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "mda/envelope.h"
#include "mda/fs.h"
#include "mda/maildir.h"
#include "mda/message.h"
#include "mda/options.h"
#include "rules/decision.h"

namespace mda {

// Exit codes Exim understands (DESIGN.md, "Exit codes of mda").
constexpr int kExitDelivered = 0;
constexpr int kExitTempFail = 75;  // EX_TEMPFAIL: Exim keeps the message and retries

// What the process runs as; a parameter so tests can play root.
struct Identity {
  uid_t uid;
  uid_t euid;
};

struct RunResult {
  int exit_code = kExitTempFail;
  std::string diagnostic;  // one line for stderr when not delivered; empty otherwise
  Envelope envelope;
  rules::Decision decision;
  std::vector<Delivery> deliveries;
};

// The shared front half of mda and mdatest: the envelope and the decision for one message.
// mdatest stops here (a dry run); mda goes on to deliver.
Status Decide(const Options& options, const Environment& env,
              const std::optional<Account>& account, const Message& message, Envelope* envelope,
              rules::Decision* decision);

// Runs mda on the message readable from `input`. Never throws for an expected failure;
// main() still catches anything (a bug) and exits 75.
RunResult RunMda(const Options& options, FileSystem& fs, const Environment& env, int input,
                 const Identity& identity);

}  // namespace mda
