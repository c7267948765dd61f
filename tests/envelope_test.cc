// Tests of Envelope: Exim's environment, command-line overrides and the passwd fallback.
#include "mda/envelope.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <map>

namespace mda {
namespace {

Environment MapEnv(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

// What Exim 4.96 sets for a router without check_local_user (ARCHITECTURE.md, "Facts").
std::map<std::string, std::string> EximEnv() {
  return {{"LOCAL_PART", "bob"},
          {"LOGNAME", "bob"},
          {"USER", "bob"},
          {"LOCAL_PART_PREFIX", ""},
          {"LOCAL_PART_SUFFIX", ""},
          {"DOMAIN", "example.com"},
          {"HOME", ""},
          {"MESSAGE_ID", "1xW4c0-0004pL-0k"},
          {"PATH", "/bin:/usr/bin"},
          {"RECIPIENT", "bob@example.com"},
          {"QUALIFY_DOMAIN", "example.org"},
          {"SENDER", "alice@example.org"},
          {"SHELL", "/bin/sh"}};
}

const std::optional<Account> kBob = Account{"bob", "/home/bob"};

TEST(EnvelopeTest, FromEximEnvironmentWithPasswdHome) {
  Envelope e;
  ASSERT_TRUE(ResolveEnvelope(Options(), MapEnv(EximEnv()), kBob, "", &e).ok());
  EXPECT_EQ(e.recipient, "bob@example.com");
  EXPECT_EQ(e.sender, "alice@example.org");
  EXPECT_EQ(e.local_part, "bob");
  EXPECT_EQ(e.domain, "example.com");
  EXPECT_EQ(e.queue_id, "1xW4c0-0004pL-0k");
  EXPECT_EQ(e.home, "/home/bob");  // HOME is empty: passwd
  EXPECT_EQ(e.maildir, "/home/bob/Maildir");
  EXPECT_EQ(e.rules, "/home/bob/.mda/rules");
  EXPECT_EQ(e.folder, "INBOX");
}

TEST(EnvelopeTest, HomeFromEnvironmentWinsOverPasswd) {
  auto env = EximEnv();
  env["HOME"] = "/srv/mail/bob/";
  Envelope e;
  ASSERT_TRUE(ResolveEnvelope(Options(), MapEnv(env), kBob, "", &e).ok());
  EXPECT_EQ(e.home, "/srv/mail/bob");
  EXPECT_EQ(e.maildir, "/srv/mail/bob/Maildir");
}

TEST(EnvelopeTest, OptionsOverrideEnvironment) {
  Options o;
  o.recipient = "other@example.net";
  o.sender = "";
  o.home = "/h";
  o.maildir = "~/Mail/box/";
  o.rules = "rules.d/main";
  o.queue_id = "q1";
  o.folder = "Junk";
  Envelope e;
  ASSERT_TRUE(ResolveEnvelope(o, MapEnv(EximEnv()), kBob, "", &e).ok());
  EXPECT_EQ(e.recipient, "other@example.net");
  EXPECT_EQ(e.sender, "");  // explicitly a bounce
  EXPECT_EQ(e.maildir, "/h/Mail/box");
  EXPECT_EQ(e.rules, "/h/rules.d/main");  // relative: below HOME
  EXPECT_EQ(e.queue_id, "q1");
  EXPECT_EQ(e.folder, "Junk");
}

TEST(EnvelopeTest, NullSenderIsEmpty) {
  auto env = EximEnv();
  env["SENDER"] = "";
  Envelope e;
  ASSERT_TRUE(
      ResolveEnvelope(Options(), MapEnv(env), kBob, "From x@y Wed Nov 25 04:28:04 2026", &e).ok());
  EXPECT_EQ(e.sender, "");  // SENDER set, even if empty, wins over the From_ line
}

TEST(EnvelopeTest, RunByHandUsesPasswdAndFromLine) {
  Envelope e;
  ASSERT_TRUE(
      ResolveEnvelope(Options(), MapEnv({}), kBob, "From x@y.org Wed Nov 25 04:28:04 2026", &e)
          .ok());
  EXPECT_EQ(e.sender, "x@y.org");
  EXPECT_EQ(e.recipient, "bob");
  EXPECT_EQ(e.local_part, "bob");
  ASSERT_TRUE(ResolveEnvelope(Options(), MapEnv({}), kBob,
                              "From MAILER-DAEMON Wed Nov 25 04:28:04 2026", &e)
                  .ok());
  EXPECT_EQ(e.sender, "");
}

TEST(EnvelopeTest, NoHomeAnywhereIsAnErrorSayingWhatToDo) {
  Envelope e;
  Status s = ResolveEnvelope(Options(), MapEnv(EximEnv()), std::nullopt, "", &e);
  EXPECT_EQ(s.kind(), Status::Kind::kBadInput);
  EXPECT_NE(s.message().find("HOME is empty and the user has no passwd entry"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("check_local_user"), std::string::npos);
}

TEST(EnvelopeTest, AbsoluteMaildirNeedsNoHome) {
  Options o;
  o.maildir = "/var/mail/bob";
  Envelope e;
  ASSERT_TRUE(ResolveEnvelope(o, MapEnv(EximEnv()), std::nullopt, "", &e).ok());
  EXPECT_EQ(e.maildir, "/var/mail/bob");
  EXPECT_EQ(e.rules, "");
}

TEST(EnvelopeTest, RelativeHomeRefused) {
  auto env = EximEnv();
  env["HOME"] = "home/bob";
  Envelope e;
  Status s = ResolveEnvelope(Options(), MapEnv(env), kBob, "", &e);
  EXPECT_EQ(s.message(), "home directory 'home/bob' is not an absolute path");
}

TEST(EnvelopeTest, PasswdIsNeededOnlyWithoutHomeOrLocalPart) {
  Options none;
  Options home_and_local_part;
  home_and_local_part.home = "/h";
  home_and_local_part.local_part = "bob";
  EXPECT_FALSE(NeedsAccount(none, MapEnv({{"HOME", "/h"}, {"LOCAL_PART", "bob"}})));  // Exim
  EXPECT_FALSE(NeedsAccount(home_and_local_part, MapEnv({})));
  EXPECT_TRUE(
      NeedsAccount(none, MapEnv({{"HOME", ""}, {"LOCAL_PART", "bob"}})));  // no check_local_user
  EXPECT_TRUE(NeedsAccount(none, MapEnv({{"HOME", "/h"}})));               // run by hand
  EXPECT_TRUE(NeedsAccount(none, MapEnv({})));
}

TEST(EnvelopeTest, LookUpAccountAgreesWithGetpwuid) {
  struct passwd* pw = getpwuid(getuid());
  ASSERT_NE(pw, nullptr);
  std::optional<Account> account = LookUpAccount(getuid());
  ASSERT_TRUE(account);
  EXPECT_EQ(account->name, pw->pw_name);
  EXPECT_EQ(account->home, pw->pw_dir);
  uid_t unused = 54321;
  while (getpwuid(unused) != nullptr) ++unused;
  EXPECT_FALSE(LookUpAccount(unused));
}

TEST(ExpandPathTest, Table) {
  struct Case {
    std::string path, expected;
  } cases[] = {
      {"~", "/h"},
      {"~/Maildir", "/h/Maildir"},
      {"Maildir", "/h/Maildir"},
      {"/abs/x", "/abs/x"},
  };
  for (const Case& c : cases) {
    std::string out;
    ASSERT_TRUE(ExpandPath(c.path, "/h", "x", &out).ok());
    EXPECT_EQ(out, c.expected);
  }
  std::string out;
  EXPECT_FALSE(ExpandPath("", "/h", "the Maildir", &out).ok());
}

}  // namespace
}  // namespace mda
