// forward and vacation through the real mda binary, with a sendmail that records what it is
// given (or exits 75, exits 1, hangs, is missing): the arguments and the message it gets,
// the loop guard, retries that never send twice, replies once per sender, and mdatest.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/test_util.h"

namespace mda {
namespace {

using test::ListDir;
using test::ReadFile;

// Records each call as out/N.args and out/N.msg; exits 75 while ~/down exists (and is
// empty or names the recipient), 1 while ~/broken exists, never ends while ~/hang exists.
const char kSendmail[] =
    "#!/bin/sh\n"
    "if [ -e \"$HOME/down\" ]; then d=$(cat \"$HOME/down\")\n"
    "  if [ -z \"$d\" ] || [ \"$d\" = \"$5\" ]; then echo 'queue full' >&2; exit 75; fi\n"
    "fi\n"
    "[ -e \"$HOME/broken\" ] && { echo 'bad recipient' >&2; exit 1; }\n"
    "[ -e \"$HOME/hang\" ] && exec sleep 1000\n"
    "n=$(ls \"$HOME/out\" | grep -c args)\n"
    "cat > \"$HOME/out/.tmp\"\n"
    "printf '%s\\n' \"$@\" > \"$HOME/out/$n.args\"\n"
    "mv \"$HOME/out/.tmp\" \"$HOME/out/$n.msg\"\n";

class OutgoingProcessTest : public testing::Test {
 protected:
  void SetUp() override {
    test::MakeDirs(home_ / ".mda");
    chmod((home_ / ".mda").c_str(), 0700);
    test::MakeDirs(home_ / "bin");
    test::MakeDirs(home_ / "out");
    test::WriteFile(home_ / "bin/sendmail", kSendmail);
    chmod((home_ / "bin/sendmail").c_str(), 0755);
    test::ChownToTestUser(home_ / "bin/sendmail");
  }
  void Rules(const std::string& text) {
    test::WriteFile(home_ / ".mda/rules",
                    "set sendmail = " + (home_ / "bin/sendmail") + "\n" + text);
    chmod((home_ / ".mda/rules").c_str(), 0600);
  }
  void Flag(const std::string& name, bool on) {
    if (on) {
      test::WriteFile(home_ / name, "");
      test::ChownToTestUser(home_ / name);
    } else {
      unlink((home_ / name).c_str());
    }
  }
  test::Result Deliver(const std::string& message, const std::string& queue_id = "1q-test",
                       const std::string& sender = "alice@ext.org") {
    return test::Exec({test::MdaBinary()},
                      {"HOME=" + home_.path(), "RECIPIENT=bob@example.com", "SENDER=" + sender,
                       "LOCAL_PART=bob", "DOMAIN=example.com", "MESSAGE_ID=" + queue_id},
                      message);
  }
  // The sendmail calls so far: each its arguments (one a line) and the message.
  std::vector<std::pair<std::string, std::string>> Sent() {
    std::vector<std::pair<std::string, std::string>> calls;
    for (int n = 0;; ++n) {
      std::string args = home_ / ("out/" + std::to_string(n) + ".args");
      if (access(args.c_str(), F_OK) != 0) break;
      calls.emplace_back(ReadFile(args), ReadFile(home_ / ("out/" + std::to_string(n) + ".msg")));
    }
    return calls;
  }
  size_t Inbox() { return ListDir(home_ / "Maildir/new").size(); }
  std::vector<test::LogFields> Log() { return test::ReadLog(home_ / ".mda/log"); }
  std::string Warnings() {
    std::string all;
    for (const test::LogFields& l : Log()) {
      if (test::Get(l, "level") == "warning") all += test::Get(l, "reason") + "\n";
    }
    return all;
  }

  test::TempDir home_;
};

const char kFromBoss[] =
    "From: Boss <boss@example.com>\nTo: bob@example.com\nMessage-ID: <b1@example.com>\n"
    "Subject: budget\n\nplease call\n";

TEST_F(OutgoingProcessTest, ForwardHandsTheMessageToSendmailWithTheTraceHeader) {
  Rules("if address From: is \"boss@example.com\" then copy forward \"me@mobile.example.net\"\n");
  test::Result r = Deliver(kFromBoss);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, "-oi\n-f\nalice@ext.org\n--\nme@mobile.example.net\n");
  EXPECT_EQ(sent[0].second, std::string("X-Mda-Forwarded-For: bob@example.com\n") + kFromBoss);
  EXPECT_EQ(Inbox(), 1u);  // copy forward: delivered here too
  std::vector<test::LogFields> log = Log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(test::GetAll(log[0], "folder"),
            (std::vector<std::string>{"forward me@mobile.example.net", "INBOX"}));
  EXPECT_EQ(test::Get(log[0], "file"), "sent");
  // A retry of the same attempt (Exim lost our exit code) sends nothing again.
  ASSERT_EQ(Deliver(kFromBoss).exit_code, 0);
  EXPECT_EQ(Sent().size(), 1u);
  EXPECT_EQ(Inbox(), 1u);
}

TEST_F(OutgoingProcessTest, AForwardIsFinalAndGoesToEachAddressOnce) {
  Rules("if exists Subject: then forward \"a@example.net\" \"B@example.net\" \"b@example.net\"\n");
  ASSERT_EQ(Deliver(kFromBoss).exit_code, 0);
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(sent[0].first.find("\na@example.net\n"), std::string::npos);
  EXPECT_NE(sent[1].first.find("\nB@example.net\n"), std::string::npos);
  EXPECT_EQ(Inbox(), 0u);
}

TEST_F(OutgoingProcessTest, NoForwardBackToTheRecipientOrOfAMessageItForwardedBefore) {
  Rules("if exists Subject: then forward \"me@mobile.example.net\"\n");
  std::string looped = std::string("X-Mda-Forwarded-For: bob@example.com\n") + kFromBoss;
  test::Result r = Deliver(looped);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Sent().empty());
  EXPECT_NE(Warnings().find("was forwarded by bob@example.com before (X-Mda-Forwarded-For), so "
                            "it would loop"),
            std::string::npos)
      << Warnings();
  Rules("if exists Subject: then forward \"Bob@Example.com\"\n");
  std::string other = kFromBoss;
  other.replace(other.find("<b1@"), 4, "<b2@");
  ASSERT_EQ(Deliver(other, "1q-other").exit_code, 0);
  EXPECT_TRUE(Sent().empty());
  EXPECT_NE(Warnings().find("not forwarded to Bob@Example.com: that is this recipient"),
            std::string::npos);
}

TEST_F(OutgoingProcessTest, TheEnvelopeSenderOfAForward) {
  struct {
    std::string setting, sender, want;
  } cases[] = {
      {"", "alice@ext.org", "alice@ext.org"},
      {"set forward-sender = recipient\n", "alice@ext.org", "bob@example.com"},
      {"set forward-sender = bounces@example.com\n", "alice@ext.org", "bounces@example.com"},
      {"", "", "<>"},  // a bounce is forwarded as a bounce
  };
  int n = 0;
  for (const auto& c : cases) {
    Rules(c.setting + "if exists Subject: then forward \"me@mobile.example.net\"\n");
    std::string message = kFromBoss;
    message.replace(message.find("<b1@"), 4, "<s" + std::to_string(n) + "@");
    ASSERT_EQ(Deliver(message, "1q-" + std::to_string(n), c.sender).exit_code, 0);
    auto sent = Sent();
    ASSERT_EQ(sent.size(), static_cast<size_t>(n + 1));
    EXPECT_EQ(sent.back().first, "-oi\n-f\n" + c.want + "\n--\nme@mobile.example.net\n");
    ++n;
  }
}

TEST_F(OutgoingProcessTest, SendmailTemporaryFailureDefersAndTheRetrySendsEachOnce) {
  Rules(
      "if exists Subject: then copy forward \"first@example.net\" copy Kept forward "
      "\"second@example.net\"\n");
  test::WriteFile(home_ / "down", "second@example.net");
  test::ChownToTestUser(home_ / "down");
  test::Result r = Deliver(kFromBoss);
  EXPECT_EQ(r.exit_code, 75) << r.output;
  EXPECT_NE(r.output.find("forward to second@example.net: " + (home_ / "bin/sendmail") +
                          " exited 75 (temporary failure) (it said: queue full)"),
            std::string::npos)
      << r.output;
  ASSERT_EQ(Sent().size(), 1u);  // first@ went out
  EXPECT_EQ(ListDir(home_ / "Maildir/.Kept/new").size(), 1u);
  Flag("down", false);
  r = Deliver(kFromBoss);  // Exim's retry, same queue id
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 2u);  // only second@ now
  EXPECT_NE(sent[1].first.find("\nsecond@example.net\n"), std::string::npos);
  EXPECT_EQ(ListDir(home_ / "Maildir/.Kept/new").size(), 1u);
}

TEST_F(OutgoingProcessTest, OtherSendmailFailuresKeepTheMessageInInbox) {
  struct {
    std::string flag, setting, says;
  } cases[] = {
      {"broken", "", "exited 1 (it said: bad recipient); the message is kept in INBOX"},
      {"hang", "set program-timeout = 1s\n",
       "did not finish within program-timeout 1s: killed with its process group; the message "
       "is kept in INBOX"},
      {"", "set sendmail = /usr/sbin/no-such-sendmail\n",
       "could not be started: No such file or directory; the message is kept in INBOX"},
  };
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.says);
    test::Exec({"/bin/rm", "-rf", home_ / "Maildir", home_ / ".mda/log"}, {}, "");
    if (!c.flag.empty()) Flag(c.flag, true);
    Rules(c.setting + "if exists Subject: then forward \"me@mobile.example.net\"\n");
    std::string message = kFromBoss;
    message.replace(message.find("<b1@"), 4, "<f" + std::to_string(n) + "@");
    test::Result r = Deliver(message, "1q-f" + std::to_string(n));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output, "");  // never a bounce to the original sender
    EXPECT_EQ(Inbox(), 1u);
    EXPECT_NE(Warnings().find(c.says), std::string::npos) << Warnings();
    EXPECT_EQ(test::Get(Log().back(), "outcome"), "fallback");
    if (!c.flag.empty()) Flag(c.flag, false);
    ++n;
  }
}

const char kToBob[] =
    "From: Alice <alice@ext.org>\nTo: Bob <bob@example.com>\nMessage-ID: <a1@ext.org>\n"
    "Subject: lunch?\n\nnoon?\n";

TEST_F(OutgoingProcessTest, VacationRepliesOncePerSenderAndResponse) {
  Rules("if not exists List-Id: then vacation days 7 subject \"Away\" \"Back on Monday.\"\n");
  ASSERT_EQ(Deliver(kToBob).exit_code, 0);
  EXPECT_EQ(Inbox(), 1u);  // not final: the message is delivered too
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, "-oi\n-f\n<>\n--\nalice@ext.org\n");
  EXPECT_NE(sent[0].second.find("\nSubject: Away\n"), std::string::npos) << sent[0].second;
  EXPECT_NE(sent[0].second.find("\nIn-Reply-To: <a1@ext.org>\n"), std::string::npos);
  EXPECT_EQ(test::Get(Log().back(), "vacation"), "sent to alice@ext.org");
  // The same sender again within 7 days: no second reply.
  std::string again = kToBob;
  again.replace(again.find("<a1@"), 4, "<a2@");
  ASSERT_EQ(Deliver(again, "1q-2").exit_code, 0);
  EXPECT_EQ(Sent().size(), 1u);
  EXPECT_NE(test::Get(Log().back(), "vacation").find("not sent: alice@ext.org got this reply on "),
            std::string::npos);
  // Another sender gets one; a new response text is a new response for everybody.
  again.replace(again.find("<a2@"), 4, "<a3@");
  ASSERT_EQ(Deliver(again, "1q-3", "carol@ext.org").exit_code, 0);
  ASSERT_EQ(Sent().size(), 2u);
  EXPECT_EQ(Sent()[1].first, "-oi\n-f\n<>\n--\ncarol@ext.org\n");
  Rules("if not exists List-Id: then vacation days 7 subject \"Away\" \"Back on Tuesday.\"\n");
  again.replace(again.find("<a3@"), 4, "<a4@");
  ASSERT_EQ(Deliver(again, "1q-4").exit_code, 0);
  EXPECT_EQ(Sent().size(), 3u);
}

TEST_F(OutgoingProcessTest, NoVacationReplyToABounceAListOrADuplicate) {
  Rules("if exists Subject: then vacation \"Away.\"\n");
  ASSERT_EQ(Deliver(kToBob, "1q-1", "").exit_code, 0);
  EXPECT_EQ(test::Get(Log().back(), "vacation"),
            "not sent: the envelope sender is empty (a bounce or an automatic message)");
  std::string list = std::string("List-Id: <dev.lists.example.org>\n") + kToBob;
  list.replace(list.find("<a1@"), 4, "<l1@");
  ASSERT_EQ(Deliver(list, "1q-2").exit_code, 0);
  EXPECT_EQ(test::Get(Log().back(), "vacation"), "not sent: a mailing list message (List-Id)");
  EXPECT_TRUE(Sent().empty());
  // The first message again (another queue id): a duplicate, and no reply either.
  ASSERT_EQ(Deliver(kToBob, "1q-3").exit_code, 0);
  EXPECT_EQ(test::Get(Log().back(), "outcome"), "duplicate");
  EXPECT_TRUE(Sent().empty());
}

TEST_F(OutgoingProcessTest, AReplyThatCannotBeSentNeverFailsTheDelivery) {
  Rules("if exists Subject: then vacation \"Away.\"\n");
  Flag("down", true);
  test::Result r = Deliver(kToBob);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Inbox(), 1u);
  EXPECT_EQ(test::Get(Log().back(), "vacation"), "not sent: sendmail failed");
  EXPECT_NE(Warnings().find("vacation reply to alice@ext.org: " + (home_ / "bin/sendmail") +
                            " exited 75 (temporary failure) (it said: queue full); not sent"),
            std::string::npos)
      << Warnings();
  // Not remembered as sent: the next message from her gets the reply.
  Flag("down", false);
  std::string next = kToBob;
  next.replace(next.find("<a1@"), 4, "<a5@");
  ASSERT_EQ(Deliver(next, "1q-5").exit_code, 0);
  EXPECT_EQ(Sent().size(), 1u);
}

TEST_F(OutgoingProcessTest, MdatestSaysWhatWouldBeSent) {
  Rules(
      "if exists Subject: then copy forward \"me@mobile.example.net\"\n"
      "if exists Subject: then vacation \"Away.\"\n");
  test::WriteFile(home_ / "m", kToBob);
  test::ChownToTestUser(home_ / "m");
  std::vector<std::string> env = {"HOME=" + home_.path(), "RECIPIENT=bob@example.com",
                                  "LOCAL_PART=bob", "DOMAIN=example.com"};
  test::Result r =
      test::Exec({test::MdatestBinary(), "--sender", "alice@ext.org", home_ / "m"}, env, "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("-> forward me@mobile.example.net + INBOX"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("  vacation: would reply to alice@ext.org\n"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("  would forward to me@mobile.example.net\n"), std::string::npos)
      << r.output;
  EXPECT_TRUE(Sent().empty());  // a dry run sends nothing
  ASSERT_EQ(Deliver(kToBob).exit_code, 0);
  ASSERT_EQ(Sent().size(), 2u);
  std::string other = kToBob;
  other.replace(other.find("<a1@"), 4, "<a9@");
  test::WriteFile(home_ / "m", other);
  r = test::Exec({test::MdatestBinary(), "--sender", "alice@ext.org", home_ / "m"}, env, "");
  EXPECT_NE(r.output.find("  vacation: would not reply: alice@ext.org got this reply on "),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace mda
