// Outgoing: the mail a delivery sends on, through the local MTA's sendmail interface:
// forwards (with a loop guard, as Pigeonhole's redirect) and vacation replies (with the
// checks of RFC 3834 and RFC 5230, as Pigeonhole and Exim's `personal` make them).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mda/config.h"
#include "mda/duplicate_store.h"
#include "mda/fs.h"
#include "mda/program.h"
#include "rules/decision.h"
#include "rules/header_block.h"

namespace mda {

// At most this many forward targets per message; the rest are kept in INBOX.
inline constexpr size_t kMaxForwardTargets = 32;
// The trace header a forward carries: the forwarding recipient. A message that already
// names this recipient there has been forwarded by it before: forwarding it again loops.
inline constexpr const char* kForwardedFor = "X-Mda-Forwarded-For";

// The sendmail call: `SENDMAIL -oi -f SENDER -- RECIPIENT...` ("<>" for an empty sender),
// run as a program of the rules is (clean environment, the time limit).
ProgramCall SendmailCall(const Config& config, const std::string& sender,
                         const std::vector<std::string>& recipients, std::string_view input);

// Why `address` must not get this message from us ("" when it may): it is the recipient
// itself, or the message was forwarded by this recipient before.
std::string ForwardLoop(const Config& config, const rules::HeaderBlock& headers,
                        const std::string& address);
// The envelope sender of a forward (set forward-sender).
std::string ForwardSender(const Config& config);
// The message as it is forwarded: the trace header on top, in the message's line ending.
std::string ForwardedMessage(std::string_view content, const std::string& recipient);

// Why no vacation reply goes to this message's sender ("" when one may), before the
// response store is asked: no sender, a sender that is the user, an automatic or bulk or
// list message, a daemon's or list's sender, a suppression header, or the user's address
// not among the recipients in the header.
std::string NoReplyReason(const Config& config, const rules::HeaderBlock& headers,
                          const rules::VacationReply& vacation);
// The response store's key: the sender and a handle of the response (its from, subject
// and text), for this recipient: one reply per sender and response per `days`.
std::string ResponseKey(const Config& config, const rules::VacationReply& vacation);
// The response store: the duplicate store's backend (the file ~/.mda/vacation.store, or
// the same Redis), remembering for `days`.
DedupConfig ResponseStoreConfig(const Config& config, const rules::VacationReply& vacation);
// The reply, ready for sendmail: From the user (or `from`), To the sender, Subject
// "Auto: " + the original's (or `subject`), In-Reply-To and References, Auto-Submitted:
// auto-replied, Precedence: bulk, a fresh Message-ID and Date, UTF-8 quoted-printable text.
std::string BuildReply(const Config& config, const rules::HeaderBlock& headers,
                       const rules::VacationReply& vacation, int64_t now);

// The whole vacation step of a delivery, after the message is in place: the checks, the
// response store (claimed, looked up, marked once sendmail took the reply), the reply.
// Never fails the delivery: returns what the log says ("sent to X", "not sent: why");
// *warnings gets what the user should look at (a store or sendmail that failed).
std::string SendVacation(FileSystem& fs, Processes& processes, const Config& config,
                         const rules::HeaderBlock& headers, const rules::VacationReply& vacation,
                         uid_t uid, int64_t now, std::vector<std::string>* warnings);
// mdatest: what SendVacation would do, reading the response store without writing it:
// "would reply to X" or "would not reply: why".
std::string PreviewVacation(FileSystem& fs, const Config& config, const rules::HeaderBlock& headers,
                            const rules::VacationReply& vacation, int64_t now);

}  // namespace mda
