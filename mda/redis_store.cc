// RedisStore: duplicate marks and delivery leases on a Redis server (the connection is
// redis_connection.cc's).
#include "mda/redis_store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "base/host.h"
#include "mda/sha256.h"

namespace mda {
namespace {

// KEYS: lease, marks. ARGV: token, lease ms, a dead holder's token or "". Takes the lease
// (free, or held by that dead process) and reads the marks; or names the holder and how
// long its lease has left.
constexpr const char* kClaimScript = R"(
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, redis.call('HGETALL', KEYS[2])}
end
return {0, redis.call('PTTL', KEYS[1]), holder}
)";

// KEYS: lease, marks. ARGV: token, now, cutoff, period s, lease ms, last, targets...
// A mark keeps its first time unless that has expired; the hash lives a period after its
// last mark. Then the lease: renewed, or ended by the last mark, if it is still ours.
constexpr const char* kMarkScript = R"(
local cutoff = tonumber(ARGV[3])
for i = 7, #ARGV do
  local t = tonumber(redis.call('HGET', KEYS[2], ARGV[i]))
  if not t or t < cutoff then redis.call('HSET', KEYS[2], ARGV[i], ARGV[2]) end
end
redis.call('EXPIRE', KEYS[2], ARGV[4])
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[6] == '1' then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1
)";

// KEYS: lease. ARGV: token. Ends the lease if it is still ours.
constexpr const char* kReleaseScript = R"(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)";

constexpr size_t kLongestPlainId = 200;
constexpr size_t kLongestRecipient = 256;  // RFC 5321's longest path

// A duplicate key ("MESSAGE-ID FROM RECIPIENT") as Redis keys: PREFIX{RECIPIENT}:MESSAGE-ID
// FROM (without " FROM" when the message has no From). The recipient comes first, so that
// an ACL can give each mailbox owner only keys that start with their own address
// (~mda:dedup:{bob@example.org}:*, INSTALL); a Message-ID longer than kLongestPlainId, or a
// From address longer than kLongestRecipient, is named by its SHA-256; an address longer
// than SMTP allows, all is.
std::string RedisKey(const char* prefix, const std::string& key) {
  size_t first = key.find(' ');  // the Message-ID and the From address have none (DedupKey)
  size_t second = first == std::string::npos ? std::string::npos : key.find(' ', first + 1);
  std::string id = key.substr(0, first);
  std::string from = second == std::string::npos ? "" : key.substr(first + 1, second - first - 1);
  std::string recipient = second == std::string::npos ? "" : key.substr(second + 1);
  if (recipient.size() > kLongestRecipient) return prefix + ("{sha256:" + Sha256Hex(key) + "}");
  if (id.size() > kLongestPlainId) id = "sha256:" + Sha256Hex(id);
  if (from.size() > kLongestRecipient) from = "sha256:" + Sha256Hex(from);
  return prefix + ("{" + recipient + "}:" + id + (from.empty() ? "" : " " + from));
}

// A lease's holder is "HOST:PID:RANDOM". Held by a process of this host that is gone (it
// was killed: nothing else leaves a lease behind): the lease can be taken over at once
// instead of waiting for it to expire. A PID reused since only means waiting.
bool HolderIsDead(const std::string& holder) {
  size_t last = holder.rfind(':');
  size_t before =
      last == std::string::npos || last == 0 ? std::string::npos : holder.rfind(':', last - 1);
  if (before == std::string::npos || holder.substr(0, before) != HostName()) return false;
  std::string pid_text = holder.substr(before + 1, last - before - 1);
  char* end = nullptr;
  long pid = std::strtol(pid_text.c_str(), &end, 10);
  if (pid_text.empty() || *end != '\0' || pid <= 0 || pid == getpid()) return false;
  return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

std::string RandomToken() {
  unsigned char bytes[16];
  RandomBytes(bytes, sizeof bytes, /*block=*/true);
  std::string token = HostName() + ":" + std::to_string(getpid()) + ":";
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  return token;
}

}  // namespace

RedisStore::RedisStore(FileSystem& fs, const DedupConfig& config)
    : config_(config), connection_(fs, *config.redis, config.password_file, config.timeout_ms) {}

RedisStore::~RedisStore() { Release(); }

Status RedisStore::Run(const std::vector<std::string>& args, const char* what, RedisReply* reply) {
  Status s = connection_.Run(args, what, reply);
  if (!s.ok())
    return Status::Temporary("duplicate store " + config_.redis->url + ": " + s.message());
  return s;
}

std::string RedisStore::MarksKey(const std::string& key) { return RedisKey("mda:dedup:", key); }
std::string RedisStore::LeaseKey(const std::string& key) { return RedisKey("mda:lease:", key); }

namespace {

// HGETALL's pairs, as a look-up of `targets` (empty: only completeness).
void ReadMarks(const redisReply* pairs, const std::vector<std::string>& targets, int64_t cutoff,
               DuplicateStore::Lookup* out) {
  *out = DuplicateStore::Lookup();
  if (pairs == nullptr || pairs->type != REDIS_REPLY_ARRAY) return;
  int64_t first = 0;
  for (size_t i = 0; i + 1 < pairs->elements; i += 2) {
    const redisReply* field = pairs->element[i];
    const redisReply* value = pairs->element[i + 1];
    if (field->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING) continue;
    std::string name(field->str, field->len);
    int64_t when = std::strtoll(std::string(value->str, value->len).c_str(), nullptr, 10);
    if (when < cutoff) continue;
    if (name == DuplicateStore::kComplete) {
      out->complete = true;
      out->first_delivered = when;
      continue;
    }
    for (const std::string& t : targets) {
      if (t == name) {
        out->targets.insert(name);
        if (first == 0 || when < first) first = when;
      }
    }
  }
  if (!out->complete) out->first_delivered = first;
}

}  // namespace

Status RedisStore::Claim(const std::string& key, const std::vector<std::string>& targets,
                         int64_t cutoff, Lookup* out) {
  std::string lease = LeaseKey(key), token = RandomToken();
  int64_t deadline = MonotonicMs() + kWaitMs;
  int64_t pause_ms = 1;
  std::string dead;  // the token of a holder found dead
  for (;;) {
    RedisReply r;
    Status s = Run(
        {"EVAL", kClaimScript, "2", lease, MarksKey(key), token, std::to_string(kLeaseMs), dead},
        "claiming the key", &r);
    if (!s.ok()) return s;
    bool claimed = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                   r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 1;
    if (claimed) {
      token_ = token;
      lease_key_ = lease;
      ReadMarks(r->element[1], targets, cutoff, out);
      if (!dead.empty()) {
        warnings_.push_back("duplicate store " + config_.redis->url +
                            ": took over the lease of a killed delivery (" + dead + ")");
      }
      return Status::Ok();
    }
    bool answer = r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
                  r->element[1]->type == REDIS_REPLY_INTEGER &&
                  r->element[2]->type == REDIS_REPLY_STRING;
    int64_t left = answer ? r->element[1]->integer : -1;
    std::string holder = answer ? std::string(r->element[2]->str, r->element[2]->len) : "";
    if (!holder.empty() && holder != dead && HolderIsDead(holder)) {
      dead = holder;
      continue;
    }
    int64_t now = MonotonicMs();
    if (now >= deadline) {
      return Status::Temporary("duplicate store " + config_.redis->url +
                               ": another delivery of this message held it for " +
                               std::to_string(kWaitMs / 1000) + " s");
    }
    // Another delivery holds it: wait for its end (usually a few ms), or for it to expire.
    int64_t sleep_ms = std::min<int64_t>(pause_ms, deadline - now);
    if (left > 0) sleep_ms = std::min(sleep_ms, left);
    struct timespec ts = {static_cast<time_t>(sleep_ms / 1000),
                          static_cast<long>(sleep_ms % 1000) * 1000000};
    nanosleep(&ts, nullptr);
    pause_ms = std::min<int64_t>(pause_ms * 2, 50);
  }
}

Status RedisStore::Find(const std::string& key, const std::vector<std::string>& targets,
                        int64_t cutoff, Lookup* out) {
  RedisReply r;
  Status s = Run({"HGETALL", MarksKey(key)}, "looking up", &r);
  if (!s.ok()) return s;
  ReadMarks(r.get(), targets, cutoff, out);
  return Status::Ok();
}

Status RedisStore::Mark(const std::string& key, const std::vector<std::string>& targets,
                        int64_t now, int64_t cutoff, bool last) {
  std::vector<std::string> args = {"EVAL",
                                   kMarkScript,
                                   "2",
                                   LeaseKey(key),
                                   MarksKey(key),
                                   token_,
                                   std::to_string(now),
                                   std::to_string(cutoff),
                                   std::to_string(std::max<int64_t>(1, now - cutoff)),
                                   std::to_string(kLeaseMs),
                                   last ? "1" : "0"};
  args.insert(args.end(), targets.begin(), targets.end());
  RedisReply r;
  Status s = Run(args, "marking the delivery", &r);
  if (!s.ok()) return s;
  bool held = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
  if (!held && !token_.empty()) {
    warnings_.push_back("duplicate store " + config_.redis->url +
                        ": this delivery outlasted its lease (" + std::to_string(kLeaseMs / 1000) +
                        " s), so another delivery of the message may have run");
  }
  if (last) token_.clear();
  return Status::Ok();
}

void RedisStore::Release() {
  if (token_.empty() || !connection_.connected()) return;
  RedisReply r;
  (void)Run({"EVAL", kReleaseScript, "1", lease_key_, token_}, "ending the claim", &r);
  token_.clear();
}

std::vector<std::string> RedisStore::TakeWarnings() {
  std::vector<std::string> all = std::move(warnings_);
  warnings_.clear();
  return all;
}

}  // namespace mda
