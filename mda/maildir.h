// Maildir: atomic delivery of one message into a Maildir(++) folder, creating it on demand.
//
// The protocol (ARCHITECTURE.md, "Facts"): create tmp/NAME with O_EXCL|O_NOFOLLOW,
// write every byte, fsync, close, link() into new/ (renameat2 RENAME_NOREPLACE where the file
// system has no hard links), fsync new/, remove tmp/NAME. A file in new/ is always complete;
// a failure leaves nothing in new/ and removes what it put in tmp/.
// Where the file system has O_TMPFILE (ext4, xfs, btrfs, tmpfs; not NFS), the file in tmp/
// has no name at all until it is linked into new/: no tmp/ entry to create and remove (one
// directory update fewer to journal per delivery) and nothing left behind by a crash.
// A message stored with flags (`flag seen`) goes through the same steps into cur/ instead,
// as NAME:2,FLAGS (the Maildir convention for a message a reader has already seen).
// A folder this delivery creates is added to the Maildir's `subscriptions` file (Dovecot's),
// so that IMAP clients that show subscribed folders show it.
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
  std::string name;                   // the file's name in new/ (or cur/)
  std::string subdir = "new";         // "cur" for a message stored with flags
  std::vector<std::string> warnings;  // delivered, but something deserves a look
  std::string path() const { return folder_path + "/" + subdir + "/" + name; }
};

class Maildir {
 public:
  // `subscribe`: a folder created here is subscribed (set subscribe = off: not).
  Maildir(FileSystem& fs, std::string root, bool subscribe = true)
      : fs_(fs), root_(std::move(root)), subscribe_(subscribe) {}

  // Delivers `content` into `folder` (a name as the user writes it: INBOX, Junk, Lists/dev),
  // in new/, or with `flags` (Maildir letters in ASCII order, "S", "FS") in cur/.
  // Not ok: nothing of this delivery is visible and its tmp/ file is removed. A folder
  // that could not be subscribed is a warning: the message is in place.
  Status Deliver(std::string_view folder, std::string_view content, Delivery* out,
                 std::string_view flags = {});

  const std::string& root() const { return root_; }

 private:
  struct FolderDirs {
    UniqueFd tmp;
    UniqueFd new_;  // new/, or cur/ for a message with flags
    std::string path;
    std::string subdir = "new";
    std::string suffix;   // ":2,FLAGS" for a message in cur/
    std::string created;  // the folder's directory (".Lists.dev") when this made it
  };
  Status OpenRoot(UniqueFd* root, bool* created);
  // Makes cur/ new/ tmp/ below `dir` where missing (EEXIST is fine).
  Status MakeSubdirectories(int dir, const std::string& path);
  Status OpenFolder(std::string_view folder, FolderDirs* out);
  // Adds the folder in `directory` (".Lists.dev") to the Maildir's subscriptions file.
  Status Subscribe(const std::string& directory);
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
  bool subscribe_;
  bool no_tmpfile_ = false;  // O_TMPFILE failed once: the named way for the other folders
};

}  // namespace mda
