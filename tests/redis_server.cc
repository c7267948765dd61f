// RedisServer: starts redis-server as a child, waits until it answers PING.
#include "tests/redis_server.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace mda::test {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

std::string Flatten(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(r->str, r->len);
    case REDIS_REPLY_ERROR:
      return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (size_t i = 0; i < r->elements; ++i) out += (i ? "\n" : "") + Flatten(r->element[i]);
      return out;
    }
    default:
      return "";
  }
}

}  // namespace

RedisServer::RedisServer() {
  for (int attempt = 0; attempt < 5 && !running(); ++attempt) {
    port_ = FreePort();
    if (!Start())
      ADD_FAILURE() << "redis-server did not start on port " << port_ << " (is it installed? "
                    << "bash scripts/setup --for-tests installs it)";
  }
}

RedisServer::~RedisServer() {
  if (pid_ > 0) {
    Resume();
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool RedisServer::Start() {
  std::string port = std::to_string(port_);
  std::vector<std::string> argv = {"/usr/bin/redis-server",
                                   "--port",
                                   port,
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir_.path(),
                                   "--dbfilename",
                                   "dump.rdb",
                                   "--save",
                                   "3600 1",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--logfile",
                                   dir_ / "redis.log",
                                   "--protected-mode",
                                   "no",
                                   "--unixsocket",
                                   dir_ / "redis.sock",
                                   "--unixsocketperm",
                                   "777"};
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the tests, however they end
    execv(args[0], args.data());
    _exit(127);
  }
  pid_ = pid;
  // Ready when it answers PING; gone if it exited (port taken, not installed).
  struct timespec start, now, pause = {0, 5 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    struct timeval tv = {1, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (c != nullptr && c->err == 0) {
      auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
      bool ok = r != nullptr && Flatten(r) == "PONG";
      if (r) freeReplyObject(r);
      redisFree(c);
      if (ok) return true;
    } else if (c != nullptr) {
      redisFree(c);
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > 20) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
      return false;
    }
    nanosleep(&pause, nullptr);
  }
}

void RedisServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);  // redis saves on a clean shutdown when save points are set
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RedisServer::Pause() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisServer::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

std::string RedisServer::Command(const std::vector<std::string>& args, int db) {
  struct timeval tv = {5, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
  if (c == nullptr || c->err != 0) {
    ADD_FAILURE() << "cannot connect to the test's redis-server on port " << port_;
    if (c) redisFree(c);
    return "";
  }
  redisSetTimeout(c, tv);
  std::string out;
  auto* r = static_cast<redisReply*>(redisCommand(c, "SELECT %d", db));
  if (r) freeReplyObject(r);
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (r == nullptr) {
    ADD_FAILURE() << "no answer from the test's redis-server: " << c->errstr;
  } else {
    out = Flatten(r);
    freeReplyObject(r);
  }
  redisFree(c);
  return out;
}

}  // namespace mda::test
