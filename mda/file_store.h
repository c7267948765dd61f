// FileStore: the user's own duplicate store, ~/.mda/dedup.store, with its locks in
// ~/.mda/dedup.lock; the default implementation of DuplicateStore.
//
// The store is one file per user, a hash table of fixed 32-byte slots in 4 KiB buckets
// (format in file_store.cc). A look-up is one pread(2), a mark one pwrite(2) under a short
// lock; nothing is fsynced per delivery (a mark lost in a crash costs a duplicate, never a
// message). Entries older than the dedup period are ignored and their slots reused, so
// expiry costs nothing and the file stays bounded; the table doubles (a new file, renamed
// into place) when a bucket fills. SQLite did the same job at 0.4-0.8 ms a delivery: every
// mda process is its first connection (WAL recovery, schema parse); this costs ~10 us.
//
// A claim is an OFD byte-range lock on the lock file, at an offset hashed from the key:
// held across the delivery, released by the kernel when the process dies, even by
// SIGKILL. The same file holds the table lock, which serialises marks and growth.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "mda/duplicate_store.h"
#include "mda/fs.h"

namespace mda {

// The store's file name in ~/.mda; the lock file beside it is dedup.lock.
inline constexpr const char* kDedupStoreName = "dedup.store";
inline constexpr const char* kDedupLockName = "dedup.lock";

class KeyLock;

class FileStore final : public DuplicateStore {
 public:
  // mda: the store at `path` (its lock file beside it), opened by the first Claim.
  FileStore(FileSystem& fs, std::string path);

  // Opens the store at `path`. Read-write (`lock_path` names the lock file, created 0600)
  // creates the store if it is missing; read-only opens nothing new, takes no lock, and
  // fails with kTemporary if there is no usable store. A store that is not one (bad
  // header, wrong size) is moved aside to PATH.corrupt-TIME and a new one created;
  // *warning says so.
  static Status Open(FileSystem& fs, const std::string& path, const std::string& lock_path,
                     bool read_only, std::unique_ptr<FileStore>* out, std::string* warning);
  ~FileStore() override;

  // Takes the key's lock (waiting up to a minute for another delivery of the message),
  // opens the table (creating it), and looks up.
  Status Claim(const std::string& key, const std::vector<std::string>& targets, int64_t cutoff,
               Lookup* out) override;
  Status Find(const std::string& key, const std::vector<std::string>& targets, int64_t cutoff,
              Lookup* out) override;
  // `last` changes nothing: the key's lock ends with this object (or the process).
  Status Mark(const std::string& key, const std::vector<std::string>& targets, int64_t now,
              int64_t cutoff, bool last) override;
  std::vector<std::string> TakeWarnings() override;
  uint64_t buckets() const { return buckets_; }

  static constexpr uint64_t kInitialBuckets = 16;    // 68 KiB: 2 048 slots
  static constexpr uint64_t kMaxBuckets = 1u << 18;  // 1 GiB: beyond it, the oldest go

 private:
  enum class Check { kValid, kMissing, kInvalid };
  // Opens the table; read-write creates it when missing or replaces it when corrupt,
  // taking locks on `lock_fd` (opened here when -1).
  Status OpenTable(bool read_only, int lock_fd, std::string* warning);
  Status OpenFile(Check* check);                      // (re)opens path_, reads the header
  Status Replace(bool exists, std::string* warning);  // under the table lock
  Status Grow(int64_t cutoff);                        // under the table lock
  Status LockTable(short type);
  void UnlockTable();
  uint64_t Tag(const std::string& key, std::string_view target) const;

  FileSystem& fs_;
  std::string path_, lock_path_;
  bool read_only_ = false;
  std::unique_ptr<KeyLock> key_lock_;  // the claim: before the table, which may share its fd
  UniqueFd fd_;                        // the table; not valid until opened
  UniqueFd own_lock_fd_;               // the lock file, when not the key lock's
  int lock_fd_ = -1;                   // own_lock_fd_ or the key lock's descriptor
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
  int fd() const { return fd_.get(); }  // the lock file, for the table lock to share

 private:
  KeyLock() = default;
  UniqueFd fd_;  // closing it releases the lock
};

}  // namespace mda
