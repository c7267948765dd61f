// Envelope: who the message is for and from, and where its mailbox is.
#include "mda/envelope.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

namespace mda {

std::optional<Account> LookUpAccount(uid_t uid) {
  // getent(1) rather than getpwuid(3): mda is linked statically, and glibc would load the
  // NSS modules (systemd, sss, ldap) into it with dlopen, which crashes in a static
  // program (seen: libnss_systemd, SIGSEGV, and Exim bounces a message whose MDA died by
  // a signal). A process of its own costs ~1 ms, only when Exim gives no HOME or
  // LOCAL_PART.
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::string id = std::to_string(uid);
  char getent[] = "getent", passwd[] = "passwd";
  char* argv[] = {getent, passwd, id.data(), nullptr};
  char* envp[] = {nullptr};
  pid_t pid = -1;
  int rc = -1;
  for (const char* path : {"/usr/bin/getent", "/bin/getent"}) {
    rc = posix_spawn(&pid, path, &actions, nullptr, argv, envp);
    if (rc == 0) break;
  }
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string line;
  if (rc == 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) != 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || line.size() > (1u << 16)) break;
      line.append(buf, static_cast<size_t>(n));
    }
  }
  close(out[0]);
  int status = 0;
  if (rc == 0) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  // name:password:uid:gid:gecos:home:shell
  std::vector<std::string> fields;
  size_t start = 0;
  line = line.substr(0, line.find('\n'));
  for (size_t colon; (colon = line.find(':', start)) != std::string::npos; start = colon + 1) {
    fields.push_back(line.substr(start, colon - start));
  }
  fields.push_back(line.substr(start));
  if (fields.size() != 7 || fields[2] != id) return std::nullopt;
  return Account{fields[0], fields[5]};
}

namespace {

// The first of: the option, the environment variable (even if empty: Exim sets SENDER=""
// for a bounce), the fallback.
std::string Pick(const std::optional<std::string>& option, const Environment& env,
                 const char* variable, std::string fallback) {
  if (option) return *option;
  if (const char* value = env(variable)) return value;
  return fallback;
}

}  // namespace

std::string SenderOfFromLine(std::string_view line) {
  if (line.size() <= 5) return "";
  line.remove_prefix(5);
  size_t end = line.find_first_of(" \t");
  std::string_view sender = line.substr(0, end);
  if (sender == "MAILER-DAEMON" || sender == "<>") return "";
  return std::string(sender);
}

std::string AddressOfReturnPath(std::string_view value) {
  size_t open = value.find('<'), close = value.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open)
    value = value.substr(open + 1, close - open - 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return std::string(value);
}

Status ExpandPath(std::string_view path, const std::string& home, const char* what,
                  std::string* out) {
  if (path.empty()) return Status::BadInput(std::string(what) + " is empty");
  if (path[0] == '/') {
    *out = std::string(path);
    return Status::Ok();
  }
  if (home.empty()) {
    return Status::BadInput(std::string(what) + " '" + std::string(path) +
                            "' is relative to the home directory, and there is none: HOME is "
                            "empty and the user has no passwd entry (set check_local_user on the "
                            "Exim router, or give an absolute path)");
  }
  if (path == "~") {
    *out = home;
  } else if (path.substr(0, 2) == "~/") {
    *out = home + std::string(path.substr(1));
  } else {
    *out = home + "/" + std::string(path);
  }
  return Status::Ok();
}

bool NeedsAccount(const Options& options, const Environment& env) {
  const char* home = env("HOME");
  bool home_known = options.home || (home != nullptr && *home != '\0');
  bool local_part_known = options.local_part || env("LOCAL_PART") != nullptr;
  return !home_known || !local_part_known;
}

Status ResolveEnvelope(const Options& options, const Environment& env,
                       const std::optional<Account>& account, std::string_view from_line,
                       Envelope* out) {
  // Filled in place: on a failure, what was resolved before it stays (the log needs it).
  Envelope& e = *out;
  e = Envelope();
  // HOME is set but empty when the Exim router has no check_local_user: then passwd.
  if (options.home) {
    e.home = *options.home;
  } else if (const char* home = env("HOME"); home != nullptr && *home != '\0') {
    e.home = home;
  } else if (account) {
    e.home = account->home;
  }
  if (!e.home.empty() && e.home[0] != '/') {
    return Status::BadInput("home directory '" + e.home + "' is not an absolute path");
  }
  while (e.home.size() > 1 && e.home.back() == '/') e.home.pop_back();

  e.local_part = Pick(options.local_part, env, "LOCAL_PART", account ? account->name : "");
  e.domain = Pick(options.domain, env, "DOMAIN", "");
  e.local_part_prefix = Pick(options.local_part_prefix, env, "LOCAL_PART_PREFIX", "");
  e.local_part_suffix = Pick(options.local_part_suffix, env, "LOCAL_PART_SUFFIX", "");
  std::string default_recipient = e.local_part;
  if (!e.domain.empty()) default_recipient += "@" + e.domain;
  e.recipient = Pick(options.recipient, env, "RECIPIENT", default_recipient);
  e.recipient_given = options.recipient || env("RECIPIENT") != nullptr;
  e.sender_given = options.sender || env("SENDER") != nullptr;
  e.sender = Pick(options.sender, env, "SENDER", SenderOfFromLine(from_line));
  e.queue_id = Pick(options.queue_id, env, "MESSAGE_ID", "");
  e.folder = options.folder.value_or("INBOX");

  Status s = ExpandPath(options.maildir.value_or("~/Maildir"), e.home, "the Maildir", &e.maildir);
  if (!s.ok()) return s;
  while (e.maildir.size() > 1 && e.maildir.back() == '/') e.maildir.pop_back();
  // The rule file only matters once rules exist; a missing home is then reported there.
  if (options.rules || !e.home.empty()) {
    s = ExpandPath(options.rules.value_or("~/.mda/rules"), e.home, "the rule file", &e.rules);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace mda
