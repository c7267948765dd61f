// The dedup-store URL and dedup-timeout syntax: what is accepted, what is refused and why.
#include "mda/redis_url.h"

#include <gtest/gtest.h>

namespace mda {
namespace {

TEST(RedisUrlTest, Accepted) {
  struct Case {
    const char* url;
    const char* host;
    int port;
    const char* socket;
    const char* user;
    int db;
  } cases[] = {
      {"redis://127.0.0.1", "127.0.0.1", 6379, "", "", 0},
      {"redis://127.0.0.1:6380/2", "127.0.0.1", 6380, "", "", 2},
      {"redis://10.0.0.5/", "10.0.0.5", 6379, "", "", 0},
      {"redis://[::1]:7000/15", "::1", 7000, "", "", 15},
      {"redis://[fe80::1%eth0]/1", "fe80::1%eth0", 6379, "", "", 1},
      {"redis://mail@redis.example:6379/3", "redis.example", 6379, "", "mail", 3},
      {"unix:///run/redis/redis.sock", "", 6379, "/run/redis/redis.sock", "", 0},
      {"unix://mail@/run/redis/redis.sock?db=4", "", 6379, "/run/redis/redis.sock", "mail", 4},
  };
  for (const Case& c : cases) {
    RedisAddress a;
    ASSERT_TRUE(ParseRedisUrl(c.url, &a).ok())
        << c.url << ": " << ParseRedisUrl(c.url, &a).message();
    EXPECT_EQ(a.url, c.url);
    EXPECT_EQ(a.host, c.host) << c.url;
    EXPECT_EQ(a.port, c.port) << c.url;
    EXPECT_EQ(a.socket, c.socket) << c.url;
    EXPECT_EQ(a.user, c.user) << c.url;
    EXPECT_EQ(a.db, c.db) << c.url;
  }
}

TEST(RedisUrlTest, RefusedWithTheReason) {
  struct Case {
    const char* url;
    const char* why;
  } cases[] = {
      {"redis://mail:s3cret@10.0.0.5/0", "a password does not belong in the URL"},
      {"redis://:s3cret@10.0.0.5/0", "a password does not belong in the URL"},
      {"rediss://10.0.0.5/0", "TLS is not supported"},
      {"http://10.0.0.5/", "not a Redis URL"},
      {"10.0.0.5:6379", "not a Redis URL"},
      {"redis://", "no host"},
      {"redis://:6379/0", "no host"},
      {"redis://10.0.0.5:0/0", "the port is a number from 1 to 65535"},
      {"redis://10.0.0.5:65536", "the port is a number from 1 to 65535"},
      {"redis://10.0.0.5:/0", "the port is a number from 1 to 65535"},
      {"redis://10.0.0.5:63x9", "the port is a number from 1 to 65535"},
      {"redis://10.0.0.5/x", "the database after '/' is a number"},
      {"redis://10.0.0.5/-1", "the database after '/' is a number"},
      {"redis://[::1", "no ']'"},
      {"redis://[::1]6379", "expected ':' and a port after ']'"},
      {"redis://host name/0", "the host has a character"},
      {"unix://relative/path", "the socket's path must be absolute"},
      {"unix:///run/redis.sock?database=1", "the query is db=NUMBER"},
  };
  for (const Case& c : cases) {
    RedisAddress a;
    Status s = ParseRedisUrl(c.url, &a);
    ASSERT_FALSE(s.ok()) << c.url;
    EXPECT_EQ(s.kind(), Status::Kind::kBadInput);
    EXPECT_NE(s.message().find(c.why), std::string::npos) << c.url << ": " << s.message();
    EXPECT_NE(s.message().find("redis://HOST:PORT/DB"), std::string::npos)
        << s.message();  // says what to write
  }
  RedisAddress a;
  std::string long_path = "unix:///" + std::string(120, 's');
  EXPECT_NE(ParseRedisUrl(long_path, &a).message().find("longer than a Unix socket address allows"),
            std::string::npos);
}

TEST(RedisUrlTest, Timeouts) {
  EXPECT_EQ(ParseTimeoutMs("5s"), 5000);
  EXPECT_EQ(ParseTimeoutMs("500ms"), 500);
  EXPECT_EQ(ParseTimeoutMs("1ms"), 1);
  EXPECT_EQ(ParseTimeoutMs("1m"), 60000);
  EXPECT_EQ(ParseTimeoutMs("60s"), 60000);
  EXPECT_EQ(ParseTimeoutMs("60000ms"), 60000);
  for (const char* bad : {"", "5", "0s", "0ms", "2m", "61s", "60001ms", "1h", "-1s", "s", "ms",
                          "1.5s", "99999999999999999999s"}) {
    EXPECT_EQ(ParseTimeoutMs(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace mda
