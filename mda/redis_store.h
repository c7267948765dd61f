// RedisStore: the duplicate store shared by several delivery hosts, on a Redis server.
//
// Each duplicate key has two Redis keys, mda:dedup:{RECIPIENT}:ID and mda:lease:{...}:ID: a
// hash of marks (folder or "*" -> unix time), which expires a dedup period after its last
// mark, and a lease (a random token "HOST:PID:RANDOM", set only where none is, with a
// time to live) held while a delivery is under way. The lease is what makes 20 concurrent
// deliveries on several hosts one copy: the others wait for it to end, then find the
// marks. It ends with the last mark (compare-and-delete, so a delivery never ends
// another's), or by expiring when its host died; a lease whose process is gone from this
// host is taken over at once. Each step is one Lua script, so one round trip and atomic.
//
// Every connect and every reply is bounded by dedup-timeout; the server not answering is
// unreachable(), and the caller defers (exit 75) or, if configured, delivers unchecked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mda/duplicate_store.h"
#include "mda/fs.h"
#include "mda/redis_connection.h"

namespace mda {

class RedisStore : public DuplicateStore {
 public:
  RedisStore(FileSystem& fs, const DedupConfig& config);
  ~RedisStore() override;  // ends a claim still held
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  Status Claim(const std::string& key, const std::vector<std::string>& targets, int64_t cutoff,
               Lookup* out) override;
  Status Find(const std::string& key, const std::vector<std::string>& targets, int64_t cutoff,
              Lookup* out) override;
  Status Mark(const std::string& key, const std::vector<std::string>& targets, int64_t now,
              int64_t cutoff, bool last) override;
  std::vector<std::string> TakeWarnings() override;
  bool unreachable() const override { return connection_.unreachable(); }

  // The Redis keys of a duplicate key (a long key is named by its SHA-256).
  static std::string MarksKey(const std::string& key);
  static std::string LeaseKey(const std::string& key);

  static constexpr int kLeaseMs = 120 * 1000;  // longer than any delivery; renewed by each mark
  static constexpr int kWaitMs = 60 * 1000;    // for another delivery's lease, at most

 private:
  // Runs one command; a failure names the store.
  Status Run(const std::vector<std::string>& args, const char* what, RedisReply* reply);
  void Release();

  DedupConfig config_;
  RedisConnection connection_;
  std::string token_;      // this delivery's lease, when claimed
  std::string lease_key_;  // ... and the lease's key
  std::vector<std::string> warnings_;
};

}  // namespace mda
