// Trust: whether a file or directory can be changed only by the mailbox owner (or root).
#include "mda/trust.h"

#include <errno.h>
#include <fcntl.h>

namespace mda {

std::string Untrusted(const struct stat& st, uid_t uid, const std::string& path, bool directory) {
  if (st.st_uid != uid && !(directory && st.st_uid == 0)) {
    return path + " belongs to uid " + std::to_string(st.st_uid) + ", not to " +
           (uid == 0 ? std::string("root")
                     : "the mailbox owner (uid " + std::to_string(uid) + ")") +
           ": chown it";
  }
  bool sticky = directory && (st.st_mode & S_ISVTX);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky) {
    return path + " is writable by " + ((st.st_mode & S_IWOTH) ? "everyone" : "its group") +
           ", so others could change it: chmod go-w " + path;
  }
  return "";
}

std::string UntrustedPlace(FileSystem& fs, const std::string& dir,
                           const std::vector<std::string>& names, uid_t uid) {
  struct stat st;
  if (fs.FstatAt(AT_FDCWD, dir.c_str(), &st, 0) != 0)
    return "";  // nothing there yet: made by us, or no place
  if (std::string why = Untrusted(st, uid, dir, true); !why.empty()) return why;
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    if (fs.FstatAt(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode)) return path + " is not a regular file: remove it";
    if (std::string why = Untrusted(st, uid, path, false); !why.empty()) return why;
  }
  return "";
}

}  // namespace mda
