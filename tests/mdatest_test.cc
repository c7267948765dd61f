// mdatest through the real binaries: it agrees with mda on every corpus message, it is
// read-only, --explain, --check and --diff say what they should, mbox input works.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "rules/header_block.h"
#include "rules/number.h"
#include "tests/test_util.h"

namespace mda {
namespace {

const std::string kCorpus = std::string(MDA_SOURCE_DIR) + "/tests/corpus";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> CorpusNames() {
  std::vector<std::string> names;
  for (const std::string& line : Lines(test::ReadFile(kCorpus + "/expected.tsv"))) {
    if (!line.empty() && line[0] != '#') names.push_back(line.substr(0, line.find('\t')));
  }
  return names;
}

class MdatestTest : public testing::Test {
 protected:
  void SetUp() override {
    test::MakeDirs(home_ / ".mda");
    // The rule file must belong to whoever runs mda (nobody, when the tests run as root).
    test::WriteFile(home_ / "corpus.rules", test::ReadFile(kCorpus + "/rules"));
    // The binaries run as that user too, and the source tree may sit where only root can
    // enter (a clone in a mktemp -d directory): they read copies.
    test::MakeDirs(messages_);
    for (const std::string& name : test::ListDir(kCorpus + "/messages")) {
      test::WriteFile(messages_ + "/" + name, test::ReadFile(kCorpus + "/messages/" + name));
    }
    test::MakeDirs(examples_);
    for (const std::string& name : test::ListDir(std::string(MDA_SOURCE_DIR) + "/examples/mail")) {
      test::WriteFile(examples_ + name,
                      test::ReadFile(std::string(MDA_SOURCE_DIR) + "/examples/mail/" + name));
    }
  }
  std::vector<std::string> Env() {
    return {"HOME=" + home_.path(), "RECIPIENT=bob@example.com", "SENDER=someone@example.net"};
  }
  test::TempDir home_;
  const std::string messages_ = home_ / "corpus-messages";
  const std::string examples_ = home_ / "examples-mail/";
};

// Acceptance 1: for every corpus message mdatest reports the destination mda produces.
TEST_F(MdatestTest, AgreesWithMdaOnEveryCorpusMessage) {
  test::Result t = test::Exec(
      {test::MdatestBinary(), "--rules", home_ / "corpus.rules", "--format", "tsv", messages_},
      Env(), "");
  ASSERT_EQ(t.exit_code, 0) << t.output.substr(0, 500);
  std::map<std::string, std::string> predicted;  // message -> folders
  for (const std::string& line : Lines(t.output)) {
    std::vector<std::string> cols;
    std::istringstream in(line);
    for (std::string col; std::getline(in, col, '\t');) cols.push_back(col);
    if (cols.size() < 6 || cols[0] == "name") continue;
    predicted[cols[0].substr(cols[0].rfind('/') + 1)] = cols[5];
  }
  std::vector<std::string> names = CorpusNames();
  ASSERT_EQ(predicted.size(), names.size());
  for (const std::string& name : names) {
    std::vector<std::string> env = Env();
    env.push_back("MESSAGE_ID=" + name);
    test::Result r = test::Exec({test::MdaBinary(), "--rules", home_ / "corpus.rules"}, env,
                                test::ReadFile(kCorpus + "/messages/" + name));
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.output;
  }
  // Where mda put each message, from its log (queue_id is the message's name).
  std::map<std::string, std::string> delivered;
  for (const test::LogFields& line : test::ReadLog(home_ / ".mda/log")) {
    if (test::Get(line, "level") != "info") continue;
    std::string folders;
    for (const std::string& f : test::GetAll(line, "folder"))
      folders += (folders.empty() ? "" : ",") + f;
    delivered[test::Get(line, "queue_id")] = folders;
  }
  for (const std::string& name : names) EXPECT_EQ(predicted[name], delivered[name]) << name;
}

// Acceptance 2: a run changes nothing: file contents, sizes, modes and times, directories
// included, of the Maildir and the duplicate store.
std::string Snapshot(const std::string& root) {
  std::string out;
  std::vector<std::string> stack = {root};
  std::vector<std::string> all;
  while (!stack.empty()) {
    std::string dir = stack.back();
    stack.pop_back();
    all.push_back(dir);
    for (const std::string& name : test::ListDir(dir)) {
      std::string path = dir + "/" + name;
      struct stat st;
      if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        stack.push_back(path);
      } else {
        all.push_back(path);
      }
    }
  }
  std::sort(all.begin(), all.end());
  for (const std::string& path : all) {
    struct stat st;
    lstat(path.c_str(), &st);
    out += path + " mode=" + std::to_string(st.st_mode) + " size=" + std::to_string(st.st_size) +
           " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec) + " ctime=" + std::to_string(st.st_ctim.tv_sec) +
           "." + std::to_string(st.st_ctim.tv_nsec);
    if (S_ISREG(st.st_mode))
      out += " hash=" + std::to_string(std::hash<std::string>()(test::ReadFile(path)));
    out += "\n";
  }
  return out;
}

TEST_F(MdatestTest, ReadOnlyOverTheMaildirAndTheStore) {
  std::vector<std::string> names = CorpusNames();
  for (size_t i = 0; i < 40; ++i) {  // a Maildir with folders, and a duplicate store, made by mda
    ASSERT_EQ(test::Exec({test::MdaBinary(), "--rules", home_ / "corpus.rules"}, Env(),
                         test::ReadFile(kCorpus + "/messages/" + names[i * 5]))
                  .exit_code,
              0);
  }
  std::string before = Snapshot(home_.path());
  test::Result r = test::Exec({test::MdatestBinary(), "--rules", home_ / "corpus.rules", "-r",
                               "--explain", home_ / "Maildir", messages_},
                              Env(), "");
  ASSERT_EQ(r.exit_code, 0) << r.output.substr(0, 300);
  EXPECT_NE(r.output.find("duplicate: first delivered"),
            std::string::npos);  // it did read the store
  EXPECT_EQ(Snapshot(home_.path()), before);
}

// Acceptance 3: --explain for three representative messages, line by line.
TEST_F(MdatestTest, ExplainGolden) {
  test::WriteFile(home_ / ".mda/rules",
                  "if X-Spam-Flag: is \"YES\" or X-Spam-Score: >= 5.0\nthen folder Junk\n\n"
                  "if List-Id: ~ /<(?<list>[a-z0-9-]+)\\.lists\\.example\\.org>/i\nthen folder "
                  "Lists/${list}\n\n"
                  "if Subject: ~ /\\[ALERT\\]/ then copy Alerts\n");
  std::string examples = examples_;
  test::Result r = test::Exec({test::MdatestBinary(), "--explain", examples + "02-spam.eml",
                               examples + "03-list.eml", examples + "05-alert.eml"},
                              Env(), "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string rules = home_ / ".mda/rules";
  std::string golden =
      examples +
      "02-spam.eml -> Junk  [R:1]  <offer-889123@offers.example.net>  \"[SPAM] You have won "
      "\xe2\x82\xac"
      "1000!\"\n"
      "    R:1: X-Spam-Flag: is \"YES\" saw 'YES' -> true\n"
      "  R:1: matched\n"
      "  => R:1 decided: Junk\n" +
      examples +
      "03-list.eml -> Lists/dev  [R:4]  <CAB1234xyz@mail.example.com>  \"[dev] Release 2.4 branch "
      "is open\"\n"
      "    R:1: X-Spam-Flag: is \"YES\" saw no such header -> false\n"
      "    R:1: X-Spam-Score: >= 5.0 saw no such header -> false\n"
      "  R:1: did not match\n"
      "    R:4: List-Id: ~ /<(?<list>[a-z0-9-]+)\\.lists\\.example\\.org>/i saw 'Developers "
      "<dev.lists.example.org>' -> true, captures $1='dev' ${list}='dev'\n"
      "  R:4: matched\n"
      "  => R:4 decided: Lists/dev\n" +
      examples +
      "05-alert.eml -> Alerts + INBOX  [default]  <alert-20261125084000-db1@ops.example.com>  "
      "\"[ALERT] disk /var at 95% on db1\"\n"
      "    R:1: X-Spam-Flag: is \"YES\" saw no such header -> false\n"
      "    R:1: X-Spam-Score: >= 5.0 saw no such header -> false\n"
      "  R:1: did not match\n"
      "    R:4: List-Id: ~ /<(?<list>[a-z0-9-]+)\\.lists\\.example\\.org>/i saw no such header -> "
      "false\n"
      "  R:4: did not match\n"
      "    R:7: Subject: ~ /\\[ALERT\\]/ saw '[ALERT] disk /var at 95% on db1' -> true\n"
      "  R:7: matched\n"
      "  => no rule filed it: Alerts + INBOX\n"
      "\n3 message(s)\n  1  Alerts + INBOX\n  1  Junk\n  1  Lists/dev\n";
  std::string output = r.output;
  for (size_t p; (p = output.find(rules)) != std::string::npos;)
    output.replace(p, rules.size(), "R");
  std::vector<std::string> want = Lines(golden), got = Lines(output);
  for (size_t i = 0; i < std::max(want.size(), got.size()); ++i) {
    EXPECT_EQ(i < got.size() ? got[i] : "<missing>", i < want.size() ? want[i] : "<extra>")
        << "line " << i + 1;
  }
}

TEST_F(MdatestTest, ExplainShowsBlocksElseFlagsAndHeaderEdits) {
  test::WriteFile(home_ / ".mda/rules",
                  "if List-Id: ~ /<([a-z0-9-]+)\\.lists\\.example\\.org>/ then {\n"
                  "  if Subject: ~ /\\[ANNOUNCE\\]/ then folder Lists/$1/announce\n"
                  "  else folder Lists/$1 flag seen\n"
                  "}\n"
                  "if Subject: ~ /^\\[EXTERNAL\\] (.*)$/ then set-header \"Subject: $1\"\n");
  test::WriteFile(home_ / "list.eml",
                  "List-Id: <dev.lists.example.org>\nSubject: question\nMessage-ID: <l@x>\n\nb\n");
  test::WriteFile(home_ / "ext.eml", "Subject: [EXTERNAL] hello\nMessage-ID: <e@x>\n\nb\n");
  test::Result r = test::Exec(
      {test::MdatestBinary(), "--explain", home_ / "list.eml", home_ / "ext.eml"}, Env(), "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string rules = home_ / ".mda/rules";
  std::string output = r.output;
  for (size_t p; (p = output.find(rules)) != std::string::npos;)
    output.replace(p, rules.size(), "R");
  for (const char* want : {
           "list.eml -> Lists/dev  [R:3]",
           "\n  flags: seen (stored in cur/)\n",
           "\n  R:1: matched\n",
           "\n      R:2: Subject: ~ /\\[ANNOUNCE\\]/ saw 'question' -> false\n",
           "\n    R:2: did not match, else at R:3\n",
           "\n    R:3: flag seen\n",
           "\n  => R:3 decided: Lists/dev\n",
           "ext.eml -> INBOX  [default]",
           "\n  header: R:5: set Subject: hello\n",
           "\n    R:5: set-header Subject: hello\n",
       }) {
    EXPECT_NE(output.find(want), std::string::npos) << want << "\n" << output;
  }
}

// Acceptance 4: --check finds each seeded defect at its line and column.
TEST_F(MdatestTest, CheckFindsSeededDefects) {
  struct Case {
    std::string rules, expected;  // expected: "LINE:COL: LEVEL: start of message"
    int exit_code;
  } cases[] = {
      {"if exists A: then folder A\nif Subject ~ /x/ then folder B\n",
       "2:4: error: expected a test", 1},
      {"\n\nif Subject: ~ /([a-z]+/ then folder B\n",
       "3:23: error: bad regex: missing closing parenthesis", 1},
      {"set colour = blue\n", "1:5: error: unknown setting 'colour'", 1},
      {"if exists A: then folder Good\nif exists B: then folder ../etc\n",
       "2:19: error: folder name '../etc'", 1},
      {"if exists A: then folder \"a//b\"\n",
       "1:19: error: folder name 'a//b' has an empty component", 1},
      {"if size >= 0 then folder All\n\nif exists A: then folder Never\n",
       "3:1: warning: this rule can never run", 0},
      {"if exists A: then discard folder Never\n", "1:27: warning: 'folder' never runs", 0},
      {"if exists A: then folder X\n:0:\n* ^Subject: x\n",
       "2:1: error: this is a procmail recipe start (:0)", 1},
      {"include \"missing.rules\"\n", "1:9: error: cannot include", 1},
      {"if exists A: then folder A\n\tif ! exists B: then folder B\n",
       "2:5: error: '!' must be followed", 1},
      // Issue 15, point 5: two spellings of one folder.
      {"if exists A: then copy \"Lists/a.b\"\nif exists B: then folder Lists/a/b\n",
       "2:19: warning: folder 'Lists/a/b' is the same folder as 'Lists/a.b' at ", 0},
      {"if exists A: then copy inbox\nif exists B: then folder INBOX\n",
       "2:19: warning: folder 'INBOX' is the same folder as 'inbox'", 0},
      // Points 7 and 8: values that could never work, numbers out of range.
      {"set maildir = \"\"\n", "1:15: error: maildir is a path", 1},
      {"set dedup-password-file = \"\"\n", "1:27: error: dedup-password-file is a path", 1},
      {"set log = \"\"\n", "1:11: error: log is a path", 1},
      {"set dedup = 107000000000000d\n",
       "1:13: error: dedup is off or a period like 7d, 12h, 30m (at most 3650d)", 1},
      {"set max-size = 0\n", "1:16: error: max-size is a size like 50M (1 to 1024G)", 1},
      {"if X-Score: > 99999999999999999999 then folder A\n",
       "1:15: error: the number 99999999999999999999 is out of range", 1},
      {"if size > 2000G then folder A\n",
       "1:11: error: expected a size like 500, 20K or 5M (at most 1024G)", 1},
      // Issue 19: an else that can never run, a protected header, a block's dead rule.
      {"if size >= 0 then folder X else folder Y\n",
       "1:28: warning: this 'else' never runs: the condition at ", 0},
      {"if exists A: then remove-header \"Received\"\n",
       "1:33: error: Received cannot be removed: it records the message's path (RFC 5293)", 1},
      {"if exists A: then set-header \"Return-Path: <x@y.org>\"\n",
       "1:30: error: Return-Path cannot be changed", 1},
      {"if exists A: then {\n  if size >= 0 then folder All\n  if exists B: then folder Never\n}\n",
       "3:3: warning: this rule can never run", 0},
      {"if exists A: then {\n  if exists B: then folder B\n",
       "1:19: error: the '{' at line 1:19 "
       "is never closed",
       1},
  };
  int n = 0;
  for (const Case& c : cases) {
    std::string path = home_ / ("case" + std::to_string(++n) + ".rules");
    test::WriteFile(path, c.rules);
    test::Result r = test::Exec({test::MdatestBinary(), "--check", "--rules", path}, Env(), "");
    EXPECT_EQ(r.exit_code, c.exit_code) << c.rules << r.output;
    EXPECT_NE(r.output.find(path + ":" + c.expected), std::string::npos) << c.rules << "\n"
                                                                         << r.output;
  }
  // A clean file, and an unsafe one.
  test::WriteFile(home_ / "clean.rules",
                  test::ReadFile(std::string(MDA_SOURCE_DIR) + "/examples/rules/starter"));
  test::Result clean =
      test::Exec({test::MdatestBinary(), "--check", "--rules", home_ / "clean.rules"}, Env(), "");
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_NE(clean.output.find("5 rule(s) in 1 file(s), 0 error(s), 0 warning(s)"),
            std::string::npos)
      << clean.output;
  chmod((home_ / "clean.rules").c_str(), 0666);
  test::Result unsafe =
      test::Exec({test::MdatestBinary(), "--check", "--rules", home_ / "clean.rules"}, Env(), "");
  EXPECT_EQ(unsafe.exit_code, 1);
  EXPECT_NE(unsafe.output.find("error: " + (home_ / "clean.rules") + " is writable by everyone"),
            std::string::npos)
      << unsafe.output;
}

// Acceptance 5: --diff lists exactly the messages that move. The oracle is independent of
// mda: changing ">= 5.0" to "> 5.0" moves exactly the messages whose only trigger is an
// X-Spam-Score of exactly 5.
TEST_F(MdatestTest, DiffListsExactlyTheMovedMessages) {
  std::string old_rules = test::ReadFile(home_ / "corpus.rules");
  std::string new_rules = old_rules;
  new_rules.replace(new_rules.find("X-Spam-Score: >= 5.0"), 20, "X-Spam-Score: > 5.0");
  test::WriteFile(home_ / "new.rules", new_rules);
  test::Result r = test::Exec(
      {test::MdatestBinary(), "--diff", home_ / "corpus.rules", home_ / "new.rules", messages_},
      Env(), "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::set<std::string> listed;
  for (const std::string& line : Lines(r.output)) {
    if (line.find(": Junk -> ") != std::string::npos)
      listed.insert(line.substr(line.rfind('/', line.find(':')) + 1,
                                line.find(':') - line.rfind('/', line.find(':')) - 1));
  }
  std::set<std::string> oracle;
  for (const std::string& name : CorpusNames()) {
    std::string message = test::ReadFile(kCorpus + "/messages/" + name);
    rules::HeaderBlock h(message);
    bool flag = false, status = false, exactly_five = false;
    for (const auto* f : h.Find("X-Spam-Flag"))
      flag = flag || f->value == "YES" || f->value == "yes" || f->value == "Yes";
    for (const auto* f : h.Find("X-Spam-Status")) status = status || f->value.rfind("Yes,", 0) == 0;
    for (const auto* f : h.Find("X-Spam-Score"))
      exactly_five = exactly_five || rules::FirstNumber(f->value) == 5.0;
    if (exactly_five && !flag && !status) oracle.insert(name);
  }
  EXPECT_FALSE(oracle.empty());
  EXPECT_EQ(listed, oracle);
  EXPECT_NE(r.output.find(std::to_string(oracle.size()) + " of " +
                          std::to_string(CorpusNames().size()) + " message(s) move"),
            std::string::npos)
      << r.output;
}

// After procmail (issue 21): --diff placed compares the rules with where each message of a
// Maildir is now; a copy that stays among the new destinations has not moved. --diff none:
// with no rules everything would be in INBOX.
TEST_F(MdatestTest, DiffAgainstWhereProcmailPutIt) {
  test::WriteFile(home_ / ".mda/rules",
                  "if Subject: contains \"alert\" then copy Alerts\n"
                  "if List-Id: ~ /<([a-z]+)\\./ then folder Lists/$1\n"
                  "if Subject: contains \"spam\" then folder Junk\n");
  std::string md = home_ / "Maildir";
  for (const char* f : {"", "/.Lists.dev", "/.Alerts", "/.Junk"}) {
    test::MakeDirs(md + f + "/cur");
    test::MakeDirs(md + f + "/new");
  }
  test::WriteFile(md + "/cur/1:2,S", "Subject: hello\n\nx\n");                  // stays
  test::WriteFile(md + "/new/2", "Subject: spam offer\n\nx\n");                 // -> Junk
  test::WriteFile(md + "/new/3", "Subject: an alert\n\nx\n");                   // a copy stays
  test::WriteFile(md + "/.Alerts/new/3", "Subject: an alert\n\nx\n");           // the copy
  test::WriteFile(md + "/.Lists.dev/cur/4:2,", "List-Id: <dev.x.org>\n\nx\n");  // stays
  test::WriteFile(md + "/.Junk/cur/5:2,", "Subject: ham\n\nx\n");               // -> INBOX
  test::Result r = test::Exec(
      {test::MdatestBinary(), "--diff", "placed", home_ / ".mda/rules", "-r", md}, Env(), "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(md + "/new/2: INBOX -> Junk  [placed -> "), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(md + "/.Junk/cur/5:2,: Junk -> INBOX  [placed -> default]"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("2 of 6 message(s) move"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("/3:"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("/cur/1:2,S:"), std::string::npos) << r.output;
  r = test::Exec({test::MdatestBinary(), "--diff", "none", home_ / ".mda/rules", "-r", md}, Env(),
                 "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4 of 6 message(s) move"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(": INBOX -> Alerts + INBOX  [none -> "), std::string::npos) << r.output;
  // A message in no Maildir has no placement: said, not guessed.
  test::WriteFile(home_ / "loose.eml", "Subject: x\n\nx\n");
  r = test::Exec(
      {test::MdatestBinary(), "--diff", "placed", home_ / ".mda/rules", home_ / "loose.eml"}, Env(),
      "");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("not in a Maildir's cur/ or new/: no placement to compare with"),
            std::string::npos)
      << r.output;
}

// Acceptance 6: an mbox with >From escaping, and a CRLF Maildir, read correctly.
TEST_F(MdatestTest, MboxAndCrlfMaildir) {
  test::WriteFile(home_ / ".mda/rules",
                  "if body contains \"From the start\" then folder Escaped\n"
                  "if Subject: is \"crlf\" then folder Crlf\n");
  test::WriteFile(home_ / "box",
                  "From a@x Wed Nov 25 04:28:04 2026\nSubject: one\n\n>From the start\n\n"
                  "From b@x Wed Nov 25 04:28:05 2026\nSubject: two\n\nplain\n");
  test::MakeDirs(home_ / "crlf/cur");
  test::MakeDirs(home_ / "crlf/new");
  test::WriteFile(home_ / "crlf/cur/1:2,S", "Subject: crlf\r\nX: y\r\n\r\nbody\r\n");
  test::Result r = test::Exec({test::MdatestBinary(), home_ / "box", home_ / "crlf"}, Env(), "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(home_ / "box#1 -> Escaped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(home_ / "box#2 -> INBOX"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(home_ / "crlf/cur/1:2,S -> Crlf"), std::string::npos) << r.output;
}

TEST_F(MdatestTest, JsonLinesParse) {
  test::Result r = test::Exec({test::MdatestBinary(), "--format", "json", "--explain", "--rules",
                               home_ / "corpus.rules", messages_},
                              Env(), "");
  ASSERT_EQ(r.exit_code, 0);
  std::vector<std::string> lines = Lines(r.output);
  ASSERT_EQ(lines.size(), CorpusNames().size() + 1);
  for (const std::string& line : lines) {
    test::LogFields f;
    EXPECT_TRUE(test::ParseJson(line, &f) || line.rfind("{\"summary\":", 0) == 0)
        << line.substr(0, 200);
  }
}

// Issue 15, point 10: a header's terminal escapes never reach the terminal, and a huge
// header value is cut, in text and TSV (JSON escapes them as JSON).
TEST_F(MdatestTest, HeaderValuesAreSanitisedAndBounded) {
  test::MakeDirs(home_ / "hostile");
  std::string id = "<" + std::string(1 << 20, 'x') + "@example.org>";
  test::WriteFile(home_ / "hostile/m1", "Message-ID: " + id +
                                            "\nSubject: \x1b]0;owned\x07\xc2\x9b"
                                            "2J\x1b[31mred\n\nb\n");
  for (const char* format : {"text", "tsv"}) {
    test::Result r =
        test::Exec({test::MdatestBinary(), "--format", format, home_ / "hostile"}, Env(), "");
    ASSERT_EQ(r.exit_code, 0) << r.output.substr(0, 2000);
    EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << format;
    EXPECT_EQ(r.output.find('\x07'), std::string::npos) << format;
    EXPECT_EQ(r.output.find("\xc2\x9b"), std::string::npos) << format;
    EXPECT_NE(r.output.find("\\x1b]0;owned\\x07\\u009b2J"), std::string::npos)
        << format << r.output.substr(0, 2000);
    EXPECT_LT(r.output.size(), 4000u) << format << ": the 1 MB Message-ID was printed uncut";
  }
}

// Issue 15, point 11: no symbolic link below the given path is followed: a Maildir whose
// cur/, .Folder or message is a link into another tree shows nothing of that tree.
TEST_F(MdatestTest, NoSymbolicLinkBelowTheGivenPathIsFollowed) {
  std::string outside = home_ / "outside";
  test::MakeDirs(outside + "/cur");
  test::MakeDirs(outside + "/new");
  test::WriteFile(outside + "/cur/secret", "Subject: SECRET\n\nx\n");
  std::string box = home_ / "box";
  test::MakeDirs(box + "/new");
  test::MakeDirs(box + "/real/cur");
  ASSERT_EQ(symlink((outside + "/cur").c_str(), (box + "/cur").c_str()), 0);  // cur/ is a link
  test::WriteFile(box + "/new/mine", "Subject: mine\n\nx\n");
  ASSERT_EQ(symlink((outside + "/cur/secret").c_str(), (box + "/new/link").c_str()), 0);
  test::MakeDirs(box + "2/cur");
  test::MakeDirs(box + "2/new");
  test::WriteFile(box + "2/new/mine", "Subject: mine\n\nx\n");
  ASSERT_EQ(symlink((outside + "/cur/secret").c_str(), (box + "2/new/link").c_str()),
            0);                                                         // a message that is a link
  ASSERT_EQ(symlink(outside.c_str(), (box + "2/.Folder").c_str()), 0);  // a folder that is a link
  for (const std::string& path : {box, box + "2"}) {
    test::Result r = test::Exec({test::MdatestBinary(), "-r", path}, Env(), "");
    EXPECT_EQ(r.output.find("SECRET"), std::string::npos) << path << ":\n" << r.output;
  }
  test::Result r = test::Exec({test::MdatestBinary(), "-r", box + "2"}, Env(), "");
  EXPECT_NE(r.output.find("\"mine\""), std::string::npos) << r.output;
}

// Issue 15, point 15: includes in a diamond (20 a level, 7 levels) are bounded by the total
// of files read, not only by depth; --check names the include that went over.
TEST_F(MdatestTest, DiamondIncludesAreBoundedInTotal) {
  for (int level = 0; level < 7; ++level) {
    std::string text = "if exists X-Level-" + std::to_string(level) + ": then folder L\n";
    for (int i = 0; i < 20; ++i)
      text += "include \"level" + std::to_string(level + 1) + ".rules\"\n";
    test::WriteFile(home_ / ("level" + std::to_string(level) + ".rules"), text);
  }
  test::WriteFile(home_ / "level7.rules", "if exists X-Last: then folder Last\n");
  test::Result r = test::Exec({"/usr/bin/timeout", "60", test::MdatestBinary(), "--check",
                               "--rules", home_ / "level0.rules"},
                              Env(), "");
  EXPECT_EQ(r.exit_code, 1) << r.output.substr(0, 2000);  // 124: timeout killed it
  EXPECT_NE(r.output.find((home_ / "level6.rules") + ":17:9: error: this include of " +
                          (home_ / "level7.rules") + " goes over 64 files read in all"),
            std::string::npos)
      << r.output.substr(0, 2000);
}

// Issue 21: saved mail carries its envelope in the headers delivery added; the dry run takes
// it from there (Return-Path:, Delivered-To:/Envelope-To:) and says so; --sender and
// --recipient (or SENDER, RECIPIENT) still win; a saved bounce is a bounce, an ordinary
// message is not.
TEST_F(MdatestTest, SavedMailGivesItsOwnEnvelope) {
  test::WriteFile(home_ / "env.rules",
                  "if sender is \"\" then folder Bounces\n"
                  "if recipient ~ /^lists@/ then folder ToLists\n");
  test::MakeDirs(home_ / "saved");
  test::WriteFile(home_ / "saved/1-bounce.eml",
                  "Return-path: <>\nEnvelope-to: bob@example.com\nFrom: MAILER-DAEMON@x\n"
                  "Subject: failed\n\nb\n");
  test::WriteFile(home_ / "saved/2-plain.eml",
                  "Return-Path: <alice@example.org>\nDelivered-To: lists@example.com\n"
                  "From: Alice <alice@example.org>\nSubject: hi\n\nb\n");
  test::WriteFile(home_ / "saved/3-bare.eml", "From: Carol <carol@example.net>\nSubject: x\n\nb\n");
  std::vector<std::string> env = {"HOME=" + home_.path()};  // no SENDER, no RECIPIENT
  test::Result r = test::Exec(
      {test::MdatestBinary(), "--explain", "--rules", home_ / "env.rules", home_ / "saved"}, env,
      "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1-bounce.eml -> Bounces"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("envelope: sender <> (Return-Path:), recipient bob@example.com "
                          "(Envelope-To:)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("2-plain.eml -> ToLists"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("envelope: sender alice@example.org (Return-Path:), recipient "
                          "lists@example.com (Delivered-To:)"),
            std::string::npos)
      << r.output;
  // Nothing says the sender: its author stands in, and it is not taken for a bounce.
  EXPECT_NE(r.output.find("3-bare.eml -> INBOX"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sender carol@example.net (From:, as no Return-Path: says it; give "
                          "--sender)"),
            std::string::npos)
      << r.output;
  // The command line wins.
  r = test::Exec({test::MdatestBinary(), "--sender", "", "--recipient", "lists@example.com",
                  "--rules", home_ / "env.rules", home_ / "saved/2-plain.eml"},
                 env, "");
  EXPECT_NE(r.output.find("2-plain.eml -> Bounces"), std::string::npos) << r.output;
}

// Issue 21: run as root, mdatest does not judge a user's rule file by root's rights: it
// says how to do it right, and --user NAME judges exactly as NAME (root's rights dropped).
TEST_F(MdatestTest, AsRootItJudgesOnlyAsTheUser) {
  if (getuid() != 0) GTEST_SKIP() << "needs root";
  struct passwd* pw = getpwuid(test::TestUid());
  ASSERT_NE(pw, nullptr);
  std::string user = pw->pw_name;
  test::WriteFile(home_ / ".mda/rules", "if Subject: is \"x\" then folder X\n");
  chmod((home_ / ".mda").c_str(), 0700);
  chmod((home_ / ".mda/rules").c_str(), 0600);
  std::vector<std::string> env = {"HOME=" + home_.path()};
  test::Result r = test::ExecAs({test::MdatestBinary(), "--check"}, env, "", 0, 0);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("is " + user +
                          "'s; run as root, mdatest would judge it by root's "
                          "rights, not " +
                          user + "'s. Run it as the user: runuser -u " + user +
                          " -- mdatest ..., or give --user " + user),
            std::string::npos)
      << r.output;
  // --user: the user's own view (HOME from the passwd entry unless given, as here).
  r = test::ExecAs({test::MdatestBinary(), "--check", "--user", user, "--home", home_.path()}, env,
                   "", 0, 0);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 rule(s) in 1 file(s), 0 error(s)"), std::string::npos) << r.output;
  // ... with the user's rights only: a message only root can read is not read.
  test::WriteFile(home_ / "secret.eml", "Subject: x\n\nb\n");
  ASSERT_EQ(chown((home_ / "secret.eml").c_str(), 0, 0), 0);
  chmod((home_ / "secret.eml").c_str(), 0600);
  r = test::ExecAs(
      {test::MdatestBinary(), "--user", user, "--home", home_.path(), home_ / "secret.eml"}, env,
      "", 0, 0);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("Permission denied"), std::string::npos) << r.output;
  r = test::ExecAs({test::MdatestBinary(), "--user", "root", "--check"}, env, "", 0, 0);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("mda never runs as root"), std::string::npos) << r.output;
}

// Issue 21: over a big mailbox, progress on standard error when it is a terminal (and the
// report goes elsewhere); nothing of it when standard error is not a terminal.
TEST_F(MdatestTest, ProgressOnATerminalOnly) {
  test::MakeDirs(home_ / "big");
  for (int i = 0; i < 1200; ++i)
    test::WriteFile(home_ / "big/" + std::to_string(i),
                    "Subject: n" + std::to_string(i) + "\n\nb\n");
  std::vector<std::string> argv = {
      test::MdatestBinary(), "--rules", home_ / "corpus.rules", "--format", "tsv", home_ / "big"};
  // Not a terminal (stdout and stderr one pipe, as in a script): no progress at all.
  test::Result plain = test::Exec(argv, Env(), "");
  ASSERT_EQ(plain.exit_code, 0) << plain.output.substr(0, 500);
  EXPECT_EQ(plain.output.find("messages..."), std::string::npos);
  // Standard error a terminal, the report into a pipe.
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  std::string slave_name = ptsname(master);
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  std::vector<std::string> env = Env();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int slave = open(slave_name.c_str(), O_RDWR | O_NOCTTY);
    if (slave < 0 || dup2(slave, STDERR_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0) _exit(120);
    if (getuid() == 0 && (setgid(test::TestGid()) != 0 || setuid(test::TestUid()) != 0)) _exit(121);
    std::vector<char*> args, envp;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(122);
  }
  close(out[1]);
  std::string report, terminal;
  char buf[65536];
  for (bool open_out = true, open_tty = true; open_out || open_tty;) {
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {master, POLLIN, 0}};
    if (poll(fds, 2, 30000) <= 0) break;
    if (open_out && fds[0].revents) {
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0)
        open_out = false;
      else
        report.append(buf, static_cast<size_t>(n));
    }
    if (open_tty && fds[1].revents) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0)
        open_tty = false;
      else
        terminal.append(buf, static_cast<size_t>(n));
    }
    if (!open_out) {
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        // Drain what the terminal still holds, then stop.
        for (ssize_t n; (n = read(master, buf, sizeof buf)) > 0;)
          terminal.append(buf, static_cast<size_t>(n));
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << terminal;
        pid = -1;
        break;
      }
    }
  }
  if (pid > 0) waitpid(pid, nullptr, 0);
  close(out[0]);
  close(master);
  EXPECT_NE(terminal.find("mdatest: 500 messages..."), std::string::npos) << terminal;
  EXPECT_NE(terminal.find("mdatest: 1000 messages..."), std::string::npos) << terminal;
  EXPECT_EQ(terminal.substr(terminal.size() - 4), "\r\033[K") << "the line is cleared at the end";
  EXPECT_EQ(report.find("messages..."), std::string::npos);
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 1201);  // header + one per message
}

// Issue 21: --check reports every error of the file (one mistake does not hide the next;
// a procmail file pasted whole gets a hint on each line), and warns of a body test of a
// MIME header and of a rule shadowed by an earlier final one with the same condition.
TEST_F(MdatestTest, CheckReportsEveryErrorAndRulesThatCannotDecide) {
  test::WriteFile(home_ / "errors.rules",
                  "if Subject: ~ /[/ then folder A\n"         // 1: regex
                  "if Subject: is \"ok\" then folder Fine\n"  // 2: fine
                  "if X-Spam: is \"yes\"\n"                   // 3..5: one statement
                  "then folderr Junk\n"
                  "else folder Y\n"
                  "if Subject: is \"b\" then {\n"  // 6..9: a block with a bad inner rule
                  "  if From: ~ /(/ then folder C\n"
                  "  if To: is \"x\" then folder D\n"
                  "}\n"
                  "set colour = red\n"  // 10
                  ":0:\n"               // 11..13: procmail
                  "* ^X-Spam-Status: Yes\n"
                  "/dev/null\n"
                  "if exists Foo: then folder E\n");  // 14: fine
  test::Result r =
      test::Exec({test::MdatestBinary(), "--check", "--rules", home_ / "errors.rules"}, Env(), "");
  EXPECT_EQ(r.exit_code, 1);
  std::vector<std::string> at;
  for (size_t p = 0; (p = r.output.find(": error: ", p)) != std::string::npos; ++p) {
    size_t start = r.output.rfind('\n', p);
    start = start == std::string::npos ? 0 : start + 1;
    std::string where = r.output.substr(start, p - start);
    at.push_back(where.substr(where.find(".rules:") + 7));
  }
  EXPECT_EQ(at, (std::vector<std::string>{"1:17", "4:6", "7:16", "10:5", "11:1", "12:1", "13:1"}))
      << r.output;
  EXPECT_NE(r.output.find("if X-Spam-Status: ~ /^Yes/i then"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("in mda: then discard"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("errors.rules: 7 errors: mda would not use this file"), std::string::npos)
      << r.output;
  // More than the cap: the first 50, and said so.
  std::string many;
  for (int i = 0; i < 80; ++i) many += "if Subject: ~ /[/ then folder A\n";
  test::WriteFile(home_ / "many.rules", many);
  r = test::Exec({test::MdatestBinary(), "--check", "--rules", home_ / "many.rules"}, Env(), "");
  EXPECT_NE(r.output.find("the first 50 errors (there may be more)"), std::string::npos)
      << r.output.substr(r.output.size() - 300);
  // Rules that can never decide.
  test::WriteFile(home_ / "shadow.rules",
                  "if Subject: contains \"x\" then folder A\n"
                  "if body ~ /^Content-Disposition: attachment/ then folder Att\n"
                  "if Subject: contains \"x\" then folder B\n"
                  "else folder C\n"
                  "if exists X-Edit: then set-header \"Subject: x\"\n"
                  "if Subject: contains \"y\" then folder D\n"
                  "if Subject: contains \"y\" then folder E\n");
  r = test::Exec({test::MdatestBinary(), "--check", "--rules", home_ / "shadow.rules"}, Env(), "");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("shadow.rules:2:4: warning: body tests see the decoded text of the "
                          "message's text parts, never its MIME headers: this test never matches"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("shadow.rules:3:1: warning: this rule's condition is the same as the "
                          "rule's at " +
                          (home_ / "shadow.rules:1") +
                          ", which ends the run for every message "
                          "it matches: only its 'else' can run"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("shadow.rules:7:1: warning: this rule's condition is the same"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("3 warning(s)"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mda
