// RedisStore: duplicate marks and delivery leases on a Redis server, through hiredis.
//
// mda connects by itself and hands hiredis the connected socket: mda is a static program,
// and getaddrinfo would load NSS modules into it (one crashed it, see envelope.cc). So a
// host is an IP address or a name in /etc/hosts, and the connect has its own timeout.
#include "mda/redis_store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

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

int64_t MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// An address for `host`: an IP literal, or the first /etc/hosts line naming it.
bool Resolve(const std::string& host, uint16_t port, sockaddr_storage* out, socklen_t* len) {
  auto literal = [&](const std::string& text) {
    std::memset(out, 0, sizeof *out);
    auto* v4 = reinterpret_cast<sockaddr_in*>(out);
    if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(port);
      *len = sizeof *v4;
      return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
    std::string address = text, zone;
    if (size_t pct = text.find('%'); pct != std::string::npos) {
      address = text.substr(0, pct);
      zone = text.substr(pct + 1);
    }
    if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(port);
      if (!zone.empty()) v6->sin6_scope_id = if_nametoindex(zone.c_str());
      *len = sizeof *v6;
      return true;
    }
    return false;
  };
  if (literal(host)) return true;
  // Read without iostreams, which mda does not otherwise link (their start-up cost).
  std::string hosts;
  int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) hosts.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  size_t start = 0;
  while (start < hosts.size()) {
    size_t end = hosts.find('\n', start);
    if (end == std::string::npos) end = hosts.size();
    std::string line = hosts.substr(start, end - start);
    start = end + 1;
    line = line.substr(0, line.find('#'));
    std::vector<std::string> fields;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
      if (j > i) fields.push_back(line.substr(i, j - i));
      i = j;
    }
    for (size_t f = 1; f < fields.size(); ++f) {
      if (strcasecmp(fields[f].c_str(), host.c_str()) == 0 && literal(fields[0])) return true;
    }
  }
  return false;
}

// The first line of the password file, without its line break.
Status ReadPassword(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::Posix("cannot open dedup-password-file " + path, errno);
  struct stat st;
  char buffer[4096];
  ssize_t n = -1;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size < static_cast<off_t>(sizeof buffer)) {
    do n = read(fd, buffer, sizeof buffer);
    while (n < 0 && errno == EINTR);
  }
  int err = errno;
  close(fd);
  if (n < 0)
    return Status::Posix(
        "cannot read dedup-password-file " + path + " (a regular file under 4 KiB)", err);
  std::string password(buffer, static_cast<size_t>(n));
  password = password.substr(0, password.find('\n'));
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty())
    return Status::Temporary("dedup-password-file " + path + " has no password on its first line");
  *out = std::move(password);
  return Status::Ok();
}

std::string HostName() {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  return host;
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
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    std::memcpy(bytes, &ts, sizeof ts < sizeof bytes ? sizeof ts : sizeof bytes);
  }
  std::string token = HostName() + ":" + std::to_string(getpid()) + ":";
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  return token;
}

// Redis's answers that mean "not now" rather than "wrong": retried later, like no answer.
bool ServerUnavailable(std::string_view error) {
  for (std::string_view prefix :
       {"LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN"}) {
    if (error.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

// Why a reply did not come: the time-out (SO_RCVTIMEO gives EAGAIN), or what hiredis saw.
std::string NoAnswer(const redisContext* context, int timeout_ms) {
  if (context->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return "no answer within " + std::to_string(timeout_ms) + " ms";
  }
  if (context->err == REDIS_ERR_EOF) return "the server closed the connection";
  return std::string("connection failed: ") + context->errstr;
}

}  // namespace

RedisStore::RedisStore(const DedupConfig& config) : config_(config) {}

RedisStore::~RedisStore() {
  Release();
  if (context_ != nullptr) redisFree(context_);
}

std::string RedisStore::MarksKey(const std::string& key) { return RedisKey("mda:dedup:", key); }
std::string RedisStore::LeaseKey(const std::string& key) { return RedisKey("mda:lease:", key); }

Status RedisStore::Failed(const std::string& what, bool unreachable) {
  unreachable_ = unreachable;
  Status failure = Status::Temporary("duplicate store " + config_.redis->url + ": " + what);
  if (unreachable) {
    // The connection is in an unknown state: dropped. And a server that did not answer
    // once is not waited for again by this process (mdatest's next message, a later mark).
    if (context_ != nullptr) redisFree(context_);
    context_ = nullptr;
    gave_up_ = failure;
  }
  return failure;
}

Status RedisStore::Connect() {
  if (!gave_up_.ok()) {
    unreachable_ = true;
    return gave_up_;
  }
  if (context_ != nullptr) return Status::Ok();
  return ConnectOnce();
}

Status RedisStore::ConnectOnce() {
  const RedisAddress& a = *config_.redis;
  std::string timeout = std::to_string(config_.timeout_ms) + " ms";
  sockaddr_storage address;
  socklen_t length = 0;
  if (!a.socket.empty()) {
    auto* un = reinterpret_cast<sockaddr_un*>(&address);
    std::memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, a.socket.data(), a.socket.size());
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + a.socket.size() + 1);
  } else if (!Resolve(a.host, a.port, &address, &length)) {
    // Not unreachable: a setting to fix, and no amount of retrying cures it.
    return Failed(
        "cannot resolve '" + a.host + "': mda takes an IP address or a name in /etc/hosts", false);
  }
  int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Failed(std::string("cannot make a socket: ") + strerror(errno), true);
  int err = 0;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    err = errno;
    if (err == EINPROGRESS || err == EAGAIN) {
      struct pollfd p = {fd, POLLOUT, 0};
      int64_t deadline = MonotonicMs() + config_.timeout_ms;
      int ready;
      do {
        ready = poll(&p, 1, static_cast<int>(std::max<int64_t>(0, deadline - MonotonicMs())));
      } while (ready < 0 && errno == EINTR);
      socklen_t size = sizeof err;
      if (ready == 0) {
        err = ETIMEDOUT;
      } else if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size) != 0) {
        err = errno;
      }
    }
  }
  if (err != 0) {
    close(fd);
    return Failed("cannot connect" +
                      (err == ETIMEDOUT ? " within " + timeout : std::string(": ") + strerror(err)),
                  true);
  }
  int flags = fcntl(fd, F_GETFL);
  int one = 1;
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
      (a.socket.empty() && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)) {
    err = errno;
    close(fd);
    return Failed(std::string("cannot set up the socket: ") + strerror(err), true);
  }
  context_ = redisConnectFd(fd);  // owns fd from here, even on failure
  if (context_ == nullptr) return Failed("out of memory", false);
  struct timeval tv = {config_.timeout_ms / 1000, (config_.timeout_ms % 1000) * 1000};
  if (context_->err != 0 || redisSetTimeout(context_, tv) != REDIS_OK) {
    return Failed(std::string("cannot set up the connection: ") + context_->errstr, true);
  }
  // AUTH and SELECT in one round trip.
  std::vector<std::vector<std::string>> setup;
  if (!config_.password_file.empty()) {
    std::string password;
    Status s = ReadPassword(config_.password_file, &password);
    if (!s.ok()) return Failed(s.message(), false);
    if (a.user.empty()) {
      setup.push_back({"AUTH", password});
    } else {
      setup.push_back({"AUTH", a.user, password});
    }
  } else if (!a.user.empty()) {
    return Failed(
        "the user " + a.user + " needs a password: name its file with dedup-password-file", false);
  }
  if (a.db != 0) setup.push_back({"SELECT", std::to_string(a.db)});
  for (const auto& command : setup) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string& arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data());
  }
  for (const auto& command : setup) {
    void* reply = nullptr;
    if (redisGetReply(context_, &reply) != REDIS_OK) {
      return Failed(command[0] + ": " + NoAnswer(context_, config_.timeout_ms), true);
    }
    auto* r = static_cast<redisReply*>(reply);
    std::string error = r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : "";
    freeReplyObject(r);
    if (!error.empty()) return Failed(command[0] + " refused: " + error, ServerUnavailable(error));
  }
  return Status::Ok();
}

Status RedisStore::Run(const std::vector<std::string>& args, const char* what, redisReply** reply) {
  Status s = Connect();
  if (!s.ok()) return s;
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (r == nullptr) {
    return Failed(std::string(what) + ": " + NoAnswer(context_, config_.timeout_ms), true);
  }
  if (r->type == REDIS_REPLY_ERROR) {
    std::string error(r->str, r->len);
    freeReplyObject(r);
    return Failed(std::string(what) + ": " + error, ServerUnavailable(error));
  }
  *reply = r;
  return Status::Ok();
}

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
    if (name == DedupStore::kComplete) {
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
    redisReply* r = nullptr;
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
      freeReplyObject(r);
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
    freeReplyObject(r);
    if (!holder.empty() && holder != dead && HolderIsDead(holder)) {
      dead = holder;
      continue;
    }
    int64_t now = MonotonicMs();
    if (now >= deadline) {
      unreachable_ = false;
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
  redisReply* r = nullptr;
  Status s = Run({"HGETALL", MarksKey(key)}, "looking up", &r);
  if (!s.ok()) return s;
  ReadMarks(r, targets, cutoff, out);
  freeReplyObject(r);
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
  redisReply* r = nullptr;
  Status s = Run(args, "marking the delivery", &r);
  if (!s.ok()) return s;
  bool held = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
  freeReplyObject(r);
  if (!held && !token_.empty()) {
    warnings_.push_back("duplicate store " + config_.redis->url +
                        ": this delivery outlasted its lease (" + std::to_string(kLeaseMs / 1000) +
                        " s), so another delivery of the message may have run");
  }
  if (last) token_.clear();
  return Status::Ok();
}

void RedisStore::Release() {
  if (token_.empty() || context_ == nullptr) return;
  redisReply* r = nullptr;
  if (Run({"EVAL", kReleaseScript, "1", lease_key_, token_}, "ending the claim", &r).ok())
    freeReplyObject(r);
  token_.clear();
}

std::vector<std::string> RedisStore::TakeWarnings() {
  std::vector<std::string> all = std::move(warnings_);
  warnings_.clear();
  return all;
}

}  // namespace mda

// The static mda links with --wrap=getaddrinfo (CMakeLists.txt): hiredis's connect
// functions, which mda never calls, get this instead of glibc's resolver and its NSS.
extern "C" int __wrap_getaddrinfo(const char*, const char*, const struct addrinfo*,
                                  struct addrinfo**) {
  return EAI_FAIL;
}
