// RedisServer: a real redis-server for tests, on a free loopback port in a temporary
// directory, stopped (and its files removed) with the object.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/test_util.h"

namespace mda::test {

class RedisServer {
 public:
  RedisServer();  // started; fails the test (ADD_FAILURE) if redis-server cannot run
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string url(int db = 0) const {
    return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
  }

  std::string socket() const { return dir_ / "redis.sock"; }

  // Stop saves the data (as a clean shutdown does); Start brings it back on the same port.
  void Stop();
  bool Start();
  void Pause();   // SIGSTOP: connections are accepted by the kernel, nothing answers
  void Resume();  // SIGCONT

  // One command on database `db`; the reply flattened to text ("" for nil, arrays joined
  // by '\n', an error as "ERR ..."). Fails the test if the server does not answer.
  std::string Command(const std::vector<std::string>& args, int db = 0);

 private:
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mda::test
