// RedisConnection: one connection to a Redis server, made without NSS (an IP address, or a
// name in /etc/hosts: mda is a static program, and getaddrinfo would load NSS modules into
// it, one of which crashed it, see envelope.cc), connected, authenticated and on its
// database within a time-out, each reply bounded by the same time-out.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "mda/fs.h"
#include "mda/redis_url.h"

struct redisContext;
struct redisReply;

namespace mda {

// A reply of hiredis, freed with it.
struct RedisReplyFree {
  void operator()(redisReply* reply) const;
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyFree>;

// One command, each argument one element however it is written (binary-safe); nullptr when
// no reply came (context->err says why).
RedisReply RedisCommand(redisContext* context, const std::vector<std::string>& args);

// Milliseconds of the monotonic clock, for deadlines.
int64_t MonotonicMs();

class RedisConnection {
 public:
  RedisConnection(FileSystem& fs, const RedisAddress& address, std::string password_file,
                  int timeout_ms);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Runs one command, connecting first if need be; `what` names it in a failure. A reply
  // that is an error is a failure. Failures are kTemporary; unreachable() then says whether
  // the server did not answer (and is not tried again by this object) or refused.
  Status Run(const std::vector<std::string>& args, const char* what, RedisReply* reply);
  bool connected() const { return context_ != nullptr; }
  bool unreachable() const { return unreachable_; }

 private:
  Status Connect();
  Status Failed(const std::string& what, bool unreachable);

  FileSystem& fs_;
  RedisAddress address_;
  std::string password_file_;
  int timeout_ms_;
  redisContext* context_ = nullptr;
  bool unreachable_ = false;
  Status gave_up_;  // the server did not answer: not tried again
};

}  // namespace mda
