// Outgoing: forwards and vacation replies, through sendmail.
#include "mda/outgoing.h"

#include <time.h>

#include "base/ascii.h"
#include "base/host.h"
#include "mda/log.h"
#include "mda/rule_programs.h"
#include "mda/sha256.h"
#include "rules/address.h"
#include "rules/mime_codec.h"
#include "rules/rfc2047.h"

namespace mda {
namespace {

// The message's line ending, for what we put on top of it.
const char* LineEnd(std::string_view content) {
  size_t nl = content.find('\n');
  return nl != std::string_view::npos && nl > 0 && content[nl - 1] == '\r' ? "\r\n" : "\n";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

// The user's own addresses, lower-cased: the recipient as Exim gave it, the bare
// local part at the domain (without a prefix or suffix), `from` and `addresses`.
std::vector<std::string> UserAddresses(const Config& config, const rules::VacationReply& vacation) {
  const Envelope& e = config.envelope;
  std::vector<std::string> mine = {Lower(e.recipient)};
  if (!e.local_part.empty() && !e.domain.empty())
    mine.push_back(Lower(e.local_part + "@" + e.domain));
  if (!vacation.from.empty()) mine.push_back(Lower(vacation.from));
  for (const std::string& a : vacation.addresses) mine.push_back(Lower(a));
  return mine;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  for (const std::string& x : list) {
    if (x == item) return true;
  }
  return false;
}

std::string FirstValue(const rules::HeaderBlock& headers, std::string_view name) {
  std::vector<const rules::HeaderField*> found = headers.Find(name);
  return found.empty() ? "" : found[0]->value;
}

std::string Hex(const unsigned char* bytes, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace

ProgramCall SendmailCall(const Config& config, const std::string& sender,
                         const std::vector<std::string>& recipients, std::string_view input) {
  std::vector<std::string> argv = {config.mail_out.sendmail, "-oi", "-f",
                                   sender.empty() ? "<>" : sender, "--"};
  argv.insert(argv.end(), recipients.begin(), recipients.end());
  return MakeProgramCall(config, argv, input);
}

std::string ForwardLoop(const Config& config, const rules::HeaderBlock& headers,
                        const std::string& address) {
  const std::string& me = config.envelope.recipient;
  std::string bare = config.envelope.local_part + "@" + config.envelope.domain;
  if (EqualsIgnoreCase(address, me) || EqualsIgnoreCase(address, bare))
    return "not forwarded to " + address + ": that is this recipient";
  for (const rules::HeaderField* f : headers.Find(kForwardedFor)) {
    if (EqualsIgnoreCase(Trim(f->value), me)) {
      return "not forwarded to " + address + ": the message was forwarded by " + me + " before (" +
             kForwardedFor + "), so it would loop";
    }
  }
  return "";
}

std::string ForwardSender(const Config& config) {
  const std::string& setting = config.mail_out.forward_sender;
  if (setting.empty()) return config.envelope.sender;  // a bounce stays a bounce: <>
  if (setting == "recipient") return config.envelope.recipient;
  return setting;
}

std::string ForwardedMessage(std::string_view content, const std::string& recipient) {
  return std::string(kForwardedFor) + ": " + recipient + LineEnd(content) + std::string(content);
}

std::string NoReplyReason(const Config& config, const rules::HeaderBlock& headers,
                          const rules::VacationReply& vacation) {
  const std::string sender = Lower(config.envelope.sender);
  if (sender.empty()) return "the envelope sender is empty (a bounce or an automatic message)";
  std::vector<std::string> mine = UserAddresses(config, vacation);
  if (Contains(mine, sender)) return "the sender is the user";
  std::string auto_submitted = Lower(Trim(FirstValue(headers, "Auto-Submitted")));
  if (!headers.Find("Auto-Submitted").empty() && auto_submitted.substr(0, 2) != "no")
    return "Auto-Submitted: " + auto_submitted;
  std::string precedence = Lower(Trim(FirstValue(headers, "Precedence")));
  if (precedence == "bulk" || precedence == "list" || precedence == "junk")
    return "Precedence: " + precedence;
  for (const rules::HeaderField& f : headers.fields()) {
    if (f.name.size() > 5 && EqualsIgnoreCase(f.name.substr(0, 5), "List-"))
      return "a mailing list message (" + std::string(f.name) + ")";
  }
  std::string local = sender.substr(0, sender.rfind('@'));
  if (local == "mailer-daemon" || local == "listserv" || local == "majordomo" ||
      local.rfind("owner-", 0) == 0 ||
      (local.size() > 8 && local.compare(local.size() - 8, 8, "-request") == 0)) {
    return "the sender " + sender + " is a daemon or a list";
  }
  for (const rules::HeaderField* f : headers.Find("X-Auto-Response-Suppress")) {
    std::string value = Lower(f->value);
    for (std::string_view word : SplitSpace(value)) {
      while (!word.empty() && word.back() == ',') word.remove_suffix(1);
      if (word == "oof" || word == "all") return "X-Auto-Response-Suppress: " + f->value;
    }
  }
  for (const char* name : {"To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"}) {
    for (const rules::HeaderField* f : headers.Find(name)) {
      for (const std::string& a : rules::ParseAddresses(f->value)) {
        if (Contains(mine, Lower(a))) return "";
      }
    }
  }
  return "none of the user's addresses is in To, Cc or Bcc (add the others with 'addresses')";
}

std::string ResponseKey(const Config& config, const rules::VacationReply& vacation) {
  // The handle: a change of the response (its text, subject or from) is a new response,
  // which every sender gets once again (RFC 5230, 4.2).
  std::string response = vacation.from + '\0' + vacation.subject + '\0' + vacation.text;
  std::string handle = Sha256Hex(response).substr(0, 16);
  return "<vacation." + handle + "> " + Lower(config.envelope.sender) + " " +
         Lower(config.envelope.recipient);
}

DedupConfig ResponseStoreConfig(const Config& config, const rules::VacationReply& vacation) {
  DedupConfig c = config.dedup;
  c.period = static_cast<int64_t>(vacation.days) * 86400;
  if (!c.redis) {
    c.file = config.envelope.home.empty() ? "" : config.envelope.home + "/.mda/vacation.store";
  }
  c.deliver_unchecked = false;
  return c;
}

std::string BuildReply(const Config& config, const rules::HeaderBlock& headers,
                       const rules::VacationReply& vacation, int64_t now) {
  const Envelope& e = config.envelope;
  std::string from = vacation.from.empty() ? e.recipient : vacation.from;
  std::string subject = vacation.subject;
  if (subject.empty()) {
    std::string original = rules::DecodeRfc2047(FirstValue(headers, "Subject"));
    subject = "Auto: " + original;
  }
  for (char& c : subject) {
    if (static_cast<unsigned char>(c) < 32) c = ' ';
  }
  std::string message_id(Trim(FirstValue(headers, "Message-ID")));
  std::string references(Trim(FirstValue(headers, "References")));
  if (!message_id.empty()) references += (references.empty() ? "" : " ") + message_id;

  char date[64];
  time_t t = static_cast<time_t>(now);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  unsigned char random[12];
  RandomBytes(random, sizeof random, /*block=*/false);
  std::string host = HostName();
  if (host.empty() || host.find_first_of("<>@ \t") != std::string::npos) host = "localhost";

  bool ascii = true;
  for (char c : vacation.text) {
    if (static_cast<unsigned char>(c) >= 127) ascii = false;
  }
  std::string body = rules::EncodeQuotedPrintable(vacation.text);
  if (body.empty() || body.back() != '\n') body += '\n';

  std::string reply;
  reply += "From: " + from + "\n";
  reply += "To: " + e.sender + "\n";
  reply += "Subject: " + rules::EncodeHeaderWords(subject) + "\n";
  if (!message_id.empty()) reply += "In-Reply-To: " + message_id + "\n";
  if (!references.empty()) reply += "References: " + references + "\n";
  reply += "Auto-Submitted: auto-replied (vacation)\n";
  reply += "Precedence: bulk\n";
  reply +=
      "Message-ID: <" + std::to_string(now) + "." + Hex(random, sizeof random) + "@" + host + ">\n";
  reply += std::string("Date: ") + date + "\n";
  reply += "MIME-Version: 1.0\n";
  reply +=
      std::string("Content-Type: text/plain; charset=") + (ascii ? "us-ascii" : "utf-8") + "\n";
  reply += "Content-Transfer-Encoding: quoted-printable\n";
  reply += "\n" + body;
  return reply;
}

namespace {

constexpr const char* kReplied = "\x01replied";

std::string When(int64_t t) { return Rfc3339(t, 0, false).substr(0, 10); }

}  // namespace

std::string SendVacation(FileSystem& fs, Processes& processes, const Config& config,
                         const rules::HeaderBlock& headers, const rules::VacationReply& vacation,
                         uid_t uid, int64_t now, std::vector<std::string>* warnings) {
  const std::string& sender = config.envelope.sender;
  if (std::string why = NoReplyReason(config, headers, vacation); !why.empty())
    return "not sent: " + why;
  // Without a store there is no "once per days": no reply at all, rather than one to
  // every message.
  DedupConfig store_config = ResponseStoreConfig(config, vacation);
  std::unique_ptr<DuplicateStore> store;
  std::string untrusted;
  Status s;
  if (store_config.redis || !store_config.file.empty())
    s = OpenForDelivery(fs, store_config, config.envelope.home, uid, &store, &untrusted);
  if (!s.ok() || !store) {
    std::string why = !s.ok()              ? s.message()
                      : !untrusted.empty() ? untrusted
                                           : "there is no home directory to keep it in";
    warnings->push_back("rule " + vacation.rule +
                        ": no vacation reply: the response store: " + why);
    return "not sent: no response store";
  }
  std::string key = ResponseKey(config, vacation);
  int64_t cutoff = now - store_config.period;
  DuplicateStore::Lookup found;
  s = store->Claim(key, {kReplied}, cutoff, &found);
  for (std::string& w : store->TakeWarnings()) warnings->push_back(std::move(w));
  if (!s.ok()) {
    warnings->push_back("rule " + vacation.rule + ": no vacation reply: " + s.message());
    return "not sent: the response store failed";
  }
  if (found.targets.count(kReplied)) {
    return "not sent: " + sender + " got this reply on " + When(found.first_delivered) +
           " (once every " + std::to_string(vacation.days) + " days)";
  }
  std::string reply = BuildReply(config, headers, vacation, now);
  ProgramResult r = RunProgram(processes, SendmailCall(config, "", {sender}, reply));
  if (!r.ok()) {
    std::string said = r.FirstLines();
    warnings->push_back("rule " + vacation.rule + ": vacation reply to " + sender + ": " +
                        config.mail_out.sendmail + " " + r.Describe(config.programs.timeout_ms) +
                        (said.empty() ? "" : " (it said: " + said + ")") +
                        "; not sent (the message itself is delivered)");
    return "not sent: sendmail failed";
  }
  if (Status m = store->Mark(key, {kReplied, DuplicateStore::kComplete}, now, cutoff, true);
      !m.ok()) {
    warnings->push_back(m.message() + " (a second reply to " + sender + " is possible)");
  }
  return "sent to " + sender;
}

std::string PreviewVacation(FileSystem& fs, const Config& config, const rules::HeaderBlock& headers,
                            const rules::VacationReply& vacation, int64_t now) {
  if (std::string why = NoReplyReason(config, headers, vacation); !why.empty())
    return "would not reply: " + why;
  DedupConfig store_config = ResponseStoreConfig(config, vacation);
  std::unique_ptr<DuplicateStore> store;
  DuplicateStore::Lookup found;
  if ((store_config.redis || !store_config.file.empty()) &&
      OpenForReading(fs, store_config, &store).ok() && store &&
      store->Find(ResponseKey(config, vacation), {kReplied}, now - store_config.period, &found)
          .ok() &&
      found.targets.count(kReplied)) {
    return "would not reply: " + config.envelope.sender + " got this reply on " +
           When(found.first_delivered);
  }
  return "would reply to " + config.envelope.sender;
}

}  // namespace mda
