// Outgoing: every no-reply condition of a vacation action (one row each), the reply's
// headers and encodings, the response key, the forward loop guard, and the encoders.
#include "mda/outgoing.h"

#include <gtest/gtest.h>

#include "rules/mime_codec.h"
#include "rules/rfc2047.h"

namespace mda {
namespace {

Config BobsConfig(const std::string& sender = "alice@ext.org") {
  Config c;
  c.envelope.recipient = "bob+tag@example.com";
  c.envelope.local_part = "bob";
  c.envelope.local_part_suffix = "+tag";
  c.envelope.domain = "example.com";
  c.envelope.sender = sender;
  c.envelope.home = "/home/bob";
  return c;
}

rules::VacationReply Away() {
  rules::VacationReply v;
  v.text = "I am away.";
  v.addresses = {"robert@example.com"};
  v.rule = "rules:3";
  return v;
}

TEST(VacationTest, EachNoReplyConditionOnItsOwn) {
  const std::string base = "From: Alice <alice@ext.org>\nTo: Bob <bob@example.com>\n";
  struct Case {
    std::string sender, headers, reason;  // reason "": a reply goes out
  } cases[] = {
      {"alice@ext.org", base, ""},
      {"", base, "the envelope sender is empty (a bounce or an automatic message)"},
      {"BOB@example.com", base, "the sender is the user"},
      {"bob+tag@example.com", base, "the sender is the user"},
      {"robert@example.com", base, "the sender is the user"},
      {"alice@ext.org", base + "Auto-Submitted: auto-generated\n",
       "Auto-Submitted: auto-generated"},
      {"alice@ext.org", base + "Auto-Submitted: auto-replied (vacation)\n",
       "Auto-Submitted: auto-replied (vacation)"},
      {"alice@ext.org", base + "Auto-Submitted: no\n", ""},
      {"alice@ext.org", base + "Precedence: bulk\n", "Precedence: bulk"},
      {"alice@ext.org", base + "Precedence: List\n", "Precedence: list"},
      {"alice@ext.org", base + "Precedence: junk\n", "Precedence: junk"},
      {"alice@ext.org", base + "Precedence: first-class\n", ""},
      {"alice@ext.org", base + "List-Id: <dev.lists.example.org>\n",
       "a mailing list message (List-Id)"},
      {"alice@ext.org", base + "list-unsubscribe: <mailto:x@y>\n",
       "a mailing list message (list-unsubscribe)"},
      {"MAILER-DAEMON@ext.org", base, "the sender mailer-daemon@ext.org is a daemon or a list"},
      {"listserv@ext.org", base, "the sender listserv@ext.org is a daemon or a list"},
      {"Majordomo@ext.org", base, "the sender majordomo@ext.org is a daemon or a list"},
      {"owner-dev@ext.org", base, "the sender owner-dev@ext.org is a daemon or a list"},
      {"dev-request@ext.org", base, "the sender dev-request@ext.org is a daemon or a list"},
      {"alice@ext.org", base + "X-Auto-Response-Suppress: OOF\n", "X-Auto-Response-Suppress: OOF"},
      {"alice@ext.org", base + "X-Auto-Response-Suppress: DR, All\n",
       "X-Auto-Response-Suppress: DR, All"},
      {"alice@ext.org", base + "X-Auto-Response-Suppress: DR\n", ""},
      {"alice@ext.org", "From: alice@ext.org\nTo: team@example.com\n",
       "none of the user's addresses is in To, Cc or Bcc (add the others with 'addresses')"},
      {"alice@ext.org", "To: team@example.com\nCc: \"B\" <BOB@EXAMPLE.COM>\n", ""},
      {"alice@ext.org", "To: team@example.com\nBcc: bob@example.com\n", ""},
      {"alice@ext.org", "To: team@example.com\nResent-To: bob@example.com\n", ""},
      {"alice@ext.org", "To: team@example.com\nResent-Cc: bob@example.com\n", ""},
      {"alice@ext.org", "To: team@example.com\nResent-Bcc: bob@example.com\n", ""},
      {"alice@ext.org", "To: bob+tag@example.com\n", ""},
      {"alice@ext.org", "To: robert@example.com\n", ""},
      {"alice@ext.org", "To: \"bob@example.com\" <team@example.com>\n",
       "none of the user's addresses is in To, Cc or Bcc (add the others with 'addresses')"},
  };
  for (const Case& c : cases) {
    std::string message = c.headers + "Subject: hi\n\nbody\n";
    rules::HeaderBlock headers(message);
    EXPECT_EQ(NoReplyReason(BobsConfig(c.sender), headers, Away()), c.reason) << c.sender << "\n"
                                                                              << c.headers;
  }
}

TEST(VacationTest, TheReplyAsRfc3834WantsIt) {
  std::string message =
      "From: Jürgen <juergen@ext.org>\nTo: bob@example.com\n"
      "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\n"
      "Message-ID: <abc@ext.org>\nReferences: <first@ext.org>\n\nHallo\n";
  rules::HeaderBlock headers(message);
  rules::VacationReply v = Away();
  v.text = "Ich bin bis zum 4. Januar nicht im Büro.\nIn dringenden Fällen: ops@example.com";
  v.from = "b.smith@example.com";
  std::string reply = BuildReply(BobsConfig("juergen@ext.org"), headers, v, 1796459665);
  rules::HeaderBlock out(reply);
  auto value = [&](const char* name) {
    auto found = out.Find(name);
    return found.empty() ? std::string("(none)") : found[0]->value;
  };
  EXPECT_EQ(value("From"), "b.smith@example.com");
  EXPECT_EQ(value("To"), "juergen@ext.org");
  EXPECT_EQ(rules::DecodeRfc2047(value("Subject")), "Auto: Grüße aus Köln");
  EXPECT_EQ(value("In-Reply-To"), "<abc@ext.org>");
  EXPECT_EQ(value("References"), "<first@ext.org> <abc@ext.org>");
  EXPECT_EQ(value("Auto-Submitted"), "auto-replied (vacation)");
  EXPECT_EQ(value("Precedence"), "bulk");
  EXPECT_EQ(value("MIME-Version"), "1.0");
  EXPECT_EQ(value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(value("Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_EQ(value("Date"), "Sat, 05 Dec 2026 08:34:25 +0000");
  EXPECT_EQ(value("Message-ID").rfind("<1796459665.", 0), 0u) << value("Message-ID");
  std::string second = BuildReply(BobsConfig("juergen@ext.org"), headers, v, 1796459665);
  rules::HeaderBlock again(second);
  EXPECT_NE(again.Find("Message-ID")[0]->value, value("Message-ID"));  // fresh each time
  for (char c : reply) EXPECT_LT(static_cast<unsigned char>(c), 128) << "8-bit byte in the reply";
  std::string body = reply.substr(out.body_offset());
  EXPECT_EQ(rules::DecodeQuotedPrintable(body), v.text + "\n");
  // A subject of the rule's own, and an ASCII text, stay plain.
  v.subject = "Away until 4 January";
  v.text = "Away.";
  reply = BuildReply(BobsConfig("juergen@ext.org"), headers, v, 1796459665);
  EXPECT_NE(reply.find("\nSubject: Away until 4 January\n"), std::string::npos) << reply;
  EXPECT_NE(reply.find("charset=us-ascii"), std::string::npos);
  EXPECT_EQ(reply.substr(reply.size() - 6), "Away.\n");
}

TEST(VacationTest, AnotherResponseIsAnotherKey) {
  Config c = BobsConfig("Alice@Ext.org");
  rules::VacationReply v = Away();
  std::string key = ResponseKey(c, v);
  EXPECT_EQ(key.substr(key.find(' ')), " alice@ext.org bob+tag@example.com");
  EXPECT_EQ(ResponseKey(c, v), key);
  rules::VacationReply other = v;
  other.text = "Back on Monday.";
  EXPECT_NE(ResponseKey(c, other), key);
  other = v;
  other.subject = "Away";
  EXPECT_NE(ResponseKey(c, other), key);
  EXPECT_NE(ResponseKey(BobsConfig("carol@ext.org"), v), key);
  DedupConfig store = ResponseStoreConfig(c, v);
  EXPECT_EQ(store.file, "/home/bob/.mda/vacation.store");
  EXPECT_EQ(store.period, 7 * 86400);
}

TEST(ForwardTest, LoopGuard) {
  Config c = BobsConfig();
  rules::HeaderBlock plain("Subject: x\n\nbody\n");
  EXPECT_EQ(ForwardLoop(c, plain, "me@mobile.example.net"), "");
  EXPECT_NE(ForwardLoop(c, plain, "BOB+tag@example.com"), "");
  EXPECT_NE(ForwardLoop(c, plain, "bob@example.com"), "");
  rules::HeaderBlock ours(
      "X-Mda-Forwarded-For: alice@example.com\nX-Mda-Forwarded-For: "
      "Bob+Tag@Example.com\nSubject: x\n\nbody\n");
  EXPECT_NE(ForwardLoop(c, ours, "me@mobile.example.net").find("would loop"), std::string::npos);
  rules::HeaderBlock theirs("X-Mda-Forwarded-For: alice@example.com\nSubject: x\n\nbody\n");
  EXPECT_EQ(ForwardLoop(c, theirs, "me@mobile.example.net"), "");
  EXPECT_EQ(ForwardedMessage("A: 1\r\n\r\nb\r\n", "bob@example.com"),
            "X-Mda-Forwarded-For: bob@example.com\r\nA: 1\r\n\r\nb\r\n");
  c.mail_out.forward_sender = "recipient";
  EXPECT_EQ(ForwardSender(c), "bob+tag@example.com");
  c.mail_out.forward_sender = "bounces@example.com";
  EXPECT_EQ(ForwardSender(c), "bounces@example.com");
  c.mail_out.forward_sender = "";
  EXPECT_EQ(ForwardSender(c), "alice@ext.org");
  EXPECT_EQ(SendmailCall(BobsConfig(""), "", {"x@y"}, "").argv,
            (std::vector<std::string>{"/usr/sbin/sendmail", "-oi", "-f", "<>", "--", "x@y"}));
}

TEST(EncodersTest, RoundTripsAndLineLengths) {
  for (std::string text :
       {std::string("plain"), std::string("trailing blank \nx"), std::string("= equals"),
        std::string(200, 'a'), std::string("äöü ") + std::string(100, 'x') + "€\n\nlast line",
        std::string("tab\tend\t")}) {
    std::string qp = rules::EncodeQuotedPrintable(text);
    EXPECT_EQ(rules::DecodeQuotedPrintable(qp), text) << text;
    size_t start = 0;
    for (size_t nl = qp.find('\n');; nl = qp.find('\n', start)) {
      size_t end = nl == std::string::npos ? qp.size() : nl;
      EXPECT_LE(end - start, 76u) << qp;
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
  for (std::string subject :
       {std::string("Auto: plain"), std::string("Auto: Grüße"),
        std::string("€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€ long and non-ASCII"),
        std::string("=?looks encoded?=")}) {
    std::string encoded = rules::EncodeHeaderWords(subject);
    EXPECT_EQ(rules::DecodeRfc2047(encoded), subject) << encoded;
    size_t start = 0;
    for (size_t nl = encoded.find('\n');; nl = encoded.find('\n', start)) {
      size_t end = nl == std::string::npos ? encoded.size() : nl;
      EXPECT_LE(end - start, 76u) << encoded;
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
}

}  // namespace
}  // namespace mda
