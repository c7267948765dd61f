// The converter (issue 21) on its own: what it translates and how, what it leaves as
// NOT CONVERTED and why, and that its output always parses. tests/procmail_agreement.sh
// proves the translations against the real procmail.
#include "mda/procmail_convert.h"

#include <gtest/gtest.h>

#include <map>

#include "mda/config.h"
#include "rules/parser.h"

namespace mda {
namespace {

ProcmailConversion Convert(const std::string& text,
                           const std::map<std::string, std::string>& includes = {}) {
  ProcmailConversion c = ConvertProcmailrc("rc", text, "/home/bob",
                                           [&includes](const std::string& path, std::string* out) {
                                             auto it = includes.find(path);
                                             if (it == includes.end())
                                               return Status::BadInput("no such file");
                                             *out = it->second;
                                             return Status::Ok();
                                           });
  rules::RuleSet rules;
  rules::ParseOptions options;
  options.home = "/home/bob";
  options.settings = Settings();
  Status s = rules::ParseRules("out", c.rules, "out", options, &rules);
  EXPECT_TRUE(s.ok()) << s.message() << "\n" << c.rules;
  return c;
}

bool Has(const ProcmailConversion& c, const std::string& text) {
  return c.rules.find(text) != std::string::npos;
}

TEST(ProcmailConvertTest, Regexes) {
  std::string why;
  EXPECT_EQ(ProcmailRegex("^Subject:.*\\[ALERT\\]", &why), "^Subject:.*\\[ALERT\\]");
  EXPECT_EQ(ProcmailRegex("^List-Id:.*<\\/[a-z]+", &why), "^List-Id:.*<(?<MATCH>[a-z]+)");
  EXPECT_EQ(ProcmailRegex("\\<word\\>", &why), "\\bword\\b");
  EXPECT_EQ(ProcmailRegex("^From:.*a/b", &why), "^From:.*a\\/b");
  EXPECT_EQ(ProcmailRegex("^TO_bob@x", &why).substr(0, 30), "(^((Original-)?(Resent-)?(To|C");
  EXPECT_NE(ProcmailRegex("^TO_bob@x", &why).find("[^-a-zA-Z0-9_.])?)bob@x"), std::string::npos);
  EXPECT_NE(ProcmailRegex("^TObob", &why).find("(.*[^a-zA-Z])?)bob"), std::string::npos);
  EXPECT_EQ(ProcmailRegex("^^From", &why), "");
  EXPECT_EQ(why, "a regex anchored to the whole text (^^)");
  EXPECT_EQ(ProcmailRegex("a\\/b\\/c", &why), "");
}

TEST(ProcmailConvertTest, RecipesAndTheirFlags) {
  ProcmailConversion c = Convert(
      "MAILDIR=$HOME/Maildir\n"
      ":0:\n* ^X-Spam-Status: Yes\n.Junk/\n"
      ":0 D\n* ^Subject:.*URGENT\n* !^From:.*robot\n$MAILDIR/.Urgent/\n"
      ":0 c\n* B ?? unsubscribe\n.Lists.news/\n"
      ":0 HB\n* secret\n/dev/null\n"
      ":0\n* > 5000000\n! big@example.org other@example.org\n"
      ":0 fw\n| /usr/bin/spamc -u bob\n"
      ":0 c\n| /usr/local/bin/notify \"$HOME/x\" > /dev/null\n"
      ":0\n* ^Subject:.*a\n.A/\n:0 E\n* ^Subject:.*b\n.B/\n"
      ":0\n* ^From:.*x\n{\n  :0 c\n  .X/\n  :0\n  * ^Subject:.*y\n  .Y/\n}\n"
      ":0 Wh: msgid.lock\n| formail -D 8192 .msgid.cache\n"
      ":0 fw\n| formail -I \"X-Seen: yes\" -I \"X-Old:\" -A \"X-New: 1\"\n"
      ":0\n$HOME/Maildir/\n");
  EXPECT_EQ(c.not_converted, 0) << c.rules;
  EXPECT_TRUE(Has(c, "# rc:2\nif headers ~ /^X-Spam-Status: Yes/i then folder \"Junk\""))
      << c.rules;
  EXPECT_TRUE(Has(c,
                  "if headers ~ /^Subject:.*URGENT/ and not headers ~ /^From:.*robot/ then "
                  "folder \"Urgent\""))
      << c.rules;
  EXPECT_TRUE(Has(c, "if rawbody ~ /unsubscribe/i then copy \"Lists/news\"")) << c.rules;
  EXPECT_TRUE(Has(c, "if (headers ~ /secret/i or rawbody ~ /secret/i) then discard")) << c.rules;
  EXPECT_TRUE(Has(c, "if size > 5000000 then forward \"big@example.org\" \"other@example.org\""))
      << c.rules;
  EXPECT_TRUE(Has(c, "if size >= 0 then filter \"/usr/bin/spamc\" \"-u\" \"bob\"")) << c.rules;
  // procmail ran it in MAILDIR; mda starts programs in the home directory.
  EXPECT_TRUE(Has(c,
                  "copy pipe \"/bin/sh\" \"-c\" \"cd '/home/bob/Maildir' && "
                  "/usr/local/bin/notify \\\"/home/bob/x\\\" > /dev/null\""))
      << c.rules;
  EXPECT_TRUE(Has(c,
                  "if headers ~ /^Subject:.*a/i then folder \"A\"\n# rc:25\nelse if headers "
                  "~ /^Subject:.*b/i then folder \"B\""))
      << c.rules;
  EXPECT_TRUE(Has(c,
                  "# rc:28\nif headers ~ /^From:.*x/i then {\n    # rc:31\n    if size >= 0 "
                  "then copy \"X\"\n    # rc:33\n    if headers ~ /^Subject:.*y/i then folder "
                  "\"Y\"\n}"))
      << c.rules;
  EXPECT_TRUE(Has(c, "formail -D dropped")) << c.rules;
  // formail's edits, each a statement: -A sets a field that is not there (later conditions
  // see it, as procmail's do) and adds a second one on top.
  EXPECT_TRUE(Has(c,
                  "then {\n    if size >= 0 then set-header \"X-Seen: yes\"\n    if size >= 0 "
                  "then remove-header \"X-Old\"\n    if not exists X-New: then set-header "
                  "\"X-New: 1\"\n    else add-header \"X-New: 1\"\n}"))
      << c.rules;
  EXPECT_TRUE(Has(c, "if size >= 0 then folder \"INBOX\"")) << c.rules;
  // Every rule names its line; the locks and the w flag are said to be dropped.
  std::string report;
  for (const std::string& r : c.report) report += r + "\n";
  EXPECT_NE(report.find("rc:2: lock dropped: mda needs no lock files"), std::string::npos)
      << report;
  EXPECT_NE(report.find("rc:18: w/W: mda always waits"), std::string::npos) << report;
}

TEST(ProcmailConvertTest, WhatCannotBeTranslatedIsKeptAndSaid) {
  ProcmailConversion c = Convert(
      "PMDIR=`pwd`\n"                          // 1: backticks
      ":0\n* 1^0 ^Subject:.*money\n.Money/\n"  // 2: scoring
      ":0\n* ? test -f /tmp/x\n.X/\n"          // 5: a program condition
      ":0\n* $ ^From:.*$SENDER\n.S/\n"         // 8: variables in a condition
      ":0:\n* ^Subject:.*old\nmbox-folder\n"   // 11: an mbox
      ":0\n* ^Subject:.*mh\nMail/inbox/.\n"    // 14: an MH folder
      ":0 E\n* ^Subject:.*z\n.Z/\n"            // 17: E after a failed recipe
      ":0\n* ^From:.*q\n{\n  :0\n  .Q/\n}\n"   // 20: fine: a block
      "EXITCODE=75\n"                          // 26
      ":0\n* ^Subject:.*plain\nPlain/\n");     // 27: not a Maildir++ folder
  // MAILDIR is not set: procmail's default, the home directory, so .Q/ is ~/.Q, no folder of
  // ~/Maildir.
  EXPECT_EQ(c.not_converted, 10) << c.rules;
  for (const char* why :
       {"# NOT CONVERTED: an assignment that runs a program or uses an unknown variable (rc:1)\n"
        "#   PMDIR=`pwd`",
        "# NOT CONVERTED: a weighted (scoring) condition (rc:2)\n#   :0\n#   * 1^0 "
        "^Subject:.*money\n#   .Money/",
        "# NOT CONVERTED: a program's exit code as a condition (?) (rc:5)",
        "# NOT CONVERTED: a condition with variables expanded ($) (rc:8)",
        "# NOT CONVERTED: an mbox file (or a directory of single files); mda delivers into "
        "Maildir folders (write the Maildir++ folder as procmail would, .NAME/, or in mda "
        "'folder NAME') (rc:11)",
        "# NOT CONVERTED: an MH folder; mda delivers into Maildir folders (rc:14)",
        "# NOT CONVERTED: an E or A recipe after one that was not converted to a rule (rc:17)",
        "# NOT CONVERTED: EXITCODE changes how procmail ends (rc:26)",
        "    # NOT CONVERTED: a Maildir outside /home/bob/Maildir (/home/bob/.Q/) (rc:23)\n"
        "    #     :0\n    #     .Q/\n}",
        "# NOT CONVERTED: a Maildir outside /home/bob/Maildir (/home/bob/Plain/) (rc:27)"}) {
    EXPECT_TRUE(Has(c, why)) << why << "\n" << c.rules;
  }
  EXPECT_TRUE(Has(c, "if headers ~ /^From:.*q/i then {")) << c.rules;
  int listed = 0;
  for (const std::string& r : c.report) listed += r.find(": NOT CONVERTED: ") != std::string::npos;
  EXPECT_EQ(listed, 10);
}

TEST(ProcmailConvertTest, IncludesAreConvertedInPlace) {
  ProcmailConversion c = Convert(
      "MAILDIR=$HOME/Maildir\nINCLUDERC=$HOME/.procmail/lists.rc\n"
      ":0\n* ^Subject:.*after\n.After/\n",
      {{"/home/bob/.procmail/lists.rc", ":0\n* ^List-Id:.*dev\n.Dev/\nINCLUDERC=missing.rc\n"}});
  EXPECT_TRUE(Has(c,
                  "# rc:2 INCLUDERC=/home/bob/.procmail/lists.rc, converted here:\n# "
                  "/home/bob/.procmail/lists.rc:1\nif headers ~ /^List-Id:.*dev/i then "
                  "folder \"Dev\""))
      << c.rules;
  EXPECT_TRUE(Has(c, "# NOT CONVERTED: INCLUDERC /home/bob/Maildir/missing.rc could not be read"))
      << c.rules;
  EXPECT_TRUE(Has(c, "folder \"After\"")) << c.rules;
  EXPECT_EQ(c.not_converted, 1);
  // SWITCHRC: the file's rules in place, then INBOX: procmail does not come back.
  ProcmailConversion sw = Convert(
      "MAILDIR=$HOME/Maildir\n:0\n* ^From:.*boss\n{\n  SWITCHRC=$HOME/.procmail/boss.rc\n}\n"
      ":0\n.Rest/\n",
      {{"/home/bob/.procmail/boss.rc", ":0\n* ^Subject:.*urgent\n.Urgent/\n"}});
  EXPECT_EQ(sw.not_converted, 0) << sw.rules;
  EXPECT_TRUE(Has(sw,
                  "if headers ~ /^From:.*boss/i then {\n    # rc:5 SWITCHRC=/home/bob/.procmail/"
                  "boss.rc, converted here:\n    # /home/bob/.procmail/boss.rc:1\n    if headers ~ "
                  "/^Subject:.*urgent/i then folder \"Urgent\"\n    if size >= 0 then folder "
                  "\"INBOX\"  # rc:5 SWITCHRC: procmail does not come back\n}\n"))
      << sw.rules;
  ProcmailConversion missing = Convert("SWITCHRC=/nowhere.rc\n");
  EXPECT_TRUE(Has(missing, "# NOT CONVERTED: SWITCHRC /nowhere.rc could not be read (rc:1)"))
      << missing.rules;
}

// procmailex(5)'s vacation recipe, forwards through $SENDMAIL, several folders on a line,
// formail -i, and programs as procmail would run them.
TEST(ProcmailConvertTest, VacationForwardsAndHeaderEdits) {
  ProcmailConversion c = Convert(
      "MAILDIR=Maildir\n"                                                        // 1: relative
      ":0 Whc: vacation.lock\n"                                                  // 2
      "* $^To:.*\\<$\\LOGNAME\\>\n"                                              // 3
      "* !^X-Loop: bob@example.org\n"                                            // 4
      "| formail -rD 8192 vacation.cache\n"                                      // 5
      "\n"                                                                       // 6
      "  :0 ehc\n"                                                               // 7
      "  | (formail -rI\"Precedence: junk\" \\\n"                                // 8
      "     -A\"X-Loop: bob@example.org\" ; \\\n"                                // 9
      "     echo \"I'm away, \\\"back\\\" on Monday (\\$5 a day)\"; echo; \\\n"  // 10
      "     echo \"-- \"; cat $HOME/.signature \\\n"                             // 11
      "    ) | $SENDMAIL -oi -t\n"                                               // 12
      ":0 c\n* !^X-Loop: bob@example.org\n"                                      // 13
      "| formail -A \"X-Loop: bob@example.org\" | $SENDMAIL -oi bob@other.example\n"
      ":0 hc\n* !^FROM_DAEMON\n"  // 16
      "| (formail -r ; echo \"Mail received.\") | $SENDMAIL -t\n"
      ":0\n* ^Subject:.*TeX\n.tex/ .wordprocessing/\n"                            // 19
      ":0 fhw\n| formail -i \"Subject: [seen]\" -A\"X-Loop: bob@example.org\"\n"  // 22
      ":0 Whc: msgid.lock\n| formail -D 8192 msgid.cache\n:0 a\n.duplicates/\n"   // 24
      ":0\n| gzip >> headc.gz\n",                                                 // 28
      {{"/home/bob/.signature", "Bob\n"}});
  EXPECT_TRUE(Has(c,
                  "# rc:2 and 7 (the vacation recipe)\nif not headers ~ /^X-Loop: "
                  "bob@example.org/i then vacation days 7 \"I'm away, \\\"back\\\" on Monday "
                  "($$5 a day)\\n\\n-- \\nBob\\n\""))
      << c.rules;
  EXPECT_TRUE(Has(c,
                  "# rc:13\nif not headers ~ /^X-Loop: bob@example.org/i then copy forward "
                  "\"bob@other.example\""))
      << c.rules;
  EXPECT_TRUE(Has(c,
                  "# NOT CONVERTED: an automatic reply to every message (formail -r with no "
                  "cache of who was answered)"))
      << c.rules;
  EXPECT_TRUE(Has(c, "then copy \"tex\" folder \"wordprocessing\"")) << c.rules;
  EXPECT_TRUE(Has(c,
                  "    if Subject: ~ /^(.*)$/ then set-header \"Old-Subject: $1\"\n"
                  "    if size >= 0 then set-header \"Subject: [seen]\"\n"
                  "    if not exists X-Loop: then set-header \"X-Loop: bob@example.org\"\n"))
      << c.rules;
  EXPECT_TRUE(Has(c,
                  "# NOT CONVERTED: it files what formail -D found to be a duplicate: mda's "
                  "duplicate check suppresses duplicates (the log says outcome=duplicate), it "
                  "does not file them (rc:26)"))
      << c.rules;
  EXPECT_TRUE(Has(c, "pipe \"/bin/sh\" \"-c\" \"cd '/home/bob/Maildir' && gzip >> headc.gz\""))
      << c.rules;
  EXPECT_EQ(c.not_converted, 2) << c.rules;
  std::string report;
  for (const std::string& r : c.report) report += r + "\n";
  EXPECT_NE(report.find("rc:3: the check for your name in To: dropped"), std::string::npos)
      << report;
  EXPECT_NE(report.find("rc:2: the vacation recipe (with line 7) as 'vacation days 7'"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("rc:13: a forward through $SENDMAIL as mda's forward"), std::string::npos)
      << report;
  // The reply's text file must be there: otherwise both recipes are kept, said once.
  ProcmailConversion missing = Convert(
      ":0 Whc\n| formail -rD 8192 vacation.cache\n:0 ehc\n| (formail -r; cat $HOME/.away) | "
      "$SENDMAIL -t\n");
  EXPECT_EQ(missing.not_converted, 1);
  EXPECT_TRUE(Has(missing,
                  "# NOT CONVERTED: the vacation recipe's reply: its text file /home/bob/.away "
                  "could not be read (rc:1)"))
      << missing.rules;
}

// Whatever the input, what is written parses (fuzz_procmail holds it to that): what mda would
// refuse is reported instead of written.
TEST(ProcmailConvertTest, WhatMdaWouldRefuseIsReportedNotWritten) {
  ProcmailConversion c = Convert(
      "MAILDIR=$HOME/Maildir\n"
      ":0\n* ^Subject:.*[\n.A/\n"                               // 2: not a PCRE
      ":0\n! bob\n"                                             // 5: no domain
      ":0\n* ^From:.*x\n{\n  LOGFILE=/tmp/l\n  :0\n  .B/\n}\n"  // 7: a setting in a block
      ":0\n* ^From:.*y\n.C.\".D/\n"                             // 14: a quote in a folder
      ":0 fw\n| formail -I \"Received: x\"\n"                   // 17: a header mda never edits
      ":0\n| bin/notify\n");                                    // 19: relative: from MAILDIR
  EXPECT_EQ(c.not_converted, 5) << c.rules;
  for (const char* why :
       {"# NOT CONVERTED: the regex is not one PCRE takes as it is", "(rc:2)",
        "# NOT CONVERTED: a forward address mda does not take as it is (bob)",
        "    # NOT CONVERTED: an assignment inside a block (procmail makes it only when the "
        "block runs) (rc:10)",
        "# NOT CONVERTED: a folder name with a quote, a backslash or a $ (rc:14)",
        "# NOT CONVERTED: formail -I of a header mda does not edit (Received) (rc:17)",
        "if size >= 0 then pipe \"/home/bob/Maildir/bin/notify\""}) {
    EXPECT_TRUE(Has(c, why)) << why << "\n" << c.rules;
  }
}

}  // namespace
}  // namespace mda
