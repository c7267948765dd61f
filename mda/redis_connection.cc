// RedisConnection: one connection to a Redis server, made without NSS, bounded in time.
#include "mda/redis_connection.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "base/ascii.h"

namespace mda {
namespace {

// hiredis's argv form of a command: pointers and lengths, so any byte is one argument.
struct Argv {
  explicit Argv(const std::vector<std::string>& command) {
    for (const std::string& arg : command) {
      args.push_back(arg.data());
      lengths.push_back(arg.size());
    }
  }
  int count() const { return static_cast<int>(args.size()); }
  std::vector<const char*> args;
  std::vector<size_t> lengths;
};

// An address for `host`: an IP literal, or the first /etc/hosts line naming it.
bool Resolve(FileSystem& fs, const std::string& host, uint16_t port, sockaddr_storage* out,
             socklen_t* len) {
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
  UniqueFd fd(&fs, fs.OpenAt(AT_FDCWD, "/etc/hosts", O_RDONLY | O_CLOEXEC, 0));
  if (!fd.valid()) return false;
  char buffer[4096];
  ssize_t n;
  while ((n = fs.Read(fd.get(), buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) hosts.append(buffer, static_cast<size_t>(n));
    if (hosts.size() > (1u << 20)) return false;  // not a hosts file
  }
  size_t start = 0;
  while (start < hosts.size()) {
    size_t end = hosts.find('\n', start);
    if (end == std::string::npos) end = hosts.size();
    std::string line = hosts.substr(start, end - start);
    start = end + 1;
    line = line.substr(0, line.find('#'));
    std::vector<std::string_view> fields = SplitSpace(line);
    for (size_t f = 1; f < fields.size(); ++f) {
      if (EqualsIgnoreCase(fields[f], host) && literal(std::string(fields[0]))) return true;
    }
  }
  return false;
}

// The first line of the password file, without its line break.
Status ReadPassword(FileSystem& fs, const std::string& path, std::string* out) {
  UniqueFd fd(&fs,
              fs.OpenAt(AT_FDCWD, path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0));
  if (!fd.valid()) return Status::Posix("cannot open dedup-password-file " + path, errno);
  struct stat st;
  char buffer[4096];
  ssize_t n = -1;
  errno = EINVAL;  // not a regular file, or too big
  if (fs.FstatAt(fd.get(), "", &st, AT_EMPTY_PATH) == 0 && S_ISREG(st.st_mode) &&
      st.st_size < static_cast<off_t>(sizeof buffer)) {
    do n = fs.Read(fd.get(), buffer, sizeof buffer);
    while (n < 0 && errno == EINTR);
  }
  int err = errno;
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

int64_t MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void RedisReplyFree::operator()(redisReply* reply) const { freeReplyObject(reply); }

RedisReply RedisCommand(redisContext* context, const std::vector<std::string>& args) {
  Argv argv(args);
  return RedisReply(static_cast<redisReply*>(
      redisCommandArgv(context, argv.count(), argv.args.data(), argv.lengths.data())));
}

RedisConnection::RedisConnection(FileSystem& fs, const RedisAddress& address,
                                 std::string password_file, int timeout_ms)
    : fs_(fs),
      address_(address),
      password_file_(std::move(password_file)),
      timeout_ms_(timeout_ms) {}

RedisConnection::~RedisConnection() {
  if (context_ != nullptr) redisFree(context_);
}

Status RedisConnection::Failed(const std::string& what, bool unreachable) {
  unreachable_ = unreachable;
  Status failure = Status::Temporary(what);
  if (unreachable) {
    // The connection is in an unknown state: dropped. And a server that did not answer
    // once is not waited for again by this process (mdatest's next message, a later mark).
    if (context_ != nullptr) redisFree(context_);
    context_ = nullptr;
    gave_up_ = failure;
  }
  return failure;
}

Status RedisConnection::Connect() {
  if (!gave_up_.ok()) {
    unreachable_ = true;
    return gave_up_;
  }
  if (context_ != nullptr) return Status::Ok();
  const RedisAddress& a = address_;
  std::string timeout = std::to_string(timeout_ms_) + " ms";
  sockaddr_storage address;
  socklen_t length = 0;
  if (!a.socket.empty()) {
    auto* un = reinterpret_cast<sockaddr_un*>(&address);
    std::memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, a.socket.data(), a.socket.size());
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + a.socket.size() + 1);
  } else if (!Resolve(fs_, a.host, a.port, &address, &length)) {
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
      int64_t deadline = MonotonicMs() + timeout_ms_;
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
    fs_.Close(fd);
    return Failed("cannot connect" +
                      (err == ETIMEDOUT ? " within " + timeout : std::string(": ") + strerror(err)),
                  true);
  }
  int flags = fcntl(fd, F_GETFL);
  int one = 1;
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
      (a.socket.empty() && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)) {
    err = errno;
    fs_.Close(fd);
    return Failed(std::string("cannot set up the socket: ") + strerror(err), true);
  }
  context_ = redisConnectFd(fd);  // owns fd from here, even on failure
  if (context_ == nullptr) return Failed("out of memory", false);
  struct timeval tv = {timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
  if (context_->err != 0 || redisSetTimeout(context_, tv) != REDIS_OK) {
    return Failed(std::string("cannot set up the connection: ") + context_->errstr, true);
  }
  // AUTH and SELECT in one round trip.
  std::vector<std::vector<std::string>> setup;
  if (!password_file_.empty()) {
    std::string password;
    Status s = ReadPassword(fs_, password_file_, &password);
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
    Argv argv(command);
    redisAppendCommandArgv(context_, argv.count(), argv.args.data(), argv.lengths.data());
  }
  for (const auto& command : setup) {
    void* reply = nullptr;
    if (redisGetReply(context_, &reply) != REDIS_OK) {
      return Failed(command[0] + ": " + NoAnswer(context_, timeout_ms_), true);
    }
    RedisReply r(static_cast<redisReply*>(reply));
    std::string error = r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : "";
    if (!error.empty()) return Failed(command[0] + " refused: " + error, ServerUnavailable(error));
  }
  return Status::Ok();
}

Status RedisConnection::Run(const std::vector<std::string>& args, const char* what,
                            RedisReply* reply) {
  Status s = Connect();
  if (!s.ok()) return s;
  RedisReply r = RedisCommand(context_, args);
  if (r == nullptr) return Failed(std::string(what) + ": " + NoAnswer(context_, timeout_ms_), true);
  if (r->type == REDIS_REPLY_ERROR) {
    std::string error(r->str, r->len);
    return Failed(std::string(what) + ": " + error, ServerUnavailable(error));
  }
  unreachable_ = false;
  *reply = std::move(r);
  return Status::Ok();
}

}  // namespace mda

// The static mda links with --wrap=getaddrinfo (CMakeLists.txt): hiredis's connect
// functions, which mda never calls, get this instead of glibc's resolver and its NSS.
extern "C" int __wrap_getaddrinfo(const char*, const char*, const struct addrinfo*,
                                  struct addrinfo**) {
  return EAI_FAIL;
}
