// Pipeline: one run of mda from its command line to its exit code.
#include "mda/pipeline.h"


namespace mda {
namespace {

RunResult Fail(RunResult result, const Status& status) {
  result.exit_code = kExitTempFail;
  result.diagnostic = status.message() + " (exit 75: Exim keeps the message and retries)";
  return result;
}

}  // namespace

Status Decide(const Options& options, const Environment& env,
              const std::optional<Account>& account, const Message& message, Envelope* envelope,
              rules::Decision* decision) {
  Status s = ResolveEnvelope(options, env, account, message.from_line(), envelope);
  if (!s.ok()) return s;
  // The rule language arrives in step 2; until then no rule decides.
  *decision = rules::Decision::Default(envelope->folder);
  return Status::Ok();
}

RunResult RunMda(const Options& options, FileSystem& fs, const Environment& env, int input,
                 const Identity& identity) {
  RunResult result;
  if (identity.uid == 0 || identity.euid == 0) {
    return Fail(std::move(result),
                Status::BadInput("refusing to run as root: mda delivers as the mailbox owner "
                                 "(set user or check_local_user on the Exim transport/router)"));
  }

  Message message;
  Status s = Message::Read(fs, input, "the message on standard input", &message);
  if (!s.ok()) return Fail(std::move(result), s);

  s = Decide(options, env, LookUpAccount(identity.uid), message, &result.envelope,
             &result.decision);
  if (!s.ok()) return Fail(std::move(result), s);

  Maildir maildir(fs, result.envelope.maildir);
  for (const std::string& folder : result.decision.folders) {
    Delivery delivery;
    s = maildir.Deliver(folder, message.content(), &delivery);
    if (!s.ok()) return Fail(std::move(result), s);
    result.deliveries.push_back(std::move(delivery));
  }
  result.exit_code = kExitDelivered;
  return result;
}

}  // namespace mda
