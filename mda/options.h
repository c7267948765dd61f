// Options: the command lines of mda and mdatest, parsed without global state.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace mda {

struct Options {
  // Each overrides what Exim's environment says (see Envelope).
  std::optional<std::string> recipient;
  std::optional<std::string> sender;
  std::optional<std::string> local_part;
  std::optional<std::string> local_part_prefix;
  std::optional<std::string> local_part_suffix;
  std::optional<std::string> domain;
  std::optional<std::string> home;
  std::optional<std::string> queue_id;
  std::optional<std::string> maildir;
  std::optional<std::string> rules;
  std::optional<std::string> site_dir;       // where the site's before.rules, after.rules are
  std::optional<std::string> syslog_socket;  // where syslog listens (default /dev/log)
  std::optional<std::string> folder;         // where mail goes when no rule decides (default INBOX)
  std::optional<std::string> dedup_store;    // file, or a Redis URL shared by several hosts
  std::optional<std::string> dedup_password_file;  // Redis's password
  bool help = false;
  bool version = false;
  // mdatest only.
  bool explain = false;      // every rule evaluated, what each test saw
  bool recursive = false;    // Maildir++ folders of a Maildir, subdirectories of a directory
  bool check = false;        // lint the rule file; no mail
  bool diff = false;         // the first two operands are OLD and NEW rule files
  bool run_filters = false;  // run the rules' filter programs (never their pipes)
  bool stats = false;        // summarise the processing log (procmail's mailstat)
  std::optional<std::string> since;          // --stats: only the last PERIOD (7d, 12h)
  std::optional<std::string> format;         // text, json, tsv
  std::optional<std::string> user;           // run as root: judge as this user (privileges dropped)
  std::optional<std::string> from_procmail;  // a .procmailrc to convert into mda rules
  std::vector<std::string> paths;            // operands: mdatest's messages; mda takes none
};

// Parses argv[1..]. Accepts "--name VALUE" and "--name=VALUE"; "--" ends options.
// `allow_paths` says whether operands and mdatest's own options are accepted (mdatest) or
// a usage error (mda).
Status ParseOptions(int argc, const char* const* argv, bool allow_paths, Options* out);

}  // namespace mda
