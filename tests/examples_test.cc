// examples/rules/starter, the file users copy: it parses, and each of its jobs files the
// message it is written for.
#include <gtest/gtest.h>

#include "mda/pipeline.h"
#include "tests/test_util.h"

namespace mda {
namespace {

struct Job {
  std::string what, message, sender, expected;
};

TEST(ExamplesTest, StarterRulesDoWhatTheyDescribe) {
  const Job jobs[] = {
      {"whitelisted sender beats the spam filter",
       "From: Alice <alice@example.org>\nX-Spam-Flag: YES\nSubject: hi\n\nx\n", "alice@example.org",
       "INBOX"},
      {"phishing display name is not whitelisted",
       "From: \"boss@example.com\" <ceo@evil.net>\nX-Spam-Score: 6.2\n\nx\n", "ceo@evil.net",
       "Junk"},
      {"spam by flag", "From: x@spam.example\nX-Spam-Flag: YES\n\nx\n", "x@spam.example", "Junk"},
      {"spam by score", "From: x@spam.example\nX-Spam-Score: 5.0\n\nx\n", "x@spam.example", "Junk"},
      {"not spam below the threshold", "From: x@ok.example\nX-Spam-Score: -0.4\n\nx\n",
       "x@ok.example", "INBOX"},
      {"list by List-Id", "From: bob@x.org\nList-Id: Devs <dev.lists.example.org>\n\nx\n",
       "bob@x.org", "Lists/dev"},
      {"alert copied, then sorted on", "From: mon@ops.example\nSubject: [ALERT] disk\n\nx\n",
       "mon@ops.example", "Alerts,INBOX"},
      {"an [ALERT] on a list files into the list (the list rule comes first, so no copy)",
       "From: mon@ops.example\nSubject: [ALERT] x\nList-Id: <ops.lists.example.org>\n\nx\n",
       "mon@ops.example", "Lists/ops"},
      {"bounce", "From: MAILER-DAEMON@mx.example\nSubject: Undelivered\n\nx\n", "", "Bounces"},
  };
  test::TempDir home;  // the starter's `set maildir = ~/Maildir` must be makeable there
  for (const Job& job : jobs) {
    Options options;
    options.rules = std::string(MDA_SOURCE_DIR) + "/examples/rules/starter";
    options.sender = job.sender;
    options.recipient = "me@example.com";
    options.home = home.path();
    Message message = Message::FromBytes(job.message);
    DryRun run;
    Status s = run.Open(
        PosixFs(), options, [](const char*) -> const char* { return nullptr; }, std::nullopt,
        getuid(), "");
    ASSERT_TRUE(s.ok()) << s.message();
    Evaluation e;
    s = run.Decide(message, /*trace=*/false, &e);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE(run.config().rules_used) << (e.warnings.empty() ? "" : e.warnings[0]);
    std::string got;
    for (const rules::Target& t : e.decision.targets)
      got += (got.empty() ? "" : ",") + rules::ShowTarget(t);
    EXPECT_EQ(got, job.expected) << job.what;
  }
}

}  // namespace
}  // namespace mda
