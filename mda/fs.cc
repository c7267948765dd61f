// FileSystem: the narrow seam through which mda touches the disk, so tests can make any call fail.
#include "mda/fs.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

namespace mda {
namespace {

// Retries a system call while it fails with EINTR (fmt's FMT_RETRY).
template <typename Call>
auto RetryOnEintr(Call call) -> decltype(call()) {
  decltype(call()) result;
  do {
    result = call();
  } while (result == -1 && errno == EINTR);
  return result;
}

class PosixFileSystem final : public FileSystem {
 public:
  int OpenAt(int dirfd, const char* path, int flags, mode_t mode) override {
    return RetryOnEintr([&] { return ::openat(dirfd, path, flags, mode); });
  }
  ssize_t Read(int fd, void* buf, size_t count) override {
    return RetryOnEintr([&] { return ::read(fd, buf, count); });
  }
  ssize_t Write(int fd, const void* buf, size_t count) override {
    return RetryOnEintr([&] { return ::write(fd, buf, count); });
  }
  int Fsync(int fd) override {
    return RetryOnEintr([&] { return ::fsync(fd); });
  }
  int Close(int fd) override {
    // Linux releases the descriptor even when close() reports EINTR; retrying could
    // close a descriptor another thread just received. Data errors surfaced at fsync.
    int rc = ::close(fd);
    return (rc == -1 && errno == EINTR) ? 0 : rc;
  }
  int MkdirAt(int dirfd, const char* path, mode_t mode) override {
    return RetryOnEintr([&] { return ::mkdirat(dirfd, path, mode); });
  }
  int LinkAt(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) override {
    return RetryOnEintr([&] { return ::linkat(olddirfd, oldpath, newdirfd, newpath, 0); });
  }
  int LinkFd(int fd, int newdirfd, const char* newpath) override {
    char proc[40];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return RetryOnEintr(
        [&] { return ::linkat(AT_FDCWD, proc, newdirfd, newpath, AT_SYMLINK_FOLLOW); });
  }
  int RenameNoReplace(int olddirfd, const char* oldpath, int newdirfd,
                      const char* newpath) override {
    return RetryOnEintr(
        [&] { return ::renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_NOREPLACE); });
  }
  int UnlinkAt(int dirfd, const char* path, int flags) override {
    return RetryOnEintr([&] { return ::unlinkat(dirfd, path, flags); });
  }
  int FstatAt(int dirfd, const char* path, struct stat* st, int flags) override {
    return RetryOnEintr([&] { return ::fstatat(dirfd, path, st, flags); });
  }
  ssize_t Pread(int fd, void* buf, size_t count, off_t offset) override {
    return RetryOnEintr([&] { return ::pread(fd, buf, count, offset); });
  }
  ssize_t Pwrite(int fd, const void* buf, size_t count, off_t offset) override {
    return RetryOnEintr([&] { return ::pwrite(fd, buf, count, offset); });
  }
  int Ftruncate(int fd, off_t length) override {
    return RetryOnEintr([&] { return ::ftruncate(fd, length); });
  }
  int Rename(const char* oldpath, const char* newpath) override {
    return RetryOnEintr([&] { return ::rename(oldpath, newpath); });
  }
  ssize_t ReadLinkAt(int dirfd, const char* path, char* buf, size_t size) override {
    return RetryOnEintr([&] { return ::readlinkat(dirfd, path, buf, size); });
  }
  int OfdLock(int fd, int cmd, struct flock* fl) override { return ::fcntl(fd, cmd, fl); }
};

}  // namespace

FileSystem& PosixFs() {
  // A function-local static: constructed on first use, so start-up does no work for it.
  static PosixFileSystem fs;
  return fs;
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Close();
    fs_ = other.fs_;
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

UniqueFd::~UniqueFd() { Close(); }

int UniqueFd::Close() {
  if (fd_ < 0) return 0;
  int fd = fd_;
  fd_ = -1;
  return fs_->Close(fd);
}

Status WriteAll(FileSystem& fs, int fd, const char* data, size_t size, const std::string& what) {
  while (size > 0) {
    ssize_t n = fs.Write(fd, data, size);
    if (n < 0) return Status::Posix("cannot write " + what, errno);
    if (n == 0) return Status::Posix("cannot write " + what, EIO);  // no progress: never spin
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace mda
