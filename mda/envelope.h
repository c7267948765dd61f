// Envelope: who the message is for and from, and where its mailbox is, from Exim's environment,
// the command line (which overrides it) and the passwd entry (the fallback for HOME).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "mda/options.h"

namespace mda {

// The user's passwd entry, if the process's uid has one.
struct Account {
  std::string name;
  std::string home;
};
// The passwd entry of `uid` (through getent(1), so every NSS source counts), or nullopt.
std::optional<Account> LookUpAccount(uid_t uid);

// Reads one environment variable: nullptr when unset. Tests pass a map instead of getenv.
using Environment = std::function<const char*(const char* name)>;

// Whether ResolveEnvelope would use the passwd entry: no home or no local part from the
// options or from Exim's environment. Exim sets both, so a delivery skips the look-up.
bool NeedsAccount(const Options& options, const Environment& env);

struct Envelope {
  std::string recipient;      // RECIPIENT: prefix + local part + suffix @ domain, as Exim gives it
  std::string sender;         // SENDER: empty for a bounce (null sender)
  bool sender_given = false;  // --sender or SENDER named it (else the From_ line's counts)
  bool recipient_given = false;   // --recipient or RECIPIENT named it
  std::string local_part;         // LOCAL_PART: without Exim's prefix and suffix
  std::string local_part_prefix;  // LOCAL_PART_PREFIX ("pre-"), empty if none
  std::string local_part_suffix;  // LOCAL_PART_SUFFIX ("+tag"), empty if none
  std::string domain;             // DOMAIN
  std::string home;               // absolute; empty if none could be found
  std::string queue_id;           // MESSAGE_ID: Exim's queue id, the same on every retry
  std::string maildir;            // absolute path of the Maildir root
  std::string rules;              // absolute path of the rule file
  std::string folder;             // where mail goes when no rule decides
};

// Resolves the envelope. `from_line` is the message's mbox From_ line (or empty): its
// sender is used when neither --sender nor SENDER says who sent the message. On failure,
// *out keeps what was resolved before it.
Status ResolveEnvelope(const Options& options, const Environment& env,
                       const std::optional<Account>& account, std::string_view from_line,
                       Envelope* out);

// The sender of an mbox From_ line ("From sender@example.org Wed Nov 25 04:28:04 2026");
// "" for MAILER-DAEMON and <>, and when there is no From_ line.
std::string SenderOfFromLine(std::string_view line);
// The address of a Return-Path: header's value ("<a@b>" -> "a@b", "<>" -> "").
std::string AddressOfReturnPath(std::string_view value);

// "~" and "~/x" expand to HOME, a relative path is taken relative to HOME (as procmail's
// MAILDIR is), an absolute path stays. `what` names the setting in the error.
Status ExpandPath(std::string_view path, const std::string& home, const char* what,
                  std::string* out);

}  // namespace mda
