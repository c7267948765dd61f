// Site-wide rules (issue 20) through the real mda binary: /etc/mda's before.rules and
// after.rules (here --site-dir) around the user's file, with Pigeonhole's semantics; the
// site's settings as defaults and set! as fixed; an unusable file on either side costs only
// that file's rules.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "tests/test_util.h"

namespace mda {
namespace {

using test::ListDir;
using test::ReadFile;

class SiteRulesTest : public testing::Test {
 protected:
  void SetUp() override {
    // Site files must be root's: only a test run as root can make them (CI runs as root).
    if (getuid() != 0) GTEST_SKIP() << "site files must belong to root";
    test::MakeDirs(home_ / ".mda");
    chmod((home_ / ".mda").c_str(), 0700);
    ASSERT_EQ(chown(site_.path().c_str(), 0, 0), 0);
    chmod(site_.path().c_str(), 0755);  // root's, readable by the mailbox owner
  }
  void Site(const std::string& name, const std::string& text, mode_t mode = 0644) {
    test::WriteFile(site_ / name, text);
    ASSERT_EQ(chown((site_ / name).c_str(), 0, 0), 0);
    chmod((site_ / name).c_str(), mode);
  }
  void Rules(const std::string& text) {
    test::WriteFile(home_ / ".mda/rules", text);
    chmod((home_ / ".mda/rules").c_str(), 0600);
    test::ChownToTestUser(home_ / ".mda/rules");
  }
  test::Result Deliver(const std::string& message, const std::string& site_dir = "") {
    return test::Exec({test::MdaBinary(), "--site-dir", site_dir.empty() ? site_.path() : site_dir,
                       "--syslog-socket", sockets_ / "log"},
                      {"HOME=" + home_.path(), "RECIPIENT=bob@example.com",
                       "SENDER=alice@example.org", "LOCAL_PART=bob", "DOMAIN=example.com"},
                      message);
  }
  size_t Count(const std::string& folder) {
    return ListDir(home_ / "Maildir/" + folder + "/new").size();
  }
  std::vector<test::LogFields> Log() { return test::ReadLog(home_ / ".mda/log"); }
  std::string LastRule() {
    auto log = Log();
    return log.empty() ? "" : test::Get(log.back(), "rule");
  }

  test::TempDir home_, site_, sockets_;
};

const char kSpam[] = "X-Spam-Flag: YES\nSubject: win\n\nb\n";

TEST_F(SiteRulesTest, BeforeDecidesFirstAfterOnlyWhenNothingFinalRan) {
  Site("before.rules", "if X-Spam-Flag: is \"YES\" then folder Junk\n");
  Site("after.rules", "if exists Subject: then folder Sorted-By-Site\n");
  Rules(
      "if X-Spam-Flag: is \"YES\" then folder Mine\nif Subject: is \"keep\" then folder Kept\n"
      "if Subject: is \"copy\" then copy Copies\n");
  ASSERT_EQ(Deliver(kSpam).exit_code, 0);
  EXPECT_EQ(Count(".Junk"), 1u);  // the site's before file ended the run: not Mine
  EXPECT_EQ(Count(".Mine"), 0u);
  EXPECT_EQ(LastRule(), site_ / "before.rules:1");
  ASSERT_EQ(Deliver("Subject: keep\n\nb\n").exit_code, 0);
  EXPECT_EQ(Count(".Kept"), 1u);  // the user's final action: the after file does not run
  EXPECT_EQ(Count(".Sorted-By-Site"), 0u);
  ASSERT_EQ(Deliver("Subject: copy\n\nb\n").exit_code, 0);
  EXPECT_EQ(Count(".Copies"), 1u);  // nothing final in the user's: the after file runs
  EXPECT_EQ(Count(".Sorted-By-Site"), 1u);
  EXPECT_EQ(LastRule(), site_ / "after.rules:1");
  // mdatest decides as mda does, and says which file decided.
  test::WriteFile(home_ / "spam.eml", kSpam);
  test::Result r = test::Exec(
      {test::MdatestBinary(), "--explain", "--site-dir", site_.path(), home_ / "spam.eml"},
      {"HOME=" + home_.path(), "USER=bob"}, "");
  EXPECT_NE(r.output.find("=> " + site_ / "before.rules:1 decided: Junk"), std::string::npos)
      << r.output;
}

TEST_F(SiteRulesTest, AUserWithoutRulesGetsTheSites) {
  Site("before.rules", "if X-Spam-Flag: is \"YES\" then folder Junk\n");
  test::Result r = Deliver(kSpam);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Count(".Junk"), 1u) << ReadFile(home_ / ".mda/log");
  EXPECT_EQ(test::Get(Log().back(), "outcome"), "delivered");
  // No site directory at all: as before, INBOX.
  ASSERT_EQ(Deliver(kSpam, "/nonexistent/mda").exit_code, 0);
  EXPECT_EQ(Count(""), 1u);
}

TEST_F(SiteRulesTest, SiteSettingsAreDefaultsUnlessFixed) {
  Site("before.rules", "set log-format = json\nset! max-size = 1K\n");
  Rules(
      "set log-format = logfmt\nset max-size = 50M\n"
      "if body contains \"needle\" then folder Found\n");
  std::string big = "Subject: big\n\n" + std::string(2000, 'x') + "\nneedle\n";
  test::Result r = Deliver(big);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // max-size stayed the site's 1K: the body was not read, so no Found.
  EXPECT_EQ(Count(".Found"), 0u);
  EXPECT_EQ(Count(""), 1u);
  // log-format was only a default: the user's logfmt won.
  EXPECT_EQ(ReadFile(home_ / ".mda/log").rfind("time=", 0), 0u) << ReadFile(home_ / ".mda/log");
  // mdatest --check tells the user.
  test::Result check = test::Exec({test::MdatestBinary(), "--check", "--site-dir", site_.path()},
                                  {"HOME=" + home_.path(), "USER=bob"}, "");
  EXPECT_NE(check.output.find(home_ / ".mda/rules:2:5: warning: 'max-size' is fixed by the site "
                                      "(set! at " +
                              site_ / "before.rules:2): this line has no effect"),
            std::string::npos)
      << check.output;
  // set! in the user's own file is an error there.
  Rules("set! max-size = 50M\n");
  check = test::Exec({test::MdatestBinary(), "--check", "--site-dir", site_.path()},
                     {"HOME=" + home_.path(), "USER=bob"}, "");
  EXPECT_NE(check.output.find("'set!' fixes a setting for every user"), std::string::npos)
      << check.output;
}

TEST_F(SiteRulesTest, AnUnusableSiteFileCostsOnlyItsRules) {
  Rules("if Subject: is \"win\" then folder Mine\n");
  for (const auto& [text, mode, why] : std::vector<std::tuple<std::string, mode_t, std::string>>{
           {"if X-Spam-Flag: is \"YES\" then folder Junk\n", 0666, "writable by everyone"},
           {"if X-Spam-Flag is \"YES\" then folder Junk\n", 0644, "a header name needs its colon"},
       }) {
    Site("before.rules", text, mode);
    test::Result r = Deliver(kSpam);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto log = Log();
    ASSERT_GE(log.size(), 2u);
    std::string warning = test::Get(log[log.size() - 2], "reason");
    EXPECT_NE(warning.find("site rule file " + site_ / "before.rules" +
                           " not used (the user's rules still run)"),
              std::string::npos)
        << warning;
    EXPECT_NE(warning.find(why), std::string::npos) << warning;
  }
  EXPECT_EQ(Count(".Mine"), 2u);  // the user's rules ran both times
  EXPECT_EQ(Count(".Junk"), 0u);
  // A site file that belongs to someone else than root is not taken either.
  Site("before.rules", "if X-Spam-Flag: is \"YES\" then folder Junk\n");
  test::ChownToTestUser(site_ / "before.rules");
  ASSERT_EQ(Deliver(kSpam).exit_code, 0);
  EXPECT_EQ(Count(".Junk"), 0u);
  EXPECT_NE(test::Get(Log()[Log().size() - 2], "reason").find("belongs to uid"), std::string::npos);
}

TEST_F(SiteRulesTest, AUsersBrokenFileLeavesTheSitesRules) {
  Site("before.rules", "if X-Spam-Flag: is \"YES\" then folder Junk\n");
  Rules("if X-Spam-Flag is \"YES\" then folder Mine\n");  // no colon: does not parse
  ASSERT_EQ(Deliver(kSpam).exit_code, 0);
  EXPECT_EQ(Count(".Junk"), 1u);
  auto log = Log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_NE(test::Get(log[0], "reason").find("rule file not used, only the site's rules apply: "),
            std::string::npos)
      << test::Get(log[0], "reason");
  EXPECT_EQ(test::Get(log[1], "outcome"), "fallback");
  // A file that parses but names a Maildir that is not there: the site's rules still run.
  Rules("set maildir = ~/no/such/Maildir\nif X-Spam-Flag: is \"YES\" then folder Mine\n");
  ASSERT_EQ(Deliver(kSpam).exit_code, 0);
  EXPECT_EQ(Count(".Junk"), 2u);
  log = Log();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_NE(test::Get(log[2], "reason").find("rule file not used, only the site's rules apply: "),
            std::string::npos)
      << test::Get(log[2], "reason");
  EXPECT_EQ(test::Get(log[3], "rule"), site_ / "before.rules:1");
}

// Issue 20: the administrator hears of every fallback in syslog (facility mail by default),
// once per delivery, with the user and file:line:col; the site fixes the facility with set!,
// and a user cannot silence it.
TEST_F(SiteRulesTest, FallbacksGoToSyslogForTheAdministrator) {
  test::SyslogSocket syslog(sockets_ / "log");
  auto text = [](const std::string& record, int priority) {
    std::string head = "<" + std::to_string(priority) + ">";
    EXPECT_EQ(record.substr(0, head.size()), head) << record;
    size_t at = record.find("]: ");
    return at == std::string::npos ? record : record.substr(at + 3);
  };
  // A user's broken rule file: one line at mail.warning naming the user, file:line:col.
  Rules("if Subject: ~ /x/ then folder A\nif Subject: ~ /[/ then folder B\n");
  ASSERT_EQ(Deliver("Subject: x\n\nb\n").exit_code, 0);
  EXPECT_EQ(Count(""), 1u);  // INBOX: the user's rules are not used
  std::vector<std::string> got = syslog.Read();
  ASSERT_EQ(got.size(), 1u);
  std::string line = text(got[0], LOG_MAIL | LOG_WARNING);
  EXPECT_EQ(line.rfind("warning user=\"bob uid=", 0), 0u) << line;
  EXPECT_NE(line.find("recipient=bob@example.com"), std::string::npos) << line;
  EXPECT_NE(line.find(home_ / ".mda/rules:2:"), std::string::npos) << line;
  // A good delivery: nothing in syslog.
  Rules("if Subject: ~ /x/ then folder A\n");
  ASSERT_EQ(Deliver("Subject: x\n\nb\n").exit_code, 0);
  EXPECT_TRUE(syslog.Read().empty());
  // An unusable site file (writable by others): its own warning; the user's rules still run.
  Site("after.rules", "if Subject: ~ /y/ then folder Y\n", 0666);
  ASSERT_EQ(Deliver("Subject: x\n\nb\n").exit_code, 0);
  EXPECT_EQ(Count(".A"), 2u);
  got = syslog.Read();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(text(got[0], LOG_MAIL | LOG_WARNING).find("site rule file " + (site_ / "after.rules")),
            std::string::npos)
      << got[0];
  // The site fixes the facility (with it, every record goes to syslog, as `set syslog` does
  // for a user); a user's `syslog = off` silences nothing.
  Site("after.rules", "set! syslog = local5\n");
  Rules("set syslog = off\nif Subject: ~ /x/ then folder /etc\n");
  ASSERT_EQ(Deliver("Subject: x\n\nb\n").exit_code, 0);
  EXPECT_EQ(Count(""), 2u);  // the refused folder: INBOX
  got = syslog.Read();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(text(got[0], LOG_LOCAL5 | LOG_WARNING).find(home_ / ".mda/rules:2: folder name '/etc'"),
            std::string::npos)
      << got[0];
  EXPECT_NE(text(got[1], LOG_LOCAL5 | LOG_INFO).find("outcome=delivered"), std::string::npos)
      << got[1];
  // Only the site can: set! syslog = off.
  Site("after.rules", "set! syslog = off\n");
  Rules("if Subject: ~ /[/ then folder A\n");
  ASSERT_EQ(Deliver("Subject: x\n\nb\n").exit_code, 0);
  EXPECT_TRUE(syslog.Read().empty());
}

}  // namespace
}  // namespace mda
