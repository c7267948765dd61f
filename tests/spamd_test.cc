// A real SpamAssassin (Debian's spamd and spamc) as the filter of a rule, through the real mda
// binary: GTUBE lands in Junk, ordinary mail does not, and with spamd stopped mid-run the
// original is kept and filed by the remaining rules, nothing lost.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/test_util.h"

namespace mda {
namespace {

using test::ListDir;
using test::ReadFile;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

// spamd on a free loopback port, in a process group of its own (its children go with it),
// with a site configuration of its own: no Bayes, no network tests.
class Spamd {
 public:
  Spamd() {
    if (access("/usr/sbin/spamd", X_OK) != 0) {
      ADD_FAILURE() << "no /usr/sbin/spamd: bash scripts/setup --for-tests installs it";
      return;
    }
    // Debian's plugin list (*.pre: the Check plugin at least) and our own local.cf.
    test::MakeDirs(dir_ / "site");
    for (const std::string& f : ListDir("/etc/spamassassin")) {
      if (f.size() > 4 && f.compare(f.size() - 4, 4, ".pre") == 0)
        test::WriteFile(dir_ / ("site/" + f), ReadFile("/etc/spamassassin/" + f));
    }
    test::WriteFile(dir_ / "site/local.cf", "use_bayes 0\nbayes_auto_learn 0\n");
    for (int attempt = 0; attempt < 3 && pid_ < 0; ++attempt) Start();
  }
  ~Spamd() { Stop(); }
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  void Stop() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    kill(-pid_, SIGKILL);  // a child that did not go with it
    pid_ = -1;
  }

 private:
  void Start() {
    port_ = FreePort();
    std::vector<std::string> argv = {"/usr/sbin/spamd",   "--port",    std::to_string(port_),
                                     "--listen",          "127.0.0.1", "--allowed-ips",
                                     "127.0.0.1",         "--local",   "--nouser-config",
                                     "--max-children",    "2",         "--siteconfigpath",
                                     dir_ / "site",       "--pidfile", dir_ / "spamd.pid",
                                     "--helper-home-dir", dir_.path(), "--syslog",
                                     dir_ / "spamd.log"};
    if (geteuid() == 0) argv.insert(argv.end(), {"--username", "nobody"});
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      execv(args[0], args.data());
      _exit(127);
    }
    pid_ = pid;
    // Ready when spamc's PING is answered (spamd loads its rules first: seconds).
    struct timespec start, now, pause = {0, 50 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      test::Result ping = test::Exec({"/usr/bin/spamc", "-K", "-p", std::to_string(port_)}, {}, "");
      if (ping.exit_code == 0) return;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (now.tv_sec - start.tv_sec > 60) {
        ADD_FAILURE() << "spamd did not answer within 60 s: " << ReadFile(dir_ / "spamd.log");
        Stop();
        return;
      }
      nanosleep(&pause, nullptr);
    }
  }

  test::TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

const char kGtube[] =
    "From: spammer@example.net\nTo: bob@example.com\nMessage-ID: <gtube@example.net>\n"
    "Subject: cheap\nDate: Sat, 05 Dec 2026 07:00:00 +0000\n\n"
    "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n";
const char kHam[] =
    "From: alice@example.org\nTo: bob@example.com\nMessage-ID: <ham@example.org>\n"
    "Subject: lunch\nDate: Sat, 05 Dec 2026 07:00:00 +0000\n\nShall we meet at noon?\n";

class SpamdTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(spamd_.running());
    test::MakeDirs(home_ / ".mda");
    chmod((home_ / ".mda").c_str(), 0700);
    test::WriteFile(home_ / ".mda/rules",
                    "if not exists X-Spam-Status: then filter \"/usr/bin/spamc\" \"-p\" \"" +
                        std::to_string(spamd_.port()) +
                        "\" \"-u\" \"$LOCAL_PART\"\n"
                        "if X-Spam-Flag: is \"YES\" then folder Junk\n"
                        "if Subject: contains \"cheap\" then folder Suspect\n");
    chmod((home_ / ".mda/rules").c_str(), 0600);
  }
  test::Result Deliver(const std::string& message, const std::string& queue_id) {
    return test::Exec(
        {test::MdaBinary()},
        {"HOME=" + home_.path(), "RECIPIENT=bob@example.com", "LOCAL_PART=bob",
         "DOMAIN=example.com", "SENDER=spammer@example.net", "MESSAGE_ID=" + queue_id},
        message);
  }
  std::vector<std::string> Files(const std::string& folder) {
    return ListDir(home_ / "Maildir/" + folder + "/new");
  }
  std::string Stored(const std::string& folder) {
    return ReadFile(home_ / "Maildir/" + folder + "/new/" + Files(folder).at(0));
  }

  Spamd spamd_;
  test::TempDir home_;
};

TEST_F(SpamdTest, GtubeLandsInJunkAndOrdinaryMailDoesNot) {
  test::Result r = Deliver(kGtube, "1q-gtube");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(Files(".Junk").size(), 1u) << ReadFile(home_ / ".mda/log");
  std::string junk = Stored(".Junk");
  EXPECT_NE(junk.find("X-Spam-Flag: YES"), std::string::npos) << junk;
  EXPECT_NE(junk.find("GTUBE"), std::string::npos);

  r = Deliver(kHam, "1q-ham");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(Files("").size(), 1u);
  std::string ham = Stored("");
  EXPECT_NE(ham.find("X-Spam-Status: No"), std::string::npos) << ham;
  EXPECT_NE(ham.find("Shall we meet at noon?"), std::string::npos);
  EXPECT_EQ(ham.find("X-Spam-Flag: YES"), std::string::npos);

  // mdatest --run-filters sees spamd's verdict; without it, the dry run cannot.
  test::WriteFile(home_ / "gtube", kGtube);
  test::ChownToTestUser(home_ / "gtube");
  std::vector<std::string> env = {"HOME=" + home_.path(), "RECIPIENT=bob@example.com",
                                  "LOCAL_PART=bob"};
  r = test::Exec({test::MdatestBinary(), "--run-filters", home_ / "gtube"}, env, "");
  EXPECT_NE(r.output.find("gtube -> Junk"), std::string::npos) << r.output;
  r = test::Exec({test::MdatestBinary(), home_ / "gtube"}, env, "");
  EXPECT_NE(r.output.find("gtube -> Suspect"), std::string::npos) << r.output;
}

TEST_F(SpamdTest, WithSpamdStoppedMidRunTheOriginalIsKeptAndFiledByTheRemainingRules) {
  ASSERT_EQ(Deliver(kGtube, "1q-first").exit_code, 0);
  ASSERT_EQ(Files(".Junk").size(), 1u);
  spamd_.Stop();
  std::string second = std::string(kGtube);
  second.replace(second.find("<gtube@"), 7, "<gtube2@");
  test::Result r = Deliver(second, "1q-second");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files(".Junk").size(), 1u);
  ASSERT_EQ(Files(".Suspect").size(), 1u);
  EXPECT_EQ(Stored(".Suspect"), second);  // spamc passed it through unchanged

  // spamc -x says so with its exit code instead: the original is kept, and the log says why.
  std::string rules = ReadFile(home_ / ".mda/rules");
  rules.replace(rules.find("\"-p\""), 4, "\"-x\" \"-p\"");
  test::WriteFile(home_ / ".mda/rules", rules);
  std::string third = std::string(kGtube);
  third.replace(third.find("<gtube@"), 7, "<gtube3@");
  r = Deliver(third, "1q-third");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Files(".Suspect").size(), 2u);
  std::string log = ReadFile(home_ / ".mda/log");
  EXPECT_NE(log.find("filter /usr/bin/spamc -x -p"), std::string::npos) << log;
  EXPECT_NE(log.find("kept the original: exited 69"), std::string::npos) << log;
}

}  // namespace
}  // namespace mda
