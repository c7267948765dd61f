// Log: the processing log, one line per message (and one per warning), in logfmt or JSON,
// each line written with one write(2) on a descriptor opened O_APPEND|O_CLOEXEC so that
// concurrent deliveries never interleave (ARCHITECTURE.md, "Facts"), and optionally to syslog.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "mda/fs.h"

namespace mda {

// What became of a message, as the log's outcome field names it.
enum class Outcome { kDelivered, kDuplicate, kDiscarded, kDeferred, kRejected, kFallback };
const char* OutcomeName(Outcome outcome);

struct LogRecord {
  std::string time;   // RFC 3339 with milliseconds
  std::string level;  // "info" for a message, "warning" for something to fix
  std::string queue_id, message_id, sender, recipient, subject;
  std::optional<int64_t> size;
  std::string rule;                                               // file:line, or "default"
  std::vector<std::pair<std::string, std::string>> destinations;  // folder, stored file
  std::optional<Outcome> outcome;                                 // none for a warning
  std::string reason;           // deferred, rejected; for warnings, what to fix
  std::string first_delivered;  // duplicate
  std::string vacation;         // a vacation reply: "sent to X" or "not sent: why"
  std::optional<double> duration_ms;
};

// Values longer than this are cut (and marked) so one record stays one bounded line.
constexpr size_t kMaxLogValue = 16 * 1024;

std::string FormatLogfmt(const LogRecord& r);
// A JSON string literal: quotes, escapes, control characters as \u00XX, invalid UTF-8 as
// U+FFFD, and the characters some reader takes for a line end or a terminal command
// (U+0085, U+2028, U+2029, the C1 controls, bidi controls) as \uXXXX.
std::string JsonString(std::string_view value);
std::string FormatJson(const LogRecord& r);

// logfmt value: bare if it is a plain word, else quoted with \" \\ \n \r \t escaped, other
// control bytes and invalid UTF-8 as \xNN, the characters JsonString writes as \uXXXX the
// same way: a hostile Subject cannot forge or break a line for any reader.
std::string LogfmtValue(std::string_view value);

// A header value as a terminal may show it (mdatest): the escapes of LogfmtValue without
// its quoting, cut after `max` bytes (and said so).
std::string DisplayText(std::string_view value, size_t max);

// The syslog facility a name (mail, user, daemon, local0..local7) stands for, or -1.
int SyslogFacility(std::string_view name);

// Where syslog is: glibc's _PATH_LOG (journald or rsyslog listen there).
constexpr const char* kSyslogSocket = "/dev/log";

struct LogConfig {
  std::string path;  // empty: no file
  bool json = false;
  std::string syslog;  // every record to syslog: a facility name (mail, user, local0..local7)
  // Only when `syslog` is empty: the warnings alone (what made mda fall back), so that the
  // administrator hears of them (`journalctl -t mda`, /var/log/mail.log); empty: none.
  std::string warnings_syslog;
  std::string syslog_socket = kSyslogSocket;
  std::string user;  // who the delivery was for, in the syslog line of a warning
};

// Writes the records, each as one line. A failure is returned (the caller reports it on
// stderr; it never fails a delivery).
Status WriteLog(FileSystem& fs, const LogConfig& config, const std::vector<LogRecord>& records);

// Sends `lines` to the syslog socket at `path` as glibc's syslog(3) does (RFC 3164 with the
// tag "mda" and the PID; a datagram each; a stream socket as a fallback), each cut to 8 KiB.
// Never blocks for long: the socket is non-blocking, so a stuck syslog daemon costs lines,
// not the delivery. A failure is returned; `absent` says whether it was that nothing listens
// there (no syslog daemon on this machine: glibc's syslog(3) stays silent about that too).
Status SendSyslog(const std::string& path, int facility,
                  const std::vector<std::pair<int, std::string>>& lines, bool* absent);

// RFC 3339 with milliseconds: "2026-11-25T06:10:15.123Z", or with the local offset.
std::string Rfc3339(int64_t seconds, int millis, bool local);
std::string Rfc3339Now(bool local = false);

}  // namespace mda
