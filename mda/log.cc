// Log: the processing log, one line per message, in logfmt or JSON, file and syslog.
// spdlog carries the records to its sinks; the file sink is our own, because spdlog's
// basic_file_sink splits records over 4 KiB (interleaving concurrent deliveries) and leaks
// its descriptor into child processes. All of spdlog stays in this file (compile time).
// Syslog is written directly (SendSyslog): glibc's syslog(3) keeps a process-wide connection
// to a fixed path, and a test must be able to read what mda sends from a socket of its own.
#include "mda/log.h"

#include <errno.h>
#include <fcntl.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/utf8.h"

namespace mda {
namespace {

// One byte of a quoted value: quote, backslash and the usual control characters as
// backslash escapes, other control characters in `control_format` (\u%04x for JSON,
// \x%02x for logfmt), anything else as it is.
void AppendEscaped(unsigned char c, const char* control_format, std::string* out) {
  switch (c) {
    case '"':
      *out += "\\\"";
      return;
    case '\\':
      *out += "\\\\";
      return;
    case '\n':
      *out += "\\n";
      return;
    case '\r':
      *out += "\\r";
      return;
    case '\t':
      *out += "\\t";
      return;
    default:
      if (c < 0x20 || c == 0x7f) {
        char buf[8];
        snprintf(buf, sizeof buf, control_format, c);
        *out += buf;
      } else {
        *out += static_cast<char>(c);
      }
  }
}

std::string_view Capped(std::string_view v, bool* cut) {
  *cut = v.size() > kMaxLogValue;
  return *cut ? v.substr(0, kMaxLogValue) : v;
}

// Characters that end a line for some reader (U+0085, U+2028, U+2029), act on a terminal
// (the C1 controls U+0080-U+009F: CSI, OSC) or reorder what it shows (bidi controls):
// written as \uXXXX, never raw.
bool Hidden(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0x061C ||
         cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

// Appends the non-ASCII text at v[*i]: a valid sequence as it is, unless Hidden (then
// \uXXXX); an invalid byte as `invalid` (U+FFFD for JSON, \xNN for logfmt).
void AppendNonAscii(std::string_view v, size_t* i, bool json, std::string* out) {
  uint32_t cp = 0;
  size_t n = DecodeUtf8(v, *i, &cp);
  char buf[8];
  if (n == 0) {
    if (json) {
      *out += "\xEF\xBF\xBD";
    } else {
      snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(v[*i]));
      *out += buf;
    }
    ++*i;
    return;
  }
  if (Hidden(cp)) {
    snprintf(buf, sizeof buf, "\\u%04x", cp);
    *out += buf;
  } else {
    out->append(v.substr(*i, n));
  }
  *i += n;
}

enum class Escapes { kJson, kLogfmt, kDisplay };

// Appends `v` with the escapes of `mode`: JSON's, logfmt's, or logfmt's without escaping the
// quote and the backslash (for a terminal, where nothing is quoted).
void AppendText(std::string_view v, Escapes mode, std::string* out) {
  for (size_t i = 0; i < v.size();) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80) {
      AppendNonAscii(v, &i, mode == Escapes::kJson, out);
      continue;
    }
    if (mode == Escapes::kDisplay && (c == '"' || c == '\\')) {
      *out += static_cast<char>(c);
    } else {
      AppendEscaped(c, mode == Escapes::kJson ? "\\u%04x" : "\\x%02x", out);
    }
    ++i;
  }
}

}  // namespace

std::string JsonString(std::string_view raw) {
  bool cut;
  std::string_view v = Capped(raw, &cut);
  std::string out = "\"";
  AppendText(v, Escapes::kJson, &out);
  if (cut) out += "...[cut]";
  return out + "\"";
}

namespace {

void Field(std::string* line, const char* key, std::string_view value) {
  if (value.empty()) return;
  *line += ' ';
  *line += key;
  *line += '=';
  *line += LogfmtValue(value);
}

std::string Millis(double ms) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.3f", ms);
  return buf;
}

// The file sink: the whole record, newline included, in one write(2).
class OneWriteSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  OneWriteSink(FileSystem& fs, int fd) : fs_(fs), fd_(fd) {}
  int error = 0;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string record(msg.payload.data(), msg.payload.size());
    record += '\n';
    // One write(2) keeps concurrent lines apart. If it comes back short (the disk filled up
    // in the middle), the rest follows at once: a whole line, rarely interleaved, beats a
    // torn one that would also spoil the next writer's line.
    size_t done = 0;
    while (done < record.size()) {
      ssize_t n =
          fs_.Write(fd_, record.data() + done, record.size() - done);  // EINTR: PosixFs retries
      if (n <= 0) {
        error = n < 0 ? errno : EIO;
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  void flush_() override {}

 private:
  FileSystem& fs_;
  int fd_;
};

}  // namespace

int SyslogFacility(std::string_view name) {
  if (name == "mail") return LOG_MAIL;
  if (name == "user") return LOG_USER;
  if (name == "daemon") return LOG_DAEMON;
  static constexpr int kLocal[] = {LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
                                   LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7};
  if (name.size() == 6 && name.substr(0, 5) == "local" && name[5] >= '0' && name[5] <= '7')
    return kLocal[name[5] - '0'];
  return -1;
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kDelivered:
      return "delivered";
    case Outcome::kDuplicate:
      return "duplicate";
    case Outcome::kDiscarded:
      return "discarded";
    case Outcome::kDeferred:
      return "deferred";
    case Outcome::kRejected:
      return "rejected";
    case Outcome::kFallback:
      return "fallback";
  }
  return "?";
}

std::string LogfmtValue(std::string_view raw) {
  bool cut;
  std::string_view v = Capped(raw, &cut);
  bool plain = !v.empty() && !cut;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) plain = false;
  }
  if (plain) return std::string(v);
  std::string out = "\"";
  AppendText(v, Escapes::kLogfmt, &out);
  if (cut) out += "...[cut]";
  return out + "\"";
}

std::string DisplayText(std::string_view raw, size_t max) {
  bool cut = raw.size() > max;
  std::string out;
  AppendText(cut ? raw.substr(0, max) : raw, Escapes::kDisplay, &out);
  if (cut) out += "...[cut: " + std::to_string(raw.size()) + " bytes]";
  return out;
}

std::string FormatLogfmt(const LogRecord& r) {
  std::string line = "time=" + r.time + " level=" + r.level;
  if (r.outcome) Field(&line, "outcome", OutcomeName(*r.outcome));
  Field(&line, "queue_id", r.queue_id);
  Field(&line, "message_id", r.message_id);
  Field(&line, "sender", r.sender);
  if (r.level == "info" && r.sender.empty()) line += " sender=\"\"";  // a bounce: say so
  Field(&line, "recipient", r.recipient);
  Field(&line, "subject", r.subject);
  if (r.size) line += " size=" + std::to_string(*r.size);
  Field(&line, "rule", r.rule);
  for (const auto& [folder, file] : r.destinations) {  // repeated pairs, in order
    Field(&line, "folder", folder);
    Field(&line, "file", file);
  }
  Field(&line, "first_delivered", r.first_delivered);
  Field(&line, "vacation", r.vacation);
  Field(&line, "reason", r.reason);
  if (r.duration_ms) line += " duration_ms=" + Millis(*r.duration_ms);
  return line;
}

std::string FormatJson(const LogRecord& r) {
  std::string line = "{\"time\":" + JsonString(r.time) + ",\"level\":" + JsonString(r.level);
  auto field = [&line](const char* key, const std::string& value, bool always = false) {
    if (value.empty() && !always) return;
    line += ",\"";
    line += key;
    line += "\":" + JsonString(value);
  };
  if (r.outcome) field("outcome", OutcomeName(*r.outcome));
  field("queue_id", r.queue_id);
  field("message_id", r.message_id);
  field("sender", r.sender, r.level == "info");
  field("recipient", r.recipient);
  field("subject", r.subject);
  if (r.size) line += ",\"size\":" + std::to_string(*r.size);
  field("rule", r.rule);
  if (!r.destinations.empty()) {
    line += ",\"folders\":[";
    for (size_t i = 0; i < r.destinations.size(); ++i)
      line += (i ? "," : "") + JsonString(r.destinations[i].first);
    line += "],\"files\":[";
    for (size_t i = 0; i < r.destinations.size(); ++i)
      line += (i ? "," : "") + JsonString(r.destinations[i].second);
    line += "]";
  }
  field("first_delivered", r.first_delivered);
  field("vacation", r.vacation);
  field("reason", r.reason);
  if (r.duration_ms) line += ",\"duration_ms\":" + Millis(*r.duration_ms);
  return line + "}";
}

Status SendSyslog(const std::string& path, int facility,
                  const std::vector<std::pair<int, std::string>>& lines, bool* absent) {
  *absent = false;
  if (lines.empty()) return Status::Ok();
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path)
    return Status::BadInput("syslog socket path too long: " + path);
  memcpy(address.sun_path, path.data(), path.size());
  // glibc's order: a datagram socket, else (EPROTOTYPE) a stream one, whose records end in NUL.
  auto open = [&](int type) {
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      int error = errno;
      close(fd);
      errno = error;
      fd = -1;
    }
    return fd;
  };
  // glibc's order: a datagram socket, else (EPROTOTYPE) a stream one, whose records end in NUL.
  bool stream = false;
  int fd = open(SOCK_DGRAM);
  if (fd < 0 && errno == EPROTOTYPE) {
    stream = true;
    fd = open(SOCK_STREAM);
  }
  if (fd < 0) {
    *absent = errno == ENOENT || errno == ECONNREFUSED;
    return Status::Posix("cannot connect to syslog " + path, errno);
  }
  constexpr size_t kMaxSyslogLine = 8192;
  time_t now = time(nullptr);
  struct tm tm;
  localtime_r(&now, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%h %e %T", &tm);
  std::string tag = std::string(stamp) + " mda[" + std::to_string(getpid()) + "]: ";
  Status status;
  for (const auto& [severity, text] : lines) {
    std::string record = "<" + std::to_string(facility | severity) + ">" + tag;
    record.append(text, 0, std::min(text.size(), kMaxSyslogLine));
    if (stream) record += '\0';
    ssize_t n = send(fd, record.data(), record.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(record.size()) && status.ok())
      status = Status::Posix("cannot send to syslog " + path, n < 0 ? errno : EIO);
  }
  close(fd);
  return status;
}

Status WriteLog(FileSystem& fs, const LogConfig& config, const std::vector<LogRecord>& records) {
  int facility = SyslogFacility(config.syslog);
  int warnings_facility = facility < 0 ? SyslogFacility(config.warnings_syslog) : -1;
  if (records.empty() || (config.path.empty() && facility < 0 && warnings_facility < 0))
    return Status::Ok();
  UniqueFd fd;
  if (!config.path.empty()) {
    fd = UniqueFd(
        &fs, fs.OpenAt(AT_FDCWD, config.path.c_str(),
                       O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
    if (!fd.valid()) return Status::Posix("cannot open log " + config.path, errno);
  }
  Status status;
  std::vector<std::pair<int, std::string>> syslog_lines;
  try {
    std::vector<spdlog::sink_ptr> sinks;
    std::shared_ptr<OneWriteSink> file;
    if (fd.valid()) {
      file = std::make_shared<OneWriteSink>(fs, fd.get());
      sinks.push_back(file);
    }
    spdlog::logger logger("mda", sinks.begin(), sinks.end());
    for (const LogRecord& r : records) {
      bool warning = r.level == "warning";
      std::string line = config.json ? FormatJson(r) : FormatLogfmt(r);
      if (file) logger.log(warning ? spdlog::level::warn : spdlog::level::info, line);
      if (facility >= 0) {
        syslog_lines.emplace_back(warning ? LOG_WARNING : LOG_INFO, std::move(line));
      } else if (warnings_facility >= 0 && warning) {
        // Once per delivery: the same warning twice (two copies refused alike) is one line.
        std::string text = "warning user=" + LogfmtValue(config.user);
        if (!r.recipient.empty()) text += " recipient=" + LogfmtValue(r.recipient);
        if (!r.queue_id.empty()) text += " queue_id=" + LogfmtValue(r.queue_id);
        text += " reason=" + LogfmtValue(r.reason);
        bool seen = false;
        for (const auto& l : syslog_lines) seen = seen || l.second == text;
        if (!seen) syslog_lines.emplace_back(LOG_WARNING, std::move(text));
      }
    }
    if (file && file->error != 0)
      status = Status::Posix("cannot write log " + config.path, file->error);
  } catch (const std::exception& e) {
    status = Status::Temporary(std::string("cannot write log: ") + e.what());
  }
  if (fd.valid() && fd.Close() != 0 && status.ok()) {
    status = Status::Posix("cannot close log " + config.path, errno);
  }
  if (!syslog_lines.empty()) {
    bool absent;
    Status s = SendSyslog(config.syslog_socket, facility >= 0 ? facility : warnings_facility,
                          syslog_lines, &absent);
    if (!s.ok() && !absent && status.ok()) status = s;
  }
  return status;
}

std::string Rfc3339(int64_t seconds, int millis, bool local) {
  time_t t = static_cast<time_t>(seconds);
  struct tm tm;
  if (local) {
    localtime_r(&t, &tm);
  } else {
    gmtime_r(&t, &tm);
  }
  char buf[48];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%03d", millis);
  std::string out = buf;
  if (!local) return out + "Z";
  long offset = tm.tm_gmtoff / 60;
  snprintf(buf, sizeof buf, "%c%02ld:%02ld", offset < 0 ? '-' : '+', labs(offset) / 60,
           labs(offset) % 60);
  return out + buf;
}

std::string Rfc3339Now(bool local) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Rfc3339(ts.tv_sec, static_cast<int>(ts.tv_nsec / 1000000), local);
}

}  // namespace mda
