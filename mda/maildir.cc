// Maildir: atomic delivery of one message into a Maildir(++) folder, creating it on demand.
#include "mda/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "base/host.h"
#include "mda/folder.h"

namespace mda {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr int kNameAttempts = 8;  // fresh names to try when one is taken (practically never)

// The tmp/ file of one delivery: removed when it goes out of scope unless Forget() was called
// (the file became new/'s, or renameat2 moved it there). RAII so no error path forgets it.
class TempFile {
 public:
  TempFile(FileSystem& fs, int dirfd, std::string name)
      : fs_(fs), dirfd_(dirfd), name_(std::move(name)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!name_.empty()) fs_.UnlinkAt(dirfd_, name_.c_str(), 0);
  }
  // Removes the file now; -1 with errno if unlink failed (the name is forgotten either way).
  int Remove() {
    std::string name = std::move(name_);
    name_.clear();
    return fs_.UnlinkAt(dirfd_, name.c_str(), 0);
  }
  void Forget() { name_.clear(); }

 private:
  FileSystem& fs_;
  int dirfd_;
  std::string name_;
};

bool LinkUnsupported(int err) {
  return err == EPERM || err == ENOSYS || err == EOPNOTSUPP || err == EXDEV || err == EMLINK;
}

// NFS can report failure (EIO, or EEXIST for a retransmitted request) for a link that was
// made. Whether `name` in `dir` is the very file `st` describes; errno is kept.
bool IsSameFile(FileSystem& fs, int dir, const std::string& name, const struct stat& st) {
  int saved = errno;
  struct stat linked;
  bool same = fs.FstatAt(dir, name.c_str(), &linked, AT_SYMLINK_NOFOLLOW) == 0 &&
              linked.st_dev == st.st_dev && linked.st_ino == st.st_ino;
  errno = saved;
  return same;
}

}  // namespace

std::string FormatUniqueName(const UniqueNameParts& p, size_t size) {
  char head[128];
  snprintf(head, sizeof head, "%lld.M%06lldP%lldQ%lluR%016llx.", static_cast<long long>(p.seconds),
           static_cast<long long>(p.micros), static_cast<long long>(p.pid),
           static_cast<unsigned long long>(p.counter), static_cast<unsigned long long>(p.random));
  std::string name = head;
  for (char c : p.host) {
    if (c == '/') {
      name += "\\057";
    } else if (c == ':') {
      name += "\\072";
    } else {
      name += c;
    }
  }
  name += ",S=" + std::to_string(size);
  return name;
}

UniqueNameParts NewUniqueNameParts() {
  static uint64_t counter = 0;
  UniqueNameParts p;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  p.seconds = now.tv_sec;
  p.micros = now.tv_nsec / 1000;
  p.pid = getpid();
  p.counter = ++counter;
  RandomBytes(&p.random, sizeof p.random, /*block=*/false);  // never waits at early boot
  p.host = HostName();
  return p;
}

Status Maildir::SyncDirectory(int fd, const std::string& path) {
  if (fs_.Fsync(fd) != 0) return Status::Posix("cannot fsync directory " + path, errno);
  return Status::Ok();
}

Status Maildir::OpenDirectory(int parent, const std::string& name, const std::string& path,
                              bool create, UniqueFd* out, bool* created) {
  *created = false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = fs_.OpenAt(parent, name.c_str(), kDirFlags, 0);
    if (fd >= 0) {
      *out = UniqueFd(&fs_, fd);
      return Status::Ok();
    }
    int err = errno;
    if (err == ELOOP || err == ENOTDIR) {
      struct stat st;
      if (fs_.FstatAt(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        return Status::Temporary(path +
                                 " is a symbolic link; mda does not follow symbolic links "
                                 "inside a Maildir (replace it with a directory)");
      }
      return Status::Temporary(path + " exists but is not a directory (move it away)");
    }
    if (err != ENOENT || !create) return Status::Posix("cannot open directory " + path, err);
    if (fs_.MkdirAt(parent, name.c_str(), 0700) == 0) {
      *created = true;
    } else if (errno != EEXIST) {  // EEXIST: a concurrent delivery made it; open it
      return Status::Posix("cannot create directory " + path, errno);
    }
  }
  return Status::Temporary("cannot open directory " + path + ": it keeps disappearing");
}

Status Maildir::OpenRoot(UniqueFd* root, bool* created) {
  *created = false;
  // The root itself is the user's configured path: a symbolic link there (~/Maildir on
  // another disk) is the owner's choice and is followed. Nothing below it is.
  int fd = fs_.OpenAt(AT_FDCWD, root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd >= 0) {
    *root = UniqueFd(&fs_, fd);
    return Status::Ok();
  }
  if (errno != ENOENT) return Status::Posix("cannot open Maildir " + root_, errno);
  // Create the root (not its parents: a missing home is a configuration error to report).
  size_t slash = root_.rfind('/');
  std::string parent_path = slash == 0 ? "/" : root_.substr(0, slash);
  std::string base = root_.substr(slash + 1);
  int parent = fs_.OpenAt(AT_FDCWD, parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (parent < 0) {
    return Status::Posix("cannot create Maildir " + root_ + ": cannot open " + parent_path, errno);
  }
  UniqueFd parent_fd(&fs_, parent);
  Status s = OpenDirectory(parent, base, root_, /*create=*/true, root, created);
  if (s.ok() && *created) s = SyncDirectory(parent, parent_path);
  return s;
}

Status Maildir::MakeSubdirectories(int dir, const std::string& path) {
  for (const char* sub : {"tmp", "new", "cur"}) {
    if (fs_.MkdirAt(dir, sub, 0700) != 0 && errno != EEXIST) {
      return Status::Posix("cannot create directory " + path + "/" + sub, errno);
    }
  }
  return Status::Ok();
}

Status Maildir::OpenFolder(std::string_view folder, FolderDirs* out) {
  std::string directory;
  Status s = FolderDirectory(folder, &directory);
  if (!s.ok()) return s;

  UniqueFd root;
  bool root_created = false;
  s = OpenRoot(&root, &root_created);
  if (!s.ok()) return s;
  // A Maildir++ root is itself a Maildir (INBOX): give a new one its subdirectories, and
  // finish one whose making was cut short (cur/ is made last).
  struct stat st;
  if (!directory.empty() &&
      (root_created || fs_.FstatAt(root.get(), "cur", &st, AT_SYMLINK_NOFOLLOW) != 0)) {
    root_created = true;  // synced below like a new one
    s = MakeSubdirectories(root.get(), root_);
    if (!s.ok()) return s;
  }

  UniqueFd folder_fd;
  bool folder_created = false;
  out->path = root_;
  if (!directory.empty()) {
    out->path = root_ + "/" + directory;
    s = OpenDirectory(root.get(), directory, out->path, /*create=*/true, &folder_fd,
                      &folder_created);
    if (!s.ok()) return s;
  }
  int dir = directory.empty() ? root.get() : folder_fd.get();

  // The common case costs two openat() calls and one fstatat(); the rest runs only for an
  // incomplete folder. A folder's last part to be made is its marker (maildirfolder in a
  // folder, cur/ in the root, made after tmp/ and new/): a folder without it is finished
  // here, whatever cut its making short (ENOSPC, a crash) or whoever made it.
  bool tmp_created = false, new_created = false;
  s = OpenDirectory(dir, "tmp", out->path + "/tmp", true, &out->tmp, &tmp_created);
  if (!s.ok()) return s;
  s = OpenDirectory(dir, "new", out->path + "/new", true, &out->new_, &new_created);
  if (!s.ok()) return s;
  if (folder_created) out->created = directory;
  bool incomplete = tmp_created || new_created || folder_created;
  if (!incomplete) {
    incomplete = fs_.FstatAt(dir, directory.empty() ? "cur" : "maildirfolder", &st,
                             AT_SYMLINK_NOFOLLOW) != 0;
  }
  if (incomplete) {
    s = MakeSubdirectories(dir, out->path);  // cur/, the one not opened above
    if (!s.ok()) return s;
    if (!directory.empty()) {
      int marker =
          fs_.OpenAt(dir, "maildirfolder", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (marker < 0) return Status::Posix("cannot create " + out->path + "/maildirfolder", errno);
      UniqueFd marker_fd(&fs_, marker);
      if (marker_fd.Close() != 0) {
        return Status::Posix("cannot close " + out->path + "/maildirfolder", errno);
      }
    }
    // Make the new entries durable before any message depends on them.
    s = SyncDirectory(dir, out->path);
    if (!s.ok()) return s;
  }
  if (folder_created || (root_created && !directory.empty())) {
    s = SyncDirectory(root.get(), root_);
    if (!s.ok()) return s;
  }
  if (out->subdir == "cur") {
    // A message with flags is published in cur/ (made above with the others).
    bool cur_created = false;
    s = OpenDirectory(dir, "cur", out->path + "/cur", true, &out->new_, &cur_created);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status Maildir::Deliver(std::string_view folder, std::string_view content, Delivery* out,
                        std::string_view flags) {
  FolderDirs dirs;
  if (!flags.empty()) {
    dirs.subdir = "cur";
    dirs.suffix = ":2," + std::string(flags);
  }
  Status s = OpenFolder(folder, &dirs);
  if (!s.ok()) return s;
  out->folder_path = dirs.path;
  out->subdir = dirs.subdir;
  out->warnings.clear();
  bool unsupported = false;
  if (!no_tmpfile_) {
    s = DeliverUnnamed(dirs, content, out, &unsupported);
    if (unsupported) no_tmpfile_ = true;
  }
  if (no_tmpfile_) s = DeliverNamed(dirs, content, out);
  if (s.ok() && subscribe_ && !dirs.created.empty()) {
    if (Status sub = Subscribe(dirs.created); !sub.ok()) {
      out->warnings.push_back(sub.message() + " (the message is in place; subscribe to " +
                              std::string(folder) + " in your mail client)");
    }
  }
  return s;
}

Status Maildir::Subscribe(const std::string& directory) {
  // Dovecot's protocol, so that mda and Dovecot never lose each other's change: the new
  // file is written as the dot-lock subscriptions.lock (O_EXCL), fsynced and renamed over
  // subscriptions; a lock left for 30 s is stale (Dovecot's SUBSCRIPTION_FILE_CHANGE_TIMEOUT).
  // Format: Dovecot 2.3 writes "V\t2\n\n" and then a line per mailbox, levels separated by
  // TAB; a file without that first line is the older one, levels separated by '.'.
  const std::string path = root_ + "/subscriptions";
  const std::string lock_path = path + ".lock";
  int rootfd = fs_.OpenAt(AT_FDCWD, root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (rootfd < 0) return Status::Posix("cannot subscribe: cannot open " + root_, errno);
  UniqueFd root(&fs_, rootfd);
  UniqueFd lock;
  for (int attempt = 0;; ++attempt) {
    int fd = fs_.OpenAt(root.get(), "subscriptions.lock",
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      lock = UniqueFd(&fs_, fd);
      break;
    }
    if (errno != EEXIST) return Status::Posix("cannot create " + lock_path, errno);
    struct stat st;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (fs_.FstatAt(root.get(), "subscriptions.lock", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        st.st_mtime + 30 < now.tv_sec) {
      fs_.UnlinkAt(root.get(), "subscriptions.lock", 0);  // stale: its writer is gone
      continue;
    }
    if (attempt >= 100) {
      return Status::Temporary("cannot subscribe: " + lock_path + " is held (for over 2 s)");
    }
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
  // From here the lock is ours: any failure removes it.
  TempFile lock_file(fs_, root.get(), "subscriptions.lock");
  std::string old;
  int in = fs_.OpenAt(root.get(), "subscriptions", O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (in < 0 && errno != ENOENT) return Status::Posix("cannot read " + path, errno);
  if (in >= 0) {
    UniqueFd input(&fs_, in);
    struct stat st;
    if (fs_.FstatAt(input.get(), "", &st, AT_EMPTY_PATH) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > 4 * 1024 * 1024) {
      return Status::Temporary(path + " is not a regular file of at most 4 MB; left alone");
    }
    char buffer[8192];
    for (;;) {
      ssize_t n = fs_.Read(input.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Posix("cannot read " + path, errno);
      if (n == 0) break;
      old.append(buffer, static_cast<size_t>(n));
    }
  }
  bool v2 = old.empty() || old.rfind("V\t2\n", 0) == 0;
  std::string line = directory.substr(1);  // ".Lists.dev": levels Lists, dev
  if (v2) std::replace(line.begin(), line.end(), '.', '\t');
  if (("\n" + old).find("\n" + line + "\n") != std::string::npos) return Status::Ok();
  std::string content = old;
  if (content.empty()) content = "V\t2\n\n";
  if (content.back() != '\n') content += '\n';
  content += line + "\n";
  Status s = WriteAll(fs_, lock.get(), content.data(), content.size(), lock_path);
  if (!s.ok()) return s;
  if (fs_.Fsync(lock.get()) != 0) return Status::Posix("cannot fsync " + lock_path, errno);
  if (lock.Close() != 0) return Status::Posix("cannot close " + lock_path, errno);
  if (fs_.Rename(lock_path.c_str(), path.c_str()) != 0)
    return Status::Posix("cannot rename " + lock_path + " to " + path, errno);
  lock_file.Forget();
  return SyncDirectory(root.get(), root_);
}

Status Maildir::SyncNew(FolderDirs& dirs, const std::string& name) {
  // The new entry must survive a crash before we tell Exim it is delivered. If that cannot
  // be promised, take the entry back: Exim retries (at worst a duplicate, if a reader saw it
  // in between; never a loss). If even the unlink fails, the complete file stays in new/
  // and the retry duplicates it: a duplicate is the price the design accepts, a loss is not.
  Status s = SyncDirectory(dirs.new_.get(), dirs.path + "/" + dirs.subdir);
  if (!s.ok()) fs_.UnlinkAt(dirs.new_.get(), name.c_str(), 0);
  return s;
}

Status Maildir::DeliverUnnamed(FolderDirs& dirs, std::string_view content, Delivery* out,
                               bool* unsupported) {
  // 1. An unnamed file in tmp/ (O_TMPFILE): invisible, and freed by the kernel on any
  // failure or crash until step 3 names it. Messages name it by the name it will get.
  std::string name = FormatUniqueName(NewUniqueNameParts(), content.size()) + dirs.suffix;
  const std::string tmp_path = dirs.path + "/tmp/" + name;
  int fd = fs_.OpenAt(dirs.tmp.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
      *unsupported = true;  // no O_TMPFILE on this file system (NFS) or kernel
      return Status::Ok();
    }
    return Status::Posix("cannot create " + tmp_path, errno);
  }
  UniqueFd file(&fs_, fd);

  // 2. Every byte, on disk, before the file gets a name.
  Status s = WriteAll(fs_, file.get(), content.data(), content.size(), tmp_path);
  if (!s.ok()) return s;
  if (fs_.Fsync(file.get()) != 0) return Status::Posix("cannot fsync " + tmp_path, errno);

  // 3. Publish: link it into new/ under a name nobody has (a taken name gets a fresh one).
  for (int attempt = 0;; ++attempt) {
    if (fs_.LinkFd(file.get(), dirs.new_.get(), name.c_str()) == 0) break;
    int err = errno;
    struct stat st;
    if (err != ENOENT && !LinkUnsupported(err) &&
        fs_.FstatAt(file.get(), "", &st, AT_EMPTY_PATH) == 0 &&
        IsSameFile(fs_, dirs.new_.get(), name, st)) {
      break;  // made after all
    }
    errno = err;
    if (errno == ENOENT || LinkUnsupported(errno)) {
      *unsupported = true;  // no /proc to link from, or no hard links: nothing was published
      return Status::Ok();
    }
    if (errno != EEXIST || attempt + 1 == kNameAttempts) {
      return Status::Posix("cannot move " + tmp_path + " into " + dirs.path + "/" + dirs.subdir,
                           errno);
    }
    name = FormatUniqueName(NewUniqueNameParts(), content.size()) + dirs.suffix;
  }
  if (file.Close() != 0) {
    int err = errno;
    fs_.UnlinkAt(dirs.new_.get(), name.c_str(), 0);
    return Status::Posix("cannot close " + tmp_path, err);
  }

  // 4. Durable, or taken back.
  s = SyncNew(dirs, name);
  if (!s.ok()) return s;
  out->name = name;
  return Status::Ok();
}

Status Maildir::DeliverNamed(FolderDirs& dirs, std::string_view content, Delivery* out) {
  // 1. tmp/NAME, exclusively, never through a symbolic link.
  UniqueNameParts parts = NewUniqueNameParts();
  std::string name;
  UniqueFd file;
  for (int attempt = 0;; ++attempt) {
    name = FormatUniqueName(parts, content.size());
    int fd = fs_.OpenAt(dirs.tmp.get(), name.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      file = UniqueFd(&fs_, fd);
      break;
    }
    if (errno != EEXIST || attempt + 1 == kNameAttempts) {
      return Status::Posix("cannot create " + dirs.path + "/tmp/" + name, errno);
    }
    parts = NewUniqueNameParts();
  }
  TempFile temp(fs_, dirs.tmp.get(), name);
  const std::string tmp_path = dirs.path + "/tmp/" + name;

  // 2. Every byte, on disk, before the name is published.
  Status s = WriteAll(fs_, file.get(), content.data(), content.size(), tmp_path);
  if (!s.ok()) return s;
  if (fs_.Fsync(file.get()) != 0) return Status::Posix("cannot fsync " + tmp_path, errno);
  if (file.Close() != 0) return Status::Posix("cannot close " + tmp_path, errno);

  // 3. Publish: link() into new/ under a name nobody has (a taken name gets a fresh one).
  std::string new_name = name + dirs.suffix;
  bool moved = false;  // renameat2 took the tmp/ file with it
  for (int attempt = 0;; ++attempt) {
    int rc = fs_.LinkAt(dirs.tmp.get(), name.c_str(), dirs.new_.get(), new_name.c_str());
    if (rc != 0 && !LinkUnsupported(errno)) {
      struct stat st;
      int saved = errno;
      if (fs_.FstatAt(dirs.tmp.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          IsSameFile(fs_, dirs.new_.get(), new_name, st)) {
        rc = 0;  // made after all
      }
      errno = saved;
    }
    if (rc != 0 && LinkUnsupported(errno)) {
      rc = fs_.RenameNoReplace(dirs.tmp.get(), name.c_str(), dirs.new_.get(), new_name.c_str());
      if (rc == 0) moved = true;
    }
    if (rc == 0) break;
    if (errno != EEXIST || attempt + 1 == kNameAttempts) {
      return Status::Posix("cannot move " + tmp_path + " into " + dirs.path + "/" + dirs.subdir,
                           errno);
    }
    new_name = FormatUniqueName(NewUniqueNameParts(), content.size()) + dirs.suffix;
  }
  if (moved) temp.Forget();

  // 4. Durable, or taken back.
  s = SyncNew(dirs, new_name);
  if (!s.ok()) return s;
  out->name = new_name;

  // 5. The tmp/ name is no longer needed. Failing to remove it loses nothing.
  if (!moved && temp.Remove() != 0) {
    out->warnings.push_back(Status::Posix("cannot remove " + tmp_path, errno).message());
  }
  return Status::Ok();
}

}  // namespace mda
