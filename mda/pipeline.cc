// Pipeline: one run of mda from its command line to its exit code.
// Over 400 lines on purpose: the run reads top to bottom, one stage after another.
#include "mda/pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>

#include "base/ascii.h"
#include "mda/duplicate_store.h"
#include "mda/folder.h"
#include "mda/outgoing.h"
#include "mda/quota.h"
#include "mda/rule_programs.h"
#include "mda/sha256.h"
#include "mda/trust.h"
#include "rules/address.h"
#include "rules/body_text.h"
#include "rules/evaluator.h"
#include "rules/rfc2047.h"

namespace mda {
namespace {

constexpr size_t kBodyTextLimit = 1024 * 1024;  // what a `body` test searches at most

// The duplicate store's marks of one delivery attempt. Exim runs mda again with the same
// queue id only when it did not see the earlier run succeed. A retry trusts only the marks
// of an earlier run of that queue id that read the same size: one that read another size
// (Exim's writer died part-way and mda stored a prefix) says nothing about this message,
// and all of it is delivered again; one that read the same size stands (its folders are not
// copied again, and if it finished, this is a duplicate). A first run of a queue id is a
// duplicate when any delivery of the key finished ("*"). Without a queue id (mda run by
// hand): the folder names and "*". The added marks contain a control character, which no
// folder name has.
class AttemptMarks {
 public:
  AttemptMarks(const std::string& queue_id, size_t size)
      : retry_(queue_id.empty() ? "" : "\x01q:" + queue_id),
        sized_(queue_id.empty() ? "" : "\x01" + queue_id + ":" + std::to_string(size)) {}
  bool by_queue_id() const { return !retry_.empty(); }
  // A target's mark (TargetMark) for this attempt.
  std::string Folder(const std::string& mark) const { return mark + sized_; }
  // What a claim asks for: each target's mark, and the run's own.
  std::vector<std::string> Asked(const std::vector<std::string>& targets) const {
    std::vector<std::string> asked;
    for (const std::string& f : targets) asked.push_back(Folder(f));
    if (by_queue_id()) asked.insert(asked.end(), {retry_, Done()});
    return asked;
  }
  // What the marks found mean: whether the delivery is done, and which folders are.
  bool Complete(const DuplicateStore::Lookup& found) const {
    return by_queue_id() && found.targets.count(retry_) ? found.targets.count(Done()) > 0
                                                        : found.complete;
  }
  // An earlier run of this queue id marked what it did, and none of it is for this size.
  bool OtherSizeBefore(const DuplicateStore::Lookup& found,
                       const std::vector<std::string>& folders) const {
    if (!by_queue_id() || !found.targets.count(retry_) || found.targets.count(Done())) return false;
    for (const std::string& f : folders) {
      if (found.targets.count(Folder(f))) return false;
    }
    return true;
  }
  // The marks once the `index`th target (its TargetMark `mark`) is in place (or the INBOX
  // copy that stands in for a failed program); `last`: the delivery is complete.
  std::vector<std::string> After(const std::string* mark, size_t index, bool last) const {
    std::vector<std::string> marks;
    if (mark != nullptr) marks.push_back(Folder(*mark));
    if (index == 0 && by_queue_id()) marks.push_back(retry_);
    if (last) marks.push_back(DuplicateStore::kComplete);
    if (last && by_queue_id()) marks.push_back(Done());
    return marks;
  }

 private:
  std::string Done() const {
    return "\x01"
           "done" +
           sized_;
  }
  std::string retry_, sized_;
};

RunResult Fail(RunResult result, const Status& status) {
  result.exit_code = kExitTempFail;
  result.diagnostic = status.message() + " (exit 75: Exim keeps the message and retries)";
  result.outcome = Outcome::kDeferred;
  result.reason = status.message();
  return result;
}

// The message with the rules' add-header lines on top, in the message's own line ending.
std::string WithAddedHeaders(std::string_view content, const std::vector<std::string>& headers) {
  size_t nl = content.find('\n');
  const char* eol =
      (nl != std::string_view::npos && nl > 0 && content[nl - 1] == '\r') ? "\r\n" : "\n";
  std::string out;
  for (const std::string& h : headers) out += h + eol;
  out += content;
  return out;
}

}  // namespace

void Identify(const rules::HeaderBlock& headers, Evaluation* out) {
  if (auto ids = headers.Find("Message-ID"); !ids.empty()) out->message_id = ids[0]->value;
  if (auto subjects = headers.Find("Subject"); !subjects.empty())
    out->subject = rules::DecodeRfc2047(subjects[0]->value);
}

std::string TargetMark(const rules::Target& target) {
  if (target.is_folder()) return target.folder;
  if (target.is_forward()) {
    std::string address = target.forward;
    for (char& c : address) c = LowerAscii(c);
    return "\x01fwd:" + address;
  }
  std::string argv;
  for (const std::string& a : target.program) argv += a + '\0';
  return "\x01pipe:" + Sha256Hex(argv).substr(0, 32);
}

void Decide(const Config& config, const Message& message, const rules::HeaderBlock& headers,
            bool trace, Evaluation* out, Processes* processes) {
  static const rules::RuleSet kNoRules;
  const rules::RuleSet& rules = config.rules != nullptr ? *config.rules : kNoRules;
  const Envelope& e = config.envelope;
  rules::MessageContext context;
  context.content = message.content();
  context.headers = &headers;
  context.sender = e.sender;
  context.recipient = e.recipient;
  context.local_part = e.local_part;
  context.domain = e.domain;
  context.local_part_prefix = e.local_part_prefix;
  context.local_part_suffix = e.local_part_suffix;
  context.home = e.home;
  // set max-size: a bigger message is sorted without reading its body (its text is empty
  // to `body` tests); `size > ...` tests still see its size.
  size_t body_skipped = 0;  // the size of a message whose body was not read
  context.body_text = [&config, &body_skipped](std::string_view content) {
    if (config.max_size && content.size() > *config.max_size) {
      body_skipped = content.size();
      return std::string();
    }
    return rules::BodyText(content, kBodyTextLimit);
  };
  if (processes != nullptr) {
    context.filter = [processes, &config](const std::vector<std::string>& program,
                                          std::string_view content, std::string* result) {
      return RunFilter(*processes, config, program, content, result);
    };
  }
  out->decision = rules::Evaluate(rules, context, e.folder, trace);
  if (body_skipped != 0) {
    out->warnings.push_back("message of " + std::to_string(body_skipped) +
                            " bytes is over max-size " + rules.settings.at("max-size").value +
                            ": body tests saw no text (raise max-size to let them read it)");
  }
  for (std::string& w : out->decision.warnings) out->warnings.push_back(std::move(w));
  out->decision.warnings.clear();
  for (const rules::FilterStep& f : out->decision.filters) {
    if (!f.replaced && processes != nullptr) {
      out->warnings.push_back("rule " + f.rule + ": filter " +
                              rules::ShowProgram(f.program).substr(2) + ": " + f.result);
    }
  }

  // A folder name the rules produced (captures included) that is refused goes to INBOX.
  // Folders are merged by the directory they name, not by spelling: `copy $1` with a
  // sender's "inbox" is INBOX, and "Lists/a.b" is "Lists/a/b" (Maildir++ separates with
  // '.'), so neither makes a second copy in one folder. The first spelling is kept.
  std::vector<rules::Target> checked;
  std::vector<std::string> directories;
  size_t forwards = 0;
  bool dropped_forwards = false;
  for (rules::Target& target : out->decision.targets) {
    if (target.is_forward() && ++forwards > kMaxForwardTargets) {
      dropped_forwards = true;
      continue;
    }
    if (!target.is_folder()) {
      checked.push_back(std::move(target));  // the same program twice: merged by Evaluate
      continue;
    }
    std::string& folder = target.folder;
    std::string dir;
    Status f = FolderDirectory(folder, &dir);
    if (!f.ok()) {
      out->warnings.push_back("rule " + out->decision.rule + ": " + f.message() +
                              "; delivered to INBOX instead");
      folder = "INBOX";
      dir.clear();
    }
    if (dir.empty()) folder = "INBOX";
    bool duplicate = false;
    for (const std::string& d : directories) duplicate = duplicate || d == dir;
    if (!duplicate) {
      checked.push_back(std::move(target));
      directories.push_back(std::move(dir));
    }
  }
  if (dropped_forwards) {
    // A message is forwarded to at most kMaxForwardTargets addresses: the rest get nothing,
    // and the message is kept in INBOX so that nothing meant for them is lost.
    out->warnings.push_back(
        "rule " + out->decision.rule + ": more than " + std::to_string(kMaxForwardTargets) +
        " forward addresses (" + std::to_string(forwards) + "): only the first " +
        std::to_string(kMaxForwardTargets) + " are sent, and the message is kept in INBOX");
    bool inbox = false;
    for (const rules::Target& t : checked) inbox = inbox || (t.is_folder() && t.folder == "INBOX");
    if (!inbox) checked.push_back(rules::Target{"INBOX", {}, "", ""});
  }
  out->decision.targets = std::move(checked);
}

std::optional<std::string> DuplicateKey(const Config& config, const rules::HeaderBlock& headers,
                                        const std::string& message_id) {
  if (!config.dedup.enabled()) return std::nullopt;
  std::string from;
  if (auto froms = headers.Find("From"); !froms.empty()) {
    std::vector<std::string> addresses = rules::ParseAddresses(froms[0]->value);
    if (!addresses.empty()) from = std::move(addresses[0]);
  }
  return DedupKey(message_id, from, config.envelope.recipient, config.dedup.case_sensitive);
}

Status DryRun::Open(FileSystem& fs, const Options& options, const Environment& env,
                    const std::optional<Account>& account, uid_t uid,
                    const std::string& rules_path) {
  fs_ = &fs;
  Status s = ResolveConfig(options, env, account, &config_);
  if (!s.ok()) return s;
  std::string path = rules_path.empty() ? config_.envelope.rules : rules_path;
  loaded_ = std::make_unique<LoadedRules>();
  *loaded_ = LoadRules(fs, path, uid, config_.envelope.home, options.site_dir.value_or(kSiteDir));
  applied_ = ApplyRules(fs, options, *loaded_, &config_, &warnings_);
  default_recipient_ = config_.envelope.recipient;
  return Status::Ok();
}

namespace {

// The envelope of a saved message, as far as the headers that delivery added say it
// (Exim's Return-path: and Envelope-to:, Delivered-To: of Dovecot and Postfix), or an mbox
// From_ line; the command line and the environment win. Says where each part came from.
void SavedEnvelope(const rules::HeaderBlock& headers, std::string_view from_line,
                   const std::string& default_recipient, Envelope* e,
                   std::vector<std::string>* said) {
  auto shown = [](const std::string& a) { return a.empty() ? std::string("<>") : a; };
  if (!e->sender_given) {
    if (std::vector<const rules::HeaderField*> rp = headers.Find("Return-Path"); !rp.empty()) {
      e->sender = AddressOfReturnPath(rp[0]->value);
      said->push_back("sender " + shown(e->sender) + " (Return-Path:)");
    } else if (!from_line.empty()) {
      e->sender = SenderOfFromLine(from_line);
      said->push_back("sender " + shown(e->sender) + " (the From_ line)");
    } else if (std::vector<const rules::HeaderField*> from = headers.Find("From"); !from.empty()) {
      // Without either, the message is not a bounce for all we know: its author stands in.
      std::vector<std::string> authors = rules::ParseAddresses(from[0]->value);
      e->sender = authors.empty() ? "" : authors[0];
      said->push_back("sender " + shown(e->sender) +
                      " (From:, as no Return-Path: says it; give --sender)");
    } else {
      e->sender.clear();
      said->push_back("sender <> (nothing says it; give --sender)");
    }
  }
  if (!e->recipient_given) {
    e->recipient = default_recipient;
    for (const char* name : {"Delivered-To", "Envelope-To"}) {
      std::vector<const rules::HeaderField*> found = headers.Find(name);
      if (found.empty()) continue;
      std::string value = found[0]->value.substr(0, found[0]->value.find(','));
      value = AddressOfReturnPath(value);
      if (value.empty()) continue;
      e->recipient = value;
      said->push_back("recipient " + value + " (" + name + ":)");
      break;
    }
  }
}

}  // namespace

Status DryRun::Decide(const Message& message, bool trace, Evaluation* out,
                      std::optional<std::string>* key) {
  if (!applied_.ok()) return applied_;
  rules::HeaderBlock headers(message.content());
  // The only per-message part of the config: the envelope the message says it had.
  SavedEnvelope(headers, message.from_line(), default_recipient_, &config_.envelope,
                &out->envelope);
  Identify(headers, out);
  out->warnings = warnings_;
  mda::Decide(config_, message, headers, trace, out, processes_);
  for (const rules::Target& t : out->decision.targets) {
    if (!t.is_forward()) continue;
    std::string loop = ForwardLoop(config_, headers, t.forward);
    out->forwards.push_back(loop.empty() ? "would forward to " + t.forward
                                         : "would not forward to " + t.forward + ": " +
                                               loop.substr(loop.find(": ") + 2));
  }
  if (out->decision.vacation && out->decision.outcome != rules::Outcome::kReject &&
      out->decision.outcome != rules::Outcome::kDefer) {
    out->vacation = PreviewVacation(*fs_, config_, headers, *out->decision.vacation, time(nullptr));
  }
  if (key != nullptr) *key = DuplicateKey(config_, headers, out->message_id);
  return Status::Ok();
}

namespace {

RunResult RunUnlogged(const Options& options, FileSystem& fs, const Environment& env, int input,
                      const Identity& identity, Processes& processes) {
  RunResult result;
  if (identity.uid == 0 || identity.euid == 0) {
    return Fail(std::move(result),
                Status::BadInput("refusing to run as root: mda delivers as the mailbox owner "
                                 "(set user or check_local_user on the Exim transport/router)"));
  }
  // Read, and the configuration that needs no rule file (the log of a failure needs it).
  Config& config = result.config;
  std::optional<Account> account;
  if (NeedsAccount(options, env)) account = LookUpAccount(identity.uid);
  Status s = ResolveConfig(options, env, account, &config);
  if (!s.ok()) return Fail(std::move(result), s);
  Message message;
  s = Message::Read(fs, input, "the message on standard input", &message);
  if (!s.ok()) return Fail(std::move(result), s);
  result.size = message.content().size();
  UseFromLine(message.from_line(), &config);
  rules::HeaderBlock headers(message.content());
  Evaluation& e = result.evaluation;
  Identify(headers, &e);

  // The rule file and its settings.
  result.rules = std::make_unique<LoadedRules>();
  *result.rules = LoadRules(fs, config.envelope.rules, identity.uid, config.envelope.home,
                            options.site_dir.value_or(kSiteDir));
  s = ApplyRules(fs, options, *result.rules, &config, &e.warnings);
  if (!s.ok()) return Fail(std::move(result), s);

  // Decide.
  Decide(config, message, headers, /*trace=*/false, &e, &processes);
  const rules::Decision& d = e.decision;
  if (d.outcome == rules::Outcome::kDefer) {
    // Nothing is delivered, copies included: Exim will run us again.
    result.exit_code = kExitTempFail;
    result.diagnostic = "deferred by rule " + d.rule + ": " + d.reason;
    result.outcome = Outcome::kDeferred;
    result.reason = d.reason;
    return result;
  }
  std::string with_headers;
  std::string_view content = d.message ? std::string_view(*d.message) : message.content();
  if (!d.add_headers.empty()) {
    with_headers = WithAddedHeaders(content, d.add_headers);
    content = with_headers;
  }

  // Claim: the key is held across look-up, delivery and marks; only what succeeded is marked.
  std::optional<std::string> key = DuplicateKey(config, headers, e.message_id);
  int64_t now = time(nullptr);
  int64_t cutoff = now - config.dedup.period;
  std::unique_ptr<DuplicateStore> store;
  DuplicateStore::Lookup done;
  if (key) {
    std::string untrusted;
    s = OpenForDelivery(fs, config.dedup, config.envelope.home, identity.uid, &store, &untrusted);
    if (!s.ok()) return Fail(std::move(result), s);
    if (!untrusted.empty()) e.warnings.push_back(std::move(untrusted));
  }
  AttemptMarks marks(config.envelope.queue_id, message.content().size());
  std::vector<std::string> target_marks;
  for (const rules::Target& t : d.targets) target_marks.push_back(TargetMark(t));
  if (store) {
    s = store->Claim(*key, marks.Asked(target_marks), cutoff, &done);
    for (std::string& w : store->TakeWarnings()) e.warnings.push_back(std::move(w));
    if (!s.ok() && store->unreachable() && config.dedup.deliver_unchecked) {
      // dedup-unreachable = deliver: the site chose a possible duplicate over a delay.
      e.warnings.push_back(s.message() +
                           "; delivered without the duplicate check (dedup-unreachable = deliver)");
      store.reset();
      done = DuplicateStore::Lookup();
    } else if (!s.ok()) {
      return Fail(std::move(result), s);
    } else if (marks.OtherSizeBefore(done, target_marks)) {
      e.warnings.push_back(
          "an earlier run of queue id " + config.envelope.queue_id +
          " read a message of another size (cut short?); all of it is delivered again");
    } else if (marks.Complete(done)) {
      result.duplicate = true;
      result.first_delivered = done.first_delivered;
      result.outcome = Outcome::kDuplicate;
      result.exit_code = kExitDelivered;
      return result;  // the store's destructor ends the claim
    }
  }

  // Maildir++ quota: every copy still to store must fit, or none is stored.
  uint64_t copies = 0;
  for (size_t i = 0; i < d.targets.size(); ++i)
    copies += d.targets[i].is_folder() && !done.targets.count(marks.Folder(target_marks[i]));
  QuotaCheck quota;
  if (copies > 0) {
    s = CheckQuota(fs, config.envelope.maildir, copies * content.size(), copies, now, &quota);
    if (!s.ok()) return Fail(std::move(result), s);
    if (!quota.warning.empty()) e.warnings.push_back(quota.warning);
    if (quota.over) {
      std::string why = quota.Describe(copies * content.size(), copies);
      if (!config.quota_reject) return Fail(std::move(result), Status::Temporary(why));
      result.exit_code = kExitRejected;
      result.output = why;
      result.outcome = Outcome::kRejected;
      result.reason = why;
      return result;
    }
  }

  // Deliver to each target, and mark it once it is in place.
  Maildir maildir(fs, config.envelope.maildir, config.subscribe);
  bool inbox_targeted = false;  // an INBOX copy is due anyway: a failed program needs no other
  for (const rules::Target& t : d.targets) inbox_targeted = inbox_targeted || t.folder == "INBOX";
  auto deliver = [&](const std::string& folder) -> Status {
    Delivery delivery;
    Status f = maildir.Deliver(folder, content, &delivery, d.flags);
    if (!f.ok()) return f;
    delivery.folder = folder;
    for (std::string& w : delivery.warnings) e.warnings.push_back(std::move(w));
    result.deliveries.push_back(std::move(delivery));
    return Status::Ok();
  };
  bool kept_in_inbox = false, fell_back = false;
  std::string forwarded;  // the message with the forward's trace header, made once
  for (size_t i = 0; i < d.targets.size(); ++i) {
    const rules::Target& target = d.targets[i];
    bool last = i + 1 == d.targets.size();
    // A target already marked: an earlier, partly failed run of this attempt did it.
    if (done.targets.count(marks.Folder(target_marks[i]))) {
    } else if (target.is_folder()) {
      if (s = deliver(target.folder); !s.ok()) return Fail(std::move(result), s);
    } else if (target.is_forward() && !ForwardLoop(config, headers, target.forward).empty()) {
      // Not sent, and never will be for this message: marked like a delivery.
      e.warnings.push_back("rule " + target.rule + ": " +
                           ForwardLoop(config, headers, target.forward));
    } else {
      // A program (pipe) or sendmail (forward): the same verdicts.
      ProgramCall call;
      std::string shown, what;
      if (target.is_forward()) {
        if (forwarded.empty()) forwarded = ForwardedMessage(content, config.envelope.recipient);
        call = SendmailCall(config, ForwardSender(config), {target.forward}, forwarded);
        shown = "forward " + target.forward;
        what = "rule " + target.rule + ": forward to " + target.forward + ": " +
               config.mail_out.sendmail + " ";
      } else {
        call = MakeProgramCall(config, target.program, content);
        shown = rules::ShowProgram(target.program);
        what = "rule " + target.rule + ": program " + shown.substr(2) + " ";
      }
      ProgramResult r = RunProgram(processes, call);
      std::string said = r.FirstLines();
      what +=
          r.Describe(config.programs.timeout_ms) + (said.empty() ? "" : " (it said: " + said + ")");
      bool defer = target.is_program() && config.programs.defer_on_failure;
      if (r.ok()) {
        // Its exit status is its verdict, whatever it read: a program may want only the
        // header (Exim's ignore_epipe).
        Delivery delivery;
        delivery.folder = shown;
        delivery.name = target.is_forward() ? "sent" : "exit 0";
        result.deliveries.push_back(std::move(delivery));
      } else if (r.temporary() || defer) {
        // Exim runs us again; what was delivered before is marked and is not done again.
        return Fail(std::move(result),
                    Status::Temporary(what + (r.temporary() ? "" : " (pipe-failure = defer)")));
      } else {
        // Its failure is not the message's: it is kept (never a bounce), in INBOX unless a
        // copy goes there anyway. The target is marked with its stand-in, so a retry of
        // this attempt neither runs it again nor makes a second INBOX copy.
        e.warnings.push_back(what + "; the message is kept in INBOX" +
                             (target.is_program() ? " (set pipe-failure = defer to have Exim "
                                                    "retry instead)"
                                                  : ""));
        if (!inbox_targeted && !kept_in_inbox) {
          if (s = deliver("INBOX"); !s.ok()) return Fail(std::move(result), s);
          kept_in_inbox = true;
        }
        fell_back = true;
      }
    }
    if (store) {
      // The copy is in place: a failure to mark is only a warning (failing now would make
      // Exim deliver it again). The last target and the whole delivery: one transaction.
      if (Status m = store->Mark(*key, marks.After(&target_marks[i], i, last), now, cutoff, last);
          !m.ok()) {
        e.warnings.push_back(m.message());
      }
    }
  }
  if (store) {
    if (d.targets.empty()) {  // discarded or rejected without copies
      if (Status m =
              store->Mark(*key, marks.After(nullptr, 0, /*last=*/true), now, cutoff, /*last=*/true);
          !m.ok()) {
        e.warnings.push_back(m.message());
      }
    }
    for (std::string& w : store->TakeWarnings()) e.warnings.push_back(std::move(w));
  }
  if (quota.present) {
    uint64_t stored = 0;
    for (const Delivery& delivery : result.deliveries) stored += !delivery.folder_path.empty();
    if (stored > 0) {
      if (Status q = AddToQuota(fs, config.envelope.maildir, stored * content.size(), stored);
          !q.ok())
        e.warnings.push_back(q.message() +
                             " (the message is in place; the quota is counted afresh " +
                             "when maildirsize is)");
    }
  }
  // The message is in place: now, and only now, the vacation reply (which never fails the
  // delivery, and is not sent for a message that is rejected or is a duplicate).
  if (d.vacation && d.outcome != rules::Outcome::kReject) {
    e.vacation =
        SendVacation(fs, processes, config, headers, *d.vacation, identity.uid, now, &e.warnings);
  }
  if (d.outcome == rules::Outcome::kReject) {
    result.exit_code = kExitRejected;
    result.output = d.reason.empty() ? "message rejected by the recipient's rules" : d.reason;
    result.outcome = Outcome::kRejected;
    result.reason = result.output;
    return result;
  }
  result.exit_code = kExitDelivered;
  if (d.outcome == rules::Outcome::kDiscard) {
    result.outcome = Outcome::kDiscarded;
  } else if (fell_back) {  // a program failed: the message is in INBOX instead
    result.outcome = Outcome::kFallback;
  } else {
    result.outcome =
        config.rules_found && !config.rules_used ? Outcome::kFallback : Outcome::kDelivered;
  }
  return result;
}

// The processing log: the warnings, then one line for the message.
void WriteProcessingLog(FileSystem& fs, const Options& options, uid_t uid, RunResult* result_ptr,
                        double duration_ms) {
  RunResult& result = *result_ptr;
  const Evaluation& e = result.evaluation;
  const Envelope& envelope = result.config.envelope;
  const LogSettings& settings = result.config.log;
  LogConfig config;
  config.path = settings.path;
  config.json = settings.json;
  config.syslog = settings.syslog;
  config.warnings_syslog = settings.warnings_syslog;
  config.syslog_socket = options.syslog_socket.value_or(kSyslogSocket);
  // The user a warning's syslog line names: Exim's LOCAL_PART (the login name for a local
  // user; the passwd lookup is not worth a process), and the uid, which cannot be mistaken.
  config.user = (envelope.local_part.empty() ? std::string() : envelope.local_part + " ") +
                "uid=" + std::to_string(uid);
  if (settings.path_is_default) {
    // ~/.mda may not exist yet (no rule file, no duplicate store): make it. No home at
    // all (a system user): there is nowhere to log, and saying so on every delivery helps
    // nobody.
    std::string dir = config.path.substr(0, config.path.rfind('/'));
    if (fs.MkdirAt(AT_FDCWD, dir.c_str(), 0700) != 0 && errno == ENOENT) config.path.clear();
  }
  if (!config.path.empty()) {
    // A log where others could write is not written: it could be a planted link or FIFO,
    // and its lines could be forged. The reason goes to standard error instead, which Exim
    // logs when the transport sets log_output (and syslog, if set, still gets the records).
    size_t slash = config.path.rfind('/');
    std::string dir = slash == 0 ? "/" : config.path.substr(0, slash);
    if (std::string why = UntrustedPlace(fs, dir, {config.path.substr(slash + 1)}, uid);
        !why.empty()) {
      if (!result.diagnostic.empty()) result.diagnostic += "\nmda: ";
      result.diagnostic += "log " + config.path + " not written: " + why;
      for (const std::string& w : e.warnings) result.diagnostic += "\nmda: warning: " + w;
      config.path.clear();
    }
  }
  if (config.path.empty() && config.syslog.empty() &&
      (config.warnings_syslog.empty() || e.warnings.empty()))
    return;
  std::string now = Rfc3339Now(settings.local_time);
  auto record = [&](const char* level) {
    LogRecord r;
    r.time = now;
    r.level = level;
    r.queue_id = envelope.queue_id;
    r.message_id = e.message_id;
    r.recipient = envelope.recipient;
    return r;
  };
  std::vector<LogRecord> records;
  for (const std::string& w : e.warnings) {
    records.push_back(record("warning"));
    records.back().reason = w;
  }
  LogRecord r = record("info");
  r.outcome = result.outcome;
  r.sender = envelope.sender;
  r.subject = e.subject;
  if (result.size) r.size = static_cast<int64_t>(*result.size);
  r.rule = e.decision.rule;
  for (const Delivery& d : result.deliveries)  // a program's: its name and "exit 0"
    r.destinations.emplace_back(d.folder, d.folder_path.empty() ? d.name : d.path());
  if (result.duplicate) r.first_delivered = Rfc3339(result.first_delivered, 0, settings.local_time);
  r.reason = result.reason;
  r.vacation = e.vacation;
  r.duration_ms = duration_ms;
  records.push_back(std::move(r));
  Status s = WriteLog(fs, config, records);
  if (!s.ok()) {
    // Never fails the delivery; Exim can log this line (log_output, log_defer_output).
    if (!result.diagnostic.empty()) result.diagnostic += "\nmda: ";
    result.diagnostic += s.message();
  }
}

}  // namespace

RunResult RunMda(const Options& options, FileSystem& fs, const Environment& env, int input,
                 const Identity& identity, Processes& processes) {
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  RunResult result = RunUnlogged(options, fs, env, input, identity, processes);
  clock_gettime(CLOCK_MONOTONIC, &end);
  double ms = static_cast<double>(end.tv_sec - start.tv_sec) * 1e3 +
              static_cast<double>(end.tv_nsec - start.tv_nsec) / 1e6;
  WriteProcessingLog(fs, options, identity.uid, &result, ms);
  return result;
}

}  // namespace mda
