// Envelope: who the message is for and from, and where its mailbox is.
#include "mda/envelope.h"

#include <pwd.h>
#include <unistd.h>

#include <vector>

namespace mda {

std::optional<Account> LookUpAccount(uid_t uid) {
  struct passwd pw;
  struct passwd* result = nullptr;
  std::vector<char> buffer(4096);
  for (;;) {
    int rc = getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &result);
    if (rc == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc != 0 || result == nullptr) return std::nullopt;
    return Account{pw.pw_name ? pw.pw_name : "", pw.pw_dir ? pw.pw_dir : ""};
  }
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

// The sender of an mbox From_ line: "From sender@example.org Wed Nov 25 04:28:04 2026".
std::string SenderOfFromLine(std::string_view line) {
  if (line.size() <= 5) return "";
  line.remove_prefix(5);
  size_t end = line.find_first_of(" \t");
  std::string_view sender = line.substr(0, end);
  if (sender == "MAILER-DAEMON" || sender == "<>") return "";
  return std::string(sender);
}

}  // namespace

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

Status ResolveEnvelope(const Options& options, const Environment& env,
                       const std::optional<Account>& account, std::string_view from_line,
                       Envelope* out) {
  Envelope e;
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
  *out = std::move(e);
  return Status::Ok();
}

}  // namespace mda
