// mdatest --stats (issue 21, mailstat's successor): the log read back in both formats, the
// period, the counts; and through the real binaries: mda's own log summarised, with the
// rules that decided nothing.
#include "mda/log_stats.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "mda/log.h"
#include "tests/test_util.h"

namespace mda {
namespace {

LogRecord Delivered(const std::string& time, const std::string& folder, int64_t size,
                    const std::string& rule) {
  LogRecord r;
  r.time = time;
  r.level = "info";
  r.outcome = Outcome::kDelivered;
  r.subject = "a \"quoted\" subject\nwith a line break \xe2\x80\xa8 and U+2028";
  r.size = size;
  r.rule = rule;
  r.destinations = {{folder, "/home/bob/Maildir/" + folder + "/new/1,S=1"}};
  return r;
}

TEST(LogStatsTest, BothFormatsReadBackAndCount) {
  for (bool json : {false, true}) {
    auto line = [json](const LogRecord& r) { return json ? FormatJson(r) : FormatLogfmt(r); };
    LogStats s;
    LogRecord copy = Delivered("2026-12-01T10:00:00.000Z", "Lists/dev", 100, "rules:3");
    copy.destinations.push_back({"INBOX", "/x"});
    s.Add(line(copy), std::nullopt);
    s.Add(line(Delivered("2026-12-01T11:00:00.000+01:00", "Junk", 50, "rules:1")), std::nullopt);
    LogRecord deferred = Delivered("2026-12-02T10:00:00.000Z", "", 70, "default");
    deferred.destinations.clear();
    deferred.outcome = Outcome::kDeferred;
    deferred.reason = "cannot create x: No space left on device";
    s.Add(line(deferred), std::nullopt);
    s.Add(line(deferred), std::nullopt);
    LogRecord warning;
    warning.time = "2026-12-02T10:00:00.000Z";
    warning.level = "warning";
    warning.reason = "rule file not used, mail goes to INBOX: rules:3:9: x";
    s.Add(line(warning), std::nullopt);
    s.Add("a line torn by a crash", std::nullopt);
    EXPECT_EQ(s.lines, 6) << json;
    EXPECT_EQ(s.unreadable, 1) << json;
    EXPECT_EQ(s.messages, 4) << json;
    EXPECT_EQ(s.outcomes["delivered"].messages, 2);
    EXPECT_EQ(s.outcomes["delivered"].bytes, 150);
    EXPECT_EQ(s.outcomes["deferred"].messages, 2);
    EXPECT_EQ(s.folders["Lists/dev"].messages, 1);
    EXPECT_EQ(s.folders["INBOX"].bytes, 100);  // each copy counts for its folder
    EXPECT_EQ(s.folders["Junk"].bytes, 50);
    EXPECT_EQ(s.deferrals["cannot create x: No space left on device"], 2);
    EXPECT_EQ(s.warnings[warning.reason], 1);
    EXPECT_EQ(s.rules["rules:3"], 1);
    EXPECT_EQ(s.rules["default"], 2);
    std::string text = s.Text(10);
    EXPECT_NE(text.find("Lists/dev" + std::string(12, ' ') + "1 "), std::string::npos) << text;
    EXPECT_NE(text.find("       2  cannot create x: No space left on device"), std::string::npos)
        << text;
    EXPECT_NE(s.Json().find("\"deferred\":{\"messages\":2,\"bytes\":140}"), std::string::npos)
        << s.Json();
  }
}

TEST(LogStatsTest, ValuesSurviveTheirEscapes) {
  LogRecord r = Delivered("2026-12-01T10:00:00.000Z", "Caf\xc3\xa9 \"x\"=y", 1, "rules:1");
  for (bool json : {false, true}) {
    std::vector<std::pair<std::string, std::string>> f;
    ASSERT_TRUE(json ? ParseJsonLine(FormatJson(r), &f) : ParseLogfmtLine(FormatLogfmt(r), &f));
    std::string folder, subject;
    for (const auto& [k, v] : f) {
      if (k == "folder") folder = v;
      if (k == "subject") subject = v;
    }
    EXPECT_EQ(folder, "Caf\xc3\xa9 \"x\"=y") << json;
    EXPECT_EQ(subject, r.subject) << json;
  }
}

TEST(LogStatsTest, TheLogsTimesAndThePeriod) {
  EXPECT_EQ(ParseLogTime("1970-01-01T00:00:10.000Z"), 10);
  EXPECT_EQ(ParseLogTime("1970-01-01T01:00:10.500+01:00"), 10);  // log-time = local
  EXPECT_EQ(ParseLogTime("1969-12-31T23:00:10.000-01:00"), 10);
  EXPECT_EQ(ParseLogTime("2026-12-05T13:09:07Z"), 1796476147);
  EXPECT_FALSE(ParseLogTime("yesterday"));
  EXPECT_FALSE(ParseLogTime("2026-12-05T13:09:07"));  // no zone: not the log's
  LogStats s;
  int64_t since = *ParseLogTime("2026-12-02T00:00:00Z");
  s.Add(FormatLogfmt(Delivered("2026-12-01T23:59:59.999Z", "Old", 1, "r:1")), since);
  s.Add(FormatLogfmt(Delivered("2026-12-02T00:00:00.000Z", "New", 1, "r:1")), since);
  s.Add(FormatLogfmt(Delivered("2026-12-02T00:30:00.000+01:00", "Old", 1, "r:1")), since);
  EXPECT_EQ(s.messages, 1);
  EXPECT_EQ(s.folders.count("Old"), 0u);
  EXPECT_EQ(s.first_time, "2026-12-02T00:00:00.000Z");
}

// Through the binaries: mda's log of real deliveries, summarised.
TEST(LogStatsProcessTest, MdasOwnLogSummarised) {
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  chmod((home / ".mda").c_str(), 0700);
  test::WriteFile(home / ".mda/rules",
                  "if X-Spam-Flag: is \"YES\" then folder Junk\n"
                  "if Subject: contains \"list\" then folder Lists\n"
                  "if Subject: contains \"never\" then folder Never\n"
                  "if Subject: contains \"list\" then copy Copies\n");  // copies never decide
  chmod((home / ".mda/rules").c_str(), 0600);
  std::vector<std::string> env = {"HOME=" + home.path(), "RECIPIENT=bob@example.com",
                                  "SENDER=a@example.org", "LOCAL_PART=bob", "DOMAIN=example.com"};
  int n = 0;
  for (const char* m :
       {"X-Spam-Flag: YES\nSubject: s", "Subject: list", "Subject: list", "Subject: plain"}) {
    std::string message =
        std::string(m) + "\nMessage-ID: <" + std::to_string(++n) + "@x>\n\nbody\n";
    ASSERT_EQ(test::Exec({test::MdaBinary()}, env, message).exit_code, 0);
  }
  ASSERT_EQ(
      test::Exec({test::MdaBinary()}, env, "Subject: list\nMessage-ID: <2@x>\n\nbody\n").exit_code,
      0);  // a duplicate
  test::Result r = test::Exec({test::MdatestBinary(), "--stats", "--since", "1d"}, env, "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("5 messages in 5 lines"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("duplicate            1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Lists                2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rules that decided no message in this period\n          " +
                          (home / ".mda/rules:3") + "\n"),
            std::string::npos)
      << r.output;
  r = test::Exec({test::MdatestBinary(), "--stats", "--format", "json", home / ".mda/log"}, env,
                 "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"Junk\":{\"messages\":1,"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"never_decided\":[\"" + (home / ".mda/rules:3") + "\"]"),
            std::string::npos)
      << r.output;
  r = test::Exec({test::MdatestBinary(), "--stats", "--since", "soon"}, env, "");
  EXPECT_EQ(r.exit_code, 2);
  // The log the rule file names (a converted LOGFILE) is the one summarised by default.
  test::WriteFile(home / ".mda/rules",
                  "set log = ~/.procmail.log\nif Subject: contains \"list\" then folder Lists\n");
  ASSERT_EQ(
      test::Exec({test::MdaBinary()}, env, "Subject: list\nMessage-ID: <9@x>\n\nb\n").exit_code, 0);
  r = test::Exec({test::MdatestBinary(), "--stats"}, env, "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 messages in 1 lines"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mda
