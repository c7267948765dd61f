// Dedup: duplicate suppression that never drops a message. Key: Message-ID + recipient.
// Order: lock the key, look up, deliver every target, mark each, mark complete, unlock —
// marks are written only after the delivery they record succeeded (RFC 7352's rule), so a
// deferred message is never taken for a duplicate on Exim's retry.
//
// The store is SQLite (WAL, synchronous=NORMAL: a crash loses at most the latest marks,
// which costs a duplicate, never a message; no fsync per delivery). The per-key lock is an
// OFD byte-range lock on a lock file, at an offset hashed from the key: held across the
// delivery, released by the kernel when the process dies, even by SIGKILL.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mda/status.h"

struct sqlite3;

namespace mda {

// The key of a message for a recipient, or nullopt if the message has no Message-ID
// (never a duplicate). White space inside the ID (folding) is removed; the recipient's
// domain is lower-cased, and its local part too unless `case_sensitive`.
std::optional<std::string> DedupKey(std::string_view message_id, std::string_view recipient,
                                    bool case_sensitive);

class DedupStore {
 public:
  struct Lookup {
    std::set<std::string> targets;  // folders already delivered for this key
    bool complete = false;          // the whole delivery was done: a duplicate
    int64_t first_delivered = 0;    // unix time of the complete mark (or of the first target)
  };

  // Opens (creating it 0600) the store at `path`; read-only opens nothing new and fails
  // with kTemporary if there is no store. A corrupt store is moved aside to
  // PATH.corrupt-TIME and a new one created; *warning says so.
  static Status Open(const std::string& path, bool read_only, std::unique_ptr<DedupStore>* out,
                     std::string* warning);
  ~DedupStore();

  Status Find(const std::string& key, Lookup* out);
  // Marks `targets` (folder names, or kComplete) delivered for `key`, in one transaction.
  Status Mark(const std::string& key, const std::vector<std::string>& targets, int64_t now);
  static constexpr const char* kComplete = "*";
  // After a delivery, without waiting for anyone: deletes up to `batch` entries older
  // than `cutoff`, and checkpoints the WAL of the store at `path` once it exceeds kWalLimit.
  void Maintain(const std::string& path, int64_t cutoff, int batch);
  static constexpr off_t kWalLimit = 256 * 1024;

 private:
  DedupStore() = default;
  sqlite3* db_ = nullptr;
};

// An exclusive lock on one key, held until destruction (or process death).
class KeyLock {
 public:
  // Blocks up to `timeout_seconds` for the lock on `key` in `lock_path` (created 0600).
  static Status Acquire(const std::string& lock_path, const std::string& key, int timeout_seconds,
                        std::unique_ptr<KeyLock>* out);
  ~KeyLock();

 private:
  KeyLock() = default;
  int fd_ = -1;
};

}  // namespace mda
