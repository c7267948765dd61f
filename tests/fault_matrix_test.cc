// The fault matrix: every file-system call of a whole delivery (rule file, per-key lock,
// duplicate store, Maildir, processing log), each made to fail in turn with each error
// that call can meet, and short writes. Every cell must end one of two ways: exit 0 with
// the message delivered exactly once (marked, or a warning when only the mark failed), or
// exit 75 with nothing in new/ or tmp/ and no mark. The table in SECURITY.md is generated
// from this test; the test fails when the table there is not the one it produces
// (MDA_UPDATE_SECURITY_MD=1 rewrites it).
#include <errno.h>
#include <gtest/gtest.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "mda/file_store.h"
#include "mda/fs.h"
#include "mda/pipeline.h"
#include "mda/program.h"
#include "tests/test_util.h"

namespace mda {
namespace {

constexpr int kShort = -1;  // "errno" for a write cut short (the caller must write the rest)

// A call site: which file (by role) and which operation, and its occurrence in the run.
struct Step {
  std::string file, op;
  int nth = 0;
  bool operator<(const Step& o) const {
    return std::tie(file, op, nth) < std::tie(o.file, o.op, o.nth);
  }
};

std::string Role(const std::string& path) {
  auto ends = [&path](const std::string& s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends("/dedup.store") || ends("/dedup.store.new")) return "duplicate store";
  if (ends("/dedup.lock")) return "lock file";
  if (ends("/vacation.store") || ends("/vacation.store.new")) return "response store";
  if (ends("/.mda/log")) return "log";
  if (ends("/.mda/rules")) return "rule file";
  if (ends("/.mda")) return "~/.mda";
  if (path == kSiteDir) return "site directory";
  if (ends("/Maildir/subscriptions") || ends("/Maildir/subscriptions.lock")) return "subscriptions";
  if (ends("/Maildir/maildirsize") || ends(".maildirsize")) return "maildirsize";
  size_t last = path.rfind('/');
  size_t parent =
      last == std::string::npos || last == 0 ? std::string::npos : path.rfind('/', last - 1);
  if (path.empty() ||
      (parent != std::string::npos && path.compare(parent, last - parent, "/tmp") == 0 &&
       path.find("/Maildir") != std::string::npos)) {
    return "message file";
  }
  return "Maildir directory";
}

// The real file system, recording each call by role, failing one chosen call.
class MatrixFs final : public FileSystem {
 public:
  std::vector<Step> trace;
  Step target;
  int err = 0;  // 0: no fault
  bool hit = false;

  bool unnamed = false;  // the message went through an O_TMPFILE file

  int OpenAt(int dirfd, const char* path, int flags, mode_t mode) override {
    std::string p = Path(dirfd, path);
    if ((flags & O_TMPFILE) == O_TMPFILE) p = "";
    std::string role = Role(p);
    if (Fault(role, "open")) return -1;
    int fd = real_.OpenAt(dirfd, path, flags, mode);
    if (fd >= 0) paths_[fd] = p;
    if (fd >= 0 && p.empty()) unnamed = true;
    return fd;
  }
  ssize_t Read(int fd, void* b, size_t n) override {
    return Fault(RoleOf(fd), "read") ? -1 : real_.Read(fd, b, n);
  }
  ssize_t Write(int fd, const void* b, size_t n) override {
    return Written(fd, "write", n, [&](size_t k) { return real_.Write(fd, b, k); });
  }
  int Fsync(int fd) override { return Fault(RoleOf(fd), "fsync") ? -1 : real_.Fsync(fd); }
  int Close(int fd) override {
    std::string role = RoleOf(fd);
    paths_.erase(fd);
    if (Fault(role, "close")) {
      real_.Close(fd);  // the descriptor is gone either way, as with close(2)
      return -1;
    }
    return real_.Close(fd);
  }
  int MkdirAt(int d, const char* p, mode_t m) override {
    return Fault(Role(Path(d, p)), "mkdir") ? -1 : real_.MkdirAt(d, p, m);
  }
  int LinkAt(int a, const char* b, int c, const char* d) override {
    return Fault("message file", "link") ? -1 : real_.LinkAt(a, b, c, d);
  }
  int LinkFd(int fd, int d, const char* p) override {
    return Fault("message file", "link") ? -1 : real_.LinkFd(fd, d, p);
  }
  int RenameNoReplace(int a, const char* b, int c, const char* d) override {
    return Fault("message file", "rename") ? -1 : real_.RenameNoReplace(a, b, c, d);
  }
  int UnlinkAt(int d, const char* p, int f) override { return real_.UnlinkAt(d, p, f); }
  int FstatAt(int d, const char* p, struct stat* st, int f) override {
    std::string role = *p == '\0' ? RoleOf(d) : Role(Path(d, p));
    return Fault(role, "stat") ? -1 : real_.FstatAt(d, p, st, f);
  }
  ssize_t ReadLinkAt(int d, const char* p, char* b, size_t n) override {
    return Fault(Role(Path(d, p)), "readlink") ? -1 : real_.ReadLinkAt(d, p, b, n);
  }
  ssize_t Pread(int fd, void* b, size_t n, off_t o) override {
    return Fault(RoleOf(fd), "pread") ? -1 : real_.Pread(fd, b, n, o);
  }
  ssize_t Pwrite(int fd, const void* b, size_t n, off_t o) override {
    return Written(fd, "pwrite", n, [&](size_t k) { return real_.Pwrite(fd, b, k, o); });
  }
  int Ftruncate(int fd, off_t n) override {
    return Fault(RoleOf(fd), "ftruncate") ? -1 : real_.Ftruncate(fd, n);
  }
  int Rename(const char* a, const char* b) override {
    return Fault(Role(a), "rename") ? -1 : real_.Rename(a, b);
  }
  int OfdLock(int fd, int cmd, struct flock* fl) override {
    if (fl->l_type == F_UNLCK) return real_.OfdLock(fd, cmd, fl);
    return Fault(RoleOf(fd), "lock") ? -1 : real_.OfdLock(fd, cmd, fl);
  }

 private:
  std::string Path(int dirfd, const char* path) {
    if (*path == '/' || dirfd == AT_FDCWD) return path;
    auto it = paths_.find(dirfd);
    return (it == paths_.end() ? std::string("?") : it->second) + "/" + path;
  }
  std::string RoleOf(int fd) {
    auto it = paths_.find(fd);
    return it == paths_.end() ? "standard input" : Role(it->second);
  }
  // Records the call; true if it is the one to fail (errno set).
  bool Fault(const std::string& role, const std::string& op) {
    int nth = 1;
    for (const Step& s : trace) nth += s.file == role && s.op == op;
    trace.push_back({role, op, nth});
    if (err == 0 || err == kShort || hit || role != target.file || op != target.op ||
        nth != target.nth)
      return false;
    hit = true;
    errno = err;
    return true;
  }
  template <typename Call>
  ssize_t Written(int fd, const char* op, size_t n, Call call) {
    std::string role = RoleOf(fd);
    if (Fault(role, op)) return -1;
    if (err == kShort && !hit && trace.back().file == target.file && trace.back().op == target.op &&
        trace.back().nth == target.nth && n > 1) {
      hit = true;
      return call(n / 2);  // half: the caller must write the rest
    }
    return call(n);
  }

  FileSystem& real_ = PosixFs();
  std::map<int, std::string> paths_;
};

struct Outcome {
  int exit_code = -1;
  std::string diagnostic;
  size_t inbox = 0, alerts = 0, fresh = 0;  // whole copies of the message in each folder
  size_t unread = 0;                        // ... of them in new/, without `flag seen`
  bool subscribed = false;                  // Fresh, made by the attempt, is subscribed
  bool lock_left = false;                   // subscriptions.lock left behind (never)
  bool quota_counted = false;  // maildirsize adds up to what the Maildir holds (after a retry)
  size_t torn = 0;             // anything else of it in new/ (must never happen)
  size_t in_tmp = 0;
  bool marked = false;
  size_t log_lines = 0;  // info lines of the attempt
  // After Exim's retry (only when the attempt exited 75).
  int retry_exit = -1;
  size_t retry_inbox = 0, retry_alerts = 0, retry_fresh = 0;
  bool retry_marked = false;
  size_t replies = 0;  // vacation replies sent to the sender (after the retry, if any)
};

// The rules copy the message into Alerts and answer it with a vacation reply, which goes
// through a sendmail that stores it in ~/sent (outside the file-system seam); the message of
// the attempt also goes into Fresh, a folder it creates (and subscribes), and every copy of
// it is stored read (cur/, :2,S).
const char kRules[] =
    "if Subject: contains \"ALERT\" then copy Alerts vacation \"Away.\"\n"
    "if Message-ID: contains \"matrix@\" then copy Fresh flag seen\n";
const char kMatrixSendmail[] =
    "#!/bin/sh\nset -e\nfor a; do last=\"$a\"; done\ncat > \"$HOME/sent/.tmp.$$\"\n"
    "mv \"$HOME/sent/.tmp.$$\" \"$HOME/sent/$last.$$\"\n";
const char kMessage[] =
    "To: bob@example.org\nMessage-ID: <matrix@example.org>\nSubject: ALERT disk\n\nbody\n";

// A home with rules, a Maildir with both folders, a store and a log, all made by one
// earlier delivery; then the message delivered through `fs`, and again through the real
// file system if that exited 75, as Exim retries.
Outcome Deliver(MatrixFs& fs) {
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  chmod((home / ".mda").c_str(), 0700);
  test::MakeDirs(home / "bin");
  test::MakeDirs(home / "sent");
  test::WriteFile(home / "bin/sendmail", kMatrixSendmail);
  chmod((home / "bin/sendmail").c_str(), 0755);
  test::WriteFile(home / ".mda/rules", "set sendmail = " + (home / "bin/sendmail") + "\n" + kRules);
  Options options;
  options.home = home.path();
  const char* sender = "carol@example.net";
  Environment env = [&sender](const char* name) -> const char* {
    std::string_view n = name;
    if (n == "SENDER") return sender;
    if (n == "RECIPIENT") return "bob@example.org";
    if (n == "LOCAL_PART") return "bob";
    if (n == "DOMAIN") return "example.org";
    return nullptr;
  };
  Identity who{test::TestUid(), test::TestUid()};
  auto deliver = [&](FileSystem& with, const std::string& message) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    EXPECT_EQ(write(fds[1], message.data(), message.size()), static_cast<ssize_t>(message.size()));
    close(fds[1]);
    RunResult r = RunMda(options, with, env, fds[0], who);
    close(fds[0]);
    return r;
  };
  size_t unread = 0;
  auto count = [&](const char* folder, size_t* whole, size_t* torn) {
    for (const char* sub : {"/new", "/cur"}) {
      std::string dir = home / (std::string(folder) + sub);
      for (const std::string& f : test::ListDir(dir)) {
        std::string stored = test::ReadFile(dir + "/" + f);
        bool read = std::string(sub) == "/cur" && f.size() > 4 && f.substr(f.size() - 4) == ":2,S";
        if (stored == kMessage && (read || std::string(sub) == "/new")) {
          ++*whole;
          unread += !read;
        } else if (stored.find("matrix@") != std::string::npos) {
          ++*torn;
        }
      }
    }
  };
  auto marked = [&]() {
    std::unique_ptr<FileStore> store;
    std::string warning;
    DuplicateStore::Lookup found;
    return FileStore::Open(PosixFs(), home / ".mda/dedup.store", "", true, &store, &warning).ok() &&
           store
               ->Find(*DedupKey("<matrix@example.org>", "", "bob@example.org", false), {}, 0,
                      &found)
               .ok() &&
           found.complete;
  };
  // Earlier deliveries (from carol, then dave) make the stores, lock and log. This process
  // may be root, playing the mailbox owner: what it made must be the owner's, as it is when
  // mda runs as that user, or the stores and log are not trusted (the second delivery makes
  // the response store once the lock beside it is the owner's).
  for (const char* earlier : {"carol@example.net", "dave@example.net"}) {
    sender = earlier;
    EXPECT_EQ(deliver(PosixFs(), std::string("To: bob@example.org\nMessage-ID: <earlier@") +
                                     earlier + ">\nSubject: ALERT earlier\n\nx\n")
                  .exit_code,
              0);
    for (const char* made : {".mda/dedup.store", ".mda/dedup.lock", ".mda/log",
                             ".mda/vacation.store", "Maildir/subscriptions"}) {
      if (access((home / made).c_str(), F_OK) == 0) test::ChownToTestUser(home / made);
    }
  }
  // A Maildir++ quota whose maildirsize has grown past 5120 bytes: the attempt recalculates
  // it (reads every folder, writes it afresh through tmp/) and then adds its own line.
  std::string size_file = "100000000S,100000C\n";
  while (size_file.size() < 5200) size_file += "0 0\n";
  test::WriteFile(home / "Maildir/maildirsize", size_file);
  auto quota_counted = [&]() {
    int64_t bytes = 0, files = 0, in_file_bytes = 0, in_file_count = 0;
    for (const char* dir : {"Maildir/new", "Maildir/cur", "Maildir/.Alerts/new",
                            "Maildir/.Alerts/cur", "Maildir/.Fresh/new", "Maildir/.Fresh/cur"}) {
      for (const std::string& f : test::ListDir(home / dir)) {
        bytes += static_cast<int64_t>(test::ReadFile(home / dir + "/" + f).size());
        ++files;
      }
    }
    std::istringstream lines(test::ReadFile(home / "Maildir/maildirsize"));
    std::string line;
    std::getline(lines, line);
    for (int64_t b, c; lines >> b >> c;) {
      in_file_bytes += b;
      in_file_count += c;
    }
    return bytes == in_file_bytes && files == in_file_count;
  };
  sender = "alice@example.net";
  RunResult r = deliver(fs, kMessage);
  Outcome o;
  o.exit_code = r.exit_code;
  o.diagnostic = r.diagnostic;
  count("Maildir", &o.inbox, &o.torn);
  count("Maildir/.Alerts", &o.alerts, &o.torn);
  count("Maildir/.Fresh", &o.fresh, &o.torn);
  o.unread = unread;
  for (const char* tmp : {"Maildir/tmp", "Maildir/.Alerts/tmp", "Maildir/.Fresh/tmp"})
    o.in_tmp += test::ListDir(home / tmp).size();
  o.subscribed = access((home / "Maildir/subscriptions").c_str(), F_OK) == 0 &&
                 test::ReadFile(home / "Maildir/subscriptions") == "V\t2\n\nAlerts\nFresh\n";
  o.lock_left = access((home / "Maildir/subscriptions.lock").c_str(), F_OK) == 0;
  o.marked = marked();
  for (const test::LogFields& l : test::ReadLog(home / ".mda/log")) {
    // This attempt's line (no Message-ID when standard input could not be read).
    o.log_lines += test::Get(l, "level") == "info" &&
                   test::Get(l, "message_id").rfind("<earlier@", 0) == std::string::npos;
  }
  if (o.exit_code == 75) {
    o.retry_exit = deliver(PosixFs(), kMessage).exit_code;
    size_t torn = 0;
    count("Maildir", &o.retry_inbox, &torn);
    count("Maildir/.Alerts", &o.retry_alerts, &torn);
    count("Maildir/.Fresh", &o.retry_fresh, &torn);
    o.torn += torn;
    o.retry_marked = marked();
  }
  o.quota_counted = quota_counted();
  for (const std::string& f : test::ListDir(home / "sent"))
    o.replies += f.rfind("alice@example.net.", 0) == 0;
  return o;
}

std::string ErrName(int err) { return err == kShort ? "short" : strerrorname_np(err); }

// The table between "<!-- NAME: generated" and "<!-- end of NAME" in SECURITY.md must be
// `table` (MDA_UPDATE_SECURITY_MD=1 rewrites it).
void CheckTable(const std::string& name, const std::string& table) {
  std::string path = std::string(MDA_SOURCE_DIR) + "/SECURITY.md";
  std::string doc = test::ReadFile(path);
  size_t start = doc.find("<!-- " + name + ": generated");
  size_t end = doc.find("-->\n", doc.find("<!-- end of " + name));
  ASSERT_NE(start, std::string::npos) << "SECURITY.md has no " << name;
  ASSERT_NE(end, std::string::npos);
  std::string current = doc.substr(start, end + 4 - start);
  if (getenv("MDA_UPDATE_SECURITY_MD") != nullptr && current != table) {
    std::ofstream(path) << doc.substr(0, start) << table << doc.substr(end + 4);
    current = table;
  }
  EXPECT_EQ(current, table) << "SECURITY.md's " << name
                            << " is not what the test produces; run MDA_UPDATE_SECURITY_MD=1 "
                               "build/mda_tests --gtest_filter=FaultMatrixTest.*";
}

TEST(FaultMatrixTest, EveryCallFailingEndsDeliveredOrDeferredWithNothingVisible) {
  // The calls of a clean run are the steps.
  MatrixFs clean;
  Outcome ok = Deliver(clean);
  ASSERT_EQ(ok.exit_code, 0) << ok.diagnostic;
  ASSERT_EQ(ok.inbox + ok.alerts + ok.fresh, 3u);  // INBOX, the Alerts and Fresh copies
  ASSERT_EQ(ok.unread, 0u);                        // all read
  ASSERT_TRUE(ok.marked);
  ASSERT_TRUE(ok.subscribed);
  ASSERT_TRUE(ok.quota_counted);
  std::vector<Step> steps;
  for (const Step& s : clean.trace) steps.push_back(s);

  // Each step × each error, collected per step into the outcomes seen.
  std::map<Step, std::set<std::string>> seen;
  std::map<Step, std::vector<std::string>> errors;
  int cells = 0;
  for (const Step& step : steps) {
    std::map<std::string, std::vector<int>> by_op = {
        {"open", {EACCES, ENOSPC, EDQUOT, EIO, EMFILE}},
        {"write", {ENOSPC, EDQUOT, EIO, kShort}},
        {"pwrite", {ENOSPC, EDQUOT, EIO, kShort}},
        {"read", {EIO}},
        {"pread", {EIO}},
        {"stat", {EIO, EACCES}},
        {"fsync", {EIO, ENOSPC, EDQUOT}},
        {"close", {EIO}},
        {"mkdir", {ENOSPC, EDQUOT, EACCES}},
        {"link", {ENOSPC, EDQUOT, EIO, EACCES}},
        {"rename", {EIO, ENOSPC}},
        {"ftruncate", {EIO, ENOSPC}},
        {"lock", {ENOLCK, EINTR}},
    };
    std::vector<int> errs = by_op[step.op];
    for (int err : errs) {
      MatrixFs fs;
      fs.target = step;
      fs.err = err;
      Outcome o = Deliver(fs);
      ++cells;
      std::string cell =
          step.file + " " + step.op + " #" + std::to_string(step.nth) + " " + ErrName(err);
      ASSERT_TRUE(fs.hit) << cell << ": the fault was never reached";
      errors[step].push_back(ErrName(err));
      std::string what;
      bool whole = o.torn == 0 && o.in_tmp == 0;
      if (o.replies > 1) {
        ADD_FAILURE() << cell << ": " << o.replies << " vacation replies";
      } else if (o.replies == 0) {
        // Only the response store (or the lock it shares) may cost the reply, never the
        // delivery; a rule file not used has no vacation action to run.
        EXPECT_TRUE(step.file == "response store" || step.file == "lock file" ||
                    step.file == "rule file" || step.file == "~/.mda")
            << cell << ": no vacation reply";
      }
      if (o.lock_left) ADD_FAILURE() << cell << ": subscriptions.lock left behind";
      if (o.exit_code == 0 && whole && o.inbox == 1 && o.alerts == 1 && o.fresh == 1 &&
          o.unread == 0) {
        what = o.marked ? "delivered, marked" : "delivered, not marked (a warning)";
        if (!o.subscribed) {
          // Only the subscriptions file (or the Maildir it is in) may cost the subscription.
          what += "; Fresh not subscribed (a warning)";
          EXPECT_TRUE(step.file == "subscriptions" || step.file == "Maildir directory") << cell;
        }
        if (o.replies == 0) what += "; no vacation reply (a warning)";
        if (!o.quota_counted) {
          // Only maildirsize itself may cost the count; never the delivery.
          what += "; not counted in maildirsize (a warning)";
          EXPECT_EQ(step.file, "maildirsize") << cell;
        }
        // Only the mark itself may fail after the delivery.
        if (!o.marked) {
          EXPECT_TRUE(step.file == "duplicate store" || step.file == "lock file") << cell;
        }
      } else if (o.exit_code == 0 && whole && o.inbox == 1 && o.alerts == 0 && o.fresh == 0 &&
                 step.file == "rule file") {
        what = "rule file not used: INBOX, a warning";
      } else if (o.exit_code == 75 && whole && !o.marked && o.retry_exit == 0 &&
                 o.retry_inbox == 1 && o.retry_alerts == 1 && o.retry_fresh == 1 &&
                 o.retry_marked) {
        what = o.inbox + o.alerts + o.fresh == 0 ? "exit 75, nothing visible"
                                                 : "exit 75, the copy already made stays";
        if (err != kShort) {
          EXPECT_NE(o.diagnostic.find(strerrordesc_np(err)), std::string::npos)
              << cell << ": " << o.diagnostic;
        }
      } else {
        ADD_FAILURE() << cell << ": exit " << o.exit_code << ", INBOX " << o.inbox << ", Alerts "
                      << o.alerts << ", Fresh " << o.fresh << " (unread " << o.unread << "), torn "
                      << o.torn << ", tmp " << o.in_tmp << ", marked " << o.marked
                      << "; retry exit " << o.retry_exit << ", INBOX " << o.retry_inbox
                      << ", Alerts " << o.retry_alerts << ", marked " << o.retry_marked << ": "
                      << o.diagnostic;
        what = "FAILED";
      }
      // The log has the line, unless the log itself failed.
      if (step.file != "log") {
        EXPECT_EQ(o.log_lines, 1u) << cell;
      } else if (o.log_lines == 0) {
        what += ", no log line";
      }
      seen[step].insert(what);
    }
  }

  // The table, in call order.
  std::ostringstream table;
  table << "<!-- fault matrix: generated by tests/fault_matrix_test.cc -->\n";
  table << "| file | call | errors injected | outcome |\n|---|---|---|---|\n";
  for (const Step& step : steps) {
    std::string errs, outcomes;
    for (const std::string& e : errors[step]) errs += (errs.empty() ? "" : ", ") + e;
    for (const std::string& w : seen[step]) outcomes += (outcomes.empty() ? "" : "; ") + w;
    table << "| " << step.file << " | " << step.op << " #" << step.nth << " | " << errs << " | "
          << outcomes << " |\n";
  }
  table << "<!-- end of fault matrix (" << cells << " runs) -->\n";

  if (!clean.unnamed) {
    GTEST_SKIP()
        << "this file system has no O_TMPFILE: every cell held, but the table in SECURITY.md "
           "is the one for file systems that have it";
  }
  CheckTable("fault matrix", table.str());
}

// The program calls of a delivery whose rules run a filter, a pipe, a forward and a
// vacation reply (the last two through sendmail), each call failing in turn.
class MatrixProcesses final : public Processes {
 public:
  std::vector<Step> trace;
  Step target;
  int err = 0;
  bool hit = false;

  int Spawn(const char* path, char* const argv[], char* const envp[], const char* dir,
            const int fds[3], pid_t* pid) override {
    std::string p = path;
    role_ = p == "/bin/cat"                                         ? "filter"
            : p.size() > 9 && p.substr(p.size() - 9) == "/sendmail" ? "sendmail"
                                                                    : "pipe";
    if (Fault("spawn")) return err;
    return real_.Spawn(path, argv, envp, dir, fds, pid);
  }
  ssize_t Write(int fd, const void* buf, size_t count) override {
    return Fault("write") ? -1 : real_.Write(fd, buf, count);
  }
  pid_t Wait(pid_t pid, int* status, int options) override {
    if (Fault("wait")) {
      real_.Wait(pid, status, options);  // the child is reaped all the same
      errno = err;
      return -1;
    }
    return real_.Wait(pid, status, options);
  }

 private:
  bool Fault(const std::string& op) {
    int nth = 1;
    for (const Step& s : trace) nth += s.file == role_ && s.op == op;
    trace.push_back({role_, op, nth});
    if (err == 0 || hit || role_ != target.file || op != target.op || nth != target.nth)
      return false;
    hit = true;
    errno = err;
    return true;
  }
  Processes& real_ = PosixProcesses();
  std::string role_;
};

// Stores what it reads as a new file of ~/DIR, complete or not at all (DIR: the first
// argument for the pipe's recorder; "sent" for sendmail).
const char kRecorder[] =
    "#!/bin/sh\nset -e\nd=\"$HOME/${RECORD_DIR:-piped}\"\ncat > \"$d/.tmp.$$\"\n"
    "mv \"$d/.tmp.$$\" \"$d/msg.$$\"\n";
const char kSendmail[] =
    "#!/bin/sh\nset -e\nd=\"$HOME/sent\"\ncat > \"$d/.tmp.$$\"\nfor a; do last=\"$a\"; done\n"
    "mv \"$d/.tmp.$$\" \"$d/$last.$$\"\n";
const char kProgramMessage[] =
    "From: alice@example.net\nTo: bob@example.org\nMessage-ID: <matrix@example.org>\n"
    "Subject: ALERT disk\n\nbody\n";

struct ProgramOutcome {
  int exit_code = -1, retry_exit = -1;
  std::string diagnostic, warnings;
  // Complete copies after the attempt and, when it exited 75, after Exim's retry.
  size_t inbox = 0, piped = 0, forwarded = 0, replies = 0;
};

ProgramOutcome DeliverWithPrograms(MatrixProcesses& processes) {
  test::TempDir home;
  for (const char* dir : {".mda", "bin", "piped", "sent"}) test::MakeDirs(home / dir);
  chmod((home / ".mda").c_str(), 0700);
  test::WriteFile(home / "bin/record", kRecorder);
  test::WriteFile(home / "bin/sendmail", kSendmail);
  chmod((home / "bin/record").c_str(), 0755);
  chmod((home / "bin/sendmail").c_str(), 0755);
  test::WriteFile(home / ".mda/rules",
                  "set sendmail = " + (home / "bin/sendmail") +
                      "\nif Subject: contains \"ALERT\" then filter \"/bin/cat\" copy pipe "
                      "\"~/bin/record\" copy forward \"fwd@example.net\" vacation \"Away.\"\n");
  Options options;
  options.home = home.path();
  const char* sender = "carol@example.net";
  const char* queue_id = "1q-earlier";
  Environment env = [&sender, &queue_id](const char* name) -> const char* {
    std::string_view n = name;
    if (n == "RECIPIENT") return "bob@example.org";
    if (n == "LOCAL_PART") return "bob";
    if (n == "DOMAIN") return "example.org";
    if (n == "SENDER") return sender;
    if (n == "MESSAGE_ID") return queue_id;
    return nullptr;
  };
  Identity who{test::TestUid(), test::TestUid()};
  auto deliver = [&](Processes& with, const std::string& message = kProgramMessage) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    EXPECT_EQ(write(fds[1], message.data(), message.size()), static_cast<ssize_t>(message.size()));
    close(fds[1]);
    RunResult r = RunMda(options, PosixFs(), env, fds[0], who, with);
    close(fds[0]);
    return r;
  };
  // An earlier delivery (from carol) makes the stores, the lock and the log, which must be
  // the mailbox owner's as they are when mda runs as that user.
  // Two earlier deliveries (from carol, then dave) make the stores, the lock and the log,
  // which must be the mailbox owner's as they are when mda runs as that user: the first
  // makes the duplicate store and its lock, the second the response store beside them.
  for (const char* earlier : {"carol@example.net", "dave@example.net"}) {
    MatrixProcesses warm_up;
    sender = earlier;
    std::string message = std::string("To: bob@example.org\nMessage-ID: <") + earlier +
                          ">\nSubject: ALERT earlier\n\nx\n";
    EXPECT_EQ(deliver(warm_up, message).exit_code, 0);
    for (const char* made : {".mda/dedup.store", ".mda/dedup.lock", ".mda/log",
                             ".mda/vacation.store", "Maildir/subscriptions"}) {
      if (access((home / made).c_str(), F_OK) == 0) test::ChownToTestUser(home / made);
    }
  }
  sender = "alice@example.net";
  queue_id = "1q-matrix";
  RunResult r = deliver(processes);
  ProgramOutcome o;
  o.exit_code = r.exit_code;
  o.diagnostic = r.diagnostic;
  for (const std::string& w : r.evaluation.warnings) o.warnings += w + "\n";
  if (o.exit_code == 75) {
    MatrixProcesses clean;
    o.retry_exit = deliver(clean).exit_code;
  }
  for (const std::string& f : test::ListDir(home / "Maildir/new"))
    o.inbox += test::ReadFile(home / ("Maildir/new/" + f)) == kProgramMessage;
  for (const std::string& f : test::ListDir(home / "piped"))
    o.piped += f.rfind("msg.", 0) == 0 && test::ReadFile(home / ("piped/" + f)) == kProgramMessage;
  for (const std::string& f : test::ListDir(home / "sent")) {
    std::string sent = test::ReadFile(home / ("sent/" + f));
    o.forwarded += f.rfind("fwd@example.net.", 0) == 0 &&
                   sent == std::string("X-Mda-Forwarded-For: bob@example.org\n") + kProgramMessage;
    o.replies += f.rfind("alice@example.net.", 0) == 0 &&
                 sent.find("\nAuto-Submitted: auto-replied") != std::string::npos;
  }
  return o;
}

TEST(FaultMatrixTest, EveryProgramCallFailingEndsDeliveredKeptOrDeferred) {
  MatrixProcesses clean;
  ProgramOutcome ok = DeliverWithPrograms(clean);
  ASSERT_EQ(ok.exit_code, 0) << ok.diagnostic;
  ASSERT_EQ(ok.warnings, "");
  ASSERT_EQ(ok.inbox + ok.piped + ok.forwarded + ok.replies, 4u)
      << ok.inbox << ok.piped << ok.forwarded << ok.replies;
  std::map<Step, std::set<std::string>> seen;
  std::map<Step, std::vector<std::string>> errors;
  int cells = 0;
  for (const Step& step : clean.trace) {
    std::map<std::string, std::vector<int>> by_op = {
        {"spawn", {EAGAIN, ENOMEM, ENOENT, EACCES}},
        {"write", {EIO}},
        {"wait", {ECHILD}},
    };
    // sendmail's first call is the forward, its second the vacation reply.
    std::string what_for =
        step.file == "sendmail" ? (step.nth == 1 ? "forward" : "reply") : step.file;
    for (int err : by_op[step.op]) {
      MatrixProcesses processes;
      processes.target = step;
      processes.err = err;
      ProgramOutcome o = DeliverWithPrograms(processes);
      ++cells;
      std::string cell =
          step.file + " " + step.op + " #" + std::to_string(step.nth) + " " + ErrName(err);
      ASSERT_TRUE(processes.hit) << cell << ": the fault was never reached";
      errors[step].push_back(ErrName(err));
      bool deferred = o.exit_code == 75;
      bool ended = (deferred && o.retry_exit == 0) || (!deferred && o.exit_code == 0);
      // Never lost, never doubled in the Maildir; each outside copy once, except as said.
      size_t piped_max = what_for == "pipe" && step.op == "wait" && deferred ? 2 : 1;
      size_t forwarded_max = what_for == "forward" && step.op == "wait" && deferred ? 2 : 1;
      bool ok_counts = ended && o.inbox == 1 && o.piped + (what_for == "pipe") >= 1 &&
                       o.piped <= piped_max && o.forwarded + (what_for == "forward") >= 1 &&
                       o.forwarded <= forwarded_max && o.replies + (what_for == "reply") >= 1 &&
                       o.replies <= 1;
      std::string what;
      if (!ok_counts) {
        ADD_FAILURE() << cell << ": exit " << o.exit_code << " retry " << o.retry_exit << "; INBOX "
                      << o.inbox << ", piped " << o.piped << ", forwarded " << o.forwarded
                      << ", replies " << o.replies << ": " << o.diagnostic << " " << o.warnings;
        what = "FAILED";
      } else if (deferred) {
        what = o.piped == 2 || o.forwarded == 2
                   ? "exit 75 (its status lost); the retry runs it again"
                   : "exit 75; the retry does the rest, each once";
      } else if (what_for == "filter") {
        what = "delivered unfiltered, a warning";
      } else if (what_for == "reply") {
        what = o.replies == 1 ? "delivered; the reply went out (its status lost), a warning"
                              : "delivered; no reply, a warning";
      } else {
        what = "not delivered to the " + std::string(what_for == "pipe" ? "program" : "address") +
               ": kept in INBOX, a warning";
      }
      if (!deferred && what != "FAILED") {
        EXPECT_NE(o.warnings, "") << cell << ": no warning";
      }
      seen[step].insert(what);
    }
  }
  std::ostringstream table;
  table << "<!-- program fault matrix: generated by tests/fault_matrix_test.cc -->\n";
  table << "| program | call | errors injected | outcome |\n|---|---|---|---|\n";
  for (const Step& step : clean.trace) {
    std::string errs, outcomes;
    for (const std::string& e : errors[step]) errs += (errs.empty() ? "" : ", ") + e;
    for (const std::string& w : seen[step]) outcomes += (outcomes.empty() ? "" : "; ") + w;
    std::string name = step.file == "sendmail"
                           ? (step.nth == 1 ? "sendmail (forward)" : "sendmail (vacation reply)")
                           : step.file;
    table << "| " << name << " | " << step.op << " #" << step.nth << " | " << errs << " | "
          << outcomes << " |\n";
  }
  table << "<!-- end of program fault matrix (" << cells << " runs) -->\n";
  CheckTable("program fault matrix", table.str());
}

}  // namespace
}  // namespace mda
