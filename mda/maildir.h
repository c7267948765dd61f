// Maildir: atomic delivery of one message into a Maildir(++) folder, creating it on demand.
//
// The protocol (ARCHITECTURE.md, "Facts"): create tmp/NAME with O_EXCL|O_NOFOLLOW,
// write every byte, fsync, close, link() into new/ (renameat2 RENAME_NOREPLACE where the file
// system has no hard links), fsync new/, remove tmp/NAME. A file in new/ is always complete;
// a failure leaves nothing in new/ and removes what it put in tmp/.
// Where the file system has O_TMPFILE (ext4, xfs, btrfs, tmpfs; not NFS), the file in tmp/
// has no name at all until it is linked into new/: no tmp/ entry to create and remove (one
// directory update fewer to journal per delivery) and nothing left behind by a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "mda/fs.h"

namespace mda {

// The parts of a unique Maildir file name: SECONDS.MmicrosPpidQcounterRrandom.HOST,S=SIZE
struct UniqueNameParts {
  int64_t seconds = 0;
  int64_t micros = 0;
  int64_t pid = 0;
  uint64_t counter = 0;
  uint64_t random = 0;
  std::string host;  // raw host name; escaped when formatted
};
std::string FormatUniqueName(const UniqueNameParts& parts, size_t size);
// Fresh parts for this process: clock, pid, a per-process counter, getrandom(), hostname.
UniqueNameParts NewUniqueNameParts();

struct Delivery {
  std::string folder;                 // the folder's name as the rules say it (set by the caller)
  std::string folder_path;            // absolute path of the folder (the Maildir root for INBOX)
  std::string name;                   // the file's name in new/
  std::vector<std::string> warnings;  // delivered, but something deserves a look
  std::string path() const { return folder_path + "/new/" + name; }
};

class Maildir {
 public:
  Maildir(FileSystem& fs, std::string root) : fs_(fs), root_(std::move(root)) {}

  // Delivers `content` into `folder` (a name as the user writes it: INBOX, Junk, Lists/dev).
  // Not ok: nothing of this delivery is visible in new/ and its tmp/ file is removed.
  Status Deliver(std::string_view folder, std::string_view content, Delivery* out);

  const std::string& root() const { return root_; }

 private:
  struct FolderDirs {
    UniqueFd tmp;
    UniqueFd new_;
    std::string path;
  };
  Status OpenRoot(UniqueFd* root, bool* created);
  // Makes cur/ new/ tmp/ below `dir` where missing (EEXIST is fine).
  Status MakeSubdirectories(int dir, const std::string& path);
  Status OpenFolder(std::string_view folder, FolderDirs* out);
  // Opens the directory `name` below `parent` without following a symbolic link, creating it
  // (mode 0700) if `create` and it is missing. *created says whether this call made it.
  Status OpenDirectory(int parent, const std::string& name, const std::string& path, bool create,
                       UniqueFd* out, bool* created);
  Status SyncDirectory(int fd, const std::string& path);
  // The two ways to put `content` in new/; *unsupported: O_TMPFILE (or linking it) is not
  // available here and nothing was done, so the named way must serve.
  Status DeliverUnnamed(FolderDirs& dirs, std::string_view content, Delivery* out,
                        bool* unsupported);
  Status DeliverNamed(FolderDirs& dirs, std::string_view content, Delivery* out);
  // After new/NAME is linked: makes the entry durable, or takes it back.
  Status SyncNew(FolderDirs& dirs, const std::string& name);

  FileSystem& fs_;
  std::string root_;
  bool no_tmpfile_ = false;  // O_TMPFILE failed once: the named way for the other folders
};

}  // namespace mda
