// DuplicateStore: where deliveries are remembered, so that a message delivered once is not
// delivered again — the user's own file (file_store.h, the default) or a Redis shared by
// several delivery hosts (redis_store.h) — behind one interface.
//
// The order is the same for both: claim the key (another delivery of it waits), look up,
// deliver each folder not yet done, mark each after it is in place, mark the whole delivery
// complete and end the claim. Marks are written only after the delivery they record
// succeeded (RFC 7352's rule), so a deferred message is never taken for a duplicate on
// Exim's retry. A claim ends by itself when the process dies: the file store's lock is the
// kernel's; Redis's is a lease that expires.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "mda/fs.h"
#include "mda/redis_url.h"

namespace mda {

// What the rule file and the command line say about duplicates.
struct DedupConfig {
  int64_t period = 0;           // seconds a delivery is remembered; 0: off
  bool case_sensitive = false;  // keep the local part's case in the key
  std::string file;             // the file store (~/.mda/dedup.store) when not Redis
  std::optional<RedisAddress> redis;
  std::string password_file;       // Redis: the password, alone on the file's first line
  int timeout_ms = 5000;           // Redis: connecting, and each reply
  bool deliver_unchecked = false;  // Redis unreachable: deliver without the check (logged)
  bool enabled() const { return period > 0 && (redis || !file.empty()); }
};

// The key of a message for a recipient, or nullopt if the message has no Message-ID
// (never a duplicate): "ID FROM RECIPIENT". White space inside the ID (folding) is removed;
// FROM is the addr-spec of the message's first From address, lower-cased ("" if none): a
// sender who knows or guesses a coming Message-ID (a GitHub or ticket number) cannot make
// the real message a duplicate of theirs unless they also forge its From. The recipient's
// domain is lower-cased, and its local part too unless `case_sensitive`.
std::optional<std::string> DedupKey(std::string_view message_id, std::string_view from,
                                    std::string_view recipient, bool case_sensitive);

class DuplicateStore {
 public:
  // The mark of the whole delivery, beside the folders' marks.
  static constexpr const char* kComplete = "*";

  struct Lookup {
    std::set<std::string> targets;  // of the targets asked about, those already delivered
    bool complete = false;          // the whole delivery was done: a duplicate
    int64_t first_delivered = 0;    // unix time of the complete mark (or of the first target)
  };

  virtual ~DuplicateStore() = default;
  // Claims `key` for this delivery: waits (bounded) while another delivery holds it, then
  // says which of `targets` were delivered since `cutoff`, and whether all of it was.
  virtual Status Claim(const std::string& key, const std::vector<std::string>& targets,
                       int64_t cutoff, Lookup* out) = 0;
  // The same look-up without a claim, writing nothing (mdatest).
  virtual Status Find(const std::string& key, const std::vector<std::string>& targets,
                      int64_t cutoff, Lookup* out) = 0;
  // Marks `targets` (folders, or kComplete) delivered at `now`; marks already there keep
  // their first time; those before `cutoff` have expired. `last`: the claim ends with it.
  virtual Status Mark(const std::string& key, const std::vector<std::string>& targets, int64_t now,
                      int64_t cutoff, bool last) = 0;
  // Warnings for the log (a corrupt store replaced, a lease that ran out); cleared when taken.
  virtual std::vector<std::string> TakeWarnings() = 0;
  // The last failure was the store's server not answering (not a held claim, not a bad
  // reply): dedup-unreachable = deliver applies to it.
  virtual bool unreachable() const { return false; }
};

// mda: the store for one delivery. ok with *out empty: there is none (no home directory to
// keep the file in), or the file store is where others could change it (*warning says
// what to fix). Nothing is opened or connected before Claim.
Status OpenForDelivery(FileSystem& fs, const DedupConfig& config, const std::string& home,
                       uid_t uid, std::unique_ptr<DuplicateStore>* out, std::string* warning);
// mdatest: the store read-only; fails (nothing created) if there is none to read.
Status OpenForReading(FileSystem& fs, const DedupConfig& config,
                      std::unique_ptr<DuplicateStore>* out);

}  // namespace mda
