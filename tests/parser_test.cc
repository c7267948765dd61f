// Tests of the rule-file parser: what parses into what, and every error message with its caret.
#include "rules/parser.h"

#include <gtest/gtest.h>

#include "mda/config.h"

namespace mda::rules {
namespace {

// The parser as mda configures it: mda's settings known.
ParseOptions MdaParseOptions() {
  ParseOptions options;
  options.settings = mda::Settings();
  return options;
}

Status Parse(const std::string& text, RuleSet* out,
             const ParseOptions& options = MdaParseOptions()) {
  return ParseRules("rules", text, "main", options, out);
}

TEST(ParserTest, DesignExampleParses) {
  const char* text = R"(# ~/.mda/rules
set maildir = ~/Maildir          # the defaults, shown for the example
set log     = ~/.mda/log
set dedup   = 7d                 # or: off

if X-Spam-Flag: is "YES" or X-Spam-Score: >= 5.0
then folder Junk

if List-Id: ~ /<([a-z0-9-]+)\.lists\.example\.org>/
then folder Lists/$1             # captures of the last matching regex

if Subject: ~ /\[ALERT\]/ then copy Alerts
if address From: ~ /@example\.com$/i then folder Work
if size > 20M then folder Large
if body ~ /^begin [0-7]{3} /m and not exists Content-Type:
then discard
)";
  RuleSet rs;
  Status s = Parse(text, &rs);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(rs.rules.size(), 6u);
  EXPECT_EQ(rs.settings.at("maildir").value, "~/Maildir");
  EXPECT_EQ(rs.settings.at("dedup").value, "7d");
  EXPECT_EQ(rs.Where(rs.rules[0].location), "rules:6");
  EXPECT_EQ(rs.rules[0].condition->kind, Condition::Kind::kOr);
  EXPECT_EQ(rs.rules[0].condition->right->test.source, "X-Spam-Score: >= 5.0");
  EXPECT_EQ(rs.rules[1].actions[0].argument, "Lists/$1");
  EXPECT_EQ(rs.rules[2].actions[0].kind, Action::Kind::kCopy);
  EXPECT_EQ(rs.rules[3].condition->test.subject, rules::Test::Subject::kAddress);
  EXPECT_EQ(rs.rules[4].condition->test.number, 20.0 * 1024 * 1024);
  EXPECT_EQ(rs.rules[5].condition->kind, Condition::Kind::kAnd);
  EXPECT_EQ(rs.rules[5].condition->right->kind, Condition::Kind::kNot);
  EXPECT_EQ(rs.rules[5].actions[0].kind, Action::Kind::kDiscard);
}

TEST(ParserTest, ProgramsParseOneQuotedElementEach) {
  RuleSet rs;
  Status s = Parse(
      "if not exists X-Spam-Status: then filter \"/usr/bin/spamc\" \"-u\" \"$LOCAL_PART\"\n"
      "if Subject: ~ /#([0-9]+)/ then pipe \"ticket-import\" \"--id\" \"$1\" folder Never\n"
      "if exists A: then copy pipe \"~/bin/sms\"\n"
      "  \"one more line\" copy folder Kept copy Short\n"
      "if exists B: then pipe \"$HOME/bin/x\" \"\"\n"
      "if exists C: then copy folder\n"
      "if exists D: then copy pipe\n",
      &rs);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(rs.rules.size(), 6u);
  const Action& filter = rs.rules[0].actions[0];
  EXPECT_EQ(filter.kind, Action::Kind::kFilter);
  EXPECT_FALSE(filter.final());
  EXPECT_EQ(filter.program, (std::vector<std::string>{"/usr/bin/spamc", "-u", "$LOCAL_PART"}));
  const Action& pipe = rs.rules[1].actions[0];
  EXPECT_EQ(pipe.kind, Action::Kind::kPipe);
  EXPECT_TRUE(pipe.final());
  EXPECT_EQ(pipe.program, (std::vector<std::string>{"ticket-import", "--id", "$1"}));
  EXPECT_EQ(rs.rules[1].actions[1].kind, Action::Kind::kFolder);
  ASSERT_EQ(rs.rules[2].actions.size(), 3u);
  EXPECT_EQ(rs.rules[2].actions[0].kind, Action::Kind::kPipe);
  EXPECT_TRUE(rs.rules[2].actions[0].copy);
  EXPECT_FALSE(rs.rules[2].actions[0].final());
  EXPECT_EQ(rs.rules[2].actions[0].program,
            (std::vector<std::string>{"~/bin/sms", "one more line"}));
  EXPECT_EQ(rs.rules[2].actions[1].kind, Action::Kind::kCopy);
  EXPECT_EQ(rs.rules[2].actions[1].argument, "Kept");
  EXPECT_EQ(rs.rules[2].actions[2].argument, "Short");
  EXPECT_EQ(rs.rules[3].actions[0].program, (std::vector<std::string>{"$HOME/bin/x", ""}));
  // `copy folder` with nothing after it is still a copy into a folder named "folder".
  EXPECT_EQ(rs.rules[4].actions[0].kind, Action::Kind::kCopy);
  EXPECT_EQ(rs.rules[4].actions[0].argument, "folder");
  EXPECT_EQ(rs.rules[5].actions[0].kind, Action::Kind::kCopy);
  EXPECT_EQ(rs.rules[5].actions[0].argument, "pipe");
}

TEST(ParserTest, ForwardAndVacationParse) {
  RuleSet rs;
  Status s = Parse(
      "if exists A: then copy forward \"me@mobile.example.net\" forward \"x@y.org\" \"z@y.org\"\n"
      "if not exists List-Id: then vacation days 14 subject \"Away $1\" from \"b@example.com\"\n"
      "  addresses \"bob@example.com\" \"robert@example.com\" \"I am away.\"\n"
      "if exists B: then vacation \"Just the text\" folder Away\n"
      "if exists C: then vacation addresses \"b@x.org\" \"The text\"\n",
      &rs);
  ASSERT_TRUE(s.ok()) << s.message();
  const Action& copy = rs.rules[0].actions[0];
  EXPECT_EQ(copy.kind, Action::Kind::kForward);
  EXPECT_TRUE(copy.copy);
  EXPECT_FALSE(copy.final());
  EXPECT_EQ(copy.program, (std::vector<std::string>{"me@mobile.example.net"}));
  EXPECT_TRUE(rs.rules[0].actions[1].final());
  EXPECT_EQ(rs.rules[0].actions[1].program, (std::vector<std::string>{"x@y.org", "z@y.org"}));
  const VacationSpec& v = *rs.rules[1].actions[0].vacation;
  EXPECT_FALSE(rs.rules[1].actions[0].final());
  EXPECT_EQ(v.days, 14);
  EXPECT_EQ(v.subject, "Away $1");
  EXPECT_EQ(v.from, "b@example.com");
  EXPECT_EQ(v.addresses, (std::vector<std::string>{"bob@example.com", "robert@example.com"}));
  EXPECT_EQ(v.text, "I am away.");
  EXPECT_EQ(rs.rules[2].actions[0].vacation->days, 7);
  EXPECT_EQ(rs.rules[2].actions[0].vacation->text, "Just the text");
  EXPECT_EQ(rs.rules[2].actions[1].kind, Action::Kind::kFolder);
  EXPECT_EQ(rs.rules[3].actions[0].vacation->addresses, (std::vector<std::string>{"b@x.org"}));
  EXPECT_EQ(rs.rules[3].actions[0].vacation->text, "The text");

  for (const char* bad :
       {"if exists A: then forward \"$1@example.org\"",
        "if exists A: then forward \"-oQ@example.org\"",
        "if exists A: then forward \"Bob <bob@example.org>\"", "if exists A: then forward \"bob\"",
        "if exists A: then forward", "if exists A: then vacation days 0 \"x\"",
        "if exists A: then vacation days 7", "if exists A: then vacation \"\"",
        "if exists A: then vacation from \"not an address\" \"x\""}) {
    RuleSet bad_rs;
    EXPECT_EQ(Parse(bad, &bad_rs).kind(), Status::Kind::kBadInput) << bad;
  }
}

TEST(ParserTest, PrecedenceAndOverOr) {
  RuleSet rs;
  ASSERT_TRUE(Parse("if A: is \"1\" or B: is \"2\" and C: is \"3\" then discard", &rs).ok());
  const Condition& c = *rs.rules[0].condition;
  EXPECT_EQ(c.kind, Condition::Kind::kOr);
  EXPECT_EQ(c.right->kind, Condition::Kind::kAnd);
  RuleSet grouped;
  ASSERT_TRUE(Parse("if (A: is \"1\" or B: is \"2\") and C: is \"3\" then discard", &grouped).ok());
  EXPECT_EQ(grouped.rules[0].condition->kind, Condition::Kind::kAnd);
}

TEST(ParserTest, EveryConstructParses) {
  const char* ok[] = {
      "if Subject: !~ /x/ then folder A",
      "if Subject: contains \"[ALERT]\" then folder A",
      "if X-Score: < -0.5 then folder A",
      "if X-Score: <= 1 then folder A",
      "if X-Score: > +2 then folder A",
      "if X-Score: == 0012.30 then folder A",
      "if X-Score: != 5 then folder A",
      "if size <= 500K then folder A",
      "if sender ~ /^$/ then folder Bounces",
      "if recipient is \"bob@example.com\" then folder A",
      "if address To: contains \"@lists.\" then folder A",
      "if body contains \"unsubscribe\" then folder A",
      "if exists X-Mailer: then add-header \"X-Seen: yes\" folder A",
      "if not not exists X: then defer \"later\"",
      "if exists X: then reject \"no thanks\"",
      "if List-Id: ~ /(?<list>[a-z]+)\\.example/ then folder Lists/${list}",
      "if exists X: then folder \"My Folder/$RECIPIENT $$5\"",
      "if exists X: then copy A copy B folder C",
      "if Subject: ~ /a\\/b/ then folder A",  // \/ inside a regex
      "set log = off\nset log-format = json\nset dedup = off\nset dedup-case = sensitive\nset "
      "max-size = 50M",
  };
  for (const char* text : ok) {
    RuleSet rs;
    Status s = Parse(text, &rs);
    EXPECT_TRUE(s.ok()) << text << "\n" << s.message();
  }
}

// Every error: file:line:col, message, the line, a caret under the column.
TEST(ParserTest, ErrorMessagesWithCaret) {
  struct Case {
    std::string text, error;
  } cases[] = {
      {"if Subject ~ /x/ then folder A",
       "rules:1:4: expected a test (a header like Subject:, exists, address, body, attachment, "
       "headers, size, sender, "
       "recipient, not, '('), got 'Subject'; a header name needs its colon, like Subject:\n"
       "if Subject ~ /x/ then folder A\n   ^"},
      {"if Subject: ~ /(abc/ then folder A",
       "rules:1:20: bad regex: missing closing parenthesis\nif Subject: ~ /(abc/ then folder A\n   "
       "                ^"},
      {"if Subject: ~ /abc then folder A",
       "rules:1:15: unterminated regex: end it with '/' on the same line (write \\/ for a slash "
       "inside)\n"
       "if Subject: ~ /abc then folder A\n              ^"},
      {"if Subject: ~ /x/q then folder A",
       "rules:1:16: unknown regex flag 'q' (use i, m, s or x)\nif Subject: ~ /x/q then folder A\n  "
       "             ^"},
      {"if Subject: ~ x then folder A",
       "rules:1:15: expected a regex in slashes, like /pattern/i\nif Subject: ~ x then folder A\n  "
       "            ^"},
      {"\n\nif Subject: is YES then folder A",
       "rules:3:16: expected a \"quoted text\", got 'YES'\nif Subject: is YES then folder A\n      "
       "         ^"},
      {"if X-Spam-Score: >= high then folder A",
       "rules:1:21: expected a number like 5, -0.5 or 12.25, got 'high'\nif X-Spam-Score: >= high "
       "then folder A\n                    ^"},
      {"if size > 20X then folder A",
       "rules:1:11: expected a size like 500, 20K or 5M (at most 1024G), got '20X'\nif size > 20X "
       "then folder A\n          ^"},
      {"if exists Subject: folder A",
       "rules:1:20: expected 'then' (or 'and', 'or') after the condition, got 'folder'\nif exists "
       "Subject: folder A\n                   ^"},
      {"if exists A: then pipe /usr/bin/x",
       "rules:1:24: expected the program after 'pipe', quoted, like \"/usr/bin/spamc\" (then its "
       "arguments, each quoted), got '/usr/bin/x'\nif exists A: then pipe /usr/bin/x\n       "
       "                ^"},
      {"if exists A: then filter \"bin/spamc\"",
       "rules:1:26: a program is an absolute path (\"/usr/local/bin/x\"), in your home "
       "(\"~/bin/x\"), or a bare name found in /usr/local/bin:/usr/bin:/bin; not a relative "
       "path\nif exists A: then filter \"bin/spamc\"\n                         ^"},
      {"if Subject: ~ /(.*)/ then pipe \"$1\"",
       "rules:1:32: the program's name cannot hold a $variable (other than a leading $HOME/): the "
       "rule alone chooses what runs; pass values as arguments\nif Subject: ~ /(.*)/ then pipe "
       "\"$1\"\n                               ^"},
      {"if Subject: ~ /(.*)/ then pipe \"/bin/sh\" \"-c\" \"echo $1\"",
       "rules:1:47: $1 in a shell script would make a value from the message shell code; write $$1 "
       "(the shell's $1) in the script and pass the value as an argument after it: \"/bin/sh\" "
       "\"-c\" \"... $$1 ...\" \"sh\" \"$1\"\nif Subject: ~ /(.*)/ then pipe \"/bin/sh\" \"-c\" "
       "\"echo $1\"\n                                              ^"},
      {"if exists A: then pipe \"/bin/bash\" \"-ec\" \"echo $SENDER\"",
       "rules:1:42: $SENDER in a shell script would make a value from the message shell code; "
       "write $$1 (the shell's $1) in the script and pass the value as an argument after it: "
       "\"/bin/bash\" \"-ec\" \"... $$1 ...\" \"sh\" \"$SENDER\"\nif exists A: then pipe "
       "\"/bin/bash\" \"-ec\" \"echo $SENDER\"\n                                         ^"},
      {"if exists A: then pipe \"/bin/x\" \"$7x\" \"${nope\"",
       "rules:1:39: '${' without its closing '}'\nif exists A: then pipe \"/bin/x\" \"$7x\" "
       "\"${nope\"\n                                      ^"},
      {"if exists Subject: then",
       "rules:1:20: 'then' and 'else' must be followed by a block ({ RULES }) or at least one "
       "action (folder, copy, filter, pipe, forward, vacation, discard, defer, reject, add-header, "
       "set-header, remove-header, flag)\nif exists Subject: then\n                   ^"},
      {"if exists Subject: then move A",
       "rules:1:25: expected an action (folder, copy, filter, pipe, forward, vacation, discard, "
       "defer, reject, add-header, set-header, remove-header, flag), got "
       "'move'\nif exists Subject: then move A\n                        ^"},
      {"if exists Subject: then folder Lists/$FOO",
       "rules:1:32: unknown variable '$FOO' (known: $1..$9, ${name} for a named group, $RECIPIENT, "
       "$LOCAL_PART, $LOCAL_PART_PREFIX, $LOCAL_PART_SUFFIX, $DOMAIN, $SENDER, $HOME; $$ is a "
       "dollar sign)\nif exists Subject: then folder Lists/$FOO\n                               ^"},
      {"if exists Subject: then defer later",
       "rules:1:31: expected a \"quoted text\" after 'defer', got 'later'\nif exists Subject: then "
       "defer later\n                              ^"},
      {"if exists Subject: then add-header \"no colon\"",
       "rules:1:36: add-header takes \"Name: value\" (a header name without blanks, a colon, the "
       "value)\nif exists Subject: then add-header \"no colon\"\n                                  "
       " ^"},
      {"if (exists A: then folder B",
       "rules:1:15: expected ')' to close the '(', got 'then'\nif (exists A: then folder B\n       "
       "       ^"},
      {"if exists A: and then folder B",
       "rules:1:18: expected a test (a header like Subject:, exists, address, body, attachment, "
       "headers, size, sender, "
       "recipient, not, '('), got 'then'\nif exists A: and then folder B\n                 ^"},
      {"if Subject: is \"open then folder A",
       "rules:1:16: unterminated string: add the closing '\"' on this line\nif Subject: is \"open "
       "then folder A\n               ^"},
      {"set colour = red",
       "rules:1:5: unknown setting 'colour' (known: maildir, log, log-format, log-time, syslog, "
       "dedup, dedup-case, dedup-store, dedup-password-file, dedup-timeout, dedup-unreachable, "
       "max-size, pipe-failure, program-timeout, sendmail, forward-sender, subscribe, "
       "quota-full)\nset colour "
       "= red\n    "
       "^"},
      {"set dedup = 7 days",
       "rules:1:13: dedup is off or a period like 7d, 12h, 30m (at most 3650d), not '7'\nset dedup "
       "= 7 days\n            ^"},
      {"set dedup 7d",
       "rules:1:11: expected '=' after 'set dedup', got '7d'\nset dedup 7d\n          ^"},
      {":0:\n* ^Subject: x\nJunk",
       "rules:1:1: this is a procmail recipe start (:0); mda rules read 'if CONDITION then ACTION' "
       "with no recipe "
       "line: procmail's 'c' flag is mda's 'copy', and no lock file is needed\n:0:\n^"},
      {"folder Junk",
       "rules:1:1: 'folder' where a rule should start (with 'if', 'set' or 'include')\nfolder "
       "Junk\n^"},
      {"if exists A: then folder B\n\tif ! exists A: then folder B",
       "rules:2:5: '!' must be followed by '~' or '='\n\tif ! exists A: then folder B\n\t   ^"},
      {"if address From ~ /x/ then folder A",
       "rules:1:12: expected a header name with its colon after 'address', like From:, got "
       "'From'\nif address From ~ /x/ then folder A\n           ^"},
      {"if size ~ /x/ then folder A",
       "rules:1:9: expected a comparison (< <= > >= == !=) after 'size', got '~'\nif size ~ /x/ "
       "then folder A\n        ^"},
      {"if body > 5 then folder A",
       "rules:1:9: expected ~, !~, is or contains, got '>'\nif body > 5 then folder A\n        ^"},
      {"include \"\"", "rules:1:9: include needs a file name\ninclude \"\"\n        ^"},
      {"include \"~/x\"",
       "rules:1:9: '~' in an include, and no home directory is known\ninclude \"~/x\"\n        ^"},
      {"include \"x\"", "rules:1:9: include is not available here\ninclude \"x\"\n        ^"},
      {"include x",
       "rules:1:9: expected a \"file name\" after 'include', got 'x'\ninclude x\n        ^"},
      {"if exists A: then folder \"a${b\"",
       "rules:1:26: '${' without its closing '}'\nif exists A: then folder \"a${b\"\n              "
       "           ^"},
      {"if exists A: then folder a$",
       "rules:1:26: a '$' at the end (write $$ for a dollar sign)\nif exists A: then folder a$\n   "
       "                      ^"},
      {"if exists A: then folder ${a-b}",
       "rules:1:26: '${a-b}' is not a variable name\nif exists A: then folder ${a-b}\n             "
       "            ^"},
      {"set = 1", "rules:1:5: expected a setting name after 'set', got '='\nset = 1\n    ^"},
      {"set log-format = xml",
       "rules:1:18: log-format is logfmt or json, not 'xml'\nset log-format = xml\n                "
       " ^"},
      {"set dedup-case = upper",
       "rules:1:18: dedup-case is insensitive or sensitive, not 'upper'\nset dedup-case = upper\n  "
       "               ^"},
      {"set max-size = big",
       "rules:1:16: max-size is a size like 50M (1 to 1024G), not 'big'\nset max-size = big\n      "
       "         ^"},
      {"set maildir =", "rules:1:14: expected a value here\nset maildir =\n             ^"},
      {"if exists A: then folder",
       "rules:1:25: expected a folder name after 'folder'\nif exists A: then folder\n              "
       "          ^"},
      {"if exists : then folder A",
       "rules:1:11: ':' without a header name before it\nif exists : then folder A\n          ^"},
      {"if exists A then folder A",
       "rules:1:11: expected a header name with its colon after 'exists', like From:, got 'A'\nif "
       "exists A then folder A\n          ^"},
      {"if",
       "rules:1:3: expected a test (a header like Subject:, exists, address, body, attachment, "
       "headers, size, sender, "
       "recipient, not, '('), got the end of the file\nif\n  ^"},
  };
  for (const Case& c : cases) {
    RuleSet rs;
    Status s = Parse(c.text, &rs);
    EXPECT_EQ(s.kind(), Status::Kind::kBadInput) << c.text;
    EXPECT_EQ(s.message(), c.error) << c.text;
    // The place is carried apart from the text (mdatest --check labels the text an error).
    EXPECT_EQ(s.location(), c.error.substr(0, c.error.find(": "))) << c.text;
  }
}

// A procmail line pasted by mistake is explained, with the mda rule where there is one.
TEST(ParserTest, ProcmailLinesAreExplained) {
  struct Case {
    std::string line, message;
  } cases[] = {
      {":0 c:", "this is a procmail recipe start (:0)"},
      {"* ^Subject:.*\\[SPAM\\]",
       "this is a procmail condition; in mda: if Subject: ~ /\\[SPAM\\]/i then ..."},
      {"* ^X-Spam-Flag: YES",
       "this is a procmail condition; in mda: if X-Spam-Flag: ~ /^YES/i then ..."},
      {"* ^X-Spam-Status: Yes",
       "this is a procmail condition; in mda: if X-Spam-Status: ~ /^Yes/i then ...  (procmail "
       "matches case-insensitively; the value starts with it, hence the '^')"},
      {"/dev/null", "this is procmail's /dev/null (throw the message away); in mda: then discard"},
      {"| formail -D 8192 $HOME/.msgid.cache",
       "this is procmail's duplicate check (formail -D); mda has it built in"},
      {"* ^TO_dev@lists", "this is a procmail condition (^TO); in mda: if address To: ~ /.../i"},
      {"* B ?? unsubscribe", "this is a procmail condition (*); in mda a condition follows 'if'"},
      {"! bob@example.org", "this is a procmail forward (!); in mda: then forward "},
      {"| /usr/bin/vacation",
       "this is a procmail pipe (|); in mda: then pipe \"/path/to/program\""},
      {"{", "this is a procmail block ({ }); in mda a block follows 'then'"},
      {"MAILDIR=$HOME/Maildir", "this is a procmail variable; in mda: set maildir = ~/Maildir"},
      {"LOGFILE=$HOME/.procmail.log",
       "this is a procmail variable; in mda: set log = ~/.procmail.log"},
      {"VERBOSE=off", "this is a procmail variable assignment (VERBOSE=)"},
      {"$MAILDIR/.Junk/",
       "this looks like a procmail action (a Maildir folder); in mda: then folder Junk"},
      {".Lists.dev/",
       "this looks like a procmail action (a Maildir folder); in mda: then folder Lists/dev"},
  };
  for (const Case& c : cases) {
    for (const std::string& before : {std::string(), std::string("if exists A: then folder X\n")}) {
      RuleSet rs;
      Status s = Parse(before + c.line + "\n", &rs);
      std::string where = before.empty() ? "rules:1:1: " : "rules:2:1: ";
      EXPECT_EQ(s.message().substr(0, where.size() + c.message.size()), where + c.message)
          << c.line << "\n"
          << s.message();
    }
  }
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string text =
      "if " + std::string(10000, '(') + "exists A:" + std::string(10000, ')') + " then discard";
  RuleSet rs;
  Status s = Parse(text, &rs);
  EXPECT_EQ(s.kind(), Status::Kind::kBadInput);
  EXPECT_NE(s.message().find("condition nested too deeply"), std::string::npos);
  std::string nots = "if ";
  for (int i = 0; i < 10000; ++i) nots += "not ";
  EXPECT_FALSE(Parse(nots + "exists A: then discard", &rs).ok());
}

TEST(ParserTest, IncludesResolveRelativeAndDetectCycles) {
  std::map<std::string, std::string> files = {
      {"/h/.mda/lists", "if List-Id: contains \"dev\" then folder Dev\ninclude \"more\""},
      {"/h/.mda/more", "if exists X-More: then folder More"},
      {"/h/.mda/loop", "include \"~/.mda/loop\""},
      {"/h/.mda/bad", "if oops"},
  };
  ParseOptions options = MdaParseOptions();
  options.home = "/h";
  options.read_include = [&](const std::string& path, std::string* content, std::string* identity) {
    auto it = files.find(path);
    if (it == files.end()) return Status::BadInput("No such file or directory");
    *content = it->second;
    *identity = path;
    return Status::Ok();
  };
  RuleSet rs;
  Status s = ParseRules("/h/.mda/rules", "include \"lists\"\nif exists A: then folder A",
                        "/h/.mda/rules", options, &rs);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(rs.rules.size(), 3u);
  EXPECT_EQ(rs.Where(rs.rules[0].location), "/h/.mda/lists:1");
  EXPECT_EQ(rs.Where(rs.rules[1].location), "/h/.mda/more:1");
  EXPECT_EQ(rs.Where(rs.rules[2].location), "/h/.mda/rules:2");

  RuleSet cyc;
  s = ParseRules("/h/.mda/rules", "include \"loop\"", "/h/.mda/rules", options, &cyc);
  EXPECT_EQ(s.message(),
            "/h/.mda/loop:1:9: include cycle: /h/.mda/loop is already being read\ninclude "
            "\"~/.mda/loop\"\n        ^");
  RuleSet missing;
  s = ParseRules("/h/.mda/rules", "include \"nope\"", "/h/.mda/rules", options, &missing);
  EXPECT_EQ(s.message(),
            "/h/.mda/rules:1:9: cannot include /h/.mda/nope: No such file or directory\ninclude "
            "\"nope\"\n        ^");
  RuleSet bad;
  s = ParseRules("/h/.mda/rules", "include \"bad\"", "/h/.mda/rules", options, &bad);
  EXPECT_EQ(s.message().substr(0, 17), "/h/.mda/bad:1:4: ");  // errors name the included file
}

TEST(ParseSizeTest, Table) {
  EXPECT_EQ(ParseSize("500"), 500u);
  EXPECT_EQ(ParseSize("20K"), 20u * 1024);
  EXPECT_EQ(ParseSize("5m"), 5u * 1024 * 1024);
  EXPECT_EQ(ParseSize("1G"), 1024ull * 1024 * 1024);
  EXPECT_EQ(ParseSize("K"), std::nullopt);
  EXPECT_EQ(ParseSize("-1"), std::nullopt);
  EXPECT_EQ(ParseSize("99999999999999999999"), std::nullopt);
  EXPECT_EQ(ParsePeriod("7d"), 7u * 86400);
  EXPECT_EQ(ParsePeriod("12h"), 12u * 3600);
  EXPECT_EQ(ParsePeriod("30m"), 1800u);
  EXPECT_EQ(ParsePeriod("2w"), 14u * 86400);
  EXPECT_EQ(ParsePeriod("90"), std::nullopt);  // no unit: refused, not seconds
  EXPECT_EQ(ParsePeriod("0d"), std::nullopt);
  EXPECT_EQ(ParsePeriod("d"), std::nullopt);
}

}  // namespace
}  // namespace mda::rules
