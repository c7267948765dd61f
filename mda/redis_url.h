// Redis URLs and time-outs: the syntax of the dedup-store and dedup-timeout settings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mda {

// A Redis server as `set dedup-store` names it: redis://[USER@]HOST[:PORT][/DB] or
// unix://[USER@]/PATH[?db=DB]. Never a password (that is in a file: dedup-password-file).
struct RedisAddress {
  std::string url;   // as written, for messages
  std::string host;  // TCP: an IPv4/IPv6 address or a name in /etc/hosts
  uint16_t port = 6379;
  std::string socket;  // unix://: the socket's path
  std::string user;    // a Redis 6 ACL user; empty: the default user
  int db = 0;
};
Status ParseRedisUrl(std::string_view url, RedisAddress* out);

// Parses dedup-timeout: a period like 5s or 2m, or milliseconds like 500ms.
std::optional<int> ParseTimeoutMs(std::string_view text);
// At most a minute. Each connect and each reply waits at most this long, and a claim up to
// 60 s more for another delivery of the message: with the default 5 s, a delivery with one
// folder waits for Redis 80 s at the very worst, well within Exim's transport timeout.
constexpr int kMaxDedupTimeoutMs = 60 * 1000;

}  // namespace mda
