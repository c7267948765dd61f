// Tests of step 14's language on the evaluator: else and nested blocks, captures inside
// them, flags, header editing and attachment names, each with the corner cases users meet.
#include <gtest/gtest.h>

#include "rules/body_text.h"
#include "rules/evaluator.h"
#include "rules/parser.h"

namespace mda::rules {
namespace {

Decision Decide(const std::string& rules_text, const std::string& message) {
  RuleSet rs;
  Status s = ParseRules("r", rules_text, "r", ParseOptions(), &rs);
  EXPECT_TRUE(s.ok()) << s.message();
  HeaderBlock headers(message);
  MessageContext m;
  m.content = message;
  m.headers = &headers;
  m.sender = "alice@example.org";
  m.recipient = "bob@example.com";
  m.body_text = [](std::string_view content) { return BodyText(content, 1 << 20); };
  return Evaluate(rs, m, "INBOX", true);
}

std::string Summary(const Decision& d) {
  std::string s = d.outcome == Outcome::kDiscard ? "discard" : "deliver";
  for (const Target& t : d.targets) s += " " + ShowTarget(t);
  if (!d.flags.empty()) s += " :" + d.flags;
  return s;
}

struct Case {
  std::string rules, message, expected;
};

void Check(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(Summary(Decide(c.rules, c.message)), c.expected) << c.rules << "\n---\n" << c.message;
  }
}

constexpr char kListRules[] =
    "if List-Id: ~ /<([a-z0-9-]+)\\.lists\\.example\\.org>/ then {\n"
    "    if Subject: ~ /\\[ANNOUNCE\\]/ then folder Lists/$1/announce\n"
    "    else folder Lists/$1\n"
    "}\n";

TEST(BlocksTest, ElseAndNestedBlocks) {
  Check({
      // The example: the outer capture inside, through a match without groups.
      {kListRules, "List-Id: <dev.lists.example.org>\nSubject: [ANNOUNCE] 2.0\n\n",
       "deliver Lists/dev/announce"},
      {kListRules, "List-Id: <dev.lists.example.org>\nSubject: question\n\n", "deliver Lists/dev"},
      {kListRules, "Subject: [ANNOUNCE] not a list\n\n", "deliver INBOX"},
      // An inner regex with groups that matches has its own $1...
      {"if List-Id: ~ /<(\\w+)\\./ then {\n if Subject: ~ /\\[(\\w+)\\]/ then folder Tags/$1\n}",
       "List-Id: <dev.x>\nSubject: [bug] y\n\n", "deliver Tags/bug"},
      // ... and the next rule of the block starts from the outer one again.
      {"if List-Id: ~ /<(\\w+)\\./ then {\n if Subject: ~ /\\[(\\w+)\\]/ then copy Tags/$1\n"
       " if exists List-Id: then folder Lists/$1\n}",
       "List-Id: <dev.x>\nSubject: [bug] y\n\n", "deliver Tags/bug Lists/dev"},
      // Captures do not leak from one top-level rule into the next.
      {"if Subject: ~ /(\\w+)/ then copy A/$1\nif exists Subject: then folder \"B$1\"",
       "Subject: hello\n\n", "deliver A/hello B"},
      // An else with a final action ends the run; the rules after it never run.
      {"if exists X: then copy Y else discard\nif exists Subject: then folder S", "Subject: s\n\n",
       "discard"},
      {"if exists X: then copy Y else discard\nif exists Subject: then folder S",
       "X: 1\nSubject: s\n\n", "deliver Y S"},
      // else if chains; else { } blocks.
      {"if exists A: then folder A\nelse if exists B: then folder B\nelse folder C", "B: 1\n\n",
       "deliver B"},
      {"if exists A: then folder A\nelse if exists B: then folder B\nelse folder C", "Z: 1\n\n",
       "deliver C"},
      {"if exists A: then folder A else {\n if exists B: then folder B\n}", "B: 1\n\n",
       "deliver B"},
      // A final action deep inside a block ends the whole run.
      {"if exists A: then {\n if exists B: then {\n  if exists C: then folder ABC\n }\n}\n"
       "if exists A: then folder Later",
       "A: 1\nB: 1\nC: 1\n\n", "deliver ABC"},
      {"if exists A: then {\n if exists B: then {\n  if exists C: then folder ABC\n }\n}\n"
       "if exists A: then folder Later",
       "A: 1\nB: 1\n\n", "deliver Later"},
      // An empty block does nothing; the run goes on.
      {"if exists A: then { }\nif exists A: then folder After", "A: 1\n\n", "deliver After"},
  });
}

TEST(BlocksTest, FlagsApplyToEveryCopyWhateverTheOrder) {
  Check({
      {"if X-Spam-Flag: is \"YES\" then folder Junk flag seen", "X-Spam-Flag: YES\n\n",
       "deliver Junk :S"},
      // Set after the folder, on a copy, later in the run: all copies get them.
      {"if exists A: then copy Archive\nif exists B: then flag flagged seen", "A: 1\nB: 1\n\n",
       "deliver Archive INBOX :FS"},
      {"if exists A: then flag draft answered\nif exists A: then flag seen\n", "A: 1\n\n",
       "deliver INBOX :DRS"},
      // A rule that did not match sets none.
      {"if exists A: then flag seen", "B: 1\n\n", "deliver INBOX"},
      // A flag counts wherever it stands in the rule, after its final action too; a copy
      // there does not.
      {"if exists A: then folder X flag seen", "A: 1\n\n", "deliver X :S"},
      {"if exists A: then folder X copy Y flag seen", "A: 1\n\n", "deliver X :S"},
  });
}

TEST(BlocksTest, HeaderEditsAreSeenByLaterTestsAndStored) {
  Decision d = Decide(
      "if Subject: ~ /^\\[EXTERNAL\\] (.*)$/ then set-header \"Subject: $1\"\n"
      "if Subject: is \"hello there\" then copy Edited\n"
      "if exists X-Mailer-Tracking: then remove-header \"x-mailer-tracking\"\n"
      "if exists X-Mailer-Tracking: then folder StillThere\n",
      "Received: from a\nSubject: [EXTERNAL] hello\n there\nX-Mailer-Tracking: 1\n"
      "X-Mailer-Tracking: 2\n  continued\nTo: bob@example.com\n\nbody\nSubject: in body\n");
  EXPECT_EQ(Summary(d), "deliver Edited INBOX");
  ASSERT_TRUE(d.message.has_value());
  EXPECT_EQ(*d.message,
            "Received: from a\nSubject: hello there\nTo: bob@example.com\n\nbody\n"
            "Subject: in body\n");
  ASSERT_EQ(d.edits.size(), 2u);
  EXPECT_EQ(d.edits[0], "r:1: set Subject: hello there");
  EXPECT_EQ(d.edits[1], "r:3: removed x-mailer-tracking");
  // A value that is not ASCII becomes RFC 2047 words; later tests still see it decoded.
  d = Decide(
      "if Subject: ~ /^Re: (.*)$/ then set-header \"Subject: $1\"\n"
      "if Subject: is \"café\" then folder Decoded",
      "Subject: =?UTF-8?Q?Re:_caf=C3=A9?=\r\n\r\nbody\r\n");
  EXPECT_EQ(Summary(d), "deliver Decoded");
  EXPECT_EQ(*d.message, "Subject: =?UTF-8?Q?caf=C3=A9?=\r\n\r\nbody\r\n");
  // set-header of a field that is absent adds it at the end of the header; a pending
  // add-header of that field gives way to it.
  d = Decide("if exists A: then add-header \"X-Tag: old\" set-header \"X-Tag: new\"",
             "A: 1\n\nb\n");
  EXPECT_TRUE(d.add_headers.empty());
  EXPECT_EQ(*d.message, "A: 1\nX-Tag: new\n\nb\n");
  // A capture cannot start a second header line.
  d = Decide("if Subject: ~ /^(.*)$/s then set-header \"X-Copy: $1\"",
             "Subject: =?UTF-8?Q?a=0ABcc:_evil@x?=\n\n");
  ASSERT_TRUE(d.message.has_value());
  EXPECT_EQ(*d.message, "Subject: =?UTF-8?Q?a=0ABcc:_evil@x?=\nX-Copy: a Bcc: evil@x\n\n");
}

TEST(BlocksTest, EditHeaderKeepsEverythingElse) {
  std::string m = "A: 1\nB: 2\n folded\nA: 3\n\nA: body\n";
  std::string line = "A: new";
  EXPECT_EQ(EditHeader(m, "a", &line), "A: new\nB: 2\n folded\n\nA: body\n");
  EXPECT_EQ(EditHeader(m, "B", nullptr), "A: 1\nA: 3\n\nA: body\n");
  EXPECT_EQ(EditHeader(m, "C", nullptr), m);
  // No blank line, no final line break: the new field still gets its own line.
  EXPECT_EQ(EditHeader("A: 1", "C", &line), "A: 1\nA: new\n");
  // A line that is no field is kept where it is.
  EXPECT_EQ(EditHeader("From x\nA: 1\n\n", "A", nullptr), "From x\n\n");
}

TEST(BlocksTest, AttachmentNames) {
  // RFC 2231 continuations with a charset, split over sections.
  const std::string rfc2231 =
      "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nhi\n"
      "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment;\n"
      " filename*0*=utf-8''%E2%82%AC%20invoice;\n filename*1=\".pdf\";\n filename*2*=%2Eexe\n"
      "\nAAAA\n--b--\n";
  EXPECT_EQ(AttachmentNames(rfc2231), (std::vector<std::string>{"€ invoice.pdf.exe"}));
  // RFC 2047 inside the quotes (Outlook, Thunderbird); iso-8859-1 through RFC 2231.
  const std::string encoded =
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Type: application/pdf; name=\"=?UTF-8?B?UmVjaG51bmcuZXhl?=\"\n\nx\n--b\n"
      "Content-Type: application/pdf\nContent-Disposition: attachment; "
      "filename*=iso-8859-1'de'R%E9sum%E9.scr\n\nx\n--b--\n";
  EXPECT_EQ(AttachmentNames(encoded), (std::vector<std::string>{"Rechnung.exe", "Résumé.scr"}));
  // A zip whose name is the only clue (Content-Type name only); an .exe in a forwarded
  // message's attachment, two levels down.
  const std::string forwarded =
      "Content-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: text/plain\n\n"
      "see below\n--outer\nContent-Type: application/octet-stream; name=archive.zip\n\nx\n"
      "--outer\nContent-Type: message/rfc822\n\nSubject: inner\n"
      "Content-Type: multipart/mixed; boundary=inner\n\n--inner\nContent-Type: text/plain\n\nx\n"
      "--inner\nContent-Type: application/x-msdownload\nContent-Disposition: attachment; "
      "filename=\"setup.exe\"\n\nMZ\n--inner--\n--outer--\n";
  EXPECT_EQ(AttachmentNames(forwarded), (std::vector<std::string>{"archive.zip", "setup.exe"}));
  Check({
      {"if attachment ~ /\\.(exe|scr|js|vbs)$/i then folder Quarantine", forwarded,
       "deliver Quarantine"},
      {"if attachment ~ /\\.(exe|scr|js|vbs)$/i then folder Quarantine", rfc2231,
       "deliver Quarantine"},
      {"if attachment is \"archive.zip\" then folder Zip", forwarded, "deliver Zip"},
      {"if attachment contains \"RÉSUMÉ\" then folder CV", encoded, "deliver INBOX"},  // ASCII only
      {"if attachment contains \"sumé.s\" then folder CV", encoded, "deliver CV"},
      {"if attachment !~ /\\.exe$/ then folder Clean", "Subject: no parts\n\nhi\n",
       "deliver Clean"},
      {"if attachment ~ /./ then folder Any", "Subject: no parts\n\nhi\n", "deliver INBOX"},
  });
}

TEST(BlocksTest, ParseErrors) {
  struct Bad {
    std::string rules, message;
  } cases[] = {
      {"if exists A: then {\n if exists B: then folder B\n", "is never closed"},
      {"if exists A: then { folder B }", "expected a rule ('if ...') or '}' inside the block"},
      {"if exists A: then { set log = off }", "settings and includes go outside blocks"},
      {"}", "'}' without a '{' before it"},
      {"else folder A", "'else' must follow a rule's actions"},
      {"if exists A: then folder A else", "'then' and 'else' must be followed by"},
      {"if exists A: then flag", "expected a flag after 'flag'"},
      {"if exists A: then flag read", "expected a flag after 'flag'"},
      {"if exists A: then remove-header \"Received\"", "Received cannot be removed"},
      {"if exists A: then set-header \"return-path: <x@y>\"", "return-path cannot be changed"},
      {"if exists A: then set-header \"No colon\"", "set-header takes \"Name: value\""},
      {"if exists A: then set-header \"X-$1: y\"", "set-header takes \"Name: value\""},
      {"if exists A: then remove-header \"X-A: y\"", "remove-header takes a header name"},
      {"if attachment > 5 then folder A", "expected ~, !~, is or contains"},
  };
  for (const Bad& c : cases) {
    RuleSet rs;
    Status s = ParseRules("r", c.rules, "r", ParseOptions(), &rs);
    ASSERT_FALSE(s.ok()) << c.rules;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
  }
  // Nesting is bounded, like conditions.
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "if exists A: then {\n";
  RuleSet rs;
  Status s = ParseRules("r", deep, "r", ParseOptions(), &rs);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("blocks nested more than 32 deep"), std::string::npos) << s.message();
  // A long else-if chain is not nesting: 200 are fine, 300 are refused with their own word.
  std::string chain = "if exists A0: then folder A0\n";
  for (int i = 1; i < 300; ++i) {
    chain += "else if exists A" + std::to_string(i) + ": then folder A" + std::to_string(i) + "\n";
    if (i == 200) {
      RuleSet ok;
      Status c = ParseRules("r", chain, "r", ParseOptions(), &ok);
      EXPECT_TRUE(c.ok()) << c.message();
      EXPECT_EQ(Summary(Decide(chain, "A200: 1\n\n")), "deliver A200");
    }
  }
  RuleSet long_chain;
  s = ParseRules("r", chain, "r", ParseOptions(), &long_chain);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("more than 256 'else if' in one chain"), std::string::npos);
  // Braces inside words stay words: ${name} and a folder called {x}.
  RuleSet words;
  ASSERT_TRUE(ParseRules("r", "if List-Id: ~ /(?<n>\\w+)/ then folder L/${n}/{x}\n", "r",
                         ParseOptions(), &words)
                  .ok());
  EXPECT_EQ(words.rules[0].actions[0].argument, "L/${n}/{x}");
}

TEST(BlocksTest, TraceShowsBlocksElseFlagsAndEdits) {
  Decision d = Decide(std::string(kListRules) + "if exists A: then flag seen set-header \"X-A: 2\"",
                      "List-Id: <dev.lists.example.org>\nSubject: hi\n\n");
  std::string trace;
  for (const std::string& line : d.trace) trace += line + "\n";
  EXPECT_NE(trace.find("r:1: matched\n"), std::string::npos) << trace;
  EXPECT_NE(trace.find("  r:2: did not match, else at r:3\n"), std::string::npos) << trace;
  EXPECT_EQ(d.rule, "r:3");  // the else decided
  d = Decide("if exists A: then flag seen set-header \"X-A: 2\"", "A: 1\n\n");
  trace.clear();
  for (const std::string& line : d.trace) trace += line + "\n";
  EXPECT_NE(trace.find("  r:1: flag seen\n"), std::string::npos) << trace;
  EXPECT_NE(trace.find("  r:1: set-header X-A: 2\n"), std::string::npos) << trace;
}

}  // namespace
}  // namespace mda::rules
