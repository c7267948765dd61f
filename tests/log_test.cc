// Tests of the processing log's lines: escaping that survives hostile values, both formats
// parsed back, and concurrent writers that never interleave.
#include "mda/log.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <random>

#include "tests/test_util.h"

namespace mda {
namespace {

LogRecord Sample() {
  LogRecord r;
  r.time = "2026-11-25T06:10:15.123Z";
  r.level = "info";
  r.outcome = Outcome::kDelivered;
  r.queue_id = "1xW4c0-0004pL-0k";
  r.message_id = "<a@b>";
  r.sender = "alice@example.org";
  r.recipient = "bob@example.com";
  r.subject = "hello";
  r.size = 1234;
  r.rule = "/home/bob/.mda/rules:7";
  r.destinations = {{"Alerts", "/home/bob/Maildir/.Alerts/new/1.M2P3Q1R4.h,S=1234"},
                    {"Work", "/home/bob/Maildir/.Work/new/1.M2P3Q2R5.h,S=1234"}};
  r.duration_ms = 1.5;
  return r;
}

LogConfig FileLog(const std::string& path, bool json = false) {
  LogConfig config;
  config.path = path;
  config.json = json;
  config.warnings_syslog.clear();
  return config;
}

LogRecord Warning(const std::string& reason) {
  LogRecord r = Sample();
  r.level = "warning";
  r.outcome.reset();
  r.reason = reason;
  return r;
}

// What glibc's syslog(3) sends, as rsyslog and journald parse it: "<PRI>Mmm dd hh:mm:ss
// mda[PID]: TEXT". Returns TEXT, or fails.
std::string SyslogText(const std::string& record, int priority) {
  std::string head = "<" + std::to_string(priority) + ">";
  EXPECT_EQ(record.substr(0, head.size()), head) << record;
  size_t tag = record.find(" mda[");
  EXPECT_EQ(tag, head.size() + 15) << record;  // "Dec  5 13:09:07"
  size_t colon = record.find("]: ", tag);
  EXPECT_NE(colon, std::string::npos) << record;
  return colon == std::string::npos ? "" : record.substr(colon + 3);
}

// Issue 20: the warnings alone go to syslog (facility mail by default), each once, with the
// user and the place; the message's own line does not (a log file has it).
TEST(LogSyslogTest, WarningsGoToSyslogOncePerDelivery) {
  test::TempDir dir;
  test::SyslogSocket socket(dir / "log.sock");
  LogConfig config = FileLog(dir / "log");
  config.warnings_syslog = "mail";
  config.syslog_socket = dir / "log.sock";
  config.user = "bob uid=1000";
  std::string why = "rule file not used, mail goes to INBOX: /home/bob/.mda/rules:3:9: unknown";
  ASSERT_TRUE(WriteLog(PosixFs(), config, {Warning(why), Warning(why), Sample()}).ok());
  std::vector<std::string> got = socket.Read();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(SyslogText(got[0], LOG_MAIL | LOG_WARNING),
            "warning user=\"bob uid=1000\" recipient=bob@example.com queue_id=1xW4c0-0004pL-0k "
            "reason=\"" +
                why + "\"");
  EXPECT_EQ(test::ReadLog(dir / "log").size(), 3u);  // the file has all three
  // No warning: nothing sent (not even a connection: the common path stays as it was).
  ASSERT_TRUE(WriteLog(PosixFs(), config, {Sample()}).ok());
  EXPECT_TRUE(socket.Read().empty());
}

TEST(LogSyslogTest, AFacilitySendsEveryRecordToAStreamSocketToo) {
  test::TempDir dir;
  for (bool stream : {false, true}) {
    std::string path = dir / (stream ? "stream.sock" : "dgram.sock");
    test::SyslogSocket socket(path, stream);
    LogConfig config = FileLog("");
    config.syslog = "local3";
    config.syslog_socket = path;
    ASSERT_TRUE(WriteLog(PosixFs(), config, {Warning("w"), Sample()}).ok());
    std::vector<std::string> got = socket.Read();
    ASSERT_EQ(got.size(), 2u) << stream;
    EXPECT_EQ(SyslogText(got[0], LOG_LOCAL3 | LOG_WARNING), FormatLogfmt(Warning("w")));
    EXPECT_EQ(SyslogText(got[1], LOG_LOCAL3 | LOG_INFO), FormatLogfmt(Sample()));
  }
  // A hostile value cannot start a second syslog line: the logfmt escapes hold.
  test::SyslogSocket socket(dir / "x.sock");
  LogConfig config = FileLog("");
  config.warnings_syslog = "mail";
  config.syslog_socket = dir / "x.sock";
  ASSERT_TRUE(WriteLog(PosixFs(), config, {Warning("a\n<12>Dec  5 00:00:00 forged")}).ok());
  std::vector<std::string> got = socket.Read();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].find('\n'), std::string::npos);
}

TEST(LogSyslogTest, NoSyslogDaemonIsNoFailure) {
  test::TempDir dir;
  LogConfig config = FileLog(dir / "log");
  config.warnings_syslog = "mail";
  config.syslog_socket = dir / "none.sock";
  // No syslog daemon on this machine: not worth a word on every delivery (glibc is silent).
  EXPECT_TRUE(WriteLog(PosixFs(), config, {Warning("w")}).ok());
  EXPECT_EQ(test::ReadLog(dir / "log").size(), 1u);  // the file still has it
  bool absent;
  Status s = SendSyslog(dir / "none.sock", LOG_MAIL, {{LOG_WARNING, "w"}}, &absent);
  EXPECT_EQ(s.message(),
            "cannot connect to syslog " + (dir / "none.sock") + ": No such file or directory");
  EXPECT_TRUE(absent);
  // A syslog daemon that does not read: the lines it cannot take are lost and said, and the
  // delivery never waits for it (the socket is non-blocking).
  test::SyslogSocket stuck(dir / "stuck.sock");
  std::vector<std::pair<int, std::string>> many(4000, {LOG_WARNING, std::string(4000, 'w')});
  s = SendSyslog(dir / "stuck.sock", LOG_MAIL, many, &absent);
  EXPECT_EQ(s.message(),
            "cannot send to syslog " + (dir / "stuck.sock") + ": Resource temporarily unavailable");
  EXPECT_FALSE(absent);
  EXPECT_GT(stuck.Read().size(), 0u);
}

TEST(LogFormatTest, LogfmtAndJsonCarryTheSameFields) {
  LogRecord r = Sample();
  for (bool json : {false, true}) {
    std::string line = json ? FormatJson(r) : FormatLogfmt(r);
    test::LogFields f;
    ASSERT_TRUE(json ? test::ParseJson(line, &f) : test::ParseLogfmt(line, &f)) << line;
    EXPECT_EQ(test::Get(f, "time"), r.time);
    EXPECT_EQ(test::Get(f, "level"), "info");
    EXPECT_EQ(test::Get(f, "outcome"), "delivered");
    EXPECT_EQ(test::Get(f, "queue_id"), r.queue_id);
    EXPECT_EQ(test::Get(f, "message_id"), r.message_id);
    EXPECT_EQ(test::Get(f, "sender"), r.sender);
    EXPECT_EQ(test::Get(f, "recipient"), r.recipient);
    EXPECT_EQ(test::Get(f, "size"), "1234");
    EXPECT_EQ(test::Get(f, "rule"), r.rule);
    std::string folders = json ? "folders" : "folder", files = json ? "files" : "file";
    EXPECT_EQ(test::GetAll(f, folders), (std::vector<std::string>{"Alerts", "Work"})) << line;
    EXPECT_EQ(test::GetAll(f, files),
              (std::vector<std::string>{r.destinations[0].second, r.destinations[1].second}));
    EXPECT_EQ(test::Get(f, "duration_ms"), "1.500");
  }
  // A bounce has an empty sender, and the line says so.
  r.sender = "";
  test::LogFields f;
  ASSERT_TRUE(test::ParseLogfmt(FormatLogfmt(r), &f));
  EXPECT_EQ(test::GetAll(f, "sender"), (std::vector<std::string>{""}));
}

// Acceptance 3: hostile values stay on one line, parse, and come back unchanged.
TEST(LogFormatTest, HostileValuesRoundTrip) {
  LogRecord r = Sample();
  r.subject = "Re: \"quoted\"\r\nX-Forged: yes\\n not a newline \\\" \t tab \x01\x1f\x7f end";
  r.message_id = "<" + std::string(10 * 1024, 'x') + "@evil\n" + "time=forged level=info>";
  r.sender = "a=b c@d";
  for (bool json : {false, true}) {
    std::string line = json ? FormatJson(r) : FormatLogfmt(r);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find('\r'), std::string::npos);
    test::LogFields f;
    ASSERT_TRUE(json ? test::ParseJson(line, &f) : test::ParseLogfmt(line, &f))
        << line.substr(0, 200);
    EXPECT_EQ(test::Get(f, "subject"), r.subject) << json;
    EXPECT_EQ(test::Get(f, "message_id"), r.message_id) << json;
    EXPECT_EQ(test::Get(f, "sender"), r.sender);
    EXPECT_EQ(test::GetAll(f, "time").size(), 1u);  // nothing forged
  }
}

TEST(LogFormatTest, InvalidUtf8IsReplacedInJsonAndEscapedInLogfmt) {
  LogRecord r = Sample();
  r.subject = "caf\xc3\xa9 \xff\xfe \xed\xa0\x80 ok";
  test::LogFields f;
  ASSERT_TRUE(test::ParseJson(FormatJson(r), &f));
  EXPECT_EQ(test::Get(f, "subject"),
            "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd ok");
  ASSERT_TRUE(test::ParseLogfmt(FormatLogfmt(r), &f));
  EXPECT_EQ(test::Get(f, "subject"), r.subject);  // logfmt carries the bytes as they were
}

TEST(LogFormatTest, ValuesAreCapped) {
  LogRecord r = Sample();
  r.subject = std::string(100000, 's');
  for (bool json : {false, true}) {
    std::string line = json ? FormatJson(r) : FormatLogfmt(r);
    EXPECT_LT(line.size(), kMaxLogValue + 2000);
    test::LogFields f;
    ASSERT_TRUE(json ? test::ParseJson(line, &f) : test::ParseLogfmt(line, &f));
    EXPECT_EQ(test::Get(f, "subject"), std::string(kMaxLogValue, 's') + "...[cut]");
  }
}

TEST(LogFormatTest, Rfc3339) {
  EXPECT_EQ(Rfc3339(1795586652, 7, false), "2026-11-25T06:04:12.007Z");
  setenv("TZ", "CET-1", 1);
  tzset();
  EXPECT_EQ(Rfc3339(1795586652, 7, true), "2026-11-25T07:04:12.007+01:00");
  setenv("TZ", "UTC", 1);
  tzset();
}

// Acceptance 2: 20 processes x 500 records of 100 B to 20 KB into one file: every line intact.
TEST(LogConcurrencyTest, TwentyWritersNeverInterleave) {
  test::TempDir dir;
  const std::string path = dir / "log";
  const int kWriters = 20, kRecords = 500;
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::mt19937 rng(static_cast<unsigned>(w));
      for (int i = 0; i < kRecords; ++i) {
        LogRecord r;
        r.time = "t";
        r.level = "info";
        // 100 B to 20 KB in two fields (a value alone is capped at 16 KiB), every byte
        // determined by (writer, record): checkable.
        size_t len = std::uniform_int_distribution<size_t>(100, 20 * 1024)(rng);
        r.subject.assign(len / 2, static_cast<char>('a' + (w + i) % 26));
        r.message_id.assign(len - len / 2, static_cast<char>('A' + (w + i) % 26));
        r.queue_id = std::to_string(w) + "-" + std::to_string(i);
        r.size = static_cast<int64_t>(len);
        if (!WriteLog(PosixFs(), FileLog(path, i % 2 == 1), {r}).ok()) _exit(1);
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::string text = test::ReadFile(path);
  std::set<std::string> seen;
  size_t start = 0, lines = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    ASSERT_NE(nl, std::string::npos);
    std::string line = text.substr(start, nl - start);
    start = nl + 1;
    ++lines;
    test::LogFields f;
    bool json = !line.empty() && line[0] == '{';
    ASSERT_TRUE(json ? test::ParseJson(line, &f) : test::ParseLogfmt(line, &f))
        << "line " << lines << " broken";
    std::string id = test::Get(f, "queue_id");
    int w = std::stoi(id.substr(0, id.find('-'))), i = std::stoi(id.substr(id.find('-') + 1));
    std::string subject = test::Get(f, "subject"), message_id = test::Get(f, "message_id");
    ASSERT_EQ(std::to_string(subject.size() + message_id.size()), test::Get(f, "size")) << id;
    ASSERT_EQ(subject, std::string(subject.size(), static_cast<char>('a' + (w + i) % 26))) << id;
    ASSERT_EQ(message_id, std::string(message_id.size(), static_cast<char>('A' + (w + i) % 26)))
        << id;
    EXPECT_TRUE(seen.insert(id).second) << id << " twice";
  }
  EXPECT_EQ(lines, static_cast<size_t>(kWriters * kRecords));
  EXPECT_EQ(seen.size(), static_cast<size_t>(kWriters * kRecords));
}

TEST(LogFileTest, ErrorsAreReportedNotThrown) {
  test::TempDir dir;
  Status s = WriteLog(PosixFs(), FileLog(dir / "no/such/dir/log"), {Sample()});
  EXPECT_EQ(s.message(),
            "cannot open log " + (dir / "no/such/dir/log") + ": No such file or directory");
  ASSERT_EQ(symlink("/etc/passwd", (dir / "link").c_str()), 0);
  s = WriteLog(PosixFs(), FileLog(dir / "link"), {Sample()});
  EXPECT_FALSE(s.ok());  // never through a symbolic link
}

// Issue 15, point 9: what any reader takes for a line end (U+0085, U+2028, U+2029), what acts
// on a terminal (C1 controls such as CSI U+009B and OSC U+009D) and bytes that are not UTF-8
// never reach a line raw, in either format; the value still reads back.
TEST(LogFormatTest, UnicodeLineEndsAndC1ControlsAreEscaped) {
  const std::string hostile[] = {
      "a\xe2\x80\xa8time=forged level=info",  // U+2028
      "a\xe2\x80\xa9"
      "b",  // U+2029
      "a\xc2\x85"
      "b",  // U+0085 NEL
      "\xc2\x9b"
      "31m red",  // C1 CSI
      "\xc2\x9d"
      "0;title\x07",  // C1 OSC, BEL
      "\xe2\x80\xae"
      "gpj.exe",                  // RIGHT-TO-LEFT OVERRIDE
      "raw \xff\xfe bytes \xc3",  // not UTF-8
  };
  const std::string raw_forbidden[] = {"\xe2\x80\xa8", "\xe2\x80\xa9", "\xc2\x85", "\xc2\x9b",
                                       "\xc2\x9d",     "\xe2\x80\xae", "\xff",     "\x07"};
  for (const std::string& subject : hostile) {
    LogRecord r = Sample();
    r.subject = subject;
    for (bool json : {false, true}) {
      std::string line = json ? FormatJson(r) : FormatLogfmt(r);
      for (const std::string& bad : raw_forbidden) {
        EXPECT_EQ(line.find(bad), std::string::npos) << (json ? "json: " : "logfmt: ") << line;
      }
      EXPECT_EQ(line.find('\n'), std::string::npos);
      test::LogFields f;
      ASSERT_TRUE(json ? test::ParseJson(line, &f) : test::ParseLogfmt(line, &f)) << line;
      if (subject.find('\xff') == std::string::npos) {
        EXPECT_EQ(test::Get(f, "subject"), subject) << line;  // valid UTF-8 reads back exactly
      } else if (!json) {
        EXPECT_EQ(test::Get(f, "subject"), subject) << line;  // logfmt keeps the bytes as \xNN
      }
    }
  }
  // Ordinary non-ASCII text stays readable.
  LogRecord r = Sample();
  r.subject = "R\xc3\xa9sum\xc3\xa9 \xe2\x82\xac";
  EXPECT_NE(FormatLogfmt(r).find(r.subject), std::string::npos);
  EXPECT_NE(FormatJson(r).find(r.subject), std::string::npos);
}

TEST(LogFormatTest, DisplayTextIsSafeForATerminalAndBounded) {
  EXPECT_EQ(DisplayText("ok \xe2\x82\xac", 100), "ok \xe2\x82\xac");
  EXPECT_EQ(DisplayText("\x1b"
                        "]0;x\x07\xc2\x9b"
                        "2J\r\n",
                        100),
            "\\x1b]0;x\\x07\\u009b2J\\r\\n");
  std::string big(1 << 20, 'x');
  std::string shown = DisplayText(big, 200);
  EXPECT_EQ(shown, std::string(200, 'x') + "...[cut: 1048576 bytes]");
}

}  // namespace
}  // namespace mda
