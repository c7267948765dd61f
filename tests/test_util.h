// Test helpers: temporary directories, file contents, and running the real binaries the way
// Exim does (stdin a pipe, stdout and stderr one pipe, a chosen unprivileged uid).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace mda::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at scope exit.
// When the tests run as root it belongs to TestUid(), so the binaries (run as that uid) can
// write it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);
// Names in a directory, sorted; empty if it does not exist.
std::vector<std::string> ListDir(const std::string& path);
// Makes every directory along `path` (mkdir -p), owned by TestUid() when root.
void MakeDirs(const std::string& path);
void ChownToTestUser(const std::string& path);

// The uid the binaries run as: our own, or nobody (65534) when the tests run as root,
// because mda refuses root.
uid_t TestUid();
gid_t TestGid();

// The built mda/mdatest, copied where any user can execute them (the build tree may sit in
// a directory only root can enter).
std::string MdaBinary();
std::string MdatestBinary();

// A running child: stdin is `input`, stdout and stderr go to `output` (one pipe, as in Exim).
struct Child {
  pid_t pid = -1;
  int input = -1;
  int output = -1;
};
// Starts argv[0] with exactly `env` as its environment, as `uid`/`gid` if we are root.
Child Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, uid_t uid,
            gid_t gid);

// The same in a UTS namespace of its own whose host name is `host` (empty: ours), so that
// one machine can play several delivery hosts. Needs root (as the tests run in CI).
Child SpawnOnHost(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                  uid_t uid, gid_t gid, const std::string& host);
bool CanNameHosts();  // whether SpawnOnHost can set a host name here

struct Result {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;
  std::string output;  // stdout and stderr, interleaved
};
// Runs to completion, feeding `stdin_data` while collecting output (no deadlock on large data).
Result Exec(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const std::string& stdin_data);
Result ExecAs(const std::vector<std::string>& argv, const std::vector<std::string>& env,
              const std::string& stdin_data, uid_t uid, gid_t gid);

// The varied messages of acceptance point 2, by name; content is the bytes fed to mda.
struct SampleMessage {
  std::string name;
  std::string input;     // what Exim would pipe in
  std::string expected;  // what must be stored: input minus an mbox From_ line
};
std::vector<SampleMessage> VariedMessages(bool include_huge);

// A syslog daemon's socket, as /dev/log is (a Unix datagram socket, or a stream one), bound
// at `path` (writable by TestUid()); Read() returns what arrived, one record each.
class SyslogSocket {
 public:
  explicit SyslogSocket(const std::string& path, bool stream = false);
  ~SyslogSocket();
  SyslogSocket(const SyslogSocket&) = delete;
  SyslogSocket& operator=(const SyslogSocket&) = delete;
  // Every record that has arrived (a stream socket's records end in NUL); none waited for:
  // the sender has finished by the time a test reads.
  std::vector<std::string> Read();

 private:
  int fd_ = -1;
  bool stream_;
};

}  // namespace mda::test

namespace mda::test {

// A log line parsed back: its fields in order (logfmt may repeat a key: folder, file).
using LogFields = std::vector<std::pair<std::string, std::string>>;
// Parses one logfmt line (key=value, value bare or "quoted" with \" \\ \n \r \t \xNN);
// fails the calling test (returns false) on anything malformed.
bool ParseLogfmt(const std::string& line, LogFields* out);
// Parses one flat JSON object of strings, numbers and arrays of strings (an array becomes
// one entry per element, in order, under the same key).
bool ParseJson(const std::string& line, LogFields* out);
// The first value of `key`, or "" ; all values of `key`.
std::string Get(const LogFields& fields, const std::string& key);
std::vector<std::string> GetAll(const LogFields& fields, const std::string& key);
// The lines of a file, each parsed in the given format; fails the test if one does not parse.
std::vector<LogFields> ReadLog(const std::string& path, bool json = false);

}  // namespace mda::test
