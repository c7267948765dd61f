// Pipeline: one run of mda from its command line to its exit code.
#include "mda/pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mda/dedup.h"
#include "mda/duplicates.h"
#include "mda/folder.h"
#include "mda/log.h"
#include "mda/rule_file.h"
#include "mda/trust.h"
#include "rules/address.h"
#include "rules/body_text.h"
#include "rules/evaluator.h"
#include "rules/header_block.h"
#include "rules/parser.h"
#include "rules/rfc2047.h"

namespace mda {
namespace {

constexpr size_t kBodyTextLimit = 1024 * 1024;  // what a `body` test searches at most
constexpr int64_t kDefaultDedupPeriod = 7 * 86400;

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
  std::string Folder(const std::string& folder) const { return folder + sized_; }
  // What a claim asks for: each folder's mark, and the run's own.
  std::vector<std::string> Asked(const std::vector<std::string>& folders) const {
    std::vector<std::string> asked;
    for (const std::string& f : folders) asked.push_back(Folder(f));
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
  // The marks once `folder` (the `index`th) is in place; `last`: the delivery is complete.
  std::vector<std::string> After(const std::string* folder, size_t index, bool last) const {
    std::vector<std::string> marks;
    if (folder != nullptr) marks.push_back(Folder(*folder));
    if (index == 0 && by_queue_id()) marks.push_back(retry_);
    if (last) marks.push_back(DedupStore::kComplete);
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
  result.outcome = "deferred";
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

// The processing log: the warnings, then one line for the message.
void WriteProcessingLog(FileSystem& fs, uid_t uid, RunResult* result_ptr, double duration_ms) {
  RunResult& result = *result_ptr;
  const Evaluation& e = result.evaluation;
  LogConfig config{e.log, e.log_json, e.syslog};
  if (e.log_is_default) {
    // ~/.mda may not exist yet (no rule file, no duplicate store): make it. No home at
    // all (a system user): there is nowhere to log, and saying so on every delivery helps
    // nobody.
    std::string dir = e.log.substr(0, e.log.rfind('/'));
    if (mkdir(dir.c_str(), 0700) != 0 && errno == ENOENT) config.path.clear();
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
  if (config.path.empty() && config.syslog.empty()) return;
  std::string now = Rfc3339Now(e.log_local_time);
  std::vector<LogRecord> records;
  for (const std::string& w : e.warnings) {
    LogRecord r;
    r.time = now;
    r.level = "warning";
    r.queue_id = e.envelope.queue_id;
    r.message_id = e.message_id;
    r.recipient = e.envelope.recipient;
    r.reason = w;
    records.push_back(std::move(r));
  }
  LogRecord r;
  r.time = now;
  r.level = "info";
  r.outcome = result.outcome;
  r.queue_id = e.envelope.queue_id;
  r.message_id = e.message_id;
  r.sender = e.envelope.sender;
  r.recipient = e.envelope.recipient;
  r.subject = e.subject;
  if (result.size) r.size = static_cast<int64_t>(*result.size);
  r.rule = e.decision.rule;
  for (const Delivery& d : result.deliveries) r.destinations.emplace_back(d.folder, d.path());
  if (result.duplicate) {
    struct timespec ts = {static_cast<time_t>(result.first_delivered), 0};
    r.first_delivered = Rfc3339(ts.tv_sec, 0, e.log_local_time);
  }
  r.reason = result.reason;
  r.duration_ms = duration_ms;
  records.push_back(std::move(r));
  Status s = WriteLog(fs, config, records);
  if (!s.ok()) {
    // Never fails the delivery; Exim can log this line (log_output, log_defer_output).
    if (!result.diagnostic.empty()) result.diagnostic += "\nmda: ";
    result.diagnostic += s.message();
  }
}

// The rule file's paths that a delivery needs, checked before they are used: one that can
// never work (a Maildir whose directory does not exist, a password file that is not there)
// makes the rule file unusable, so the mail goes to INBOX now instead of being deferred
// until Exim gives up. kTemporary: an I/O error, worth a retry.
Status CheckPaths(FileSystem& fs, const Options& options, const rules::RuleSet& rules,
                  const std::string& home) {
  auto setting = [&rules](const char* name) -> const std::string* {
    auto it = rules.settings.find(name);
    return it == rules.settings.end() ? nullptr : &it->second.value;
  };
  auto at = [&rules](const char* name) {
    return rules.Where(rules.settings.at(name).location) + ": ";
  };
  auto permanent = [](int err) {
    return err == ENOENT || err == ENOTDIR || err == EACCES || err == ELOOP;
  };
  if (const std::string* maildir = setting("maildir"); maildir && !options.maildir) {
    std::string path;
    Status s = ExpandPath(*maildir, home, "the maildir setting", &path);
    if (!s.ok()) return Status::BadInput(at("maildir") + s.message());
    struct stat st;
    if (fs.FstatAt(AT_FDCWD, path.c_str(), &st, 0) == 0) {
      if (!S_ISDIR(st.st_mode))
        return Status::BadInput(at("maildir") + path + " is not a directory");
    } else if (errno != ENOENT) {
      if (!permanent(errno)) return Status::Posix("cannot look up the Maildir " + path, errno);
      return Status::BadInput(at("maildir") + Status::Posix("cannot use " + path, errno).message());
    } else {
      // mda makes the Maildir itself, not the directories above it.
      std::string parent = path.substr(0, std::max<size_t>(path.rfind('/'), 1));
      if (fs.FstatAt(AT_FDCWD, parent.c_str(), &st, 0) != 0) {
        if (!permanent(errno)) return Status::Posix("cannot look up " + parent, errno);
        return Status::BadInput(at("maildir") + "the Maildir " + path +
                                " cannot be made: " + Status::Posix(parent, errno).message() +
                                " (create it, or fix the setting)");
      }
      if (!S_ISDIR(st.st_mode)) {
        return Status::BadInput(at("maildir") + "the Maildir " + path +
                                " cannot be made: " + parent + " is not a directory");
      }
    }
  }
  if (const std::string* file = setting("dedup-password-file");
      file && !options.dedup_password_file) {
    std::string path;
    Status s = ExpandPath(*file, home, "the dedup-password-file setting", &path);
    if (!s.ok()) return Status::BadInput(at("dedup-password-file") + s.message());
    int fd = fs.OpenAt(AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
    if (fd < 0) {
      if (!permanent(errno)) return Status::Posix("cannot open dedup-password-file " + path, errno);
      return Status::BadInput(at("dedup-password-file") +
                              Status::Posix("cannot open " + path, errno).message());
    }
    fs.Close(fd);
  }
  return Status::Ok();
}

}  // namespace

LoadedRules LoadRules(FileSystem& fs, const std::string& path, uid_t uid, const std::string& home) {
  LoadedRules loaded;
  loaded.path = path;
  loaded.status = LoadRuleFile(fs, path, uid, home, &loaded.rules, &loaded.found);
  return loaded;
}

Status DedupSettings(const Options& options, const rules::RuleSet& rules, const std::string& home,
                     DedupConfig* out) {
  auto setting = [&rules](const char* name) -> const std::string* {
    auto it = rules.settings.find(name);
    return it == rules.settings.end() ? nullptr : &it->second.value;
  };
  DedupConfig c;
  // On for 7 days unless the rule file says otherwise.
  c.period = kDefaultDedupPeriod;
  if (const std::string* dedup = setting("dedup")) {
    c.period = *dedup == "off"
                   ? 0
                   : static_cast<int64_t>(rules::ParsePeriod(*dedup).value_or(kDefaultDedupPeriod));
  }
  if (const std::string* v = setting("dedup-case")) c.case_sensitive = *v == "sensitive";
  if (const std::string* v = setting("dedup-timeout"))
    c.timeout_ms = rules::ParseTimeoutMs(*v).value_or(c.timeout_ms);
  if (const std::string* v = setting("dedup-unreachable")) c.deliver_unchecked = *v == "deliver";
  const std::string* store = options.dedup_store ? &*options.dedup_store : setting("dedup-store");
  if (store && *store != "file") {
    RedisAddress address;
    Status s = rules::ParseRedisUrl(*store, &address);
    if (!s.ok())
      return Status::BadInput((options.dedup_store ? "--dedup-store: " : "") + s.message());
    c.redis = std::move(address);
  } else if (!home.empty()) {
    c.file = home + "/.mda/" + kDedupStoreName;
  }
  const std::string* password =
      options.dedup_password_file ? &*options.dedup_password_file : setting("dedup-password-file");
  if (password) {
    Status s = ExpandPath(*password, home, "the dedup-password-file setting", &c.password_file);
    if (!s.ok()) return s;
  }
  *out = std::move(c);
  return Status::Ok();
}

Status Decide(const Options& options, const Environment& env, const std::optional<Account>& account,
              uid_t uid, FileSystem& fs, const Message& message, const DecideOptions& how,
              Evaluation* out) {
  Status s = ResolveEnvelope(options, env, account, message.from_line(), &out->envelope);
  if (!s.ok()) return s;
  Envelope& e = out->envelope;
  if (std::string dir; !FolderDirectory(e.folder, &dir).ok()) {
    return Status::BadInput("--folder: " + FolderDirectory(e.folder, &dir).message());
  }

  // Known before the rules load, so that a log line about a failure still names the message.
  rules::HeaderBlock headers(message.content());
  if (auto ids = headers.Find("Message-ID"); !ids.empty()) out->message_id = ids[0]->value;
  if (auto subjects = headers.Find("Subject"); !subjects.empty())
    out->subject = rules::DecodeRfc2047(subjects[0]->value);

  LoadedRules local;
  LoadedRules* own = &local;
  if (how.keep_rules) {
    static LoadedRules* kept = nullptr;  // reachable: not a leak
    delete kept;
    kept = new LoadedRules();
    own = kept;
  }
  const LoadedRules* loaded = how.preloaded;
  if (loaded == nullptr || loaded->path != e.rules) {
    if (!e.rules.empty()) *own = LoadRules(fs, e.rules, uid, e.home);
    loaded = own;
  }
  if (loaded->status.kind() == Status::Kind::kTemporary) return loaded->status;
  out->rules_found = loaded->found;
  static const rules::RuleSet kNoRules;
  Status usable = loaded->status;
  if (usable.ok()) usable = CheckPaths(fs, options, loaded->rules, e.home);
  if (usable.kind() == Status::Kind::kTemporary) return usable;
  const rules::RuleSet& rules = usable.ok() ? loaded->rules : kNoRules;
  if (!usable.ok()) {
    out->warnings.push_back("rule file not used, mail goes to " + e.folder + ": " +
                            usable.message());
  } else {
    out->rules_used = out->rules_found;
  }
  // Settings from the rule file; the command line wins over them.
  auto setting = [&rules](const char* name) -> const std::string* {
    auto it = rules.settings.find(name);
    return it == rules.settings.end() ? nullptr : &it->second.value;
  };
  if (const std::string* maildir = setting("maildir"); maildir && !options.maildir) {
    s = ExpandPath(*maildir, e.home, "the maildir setting", &e.maildir);
    if (!s.ok()) return s;
  }
  if (const std::string* format = setting("log-format")) out->log_json = *format == "json";
  if (const std::string* t = setting("log-time")) out->log_local_time = *t == "local";
  if (const std::string* facility = setting("syslog"))
    out->syslog = *facility == "off" ? "" : *facility;
  const std::string* log = setting("log");
  if (log && *log == "off") {
    out->log.clear();
  } else if (log) {
    if (!ExpandPath(*log, e.home, "the log setting", &out->log).ok()) out->log.clear();
  } else if (!e.home.empty()) {
    out->log = e.home + "/.mda/log";
    out->log_is_default = true;
  }
  out->log_known = true;

  s = DedupSettings(options, rules, e.home, &out->dedup);
  if (!s.ok()) return s;
  if (out->dedup.enabled()) {
    if (auto froms = headers.Find("From"); !froms.empty()) {
      std::vector<std::string> addresses = rules::ParseAddresses(froms[0]->value);
      if (!addresses.empty()) out->from_address = std::move(addresses[0]);
    }
  }

  std::optional<std::string> body;
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
  std::optional<uint64_t> max_size;
  if (const std::string* m = setting("max-size")) max_size = rules::ParseSize(*m);
  bool body_skipped = false;
  context.body_text = [&body, &message, &max_size, &body_skipped]() -> const std::string& {
    if (!body) {
      body_skipped = max_size && message.content().size() > *max_size;
      body = body_skipped ? std::string() : rules::BodyText(message.content(), kBodyTextLimit);
    }
    return *body;
  };
  out->decision = rules::Evaluate(rules, context, e.folder, how.trace);
  if (body_skipped) {
    out->warnings.push_back("message of " + std::to_string(message.content().size()) +
                            " bytes is over max-size " + *setting("max-size") +
                            ": body tests saw no text (raise max-size to let them read it)");
  }
  for (std::string& w : out->decision.warnings) out->warnings.push_back(std::move(w));
  out->decision.warnings.clear();

  // A folder name the rules produced (captures included) that is refused goes to INBOX.
  // Folders are merged by the directory they name, not by spelling: `copy $1` with a
  // sender's "inbox" is INBOX, and "Lists/a.b" is "Lists/a/b" (Maildir++ separates with
  // '.'), so neither makes a second copy in one folder. The first spelling is kept.
  std::vector<std::string> checked, directories;
  for (std::string& folder : out->decision.folders) {
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
      checked.push_back(std::move(folder));
      directories.push_back(std::move(dir));
    }
  }
  out->decision.folders = std::move(checked);

  if (how.lookup_duplicate && out->dedup.enabled()) {
    std::optional<std::string> key =
        DedupKey(out->message_id, out->from_address, e.recipient, out->dedup.case_sensitive);
    std::unique_ptr<DuplicateStore> own_store;
    DuplicateStore* store = how.store;
    if (key && store == nullptr && OpenForReading(fs, out->dedup, &own_store).ok())
      store = own_store.get();
    DuplicateStore::Lookup found;
    int64_t cutoff = time(nullptr) - out->dedup.period;
    if (key && store != nullptr && store->Find(*key, {}, cutoff, &found).ok() && found.complete) {
      out->duplicate_of = found.first_delivered;
    }
  }
  return Status::Ok();
}

namespace {

RunResult RunUnlogged(const Options& options, FileSystem& fs, const Environment& env, int input,
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
  result.size = message.content().size();

  Evaluation& e = result.evaluation;
  std::optional<Account> account;
  if (NeedsAccount(options, env)) account = LookUpAccount(identity.uid);
  DecideOptions how;
  how.keep_rules = true;
  s = Decide(options, env, account, identity.uid, fs, message, how, &e);
  if (!s.ok()) return Fail(std::move(result), s);
  const rules::Decision& d = e.decision;

  if (d.outcome == rules::Outcome::kDefer) {
    // Nothing is delivered, copies included: Exim will run us again.
    result.exit_code = kExitTempFail;
    result.diagnostic = "deferred by rule " + d.rule + ": " + d.reason;
    result.outcome = "deferred";
    result.reason = d.reason;
    return result;
  }

  std::string with_headers;
  std::string_view content = message.content();
  if (!d.add_headers.empty()) {
    with_headers = WithAddedHeaders(content, d.add_headers);
    content = with_headers;
  }

  // Duplicates: claim the key across look-up, delivery and marks; mark only what succeeded.
  std::optional<std::string> key;
  if (e.dedup.enabled())
    key = DedupKey(e.message_id, e.from_address, e.envelope.recipient, e.dedup.case_sensitive);
  int64_t now = time(nullptr);
  int64_t cutoff = now - e.dedup.period;
  std::unique_ptr<DuplicateStore> store;
  DuplicateStore::Lookup done;
  if (key) {
    std::string untrusted;
    s = OpenForDelivery(fs, e.dedup, e.envelope.home, identity.uid, &store, &untrusted);
    if (!s.ok()) return Fail(std::move(result), s);
    if (!untrusted.empty()) e.warnings.push_back(std::move(untrusted));
  }
  AttemptMarks marks(e.envelope.queue_id, message.content().size());
  if (store) {
    s = store->Claim(*key, marks.Asked(d.folders), cutoff, &done);
    for (std::string& w : store->TakeWarnings()) e.warnings.push_back(std::move(w));
    if (!s.ok() && store->unreachable() && e.dedup.deliver_unchecked) {
      // dedup-unreachable = deliver: the site chose a possible duplicate over a delay.
      e.warnings.push_back(s.message() +
                           "; delivered without the duplicate check (dedup-unreachable = deliver)");
      store.reset();
      done = DuplicateStore::Lookup();
    } else if (!s.ok()) {
      return Fail(std::move(result), s);
    } else if (marks.OtherSizeBefore(done, d.folders)) {
      e.warnings.push_back(
          "an earlier run of queue id " + e.envelope.queue_id +
          " read a message of another size (cut short?); all of it is delivered again");
    } else if (marks.Complete(done)) {
      result.duplicate = true;
      result.first_delivered = done.first_delivered;
      result.outcome = "duplicate";
      result.exit_code = kExitDelivered;
      return result;  // the store's destructor ends the claim
    }
  }

  Maildir maildir(fs, e.envelope.maildir);
  for (size_t i = 0; i < d.folders.size(); ++i) {
    const std::string& folder = d.folders[i];
    bool last = i + 1 == d.folders.size();
    if (!done.targets.count(
            marks.Folder(folder))) {  // else an earlier, partly failed run put it there
      Delivery delivery;
      s = maildir.Deliver(folder, content, &delivery);
      if (!s.ok()) return Fail(std::move(result), s);
      delivery.folder = folder;
      for (std::string& w : delivery.warnings) e.warnings.push_back(std::move(w));
      result.deliveries.push_back(std::move(delivery));
    }
    if (store) {
      // The copy is in place: a failure to mark is only a warning (failing now would make
      // Exim deliver it again). The last folder and the whole delivery: one transaction.
      if (Status m = store->Mark(*key, marks.After(&folder, i, last), now, cutoff, last); !m.ok()) {
        e.warnings.push_back(m.message());
      }
    }
  }
  if (store) {
    if (d.folders.empty()) {  // discarded or rejected without copies
      if (Status m =
              store->Mark(*key, marks.After(nullptr, 0, /*last=*/true), now, cutoff, /*last=*/true);
          !m.ok()) {
        e.warnings.push_back(m.message());
      }
    }
    for (std::string& w : store->TakeWarnings()) e.warnings.push_back(std::move(w));
  }
  if (d.outcome == rules::Outcome::kReject) {
    result.exit_code = kExitRejected;
    result.output = d.reason.empty() ? "message rejected by the recipient's rules" : d.reason;
    result.outcome = "rejected";
    result.reason = result.output;
    return result;
  }
  result.exit_code = kExitDelivered;
  if (d.outcome == rules::Outcome::kDiscard) {
    result.outcome = "discarded";
  } else {
    result.outcome = e.rules_found && !e.rules_used ? "fallback" : "delivered";
  }
  return result;
}

}  // namespace

RunResult RunMda(const Options& options, FileSystem& fs, const Environment& env, int input,
                 const Identity& identity) {
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  RunResult result = RunUnlogged(options, fs, env, input, identity);
  clock_gettime(CLOCK_MONOTONIC, &end);
  Evaluation& e = result.evaluation;
  if (!e.log_known && identity.uid != 0 && identity.euid != 0) {
    // A failure before the rule file's log settings were read (standard input, the rule
    // file itself): the line goes to the default log, so that every attempt leaves one.
    // Never as root: mda refused to run, and root must not write into a user's home.
    const char* env_home = env("HOME");
    std::string home = options.home ? *options.home : env_home ? env_home : "";
    if (!home.empty() && home[0] == '/') {
      e.log = home + "/.mda/log";
      e.log_is_default = true;
    }
    if (e.envelope.recipient.empty()) {
      const char* recipient = env("RECIPIENT");
      e.envelope.recipient = options.recipient ? *options.recipient : recipient ? recipient : "";
    }
  }
  double ms = static_cast<double>(end.tv_sec - start.tv_sec) * 1e3 +
              static_cast<double>(end.tv_nsec - start.tv_nsec) / 1e6;
  WriteProcessingLog(fs, identity.uid, &result, ms);
  return result;
}

}  // namespace mda
