// FileSystem: the narrow seam through which mda touches the disk, so tests can make any call fail.
//
// The methods mirror the system calls (return -1 and set errno on failure) so the
// code above reads like the POSIX it performs. PosixFileSystem retries on EINTR.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <string>

#include "base/status.h"

namespace mda {

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual int OpenAt(int dirfd, const char* path, int flags, mode_t mode) = 0;
  virtual ssize_t Read(int fd, void* buf, size_t count) = 0;
  virtual ssize_t Write(int fd, const void* buf, size_t count) = 0;
  virtual int Fsync(int fd) = 0;
  virtual int Close(int fd) = 0;
  virtual int MkdirAt(int dirfd, const char* path, mode_t mode) = 0;
  virtual int LinkAt(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) = 0;
  // Gives the open file `fd` (an unnamed O_TMPFILE file) the name `newpath`: linkat(2) of
  // /proc/self/fd/FD, which needs no privilege (AT_EMPTY_PATH would). ENOENT: no /proc.
  virtual int LinkFd(int fd, int newdirfd, const char* newpath) = 0;
  // renameat2(RENAME_NOREPLACE): the fallback where hard links are not supported.
  virtual int RenameNoReplace(int olddirfd, const char* oldpath, int newdirfd,
                              const char* newpath) = 0;
  virtual int UnlinkAt(int dirfd, const char* path, int flags) = 0;
  virtual int FstatAt(int dirfd, const char* path, struct stat* st, int flags) = 0;
  // readlinkat(2): the bytes written (not NUL-terminated), or -1.
  virtual ssize_t ReadLinkAt(int dirfd, const char* path, char* buf, size_t size) = 0;
  // For the duplicate store: positioned I/O, size, replacing rename, and OFD locks.
  virtual ssize_t Pread(int fd, void* buf, size_t count, off_t offset) = 0;
  virtual ssize_t Pwrite(int fd, const void* buf, size_t count, off_t offset) = 0;
  virtual int Ftruncate(int fd, off_t length) = 0;
  virtual int Rename(const char* oldpath, const char* newpath) = 0;
  // fcntl(fd, F_OFD_SETLK or F_OFD_SETLKW, fl). Not retried on EINTR: an interrupted wait
  // is how a lock timeout ends.
  virtual int OfdLock(int fd, int cmd, struct flock* fl) = 0;
};

// The real thing. One instance serves the whole process.
FileSystem& PosixFs();

// Passes every call on to another file system (by default the real one). Test doubles
// derive from it and override only the calls they change (leveldb's EnvWrapper).
class ForwardingFs : public FileSystem {
 public:
  explicit ForwardingFs(FileSystem& target = PosixFs()) : target_(target) {}
  int OpenAt(int dirfd, const char* path, int flags, mode_t mode) override {
    return target_.OpenAt(dirfd, path, flags, mode);
  }
  ssize_t Read(int fd, void* buf, size_t count) override { return target_.Read(fd, buf, count); }
  ssize_t Write(int fd, const void* buf, size_t count) override {
    return target_.Write(fd, buf, count);
  }
  int Fsync(int fd) override { return target_.Fsync(fd); }
  int Close(int fd) override { return target_.Close(fd); }
  int MkdirAt(int dirfd, const char* path, mode_t mode) override {
    return target_.MkdirAt(dirfd, path, mode);
  }
  int LinkAt(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) override {
    return target_.LinkAt(olddirfd, oldpath, newdirfd, newpath);
  }
  int LinkFd(int fd, int newdirfd, const char* newpath) override {
    return target_.LinkFd(fd, newdirfd, newpath);
  }
  int RenameNoReplace(int olddirfd, const char* oldpath, int newdirfd,
                      const char* newpath) override {
    return target_.RenameNoReplace(olddirfd, oldpath, newdirfd, newpath);
  }
  int UnlinkAt(int dirfd, const char* path, int flags) override {
    return target_.UnlinkAt(dirfd, path, flags);
  }
  int FstatAt(int dirfd, const char* path, struct stat* st, int flags) override {
    return target_.FstatAt(dirfd, path, st, flags);
  }
  ssize_t ReadLinkAt(int dirfd, const char* path, char* buf, size_t size) override {
    return target_.ReadLinkAt(dirfd, path, buf, size);
  }
  ssize_t Pread(int fd, void* buf, size_t count, off_t offset) override {
    return target_.Pread(fd, buf, count, offset);
  }
  ssize_t Pwrite(int fd, const void* buf, size_t count, off_t offset) override {
    return target_.Pwrite(fd, buf, count, offset);
  }
  int Ftruncate(int fd, off_t length) override { return target_.Ftruncate(fd, length); }
  int Rename(const char* oldpath, const char* newpath) override {
    return target_.Rename(oldpath, newpath);
  }
  int OfdLock(int fd, int cmd, struct flock* fl) override { return target_.OfdLock(fd, cmd, fl); }

 protected:
  FileSystem& target() { return target_; }

 private:
  FileSystem& target_;
};

// An open descriptor, closed (through its FileSystem) when it goes out of scope.
// Close() reports the error that the destructor would have had to ignore.
class UniqueFd {
 public:
  UniqueFd() = default;
  UniqueFd(FileSystem* fs, int fd) : fs_(fs), fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fs_(other.fs_), fd_(other.fd_) { other.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now; returns -1 with errno set if close(2) failed. The descriptor is gone either way.
  int Close();

 private:
  FileSystem* fs_ = nullptr;
  int fd_ = -1;
};

// Writes all of [data, data+size), looping over short writes. `what` names the file in errors.
Status WriteAll(FileSystem& fs, int fd, const char* data, size_t size, const std::string& what);

}  // namespace mda
