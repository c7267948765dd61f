// Tests of the evaluator: every test kind and action on real header shapes, captures,
// ordering, and the decision it returns.
#include "rules/evaluator.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "rules/body_text.h"
#include "rules/parser.h"

namespace mda::rules {
namespace {

struct Result {
  Decision decision;
  std::string Summary() const {
    std::string s;
    switch (decision.outcome) {
      case Outcome::kDeliver:
        s = "deliver";
        break;
      case Outcome::kDiscard:
        s = "discard";
        break;
      case Outcome::kDefer:
        s = "defer:" + decision.reason;
        break;
      case Outcome::kReject:
        s = "reject:" + decision.reason;
        break;
    }
    for (const Target& t : decision.targets) s += " " + ShowTarget(t);
    return s;
  }
};

Result Eval(const std::string& rules_text, const std::string& message,
            std::string sender = "alice@example.org", std::string recipient = "bob@example.com") {
  RuleSet rs;
  Status s = ParseRules("r", rules_text, "r", ParseOptions(), &rs);
  EXPECT_TRUE(s.ok()) << s.message();
  HeaderBlock headers(message);
  MessageContext m;
  m.content = message;
  m.headers = &headers;
  m.sender = sender;
  m.recipient = recipient;
  m.local_part = "bob";
  m.local_part_suffix = "+lists";
  m.domain = "example.com";
  m.home = "/home/bob";
  m.body_text = [](std::string_view content) { return BodyText(content, 1 << 20); };
  return Result{Evaluate(rs, m, "INBOX", true)};
}

TEST(EvaluatorTest, Table) {
  struct Case {
    std::string rules, message, expected;
  } cases[] = {
      // Numbers as SpamAssassin writes them.
      {"if X-Spam-Score: >= 5.0 then folder Junk", "X-Spam-Score: 5.00\n\n", "deliver Junk"},
      {"if X-Spam-Score: >= 5.0 then folder Junk", "X-Spam-Score: 4.99\n\n", "deliver INBOX"},
      {"if X-Spam-Score: >= 5.0 then folder Junk", "X-Spam-Score: 0012.641\n\n", "deliver Junk"},
      {"if X-Spam-Score: < 0 then folder Ham", "X-Spam-Score: -0.4\n\n", "deliver Ham"},
      {"if X-Spam-Score: >= 5 then folder Junk", "X-Spam-Score: 7,3\n\n", "deliver INBOX"},
      {"if X-Spam-Score: < 5 then folder Ham", "X-Spam-Score: high\n\n",
       "deliver INBOX"},  // no number: false
      {"if X-Spam-Status: >= 5 then folder Junk",
       "X-Spam-Status: Yes, score=7.3 required=5.0 tests=BAYES_99,\n\tURIBL_BLACK autolearn=no\n\n",
       "deliver Junk"},
      {"if X-Spam-Score: >= 5 then folder Junk", "Subject: no score\n\n", "deliver INBOX"},
      // is / contains: case-insensitive, no escaping.
      {"if X-Spam-Flag: is \"YES\" then folder Junk", "X-Spam-Flag: yes\n\n", "deliver Junk"},
      {"if X-Spam-Flag: is \"YES\" then folder Junk", "X-Spam-Flag: NO\n\n", "deliver INBOX"},
      {"if Subject: contains \"[alert]\" then folder A", "Subject: disk [ALERT] now\n\n",
       "deliver A"},
      {"if Subject: contains \"a.b*\" then folder A", "Subject: xa.b*y\n\n", "deliver A"},
      {"if Subject: contains \"a.b*\" then folder A", "Subject: xaXbby\n\n", "deliver INBOX"},
      // Decoded and unfolded before matching.
      {"if Subject: ~ /\\[ALERT\\]/ then folder A",
       "Subject: =?UTF-8?Q?=5BAL?=\n =?UTF-8?Q?ERT=5D?= disk\n\n", "deliver A"},
      {"if Subject: contains \"résumé\" then folder CV", "Subject: =?ISO-8859-1?Q?R=E9sum=E9?=\n\n",
       "deliver CV"},
      {"if Subject: ~ /^caf\\x{e9}$/ then folder A", "Subject: =?UTF-8?B?Y2Fmw6k=?=\n\n",
       "deliver A"},
      // Any occurrence matches; !~ means none matches.
      {"if Received: ~ /evil/ then folder A", "Received: a\nReceived: from evil\n\n", "deliver A"},
      {"if Received: !~ /evil/ then folder A", "Received: a\nReceived: from evil\n\n",
       "deliver INBOX"},
      {"if X-Missing: !~ /x/ then folder A", "Subject: s\n\n", "deliver A"},
      // Header names are case-insensitive; only the top-level header counts.
      {"if list-id: contains \"dev\" then folder A", "LIST-ID: <dev.x>\n\n", "deliver A"},
      {"if X-Spam-Flag: is \"YES\" then folder Junk",
       "Content-Type: message/rfc822\n\nX-Spam-Flag: YES\nSubject: inner\n\nbody\n",
       "deliver INBOX"},
      // Captures, numbered and named, in folder names.
      {"if List-Id: ~ /<([a-z0-9-]+)\\.lists\\.example\\.org>/ then folder Lists/$1",
       "List-Id: Dev people <dev-team.lists.example.org>\n\n", "deliver Lists/dev-team"},
      {"if List-Id: ~ /<(?<name>[a-z]+)\\./i then folder Lists/${name}", "List-Id: <DEV.x.org>\n\n",
       "deliver Lists/DEV"},
      {"if exists A: then folder \"$LOCAL_PART at $DOMAIN $$\"", "A: 1\n\n",
       "deliver bob at example.com $"},
      {"if exists A: then folder \"Tagged/${LOCAL_PART_SUFFIX}$LOCAL_PART_PREFIX\"", "A: 1\n\n",
       "deliver Tagged/+lists"},
      // headers: the whole header, a line a field, continuations joined, ^ and $ per line
      // (procmail's conditions; the converter's ^TO_ and ^FROM_DAEMON need it).
      {"if headers ~ /^(To|Cc):.*dev@lists/i then folder Dev",
       "From: a@x\nCC: someone@x,\n\tdev@LISTS.example.org\nSubject: s\n\n", "deliver Dev"},
      {"if headers ~ /^(To|Cc):.*dev@lists/i then folder Dev",
       "From: a@x\nSubject: To: dev@lists\n\n", "deliver INBOX"},  // not at a line's start
      {"if headers ~ /^Subject: hello$/ then folder H", "Subject: hello\nX: 1\n\n", "deliver H"},
      {"if headers ~ /^Subject: hello$/ then folder H", "Subject: hello there\n\n",
       "deliver INBOX"},
      {"if headers !~ /^Precedence: (bulk|list)/i then folder P", "Precedence: List\n\n",
       "deliver INBOX"},
      {"if headers ~ /^X-B: b/ then folder B", "X-A: a\nX-B: b\n\nX-B: b in the body\n",
       "deliver B"},
      {"if headers ~ /in the body/ then folder B", "X-A: a\n\nX-B: b in the body\n",
       "deliver INBOX"},  // the body is not the header
      // rawbody: the body as it arrived (procmail's B): a forwarded message's header, a
      // part's MIME header, base64 as it is; ^ and $ per line; not the header.
      {"if rawbody ~ /^X-Spam-Flag: YES/ then folder S",
       "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee\n"
       "--b\nContent-Type: message/rfc822\n\nX-Spam-Flag: YES\n\ninner\n--b--\n",
       "deliver S"},
      {"if body ~ /X-Spam-Flag/ then folder S",
       "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee\n"
       "--b\nContent-Type: message/rfc822\n\nX-Spam-Flag: YES\n\ninner\n--b--\n",
       "deliver INBOX"},  // body: the text parts only
      {"if rawbody ~ /aGVsbG8=/ then folder B", "Content-Transfer-Encoding: base64\n\naGVsbG8=\n",
       "deliver B"},
      {"if rawbody ~ /hello/ then folder B", "Content-Transfer-Encoding: base64\n\naGVsbG8=\n",
       "deliver INBOX"},
      {"if rawbody ~ /^G.ten Tag$/ then folder B", "X: 1\n\nfirst\nG\xFCten Tag\nlast\n",
       "deliver B"},  // a Latin-1 byte is one character, ^ $ at each line
      {"if rawbody ~ /Subject/ then folder B", "Subject: x\n\nbody\n", "deliver INBOX"},
      // address: the addr-spec, never the display name.
      {"if address From: ~ /@example\\.com$/i then folder Work",
       "From: \"boss@example.com\" <phish@evil.net>\n\n", "deliver INBOX"},
      {"if address From: ~ /@evil\\.net$/ then folder Phish",
       "From: \"boss@example.com\" <phish@evil.net>\n\n", "deliver Phish"},
      {"if address To: is \"ME@EXAMPLE.COM\" then folder Me",
       "To: undisclosed-recipients:;, Me <me@example.com>\n\n", "deliver Me"},
      {"if address To: contains \"@\" then folder A", "To: undisclosed-recipients:;\n\n",
       "deliver INBOX"},
      // Envelope.
      {"if sender is \"\" then folder Bounces", "Subject: x\n\n", "deliver INBOX"},
      {"if sender ~ /^$/ then folder Bounces", "Subject: x\n\n", "deliver INBOX"},
      {"if recipient ~ /^bob@/ then folder Mine", "Subject: x\n\n", "deliver Mine"},
      // size
      {"if size > 10 then folder Big", "Subject: x\n\n0123456789\n", "deliver Big"},
      {"if size > 1K then folder Big", "Subject: x\n\n0123456789\n", "deliver INBOX"},
      // body: decoded text parts only.
      {"if body contains \"unsubscribe\" then folder Lists", "Subject: x\n\nTo UNSUBSCRIBE click\n",
       "deliver Lists"},
      {"if body ~ /^begin [0-7]{3} /m and not exists Content-Type: then discard",
       "Subject: x\n\nhello\nbegin 644 file.bin\n", "discard"},
      {"if body contains \"secret\" then folder A",
       "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\nc2VjcmV0\n",
       "deliver A"},
      // and / or / not / parentheses.
      {"if exists A: and exists B: then folder AB", "A: 1\n\n", "deliver INBOX"},
      {"if exists A: or exists B: then folder AB", "B: 1\n\n", "deliver AB"},
      {"if not (exists A: or exists B:) then folder None", "C: 1\n\n", "deliver None"},
      // Order: first final action wins; copy and add-header go on; a folder named twice: one copy.
      {"if exists A: then folder First\nif exists A: then folder Second", "A: 1\n\n",
       "deliver First"},
      {"if exists A: then copy Alerts\nif exists A: then folder Work", "A: 1\n\n",
       "deliver Alerts Work"},
      {"if exists A: then copy Alerts\n", "A: 1\n\n", "deliver Alerts INBOX"},
      {"if exists A: then copy X folder X", "A: 1\n\n", "deliver X"},
      {"if exists A: then folder X copy Y", "A: 1\n\n",
       "deliver X"},  // after a final action: ignored
      {"if exists A: then copy Keep discard", "A: 1\n\n", "discard Keep"},
      {"if exists A: then defer \"try later\"", "A: 1\n\n", "defer:try later"},
      {"if exists A: then reject \"no thanks\"", "A: 1\n\n", "reject:no thanks"},
  };
  for (const Case& c : cases) {
    Result r = Eval(c.rules, c.message);
    EXPECT_EQ(r.Summary(), c.expected) << c.rules << "\n---\n" << c.message;
  }
}

TEST(EvaluatorTest, DecidingRuleAndTrace) {
  Result r = Eval("if exists A: then copy C\n\nif X-Score: > 3\nthen folder Junk",
                  "A: 1\nX-Score: 4.5\n\n");
  EXPECT_EQ(r.decision.rule, "r:3");
  ASSERT_EQ(r.decision.trace.size(), 4u);
  EXPECT_EQ(r.decision.trace[0], "  r:1: exists A: -> true");
  EXPECT_EQ(r.decision.trace[2], "  r:3: X-Score: > 3 saw '4.5' (4.5) -> true");
  EXPECT_EQ(Eval("if exists B: then folder B", "A: 1\n\n").decision.rule, "default");
}

TEST(EvaluatorTest, AddHeaderCannotInjectLines) {
  Result r =
      Eval("if Subject: ~ /(.*)/s then add-header \"X-Subject-Was: $1\"", "Subject: a\n\tb\n\n");
  ASSERT_EQ(r.decision.add_headers.size(), 1u);
  EXPECT_EQ(r.decision.add_headers[0], "X-Subject-Was: a\tb");
  Result evil = Eval("if Subject: ~ /(.*)/s then add-header \"X: $1\"",
                     "Subject: =?UTF-8?Q?x=0D=0ABcc:_victim?=\n\n");
  EXPECT_EQ(evil.decision.add_headers[0], "X: x  Bcc: victim");
}

TEST(EvaluatorTest, PipesAreTargetsAndCopyPipeGoesOn) {
  EXPECT_EQ(Eval("if Subject: ~ /#([0-9]+)/ then copy pipe \"/bin/a\" \"$1\" folder T",
                 "Subject: #12\n\n")
                .Summary(),
            "deliver | /bin/a 12 T");
  EXPECT_EQ(Eval("if exists A: then pipe \"/bin/a\"\nif exists A: then folder Never", "A: 1\n\n")
                .Summary(),
            "deliver | /bin/a");
  // The same program with the same arguments twice: one delivery; other arguments: two.
  EXPECT_EQ(Eval("if exists A: then copy pipe \"/bin/a\" copy pipe \"/bin/a\" copy pipe "
                 "\"/bin/a\" \"x\"",
                 "A: 1\n\n")
                .Summary(),
            "deliver | /bin/a | /bin/a x INBOX");
  // A discard still delivers the copies made before it, programs included.
  EXPECT_EQ(Eval("if exists A: then copy pipe \"/bin/a\" discard", "A: 1\n\n").Summary(),
            "discard | /bin/a");
}

TEST(EvaluatorTest, ExpandedArgumentsStayOneElementEach) {
  Result r =
      Eval("if Subject: ~ /^(.*)$/ then pipe \"~/bin/x\" \"$1\" \"-$1-\" \"${SENDER}\" \"$$1\"",
           "Subject: -rf  $(id) ; a\n\n");
  ASSERT_EQ(r.decision.targets.size(), 1u);
  EXPECT_EQ(r.decision.targets[0].program,
            (std::vector<std::string>{"/home/bob/bin/x", "-rf  $(id) ; a", "--rf  $(id) ; a-",
                                      "alice@example.org", "$1"}));
  EXPECT_EQ(ShowTarget(r.decision.targets[0]),
            "| /home/bob/bin/x '-rf  $(id) ; a' '--rf  $(id) ; a-' alice@example.org '$1'");
  EXPECT_EQ(ShowProgram({"/bin/sh", "-c", "echo 'hi'", ""}), "| /bin/sh -c 'echo '\\''hi'\\''' ''");
}

// The filter hook as mda gives it: here, one that puts a header on top.
Result EvalWithFilter(const std::string& rules_text, const std::string& message,
                      std::vector<std::string>* seen_by_filter) {
  RuleSet rs;
  Status s = ParseRules("r", rules_text, "r", ParseOptions(), &rs);
  EXPECT_TRUE(s.ok()) << s.message();
  HeaderBlock headers(message);
  MessageContext m;
  m.content = message;
  m.headers = &headers;
  m.home = "/home/bob";
  m.body_text = [](std::string_view content) { return BodyText(content, 1 << 20); };
  m.filter = [seen_by_filter](const std::vector<std::string>& program, std::string_view content,
                              std::string* result) -> std::optional<std::string> {
    seen_by_filter->push_back(std::string(content));
    if (program[0] == "/bin/fails") {
      *result = "kept the original: exited 1";
      return std::nullopt;
    }
    *result = "replaced the message";
    return program[1] + "\n" + std::string(content) + "appended body line\n";
  };
  return Result{Evaluate(rs, m, "INBOX", true)};
}

TEST(EvaluatorTest, AFilterReplacesTheMessageForEveryLaterTest) {
  std::vector<std::string> seen;
  Result r = EvalWithFilter(
      "if exists A: then filter \"/bin/f\" \"X-Spam-Flag: YES\"\n"
      "if exists A: then filter \"/bin/f\" \"X-Second: $1\"\n"
      "if X-Spam-Flag: is \"YES\" and X-Second: is \"\" and body ~ /appended/ and size > 40 then "
      "folder Junk\n",
      "A: 1\n\nbody\n", &seen);
  EXPECT_EQ(r.Summary(), "deliver Junk");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "A: 1\n\nbody\n");
  EXPECT_EQ(seen[1], "X-Spam-Flag: YES\nA: 1\n\nbody\nappended body line\n");
  ASSERT_TRUE(r.decision.message.has_value());
  EXPECT_EQ(*r.decision.message,
            "X-Second: \nX-Spam-Flag: YES\nA: 1\n\nbody\nappended body line\nappended body line\n");
  ASSERT_EQ(r.decision.filters.size(), 2u);
  EXPECT_TRUE(r.decision.filters[0].replaced);
  EXPECT_EQ(r.decision.filters[0].rule, "r:1");
  EXPECT_EQ(r.decision.filters[1].program, (std::vector<std::string>{"/bin/f", "X-Second: "}));
  EXPECT_NE(std::find(r.decision.trace.begin(), r.decision.trace.end(),
                      "  r:1: filter /bin/f 'X-Spam-Flag: YES' -> replaced the message"),
            r.decision.trace.end());
}

// rawbody and headers, asked before a filter, see the filter's output after it.
TEST(EvaluatorTest, AFilterReplacesTheRawBodyAndTheHeaderLines) {
  std::vector<std::string> seen;
  Result r = EvalWithFilter(
      "if rawbody ~ /appended/ or headers ~ /^X-Spam-Flag:/ then folder Early\n"
      "if exists A: then filter \"/bin/f\" \"X-Spam-Flag: YES\"\n"
      "if rawbody ~ /^appended body line$/ and headers ~ /^X-Spam-Flag: YES$/ then folder Late\n",
      "A: 1\n\nbody\n", &seen);
  EXPECT_EQ(r.Summary(), "deliver Late");
}

TEST(EvaluatorTest, AFilterThatFailsKeepsTheMessageAndTheRuleGoesOn) {
  std::vector<std::string> seen;
  Result r = EvalWithFilter("if exists A: then filter \"/bin/fails\" copy Kept\n", "A: 1\n\nbody\n",
                            &seen);
  EXPECT_EQ(r.Summary(), "deliver Kept INBOX");
  EXPECT_FALSE(r.decision.message.has_value());
  ASSERT_EQ(r.decision.filters.size(), 1u);
  EXPECT_EQ(r.decision.filters[0].result, "kept the original: exited 1");
  // Without a hook (a dry run) nothing runs, and it says so.
  Result dry = Eval("if exists A: then filter \"/bin/f\" \"X: y\"\n", "A: 1\n\n");
  ASSERT_EQ(dry.decision.filters.size(), 1u);
  EXPECT_EQ(dry.decision.filters[0].result, "not run (a dry run; mdatest --run-filters runs it)");
}

TEST(EvaluatorTest, CatastrophicRegexIsBoundedAndWarned) {
  std::string subject(30000, 'a');
  Result r = Eval("if Subject: ~ /(a+)+$/ then folder Slow", "Subject: " + subject + "!\n\n");
  EXPECT_EQ(r.Summary(), "deliver INBOX");
  ASSERT_EQ(r.decision.warnings.size(), 1u);
  EXPECT_NE(r.decision.warnings[0].find("gave up (match limit)"), std::string::npos)
      << r.decision.warnings[0];
}

TEST(EvaluatorTest, InvalidUtf8SubjectsAreStillSearched) {
  EXPECT_EQ(Eval("if Subject: ~ /viagra/i then folder Junk", "Subject: \xff\xfe VIAGRA \xc3\n\n")
                .Summary(),
            "deliver Junk");
  EXPECT_EQ(Eval("if Subject: contains \"cheap\" then folder Junk", "Subject: \x80\x81 cheap\n\n")
                .Summary(),
            "deliver Junk");
}

}  // namespace
}  // namespace mda::rules
