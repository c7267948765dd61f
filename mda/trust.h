// Trust: whether a file or directory can be changed only by the mailbox owner (or root).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "mda/fs.h"

namespace mda {

// Why `st` (of `path`) is not safe to trust, or "": it must belong to `uid` (a directory
// may belong to root) and be writable by nobody else (a sticky directory may be: others
// cannot replace what is in it).
std::string Untrusted(const struct stat& st, uid_t uid, const std::string& path, bool directory);

// Why the directory `dir`, or one of the `names` in it that exists, is not safe to trust,
// or "". A file must also be a regular file (not a link, not a FIFO). A trusted directory
// holding trusted files stays so: nobody else can put or swap anything there.
std::string UntrustedPlace(FileSystem& fs, const std::string& dir,
                           const std::vector<std::string>& names, uid_t uid);

}  // namespace mda
