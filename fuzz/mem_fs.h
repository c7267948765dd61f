// MemFs: the FileSystem seam kept in memory, so a fuzz target can run whole deliveries
// without touching the disk. Enough POSIX for what Maildir does: directories, exclusive
// creation, O_TMPFILE, links, renames, unlinks.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "mda/fs.h"

namespace mda::fuzz {

class MemFs final : public FileSystem {
 public:
  std::set<std::string> dirs{"/"};
  std::map<std::string, std::shared_ptr<std::string>> files;

  int OpenAt(int dirfd, const char* path, int flags, mode_t) override {
    std::string p = Resolve(dirfd, path);
    if ((flags & O_TMPFILE) == O_TMPFILE) {
      if (!dirs.count(p)) return Fail(ENOENT);
      return NewFd({"", false, std::make_shared<std::string>()});
    }
    if (dirs.count(p)) return NewFd({p, true, nullptr});
    if (flags & O_DIRECTORY) return Fail(files.count(p) ? ENOTDIR : ENOENT);
    if (files.count(p)) {
      if ((flags & O_CREAT) && (flags & O_EXCL)) return Fail(EEXIST);
      return NewFd({p, false, files[p]});
    }
    if (!(flags & O_CREAT)) return Fail(ENOENT);
    if (!dirs.count(Parent(p))) return Fail(ENOENT);
    files[p] = std::make_shared<std::string>();
    return NewFd({p, false, files[p]});
  }
  ssize_t Read(int, void*, size_t) override { return 0; }
  ssize_t Write(int fd, const void* buf, size_t count) override {
    auto it = fds_.find(fd);
    if (it == fds_.end() || it->second.dir) return Fail(EBADF);
    it->second.data->append(static_cast<const char*>(buf), count);
    return static_cast<ssize_t>(count);
  }
  int Fsync(int fd) override { return fds_.count(fd) ? 0 : Fail(EBADF); }
  int Close(int fd) override { return fds_.erase(fd) ? 0 : Fail(EBADF); }
  int MkdirAt(int dirfd, const char* path, mode_t) override {
    std::string p = Resolve(dirfd, path);
    if (dirs.count(p) || files.count(p)) return Fail(EEXIST);
    if (!dirs.count(Parent(p))) return Fail(ENOENT);
    dirs.insert(p);
    return 0;
  }
  int LinkAt(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) override {
    std::string from = Resolve(olddirfd, oldpath), to = Resolve(newdirfd, newpath);
    if (!files.count(from)) return Fail(ENOENT);
    return Name(files[from], to);
  }
  int LinkFd(int fd, int newdirfd, const char* newpath) override {
    auto it = fds_.find(fd);
    if (it == fds_.end() || it->second.dir) return Fail(EBADF);
    return Name(it->second.data, Resolve(newdirfd, newpath));
  }
  int RenameNoReplace(int olddirfd, const char* oldpath, int newdirfd,
                      const char* newpath) override {
    std::string from = Resolve(olddirfd, oldpath);
    if (LinkAt(olddirfd, oldpath, newdirfd, newpath) != 0) return -1;
    files.erase(from);
    return 0;
  }
  int UnlinkAt(int dirfd, const char* path, int) override {
    return files.erase(Resolve(dirfd, path)) ? 0 : Fail(ENOENT);
  }
  int FstatAt(int dirfd, const char* path, struct stat* st, int flags) override {
    *st = {};
    st->st_uid = getuid();
    if ((flags & AT_EMPTY_PATH) && *path == '\0') {
      auto it = fds_.find(dirfd);
      if (it == fds_.end()) return Fail(EBADF);
      st->st_mode = it->second.dir ? S_IFDIR | 0700 : S_IFREG | 0600;
      if (!it->second.dir) st->st_size = static_cast<off_t>(it->second.data->size());
      return 0;
    }
    std::string p = Resolve(dirfd, path);
    if (dirs.count(p)) {
      st->st_mode = S_IFDIR | 0700;
    } else if (files.count(p)) {
      st->st_mode = S_IFREG | 0600;
      st->st_size = static_cast<off_t>(files[p]->size());
    } else {
      return Fail(ENOENT);
    }
    return 0;
  }

  ssize_t Pread(int fd, void* buf, size_t count, off_t offset) override {
    auto it = fds_.find(fd);
    if (it == fds_.end() || it->second.dir) return Fail(EBADF);
    const std::string& d = *it->second.data;
    size_t off = static_cast<size_t>(offset);
    size_t n = off >= d.size() ? 0 : std::min(count, d.size() - off);
    d.copy(static_cast<char*>(buf), n, off);
    return static_cast<ssize_t>(n);
  }
  ssize_t Pwrite(int fd, const void* buf, size_t count, off_t offset) override {
    auto it = fds_.find(fd);
    if (it == fds_.end() || it->second.dir) return Fail(EBADF);
    std::string& d = *it->second.data;
    size_t off = static_cast<size_t>(offset);
    if (d.size() < off + count) d.resize(off + count);
    d.replace(off, count, static_cast<const char*>(buf), count);
    return static_cast<ssize_t>(count);
  }
  int Ftruncate(int fd, off_t length) override {
    auto it = fds_.find(fd);
    if (it == fds_.end() || it->second.dir) return Fail(EBADF);
    it->second.data->resize(static_cast<size_t>(length));
    return 0;
  }
  int Rename(const char* oldpath, const char* newpath) override {
    std::string from = Resolve(AT_FDCWD, oldpath), to = Resolve(AT_FDCWD, newpath);
    if (!files.count(from)) return Fail(ENOENT);
    files[to] = files[from];
    files.erase(from);
    return 0;
  }
  ssize_t ReadLinkAt(int, const char*, char*, size_t) override { return Fail(EINVAL); }
  int OfdLock(int fd, int, struct flock*) override { return fds_.count(fd) ? 0 : Fail(EBADF); }

 private:
  struct Open {
    std::string path;  // "" for an unnamed (O_TMPFILE) file
    bool dir;
    std::shared_ptr<std::string> data;
  };
  static int Fail(int err) {
    errno = err;
    return -1;
  }
  static std::string Parent(const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
  }
  int NewFd(Open open) {
    fds_[next_] = std::move(open);
    return next_++;
  }
  std::string Resolve(int dirfd, const char* path) {
    std::string p = path;
    std::string base = "/";
    if (!p.empty() && p[0] != '/' && dirfd != AT_FDCWD) {
      auto it = fds_.find(dirfd);
      if (it != fds_.end()) base = it->second.path;
    }
    std::string full = p.empty() || p == "." ? base
                       : p[0] == '/'         ? p
                                             : (base == "/" ? "/" : base + "/") + p;
    while (full.size() > 1 && full.back() == '/') full.pop_back();
    return full;
  }
  int Name(const std::shared_ptr<std::string>& data, const std::string& to) {
    if (files.count(to) || dirs.count(to)) return Fail(EEXIST);
    if (!dirs.count(Parent(to))) return Fail(ENOENT);
    files[to] = data;
    return 0;
  }

  std::map<int, Open> fds_;
  int next_ = 100;
};

}  // namespace mda::fuzz
