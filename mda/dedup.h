// Dedup: duplicate suppression that never drops a message. Key: Message-ID + From + recipient.
// Order: lock the key, look up, deliver every target, mark each, mark complete, unlock —
// marks are written only after the delivery they record succeeded (RFC 7352's rule), so a
// deferred message is never taken for a duplicate on Exim's retry.
//
// The store is one file per user, a hash table of fixed 32-byte slots in 4 KiB buckets
// (format in dedup.cc). A look-up is one pread(2), a mark one pwrite(2) under a short lock;
// nothing is fsynced per delivery (a mark lost in a crash costs a duplicate, never a
// message). Entries older than the dedup period are ignored and their slots reused, so
// expiry costs nothing and the file stays bounded; the table doubles (a new file, renamed
// into place) when a bucket fills. SQLite did the same job at 0.4-0.8 ms a delivery: every
// mda process is its first connection (WAL recovery, schema parse); this costs ~10 us.
//
// The per-key lock is an OFD byte-range lock on a lock file, at an offset hashed from the
// key: held across the delivery, released by the kernel when the process dies, even by
// SIGKILL. The same file holds the table lock, which serialises marks and growth.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mda/fs.h"
#include "mda/status.h"

namespace mda {

// The store's file name in ~/.mda; the lock file beside it is dedup.lock.
inline constexpr const char* kDedupStoreName = "dedup.store";
inline constexpr const char* kDedupLockName = "dedup.lock";

// The key of a message for a recipient, or nullopt if the message has no Message-ID
// (never a duplicate): "ID FROM RECIPIENT". White space inside the ID (folding) is removed;
// FROM is the addr-spec of the message's first From address, lower-cased ("" if none): a
// sender who knows or guesses a coming Message-ID (a GitHub or ticket number) cannot make
// the real message a duplicate of theirs unless they also forge its From. The recipient's
// domain is lower-cased, and its local part too unless `case_sensitive`.
std::optional<std::string> DedupKey(std::string_view message_id, std::string_view from,
                                    std::string_view recipient, bool case_sensitive);

class DedupStore {
 public:
  struct Lookup {
    std::set<std::string> targets;  // of the folders asked about, those already delivered
    bool complete = false;          // the whole delivery was done: a duplicate
    int64_t first_delivered = 0;    // unix time of the complete mark (or of the first target)
  };

  // Opens the store at `path`. Read-write (`lock_path` names the lock file, created 0600)
  // creates the store if it is missing; read-only opens nothing new, takes no lock, and
  // fails with kTemporary if there is no usable store. A store that is not one (bad
  // header, wrong size) is moved aside to PATH.corrupt-TIME and a new one created;
  // *warning says so.
  // `lock_fd`: the lock file already open (mda's KeyLock), shared instead of opened again.
  static Status Open(FileSystem& fs, const std::string& path, const std::string& lock_path,
                     bool read_only, std::unique_ptr<DedupStore>* out, std::string* warning,
                     int lock_fd = -1);
  ~DedupStore();

  // Entries marked before `cutoff` (unix time) have expired and are not found.
  Status Find(const std::string& key, const std::vector<std::string>& targets, int64_t cutoff,
              Lookup* out);
  // Marks `targets` (folder names, or kComplete) delivered for `key` at `now`; an entry
  // already there keeps its first time. Expired slots (before `cutoff`) are reused.
  Status Mark(const std::string& key, const std::vector<std::string>& targets, int64_t now,
              int64_t cutoff);
  static constexpr const char* kComplete = "*";

  // Warnings from a Mark (a corrupt store replaced, a failed growth); cleared when taken.
  std::vector<std::string> TakeWarnings() { return std::move(warnings_); }
  uint64_t buckets() const { return buckets_; }

  static constexpr uint64_t kInitialBuckets = 16;    // 68 KiB: 2 048 slots
  static constexpr uint64_t kMaxBuckets = 1u << 18;  // 1 GiB: beyond it, the oldest go

 private:
  explicit DedupStore(FileSystem& fs) : fs_(fs) {}
  enum class Check { kValid, kMissing, kInvalid };
  Status OpenFile(Check* check);                      // (re)opens path_, reads the header
  Status Replace(bool exists, std::string* warning);  // under the table lock
  Status Grow(int64_t cutoff);                        // under the table lock
  Status LockTable(short type);
  void UnlockTable();
  uint64_t Tag(const std::string& key, std::string_view target) const;

  FileSystem& fs_;
  std::string path_, lock_path_;
  bool read_only_ = false;
  int fd_ = -1;
  int lock_fd_ = -1;
  bool owns_lock_fd_ = true;
  uint64_t buckets_ = 0;
  uint64_t k0_ = 0, k1_ = 0;
  std::vector<std::string> warnings_;
};

// An exclusive lock on one key, held until destruction (or process death).
class KeyLock {
 public:
  // Blocks up to `timeout_seconds` for the lock on `key` in `lock_path` (created 0600).
  static Status Acquire(FileSystem& fs, const std::string& lock_path, const std::string& key,
                        int timeout_seconds, std::unique_ptr<KeyLock>* out);
  ~KeyLock();
  int fd() const { return fd_; }  // the lock file, for DedupStore::Open to share

 private:
  explicit KeyLock(FileSystem& fs) : fs_(fs) {}
  FileSystem& fs_;
  int fd_ = -1;
};

}  // namespace mda
