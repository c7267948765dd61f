// filter, pipe and copy pipe through the real mda binary, with real programs: what they get
// (the message exactly, one argv element per value, a clean environment), what their exit
// codes do (75: Exim retries, and the retry redoes nothing that worked; any other failure:
// the message is kept in INBOX), how a filter's output replaces the message, and mdatest.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/test_util.h"

namespace mda {
namespace {

using test::ListDir;
using test::ReadFile;

// Stores what it reads in a new file of directory $1 (complete or not at all: written, then
// renamed), with its arguments, environment and working directory beside it.
const char kRecorder[] =
    "#!/bin/sh\n"
    "set -e\n"
    "d=\"$1\"; shift\n"
    "mkdir -p \"$d\"\n"
    "cat > \"$d/.tmp.$$\"\n"
    "printf '%s\\n' \"$@\" > \"$d/args.$$\"\n"
    "env > \"$d/env.$$\"\n"
    "pwd > \"$d/pwd.$$\"\n"
    "mv \"$d/.tmp.$$\" \"$d/msg.$$\"\n"
    "echo recorded\n";

class ProgramsProcessTest : public testing::Test {
 protected:
  void SetUp() override {
    test::MakeDirs(home_ / ".mda");
    chmod((home_ / ".mda").c_str(), 0700);
    test::MakeDirs(home_ / "bin");
    Script("record", kRecorder);
  }
  void Script(const std::string& name, const std::string& text) {
    test::WriteFile(home_ / ("bin/" + name), text);
    chmod((home_ / ("bin/" + name)).c_str(), 0755);
    test::ChownToTestUser(home_ / ("bin/" + name));
  }
  void Rules(const std::string& text) {
    test::WriteFile(home_ / ".mda/rules", text);
    chmod((home_ / ".mda/rules").c_str(), 0600);
  }
  std::vector<std::string> Env(const std::string& queue_id = "1q-test") {
    return {"HOME=" + home_.path(),   "RECIPIENT=bob+tag@example.com", "SENDER=alice@example.org",
            "LOCAL_PART=bob",         "LOCAL_PART_SUFFIX=+tag",        "DOMAIN=example.com",
            "MESSAGE_ID=" + queue_id, "EXIM_SECRET=not-for-programs"};
  }
  test::Result Deliver(const std::string& message, const std::string& queue_id = "1q-test") {
    return test::Exec({test::MdaBinary()}, Env(queue_id), message);
  }
  std::vector<std::string> Files(const std::string& folder) {
    return ListDir(home_ / "Maildir/" + folder + "/new");
  }
  std::string Stored(const std::string& folder, size_t i = 0) {
    return ReadFile(home_ / "Maildir/" + folder + "/new/" + Files(folder).at(i));
  }
  // The messages a recorder stored in `dir` (complete ones only).
  std::vector<std::string> Recorded(const std::string& dir) {
    std::vector<std::string> messages;
    for (const std::string& f : ListDir(home_ / dir)) {
      if (f.rfind("msg.", 0) == 0) messages.push_back(ReadFile(home_ / dir + "/" + f));
    }
    return messages;
  }
  std::string RecordedFile(const std::string& dir, const std::string& kind) {
    for (const std::string& f : ListDir(home_ / dir)) {
      if (f.rfind(kind + ".", 0) == 0) return ReadFile(home_ / dir + "/" + f);
    }
    return "";
  }
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

const char kTicket[] =
    "From: alice@example.org\nMessage-ID: <t1@example.org>\n"
    "Subject: [ticket #42] -rf; $(reboot) two  words\n\nplease fix\r\nbinary \x01\xff\n";

TEST_F(ProgramsProcessTest, PipeGetsTheMessageExactlyAndEachValueAsOneArgument) {
  Rules(
      "if Subject: ~ /\\[ticket #([0-9]+)\\] (.*)/ then pipe \"~/bin/record\" \"$HOME/out\" "
      "\"--id\" \"$1\" \"$2\"\n");
  test::Result r =
      Deliver(std::string("From alice@example.org Sat Dec  5 07:00:00 2026\n") + kTicket);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "");  // the program's "recorded" goes to mda, never to Exim
  std::vector<std::string> got = Recorded("out");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], kTicket);
  EXPECT_EQ(RecordedFile("out", "args"), "--id\n42\n-rf; $(reboot) two  words\n");
  EXPECT_TRUE(Files("").empty());
  // A clean environment: the envelope as Exim names it, the fixed PATH, nothing else of ours.
  std::string env = RecordedFile("out", "env");
  for (const char* want :
       {"PATH=/usr/local/bin:/usr/bin:/bin\n", "SENDER=alice@example.org\n",
        "RECIPIENT=bob+tag@example.com\n", "LOCAL_PART=bob\n", "LOCAL_PART_SUFFIX=+tag\n",
        "DOMAIN=example.com\n", "MESSAGE_ID=1q-test\n"}) {
    EXPECT_NE(env.find(want), std::string::npos) << want << " not in\n" << env;
  }
  EXPECT_NE(env.find("HOME=" + home_.path() + "\n"), std::string::npos) << env;
  EXPECT_EQ(env.find("EXIM_SECRET"), std::string::npos) << env;
  EXPECT_EQ(RecordedFile("out", "pwd"), home_.path() + "\n");
  std::vector<test::LogFields> log = Log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(test::Get(log[0], "outcome"), "delivered");
  EXPECT_EQ(test::Get(log[0], "folder"), "| " + home_.path() + "/bin/record " + home_.path() +
                                             "/out --id 42 '-rf; $(reboot) two  words'");
  EXPECT_EQ(test::Get(log[0], "file"), "exit 0");
}

TEST_F(ProgramsProcessTest, ATemporaryFailureDefersAndTheRetryRedoesNothingThatWorked) {
  for (int code : {75, 73}) {
    SCOPED_TRACE(code);
    Script("flaky", "#!/bin/sh\n[ -e \"$HOME/down\" ] && { echo 'backend down' >&2; exit " +
                        std::to_string(code) + "; }\nexec \"$HOME/bin/record\" \"$@\"\n");
    test::WriteFile(home_ / "down", "");
    for (const char* dir : {"a", "b", "Maildir", ".mda/dedup.store", ".mda/log"})
      test::Exec({"/bin/rm", "-rf", home_ / dir}, {}, "");
    Rules(
        "if Subject: contains \"ticket\" then copy Keep copy pipe \"~/bin/record\" \"$HOME/a\" "
        "pipe \"~/bin/flaky\" \"$HOME/b\"\n");
    test::Result r = Deliver(kTicket);
    EXPECT_EQ(r.exit_code, 75) << r.output;
    EXPECT_NE(r.output.find("exited " + std::to_string(code) +
                            " (temporary failure) (it said: backend down)"),
              std::string::npos)
        << r.output;
    EXPECT_EQ(Files(".Keep").size(), 1u);
    EXPECT_EQ(Recorded("a").size(), 1u);
    EXPECT_EQ(Recorded("b").size(), 0u);
    EXPECT_TRUE(Files("").empty());  // a deferral is not a failure: nothing in INBOX

    // Exim retries with the same queue id; the backend is back.
    unlink((home_ / "down").c_str());
    r = Deliver(kTicket);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(Files(".Keep").size(), 1u);
    EXPECT_EQ(Recorded("a").size(), 1u);
    ASSERT_EQ(Recorded("b").size(), 1u);
    EXPECT_EQ(Recorded("b")[0], kTicket);
    // And once it is all done, the same message again is a duplicate.
    r = Deliver(kTicket, "1q-other");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(Recorded("a").size() + Recorded("b").size() + Files(".Keep").size(), 3u);
  }
}

TEST_F(ProgramsProcessTest, AnyOtherFailureKeepsTheMessageInInboxWithWhatTheProgramSaid) {
  Rules(
      "if Subject: contains \"ticket\" then pipe \"/bin/sh\" \"-c\" \"echo 'ticket system says "
      "no' >&2; exit 1\"\n");
  test::Result r = Deliver(kTicket);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "");  // never a bounce
  ASSERT_EQ(Files("").size(), 1u);
  EXPECT_EQ(Stored(""), kTicket);
  EXPECT_NE(Warnings().find("program /bin/sh -c 'echo '\\''ticket system says no'\\'' >&2; exit 1' "
                            "exited 1 (it said: ticket system says no); the message is kept in "
                            "INBOX"),
            std::string::npos)
      << Warnings();
  EXPECT_EQ(test::Get(Log().back(), "outcome"), "fallback");
  // A retry of this attempt (Exim lost our exit code) runs nothing again and adds no copy.
  r = Deliver(kTicket);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files("").size(), 1u);
  EXPECT_EQ(test::Get(Log().back(), "outcome"), "duplicate");
}

TEST_F(ProgramsProcessTest, PipeFailureDeferIsTheUsersChoice) {
  Rules("set pipe-failure = defer\nif Subject: contains \"ticket\" then pipe \"/bin/false\"\n");
  test::Result r = Deliver(kTicket);
  EXPECT_EQ(r.exit_code, 75) << r.output;
  EXPECT_NE(r.output.find("program /bin/false exited 1 (pipe-failure = defer)"), std::string::npos)
      << r.output;
  EXPECT_TRUE(Files("").empty());
}

TEST_F(ProgramsProcessTest, AMissingProgramIsTheUsersMistakeNotADeferral) {
  Rules("if Subject: contains \"ticket\" then pipe \"/usr/local/bin/no-such-ticket-import\"\n");
  test::Result r = Deliver(kTicket);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files("").size(), 1u);
  EXPECT_NE(Warnings().find("could not be started: No such file or directory"), std::string::npos)
      << Warnings();
}

TEST_F(ProgramsProcessTest, AProgramThatNeverEndsIsKilledAtTheTimeoutAndTheMessageKept) {
  Rules(
      "set program-timeout = 1s\nif Subject: contains \"ticket\" then pipe \"/bin/sh\" \"-c\" "
      "\"sleep 1000 & exec sleep 1000\"\n");
  test::Result r = Deliver(kTicket);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files("").size(), 1u);
  EXPECT_NE(Warnings().find("did not finish within program-timeout 1s: killed with its process "
                            "group; the message is kept in INBOX"),
            std::string::npos)
      << Warnings();
}

TEST_F(ProgramsProcessTest, EvenWhenOurParentIgnoresSigchldTheExitStatusIsRead) {
  // With SIGCHLD ignored the kernel reaps children itself, and waitpid() finds none.
  Rules("if Subject: contains \"ticket\" then pipe \"~/bin/record\" \"$HOME/out\"\n");
  test::Result r = test::Exec({"/bin/bash", "-c", "trap '' CHLD; exec \"$0\"", test::MdaBinary()},
                              Env(), kTicket);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Recorded("out").size(), 1u);
  EXPECT_TRUE(Files("").empty()) << Warnings();
}

TEST_F(ProgramsProcessTest, AFilterReplacesTheMessageForLaterRulesAndDeliveries) {
  // The filter adds a header and rewrites the Message-ID each time it runs.
  Rules(
      "if not exists X-Checked: then filter \"/bin/sh\" \"-c\" \"sed -e "
      "'s/^Message-ID:.*/Message-ID: <'$$$$'@filter>/' -e '1i X-Checked: yes'\"\n"
      "if X-Checked: is \"yes\" and size > 100 then folder Checked\n");
  test::Result r = Deliver(kTicket);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(Files(".Checked").size(), 1u) << Warnings();
  std::string stored = Stored(".Checked");
  EXPECT_EQ(stored.substr(0, 14), "X-Checked: yes");
  EXPECT_NE(stored.find("@filter>"), std::string::npos);
  EXPECT_NE(stored.find("please fix\r\nbinary \x01\xff\n"), std::string::npos);
  EXPECT_EQ(Warnings(), "");
  // The duplicate key is the original's: the same message again (another queue id, so
  // another Exim delivery) is a duplicate although the filter gave it another Message-ID.
  r = Deliver(kTicket, "1q-again");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files(".Checked").size(), 1u);
  EXPECT_EQ(test::Get(Log().back(), "outcome"), "duplicate");
}

TEST_F(ProgramsProcessTest, AFilterThatFailsLeavesTheOriginalAndTheRuleGoesOn) {
  struct {
    std::string script, reason;
  } cases[] = {
      {"echo 'cannot reach spamd' >&2; exit 74",
       "kept the original: exited 74: cannot reach spamd"},
      {"cat > /dev/null", "kept the original: it printed nothing"},
      {"cat > /dev/null; echo 'this is not a message'",
       "kept the original: its output does not start with a header (Name: value)"},
      {"head -c 60",
       "kept the original: its output is not a whole message (no blank line after "
       "its header)"},
      {"cat > /dev/null; exec sleep 1000",
       "kept the original: did not finish within "
       "program-timeout 1s"},
      {"cat; kill -9 $$$$", "kept the original: killed by signal 9 (SIGKILL)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.script);
    test::Exec(
        {"/bin/rm", "-rf", home_ / "Maildir", home_ / ".mda/dedup.store", home_ / ".mda/log"}, {},
        "");
    Rules(
        "set program-timeout = 1s\nif Subject: contains \"ticket\" then filter \"/bin/sh\" \"-c\" "
        "\"" +
        c.script + "\" copy Marked\nif Subject: contains \"ticket\" then folder Tickets\n");
    test::Result r = Deliver(kTicket);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_EQ(Files(".Marked").size(), 1u);
    ASSERT_EQ(Files(".Tickets").size(), 1u);
    EXPECT_EQ(Stored(".Tickets"), kTicket);
    EXPECT_NE(Warnings().find(c.reason), std::string::npos) << Warnings();
  }
}

TEST_F(ProgramsProcessTest, AFilterThatStopsReadingIsNotTakenAtItsWord) {
  // It prints the first 100 000 bytes of a 2 MB message, header and all, and exits 0.
  std::string big = "Subject: ticket\n\n" + std::string(2 * 1024 * 1024, 'x') + "\n";
  Rules("if Subject: contains \"ticket\" then filter \"/usr/bin/head\" \"-c\" \"100000\"\n");
  test::Result r = Deliver(big);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(Files("").size(), 1u);
  EXPECT_TRUE(Stored("") == big);
  EXPECT_NE(Warnings().find("kept the original: it read "), std::string::npos) << Warnings();
  EXPECT_NE(Warnings().find(" of the " + std::to_string(big.size()) + " bytes of the message"),
            std::string::npos)
      << Warnings();
}

TEST_F(ProgramsProcessTest, MdatestShowsProgramsAndRunsOnlyFiltersWhenAsked) {
  Rules(
      "if not exists X-Checked: then filter \"/usr/bin/sed\" \"1i X-Checked: yes\"\n"
      "if X-Checked: is \"yes\" then copy Checked\n"
      "if Subject: ~ /\\[ticket #([0-9]+)\\]/ then pipe \"~/bin/record\" \"$HOME/out\" \"--id\" "
      "\"$1\"\n");
  test::WriteFile(home_ / "m", kTicket);
  test::ChownToTestUser(home_ / "m");
  std::vector<std::string> env = {"HOME=" + home_.path(), "RECIPIENT=bob@example.com"};
  test::Result r = test::Exec({test::MdatestBinary(), home_ / "m"}, env, "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(
      r.output.find("-> | " + home_.path() + "/bin/record " + home_.path() + "/out --id 42  ["),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("filter /usr/bin/sed '1i X-Checked: yes'  [" + home_.path() +
                          "/.mda/rules:1]: not run (a dry run; mdatest --run-filters runs it)"),
            std::string::npos)
      << r.output;
  r = test::Exec({test::MdatestBinary(), "--run-filters", home_ / "m"}, env, "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("-> Checked + | " + home_.path() + "/bin/record"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("replaced the message"), std::string::npos) << r.output;
  EXPECT_TRUE(ListDir(home_ / "out").empty());  // a pipe never runs in a dry run
  EXPECT_TRUE(ListDir(home_ / "Maildir").empty());
}

TEST_F(ProgramsProcessTest, CheckWarnsOfAProgramThatIsNotThere) {
  Rules(
      "if exists A: then pipe \"/usr/local/bin/no-such-ticket-import\"\n"
      "if exists B: then filter \"no-such-filter\"\n"
      "if exists C: then copy pipe \"cat\" folder C\n");
  test::Result r = test::Exec({test::MdatestBinary(), "--check"}, {"HOME=" + home_.path()}, "");
  EXPECT_EQ(r.exit_code, 0) << r.output;  // warnings: --check may run elsewhere
  EXPECT_NE(r.output.find(":1:19: warning: program /usr/local/bin/no-such-ticket-import: No such "
                          "file or directory; mda would keep the message in INBOX"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(":2:19: warning: program no-such-filter (in "
                          "/usr/local/bin:/usr/bin:/bin): No such file or directory; mda would "
                          "keep the message unfiltered"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("3 rule(s) in 1 file(s), 0 error(s), 2 warning(s)"), std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace mda
