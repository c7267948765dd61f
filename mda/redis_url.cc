// Redis URLs and time-outs: the syntax of the dedup-store and dedup-timeout settings.
#include "mda/redis_url.h"

#include <charconv>

namespace mda {

Status ParseRedisUrl(std::string_view url, RedisAddress* out) {
  RedisAddress a;
  a.url = std::string(url);
  auto bad = [&url](const std::string& why) {
    return Status::BadInput("dedup-store '" + std::string(url) + "': " + why +
                            " (write redis://HOST:PORT/DB or unix:///PATH?db=DB)");
  };
  std::string_view rest;
  bool unix_socket = false;
  if (url.substr(0, 8) == "redis://") {
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "unix://") {
    rest = url.substr(7);
    unix_socket = true;
  } else if (url.substr(0, 9) == "rediss://") {
    return bad(
        "TLS is not supported; reach Redis over a private network, a Unix socket or a local TLS "
        "tunnel");
  } else {
    return bad("not a Redis URL");
  }
  // USER@ (never USER:PASSWORD@: a password in a rule file is readable by whoever reads it).
  if (size_t at = rest.find('@');
      at != std::string_view::npos && (unix_socket || rest.find('/') > at)) {
    std::string_view user = rest.substr(0, at);
    if (user.find(':') != std::string_view::npos) {
      return bad(
          "a password does not belong in the URL; put it in a file named by dedup-password-file");
    }
    if (user.empty()) return bad("empty user name before '@'");
    a.user = std::string(user);
    rest = rest.substr(at + 1);
  }
  auto parse_db = [&](std::string_view text) -> bool {
    int db = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), db);
    if (ec != std::errc() || ptr != text.data() + text.size() || db < 0 || db > 100000)
      return false;
    a.db = db;
    return true;
  };
  if (unix_socket) {
    std::string_view path = rest;
    if (size_t q = rest.find('?'); q != std::string_view::npos) {
      path = rest.substr(0, q);
      std::string_view query = rest.substr(q + 1);
      if (query.substr(0, 3) != "db=" || !parse_db(query.substr(3)))
        return bad("the query is db=NUMBER");
    }
    if (path.empty() || path[0] != '/') return bad("the socket's path must be absolute");
    if (path.size() >= 108)
      return bad("the socket's path is longer than a Unix socket address allows");
    a.socket = std::string(path);
    *out = std::move(a);
    return Status::Ok();
  }
  std::string_view hostport = rest.substr(0, rest.find('/'));
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_db(db)) return bad("the database after '/' is a number");
  }
  std::string_view port;
  if (!hostport.empty() && hostport[0] == '[') {  // [IPv6]:PORT
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return bad("no ']' after an IPv6 address");
    a.host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty() && after[0] != ':') return bad("expected ':' and a port after ']'");
    if (!after.empty()) port = after.substr(1);
  } else {
    size_t colon = hostport.find(':');
    a.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port = hostport.substr(colon + 1);
  }
  if (a.host.empty()) return bad("no host");
  for (char c : a.host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '_' || c == '%';
    if (!ok) return bad("the host has a character a host name or address cannot have");
  }
  if (!port.empty() || (!hostport.empty() && hostport.back() == ':')) {
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p == 0 ||
        p > 65535) {
      return bad("the port is a number from 1 to 65535");
    }
    a.port = static_cast<uint16_t>(p);
  }
  *out = std::move(a);
  return Status::Ok();
}

std::optional<int> ParseTimeoutMs(std::string_view text) {
  uint64_t ms = 0;
  if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
    std::string_view n = text.substr(0, text.size() - 2);
    auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), ms);
    if (ec != std::errc() || ptr != n.data() + n.size()) return std::nullopt;
  } else {
    uint64_t unit = 0;
    switch (text.empty() ? '\0' : text.back()) {
      case 's':
        unit = 1000;
        break;
      case 'm':
        unit = 60 * 1000;
        break;
      default:
        return std::nullopt;
    }
    std::string_view n = text.substr(0, text.size() - 1);
    auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), ms);
    if (ec != std::errc() || ptr != n.data() + n.size() || n.empty() || ms > kMaxDedupTimeoutMs)
      return std::nullopt;
    ms *= unit;
  }
  if (ms == 0 || ms > kMaxDedupTimeoutMs) return std::nullopt;
  return static_cast<int>(ms);
}

}  // namespace mda
