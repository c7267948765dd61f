// Test helpers: temporary directories, file contents, and running the real binaries.
#include "tests/test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace mda::test {
namespace {

[[noreturn]] void Die(const std::string& what) {
  throw std::runtime_error(what + ": " + strerror(errno));
}

std::string TmpRoot() {
  const char* t = getenv("TMPDIR");
  return (t && *t) ? t : "/tmp";
}

// Restores write permission everywhere below `path` so it can be removed.
void MakeRemovable(const std::string& path) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           path, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) chmod(it->path().c_str(), 0700);
  }
}

std::string staged_dir;  // removed at exit

void RemoveStagedDir() {
  std::error_code ec;
  std::filesystem::remove_all(staged_dir, ec);
}

std::string StageBinary(const char* built, const char* name) {
  std::string& dir = staged_dir;
  if (dir.empty()) {
    std::string templ = TmpRoot() + "/mda-tests-bin.XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) Die("mkdtemp");
    dir = templ;
    chmod(dir.c_str(), 0755);
    atexit(RemoveStagedDir);
  }
  std::string target = dir + "/" + name;
  if (access(target.c_str(), X_OK) != 0) {
    std::filesystem::copy_file(built, target, std::filesystem::copy_options::overwrite_existing);
    chmod(target.c_str(), 0755);
  }
  return target;
}

}  // namespace

uid_t TestUid() { return geteuid() == 0 ? 65534 : geteuid(); }
gid_t TestGid() { return geteuid() == 0 ? 65534 : getegid(); }

TempDir::TempDir() {
  std::string templ = TmpRoot() + "/mda-test.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) Die("mkdtemp");
  path_ = templ;
  ChownToTestUser(path_);
}

TempDir::~TempDir() {
  MakeRemovable(path_);
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void ChownToTestUser(const std::string& path) {
  if (geteuid() == 0 && lchown(path.c_str(), TestUid(), TestGid()) != 0) Die("chown " + path);
}

void MakeDirs(const std::string& path) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (mkdir(partial.c_str(), 0700) == 0) {
      ChownToTestUser(partial);
    } else if (errno != EEXIST) {
      Die("mkdir " + partial);
    }
  }
}

std::string ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Die("open " + path);
  std::string data;
  char buf[1 << 16];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
  close(fd);
  return data;
}

void WriteFile(const std::string& path, const std::string& content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) Die("open " + path);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n <= 0) Die("write " + path);
    done += static_cast<size_t>(n);
  }
  close(fd);
  ChownToTestUser(path);
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string MdaBinary() { return StageBinary(MDA_BINARY, "mda"); }
std::string MdatestBinary() { return StageBinary(MDATEST_BINARY, "mdatest"); }

Child Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, uid_t uid,
            gid_t gid) {
  return SpawnOnHost(argv, env, uid, gid, "");
}

bool CanNameHosts() {
  static int can = -1;
  if (can < 0) {
    pid_t pid = fork();
    if (pid == 0) _exit(unshare(CLONE_NEWUTS) == 0 && sethostname("probe", 5) == 0 ? 0 : 1);
    int status = 0;
    can =
        pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return can == 1;
}

Child SpawnOnHost(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                  uid_t uid, gid_t gid, const std::string& host) {
  signal(SIGPIPE, SIG_IGN);  // a child that dies must not take the test with it
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) Die("pipe");
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    if (!host.empty() && (unshare(CLONE_NEWUTS) != 0 || sethostname(host.data(), host.size()) != 0))
      _exit(125);
    if (geteuid() == 0 && uid != 0) {
      if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
    }
    umask(022);  // as Exim's pipe transport
    // As Exim: SIGPIPE at its default, the rest inherited.
    signal(SIGPIPE, SIG_DFL);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  return Child{pid, in[1], out[0]};
}

Result ExecAs(const std::vector<std::string>& argv, const std::vector<std::string>& env,
              const std::string& stdin_data, uid_t uid, gid_t gid) {
  Child c = Spawn(argv, env, uid, gid);
  Result r;
  size_t written = 0;
  if (stdin_data.empty()) {
    close(c.input);
    c.input = -1;
  }
  fcntl(c.input, F_SETFL, O_NONBLOCK);
  while (c.output >= 0) {
    struct pollfd fds[2] = {{c.output, POLLIN, 0}, {c.input, POLLOUT, 0}};
    int nfds = c.input >= 0 ? 2 : 1;
    if (poll(fds, static_cast<nfds_t>(nfds), -1) < 0) {
      if (errno == EINTR) continue;
      Die("poll");
    }
    if (nfds == 2 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = write(c.input, stdin_data.data() + written,
                        std::min<size_t>(stdin_data.size() - written, 1 << 16));
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN) written = stdin_data.size();  // EPIPE: it stopped reading
      if (written == stdin_data.size()) {
        close(c.input);
        c.input = -1;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      ssize_t n = read(c.output, buf, sizeof buf);
      if (n > 0) {
        r.output.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(c.output);
        c.output = -1;
      }
    }
  }
  if (c.input >= 0) close(c.input);
  int status;
  while (waitpid(c.pid, &status, 0) < 0) {
    if (errno != EINTR) Die("waitpid");
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

Result Exec(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const std::string& stdin_data) {
  return ExecAs(argv, env, stdin_data, TestUid(), TestGid());
}

std::vector<SampleMessage> VariedMessages(bool include_huge) {
  const std::string from_line = "From sender@example.org Wed Nov 25 04:28:04 2026\n";
  const std::string lf =
      "Received: from root by mx.example.com with local (Exim 4.96)\n"
      "\t(envelope-from <sender@example.org>)\n\tid 1xW4c0-0004pL-0k\n"
      "From: a@example.org\nTo: b@example.com\nSubject: test\n"
      "Message-Id: <E1xW4c0-0004pL-0k@mx.example.com>\n\nhello\nFrom the start\n";
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  std::vector<SampleMessage> v = {
      {"lf", lf, lf},
      {"crlf", crlf, crlf},
      {"from_line", from_line + lf + "\n", lf + "\n"},  // Exim's default prefix and suffix
      {"from_line_crlf", "From MAILER-DAEMON Wed Nov 25 04:28:04 2026\r\n" + crlf, crlf},
      {"no_final_newline", "Subject: x\n\nno newline at the end",
       "Subject: x\n\nno newline at the end"},
      {"headers_only", "Subject: only headers\nX-Last: kept",
       "Subject: only headers\nX-Last: kept"},
      {"nul_bytes", std::string("Subject: nul\n\na\0b\0\0c\n", 20),
       std::string("Subject: nul\n\na\0b\0\0c\n", 20)},
      {"eight_bit_headers", "Subject: caf\xc3\xa9 \xff\xfe\nX-L\xe4nge: 1\n\n\x80\x81\n",
       "Subject: caf\xc3\xa9 \xff\xfe\nX-L\xe4nge: 1\n\n\x80\x81\n"},
      {"obsolete_from_header", "From : old@example.org\nSubject: x\n\nbody\n",
       "From : old@example.org\nSubject: x\n\nbody\n"},
      {"empty_body", "Subject: e\n\n", "Subject: e\n\n"},
  };
  if (include_huge) {
    // A 50 MB attachment, base64 as a mailer sends it (76-character lines).
    std::string m =
        "From: a@example.org\nSubject: big\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nsee "
        "attachment\n--b\nContent-Type: application/octet-stream\n"
        "Content-Transfer-Encoding: base64\n\n";
    const size_t target = 50u * 1024 * 1024;
    std::string line;
    uint32_t x = 12345;
    static const char k64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    m.reserve(target + 1024);
    while (m.size() < target) {
      line.clear();
      for (int i = 0; i < 76; ++i) {
        x = x * 1103515245u + 12345u;
        line += k64[(x >> 16) & 63];
      }
      m += line;
      m += '\n';
    }
    m += "--b--\n";
    v.push_back({"attachment_50mb", from_line + m, m});
  }
  return v;
}

SyslogSocket::SyslogSocket(const std::string& path, bool stream) : stream_(stream) {
  fd_ = socket(AF_UNIX, (stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  if (fd_ < 0 || path.size() >= sizeof address.sun_path)
    throw std::runtime_error("syslog socket " + path);
  memcpy(address.sun_path, path.data(), path.size());
  if (bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      (stream && listen(fd_, 16) != 0))
    throw std::runtime_error("cannot bind " + path + ": " + strerror(errno));
  ChownToTestUser(path);
}

SyslogSocket::~SyslogSocket() { close(fd_); }

std::vector<std::string> SyslogSocket::Read() {
  std::vector<std::string> records;
  char buf[65536];
  if (!stream_) {
    for (ssize_t n; (n = recv(fd_, buf, sizeof buf, 0)) >= 0;)
      records.emplace_back(buf, static_cast<size_t>(n));
    return records;
  }
  for (int conn; (conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
    std::string data;
    for (ssize_t n; (n = read(conn, buf, sizeof buf)) > 0;)
      data.append(buf, static_cast<size_t>(n));
    close(conn);
    for (size_t start = 0, nul; (nul = data.find('\0', start)) != std::string::npos;
         start = nul + 1)
      records.push_back(data.substr(start, nul - start));
  }
  return records;
}

}  // namespace mda::test

namespace mda::test {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

// The XXXX of a \uXXXX escape at line[*i], appended as UTF-8.
bool ReadUnicodeEscape(const std::string& line, size_t* i, std::string* out) {
  if (*i + 4 > line.size()) return false;
  uint32_t cp = 0;
  for (size_t k = 0; k < 4; ++k) {
    int h = Hex(line[*i + k]);
    if (h < 0) return false;
    cp = cp * 16 + static_cast<uint32_t>(h);
  }
  *i += 4;
  AppendUtf8(cp, out);
  return true;
}

bool ParseLogfmt(const std::string& line, LogFields* out) {
  out->clear();
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ') {
      ++i;
      continue;
    }
    size_t eq = line.find('=', i);
    if (eq == std::string::npos || eq == i) return false;
    std::string key = line.substr(i, eq - i);
    if (key.find_first_of(" \"") != std::string::npos) return false;
    i = eq + 1;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\') {
          value += c;
          continue;
        }
        if (i >= line.size()) return false;
        char e = line[i++];
        if (e == 'n')
          value += '\n';
        else if (e == 'r')
          value += '\r';
        else if (e == 't')
          value += '\t';
        else if (e == '"' || e == '\\')
          value += e;
        else if (e == 'x' && i + 1 < line.size() && Hex(line[i]) >= 0 && Hex(line[i + 1]) >= 0) {
          value += static_cast<char>(Hex(line[i]) * 16 + Hex(line[i + 1]));
          i += 2;
        } else if (e == 'u') {
          if (!ReadUnicodeEscape(line, &i, &value)) return false;
        } else {
          return false;
        }
      }
      if (!closed) return false;
      if (i < line.size() && line[i] != ' ') return false;
    } else {
      size_t end = line.find(' ', i);
      value = line.substr(i, end == std::string::npos ? std::string::npos : end - i);
      if (value.find_first_of("\"=") != std::string::npos) return false;
      i = end == std::string::npos ? line.size() : end;
    }
    out->emplace_back(key, value);
  }
  return !out->empty();
}

bool ParseJson(const std::string& line, LogFields* out) {
  out->clear();
  size_t i = 0;
  auto string = [&](std::string* s) -> bool {
    if (i >= line.size() || line[i] != '"') return false;
    ++i;
    while (i < line.size() && line[i] != '"') {
      char c = line[i++];
      if (static_cast<unsigned char>(c) < 0x20) return false;  // raw control character: invalid
      if (c != '\\') {
        *s += c;
        continue;
      }
      if (i >= line.size()) return false;
      char e = line[i++];
      if (e == 'n')
        *s += '\n';
      else if (e == 'r')
        *s += '\r';
      else if (e == 't')
        *s += '\t';
      else if (e == '"' || e == '\\' || e == '/')
        *s += e;
      else if (e == 'u') {
        if (!ReadUnicodeEscape(line, &i, s)) return false;
      } else {
        return false;
      }
    }
    if (i >= line.size()) return false;
    ++i;
    return true;
  };
  if (line.empty() || line[0] != '{' || line.back() != '}') return false;
  i = 1;
  while (i < line.size() - 1) {
    std::string key;
    if (!string(&key) || i >= line.size() || line[i] != ':') return false;
    ++i;
    if (line[i] == '"') {
      std::string v;
      if (!string(&v)) return false;
      out->emplace_back(key, v);
    } else if (line[i] == '[') {
      ++i;
      while (line[i] != ']') {
        std::string v;
        if (!string(&v)) return false;
        out->emplace_back(key, v);
        if (line[i] == ',') ++i;
      }
      ++i;
    } else {
      size_t end = line.find_first_of(",}", i);
      out->emplace_back(key, line.substr(i, end - i));
      i = end;
    }
    if (line[i] == ',')
      ++i;
    else if (i != line.size() - 1)
      return false;
  }
  return true;
}

std::string Get(const LogFields& fields, const std::string& key) {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return "";
}

std::vector<std::string> GetAll(const LogFields& fields, const std::string& key) {
  std::vector<std::string> all;
  for (const auto& [k, v] : fields) {
    if (k == key) all.push_back(v);
  }
  return all;
}

std::vector<LogFields> ReadLog(const std::string& path, bool json) {
  std::vector<LogFields> lines;
  if (access(path.c_str(), F_OK) != 0) return lines;
  std::string text = ReadFile(path);
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      ADD_FAILURE() << path << ": last line has no newline: " << text.substr(start, 200);
      break;
    }
    std::string line = text.substr(start, nl - start);
    LogFields fields;
    if (!(json ? ParseJson(line, &fields) : ParseLogfmt(line, &fields))) {
      ADD_FAILURE() << path << ": unparseable line: " << line.substr(0, 300);
    }
    lines.push_back(std::move(fields));
    start = nl + 1;
  }
  return lines;
}

}  // namespace mda::test
