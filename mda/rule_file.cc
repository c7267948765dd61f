// RuleFile: the user's rule file read safely and parsed, includes too.
#include "mda/rule_file.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "mda/trust.h"
#include "rules/parser.h"

namespace mda {
namespace {

// Why `st` (the file or its directory) is not safe to take rules from, or "".
std::string Unsafe(const struct stat& st, uid_t uid, const std::string& path, bool directory) {
  std::string why = Untrusted(st, uid, path, directory);
  if (why.empty()) return why;
  return why + (uid == 0 ? " (mda only takes site rules that root alone controls)"
                         : " (mda only takes rules that the mailbox owner alone controls)");
}

// Why a rule file reached through symbolic links could be swapped by others, or "": the
// directory of every link on the way and every directory above the file it reaches must
// be the owner's (or root's) and writable by nobody else (a link into a mode-777 directory
// would let others choose the rules).
std::string UnsafeLinks(FileSystem& fs, const std::string& path, uid_t uid) {
  auto parent = [](const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? std::string(".")
           : slash == 0               ? std::string("/")
                                      : p.substr(0, slash);
  };
  auto trusted_dir = [&](const std::string& dir) -> std::string {
    struct stat st;
    if (fs.FstatAt(AT_FDCWD, dir.c_str(), &st, 0) != 0)
      return Status::Posix("cannot stat " + dir, errno).message();
    return Unsafe(st, uid, dir, true);
  };
  std::string current = path;
  for (int hops = 0;; ++hops) {
    struct stat st;
    if (fs.FstatAt(AT_FDCWD, current.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISLNK(st.st_mode))
      break;
    if (hops == 40) return path + ": too many symbolic links";
    char target[4096];
    ssize_t n = fs.ReadLinkAt(AT_FDCWD, current.c_str(), target, sizeof target - 1);
    if (n < 0) return Status::Posix("cannot read the link " + current, errno).message();
    std::string next(target, static_cast<size_t>(n));
    if (next.empty() || next[0] != '/') next = parent(current) + "/" + next;
    if (std::string why = trusted_dir(parent(next)); !why.empty())
      return "the rule file " + path + " is a link: " + why;
    current = next;
  }
  // realpath(3) is libc's walk (lstat and readlink of every component), not one system call:
  // it stays outside the seam. Only rule files reached through a link get here, and each
  // directory it names is then checked through the seam.
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr)
    return Status::Posix("cannot resolve " + path, errno).message();
  for (std::string dir = parent(resolved);; dir = parent(dir)) {
    if (std::string why = trusted_dir(dir); !why.empty())
      return "the rule file " + path + " is a link: " + why;
    if (dir == "/") break;
  }
  return "";
}

// Reads one rule file, checking it and its directory first.
Status ReadChecked(FileSystem& fs, const std::string& path, uid_t uid, std::string* content,
                   std::string* identity, bool* found) {
  *found = false;
  int fd = fs.OpenAt(AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::Ok();
    if (err == EACCES || err == ELOOP || err == ENOTDIR)
      return Status::BadInput(Status::Posix("cannot open " + path, err).message());
    return Status::Posix("cannot open rule file " + path, err);
  }
  UniqueFd file(&fs, fd);
  *found = true;
  struct stat st;
  if (fs.FstatAt(fd, "", &st, AT_EMPTY_PATH) != 0)
    return Status::Posix("cannot stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::BadInput(path + " is not a regular file");
  if (std::string why = Unsafe(st, uid, path, false); !why.empty()) return Status::BadInput(why);
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat dst;
  if (fs.FstatAt(AT_FDCWD, dir.c_str(), &dst, 0) != 0)
    return Status::Posix("cannot stat " + dir, errno);
  if (std::string why = Unsafe(dst, uid, dir, true); !why.empty()) return Status::BadInput(why);
  struct stat lst;
  if (fs.FstatAt(AT_FDCWD, path.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode)) {
    if (std::string why = UnsafeLinks(fs, path, uid); !why.empty()) return Status::BadInput(why);
  }
  if (static_cast<size_t>(st.st_size) > kMaxRuleFileSize) {
    return Status::BadInput(path + " is larger than 1 MiB; that is not a rule file");
  }
  content->assign(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < content->size()) {
    ssize_t n = fs.Read(fd, content->data() + done, content->size() - done);
    if (n < 0) return Status::Posix("cannot read " + path, errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  content->resize(done);
  *identity = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  return Status::Ok();
}

}  // namespace

Status LoadRuleFile(FileSystem& fs, const std::string& path, uid_t uid, const std::string& home,
                    std::span<const rules::SettingSpec> settings, rules::RuleSet* out, bool* found,
                    bool site) {
  std::string content, identity;
  Status s = ReadChecked(fs, path, uid, &content, &identity, found);
  if (!s.ok() || !*found) return s;
  rules::ParseOptions options;
  options.home = home;
  options.settings = settings;
  options.site = site;
  options.read_include = [&fs, uid](const std::string& include, std::string* text,
                                    std::string* id) {
    bool exists = false;
    Status r = ReadChecked(fs, include, uid, text, id, &exists);
    if (r.ok() && !exists) return Status::BadInput("no such file");
    return r;
  };
  return rules::ParseRules(path, content, identity, options, out);
}

}  // namespace mda
