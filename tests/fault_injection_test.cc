// Fault injection through the FileSystem seam: a failure at any step of a delivery gives a
// temporary failure (exit 75), nothing in new/ and nothing left in tmp/.
#include <errno.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "mda/fs.h"
#include "mda/maildir.h"
#include "mda/pipeline.h"
#include "tests/test_util.h"

namespace mda {
namespace {

enum class Op {
  kOpenFile,
  kWrite,
  kFsyncFile,
  kCloseFile,
  kLink,
  kRename,
  kFsyncNewDir,
  kMkdir,
  kOpenDir
};

const char* OpName(Op op) {
  switch (op) {
    case Op::kOpenFile:
      return "open tmp file";
    case Op::kWrite:
      return "write";
    case Op::kFsyncFile:
      return "fsync file";
    case Op::kCloseFile:
      return "close file";
    case Op::kLink:
      return "link";
    case Op::kRename:
      return "rename";
    case Op::kFsyncNewDir:
      return "fsync new/";
    case Op::kMkdir:
      return "mkdir";
    case Op::kOpenDir:
      return "open directory";
  }
  return "?";
}

// Passes every call to the real file system (ForwardingFs), except the nth call of one
// kind, which fails with `err`. Writes may be cut short to exercise the write loop; link() may be
// "unsupported".
class FaultyFs final : public ForwardingFs {
 public:
  FaultyFs(Op op, int nth, int err) : op_(op), nth_(nth), err_(err) {}
  size_t max_write = SIZE_MAX;
  bool link_unsupported = false;
  bool tmpfile_unsupported = false;  // as on NFS: the named tmp/ file serves
  int link_lies = 0;                 // as NFS may: the link is made, then this error is reported
  int injected = 0;  // how many faults were injected (the test checks the fault was reached)
  int unnamed_opens = 0, named_opens = 0;

  int OpenAt(int dirfd, const char* path, int flags, mode_t mode) override {
    bool unnamed = (flags & O_TMPFILE) == O_TMPFILE;
    if (unnamed && tmpfile_unsupported) {
      errno = EOPNOTSUPP;
      return -1;
    }
    Op op = unnamed || ((flags & O_CREAT) && (flags & O_EXCL)) ? Op::kOpenFile : Op::kOpenDir;
    if (Hit(op)) return Fail();
    if (op == Op::kOpenFile) ++(unnamed ? unnamed_opens : named_opens);
    int fd = real_.OpenAt(dirfd, path, flags, mode);
    if (op == Op::kOpenFile && fd >= 0) file_fd_ = fd;
    return fd;
  }
  ssize_t Write(int fd, const void* buf, size_t count) override {
    if (Hit(Op::kWrite)) return Fail();
    return real_.Write(fd, buf, std::min(count, max_write));
  }
  int Fsync(int fd) override {
    if (Hit(fd == file_fd_ ? Op::kFsyncFile : Op::kFsyncNewDir)) return Fail();
    return real_.Fsync(fd);
  }
  int Close(int fd) override {
    bool file = fd == file_fd_;
    if (file) file_fd_ = -1;
    if (file && Hit(Op::kCloseFile)) {
      real_.Close(fd);  // the descriptor is gone either way, as with close(2)
      return Fail();
    }
    return real_.Close(fd);
  }
  int MkdirAt(int dirfd, const char* path, mode_t mode) override {
    if (Hit(Op::kMkdir)) return Fail();
    return real_.MkdirAt(dirfd, path, mode);
  }
  int LinkAt(int a, const char* b, int c, const char* d) override {
    if (link_unsupported) {
      errno = EPERM;
      return -1;
    }
    if (Hit(Op::kLink)) return Fail();
    int rc = real_.LinkAt(a, b, c, d);
    if (rc == 0 && link_lies != 0) {
      errno = link_lies;
      return -1;
    }
    return rc;
  }
  int LinkFd(int fd, int dirfd, const char* path) override {
    if (link_unsupported) {
      errno = EPERM;
      return -1;
    }
    if (Hit(Op::kLink)) return Fail();
    int rc = real_.LinkFd(fd, dirfd, path);
    if (rc == 0 && link_lies != 0) {
      errno = link_lies;
      return -1;
    }
    return rc;
  }
  int RenameNoReplace(int a, const char* b, int c, const char* d) override {
    if (Hit(Op::kRename)) return Fail();
    return real_.RenameNoReplace(a, b, c, d);
  }

 private:
  bool Hit(Op op) {
    if (op != op_) return false;
    return ++count_ == nth_;
  }
  int Fail() {
    ++injected;
    errno = err_;
    return -1;
  }

  FileSystem& real_ = PosixFs();
  Op op_;
  int nth_;
  int err_;
  int count_ = 0;
  int file_fd_ = -1;
};

struct Fault {
  Op op;
  int nth;
  int err;
  bool fresh_maildir;  // the fault hits while the Maildir is being created
  bool named = false;  // the tmp/NAME way (no O_TMPFILE), else the unnamed file
};

class FaultInjectionTest : public testing::TestWithParam<Fault> {};

std::string Describe(const Fault& f) {
  return std::string(OpName(f.op)) + " #" + std::to_string(f.nth) + " fails with " +
         strerrorname_np(f.err) + (f.fresh_maildir ? " (new Maildir)" : "") +
         (f.named ? " (named tmp file)" : "");
}

// 64 KiB written at most 4 KiB at a time: 16 writes, each of which is made to fail.
const std::string kMessage = [] {
  std::string m = "Subject: fault\n\n";
  while (m.size() < 64 * 1024) m += "0123456789abcdef";
  return m;
}();

TEST_P(FaultInjectionTest, NothingVisibleAndTemporaryFailure) {
  const Fault& f = GetParam();
  test::TempDir dir;
  if (!f.fresh_maildir) {  // an existing Maildir with its Junk folder
    Maildir setup(PosixFs(), dir / "Maildir");
    Delivery d;
    ASSERT_TRUE(setup.Deliver("Junk", "x", &d).ok());
    ASSERT_EQ(unlink(d.path().c_str()), 0);
  }
  FaultyFs fs(f.op, f.nth, f.err);
  fs.max_write = 4096;
  if (f.op == Op::kRename) fs.link_unsupported = true;
  fs.tmpfile_unsupported = f.named;
  Maildir maildir(fs, dir / "Maildir");
  Delivery d;
  Status s = maildir.Deliver("Junk", kMessage, &d);
  ASSERT_EQ(fs.injected, 1) << Describe(f) << ": the fault was never reached";
  EXPECT_EQ(s.kind(), Status::Kind::kTemporary) << Describe(f);
  EXPECT_NE(s.message().find(strerrordesc_np(f.err)), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(dir.path()), std::string::npos) << "names no path: " << s.message();
  EXPECT_TRUE(test::ListDir(dir / "Maildir/.Junk/new").empty()) << Describe(f);
  EXPECT_TRUE(test::ListDir(dir / "Maildir/.Junk/tmp").empty()) << Describe(f);
  EXPECT_TRUE(test::ListDir(dir / "Maildir/new").empty()) << Describe(f);
  EXPECT_TRUE(test::ListDir(dir / "Maildir/tmp").empty()) << Describe(f);

  // Exim's retry succeeds, and leaves the folder and the root complete, whatever the
  // failed attempt had made of them (issue 15, point 6: cur/ and maildirfolder were never
  // made once tmp/ and new/ existed).
  Maildir retry(PosixFs(), dir / "Maildir");
  ASSERT_TRUE(retry.Deliver("Junk", kMessage, &d).ok()) << Describe(f);
  for (const char* part :
       {"tmp", "new", "cur", ".Junk/tmp", ".Junk/new", ".Junk/cur", ".Junk/maildirfolder"}) {
    EXPECT_EQ(access((dir / "Maildir/" + part).c_str(), F_OK), 0)
        << part << " missing after " << Describe(f);
  }
  EXPECT_EQ(test::ListDir(dir / "Maildir/.Junk/new").size(), 1u);
}

std::vector<Fault> AllFaults() {
  std::vector<Fault> v;
  for (int err : {EACCES, ENOSPC, EDQUOT, EIO, EROFS}) v.push_back({Op::kOpenFile, 1, err, false});
  for (int nth = 1; nth <= 16; ++nth) {
    for (int err : {ENOSPC, EDQUOT, EIO}) v.push_back({Op::kWrite, nth, err, false});
  }
  for (int err : {EIO, ENOSPC, EDQUOT}) {
    v.push_back({Op::kFsyncFile, 1, err, false});
    v.push_back({Op::kCloseFile, 1, err, false});
    v.push_back({Op::kFsyncNewDir, 1, err, false});
  }
  for (int err : {EIO, ENOSPC, EDQUOT, EACCES}) {
    v.push_back({Op::kLink, 1, err, false});
  }
  for (int err : {EIO, ENOSPC}) v.push_back({Op::kRename, 1, err, false});
  // While the Maildir, the folder and their subdirectories are being made.
  for (int nth = 1; nth <= 8; ++nth) v.push_back({Op::kMkdir, nth, ENOSPC, true});
  for (int nth = 1; nth <= 4; ++nth) v.push_back({Op::kFsyncNewDir, nth, EIO, true});
  for (int nth = 1; nth <= 3; ++nth) v.push_back({Op::kOpenDir, nth, EACCES, false});
  // Each of them again on a file system without O_TMPFILE; renameat2 (where links are not
  // supported) is only ever reached that way.
  size_t n = v.size();
  for (size_t i = 0; i < n; ++i) {
    Fault named = v[i];
    named.named = true;
    if (v[i].op == Op::kRename) {
      v[i].named = true;
    } else {
      v.push_back(named);
    }
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(EveryStep, FaultInjectionTest, testing::ValuesIn(AllFaults()),
                         [](const testing::TestParamInfo<Fault>& p) {
                           std::string name = std::to_string(p.index) + "_" + Describe(p.param);
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(FaultInjectionTest, DeliversThroughAnUnnamedFileWhereTheFileSystemCan) {
  test::TempDir dir;
  FaultyFs fs(Op::kOpenDir, 0, 0);                            // no fault
  Maildir maildir(fs, dir / "Maildir", /*subscribe=*/false);  // its lock file is a named open
  Delivery d;
  ASSERT_TRUE(maildir.Deliver("INBOX", kMessage, &d).ok());
  ASSERT_TRUE(maildir.Deliver("Junk", kMessage, &d).ok());
  EXPECT_EQ(test::ReadFile(d.path()), kMessage);
  EXPECT_EQ(fs.unnamed_opens, 2);
  EXPECT_EQ(fs.named_opens, 0);
  // Without O_TMPFILE (NFS), the named way, remembered for the next folder.
  FaultyFs nfs(Op::kOpenDir, 0, 0);
  nfs.tmpfile_unsupported = true;
  Maildir on_nfs(nfs, dir / "Maildir");
  ASSERT_TRUE(on_nfs.Deliver("INBOX", kMessage, &d).ok());
  ASSERT_TRUE(on_nfs.Deliver("Junk", kMessage, &d).ok());
  EXPECT_EQ(test::ReadFile(d.path()), kMessage);
  EXPECT_EQ(nfs.named_opens, 2);
  EXPECT_EQ(test::ListDir(dir / "Maildir/new").size(), 2u);
  EXPECT_EQ(test::ListDir(dir / "Maildir/.Junk/new").size(), 2u);
  EXPECT_TRUE(test::ListDir(dir / "Maildir/tmp").empty());
  EXPECT_TRUE(test::ListDir(dir / "Maildir/.Junk/tmp").empty());
}

TEST(FaultInjectionTest, ALinkReportedFailedThatWasMadeIsADelivery) {
  // NFS can answer EIO, or EEXIST to a retransmitted request, for a link it made: the
  // delivery is checked by the inode, not taken for a failure (a retry would duplicate it).
  for (bool named : {false, true}) {
    for (int lie : {EIO, EEXIST}) {
      test::TempDir dir;
      FaultyFs fs(Op::kOpenDir, 0, 0);  // no fault
      fs.tmpfile_unsupported = named;
      fs.link_lies = lie;
      Maildir maildir(fs, dir / "Maildir");
      Delivery d;
      Status s = maildir.Deliver("INBOX", kMessage, &d);
      ASSERT_TRUE(s.ok()) << (named ? "named " : "unnamed ") << strerrorname_np(lie) << ": "
                          << s.message();
      EXPECT_EQ(test::ListDir(dir / "Maildir/new").size(), 1u);
      EXPECT_EQ(test::ReadFile(d.path()), kMessage);
      EXPECT_TRUE(test::ListDir(dir / "Maildir/tmp").empty());
    }
  }
}

TEST(FaultInjectionTest, FallsBackToRenameWhereLinksAreUnsupported) {
  test::TempDir dir;
  FaultyFs fs(Op::kOpenDir, 0, 0);  // no fault
  fs.link_unsupported = true;
  Maildir maildir(fs, dir / "Maildir");
  Delivery d;
  ASSERT_TRUE(maildir.Deliver("INBOX", kMessage, &d).ok());
  EXPECT_EQ(test::ReadFile(d.path()), kMessage);
  EXPECT_TRUE(test::ListDir(dir / "Maildir/tmp").empty());
}

TEST(FaultInjectionTest, FailingToRemoveTmpAfterPublishingStillDelivers) {
  // Reporting failure here would make Exim deliver the message a second time.
  class NoUnlinkFs final : public ForwardingFs {
   public:
    int OpenAt(int d, const char* p, int f, mode_t m) override {
      if ((f & O_TMPFILE) == O_TMPFILE) {  // the named way: there is a tmp/ file to remove
        errno = EOPNOTSUPP;
        return -1;
      }
      return ForwardingFs::OpenAt(d, p, f, m);
    }
    int UnlinkAt(int, const char*, int) override {
      errno = EIO;
      return -1;
    }
  } fs;
  test::TempDir dir;
  Maildir maildir(fs, dir / "Maildir");
  Delivery d;
  ASSERT_TRUE(maildir.Deliver("INBOX", "x", &d).ok());
  EXPECT_EQ(test::ListDir(dir / "Maildir/new").size(), 1u);
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_NE(d.warnings[0].find("cannot remove " + (dir / "Maildir/tmp/")), std::string::npos);
}

// The whole pipeline turns a disk failure into exit 75 with a one-line reason.
TEST(FaultInjectionTest, PipelineExitsTempFail) {
  test::TempDir dir;
  FaultyFs fs(Op::kFsyncFile, 1, EIO);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], "Subject: x\n\nbody\n", 17), 17);
  close(fds[1]);
  Options options;
  options.maildir = dir / "Maildir";
  options.home = dir.path();  // never a real user's home: the log goes here
  RunResult r = RunMda(
      options, fs, [](const char*) -> const char* { return nullptr; }, fds[0],
      Identity{54321, 54321});
  close(fds[0]);
  EXPECT_EQ(r.exit_code, kExitTempFail);
  EXPECT_EQ(r.diagnostic.find('\n'), std::string::npos);
  EXPECT_NE(r.diagnostic.find("cannot fsync " + (dir / "Maildir/tmp/")), std::string::npos)
      << r.diagnostic;
  EXPECT_NE(r.diagnostic.find("Input/output error (exit 75"), std::string::npos) << r.diagnostic;
  EXPECT_TRUE(test::ListDir(dir / "Maildir/new").empty());
  EXPECT_TRUE(test::ListDir(dir / "Maildir/tmp").empty());
}

TEST(PipelineTest, RefusesRootWithoutReadingOrWriting) {
  test::TempDir dir;
  Options options;
  options.maildir = dir / "Maildir";
  for (Identity id : {Identity{0, 0}, Identity{1000, 0}, Identity{0, 1000}}) {
    RunResult r = RunMda(
        options, PosixFs(), [](const char*) -> const char* { return nullptr; }, -1, id);
    EXPECT_EQ(r.exit_code, kExitTempFail);
    EXPECT_EQ(r.diagnostic.rfind("refusing to run as root", 0), 0u) << r.diagnostic;
  }
  EXPECT_TRUE(test::ListDir(dir.path()).empty());
}

}  // namespace
}  // namespace mda
