// Config: what one delivery (or one dry run) is configured by, resolved once.
#include "mda/config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "mda/file_store.h"
#include "mda/folder.h"
#include "mda/log.h"
#include "mda/redis_url.h"
#include "mda/rule_file.h"

namespace mda {
namespace {

constexpr int64_t kDefaultDedupPeriod = 7 * 86400;
// Exim's pipe transport gives mda an hour by default; a program must end well before.
constexpr uint64_t kMaxProgramTimeout = 3600;

// A path setting: a value that can never name a file is refused when the rules are parsed,
// so that a rule file that passes --check cannot defer every message at delivery.
std::string CheckPath(std::string_view name, std::string_view value) {
  if (value.empty())
    return std::string(name) + " is a path (absolute, or relative to your home directory)";
  if (value.find_first_of(std::string_view("\0\n\r\t", 4)) != std::string_view::npos)
    return std::string(name) + " is a path without control characters";
  return "";
}

constexpr rules::SettingSpec kSettings[] = {
    {"maildir", [](std::string_view v) { return CheckPath("maildir", v); }},
    {"log", [](std::string_view v) { return v == "off" ? std::string() : CheckPath("log", v); }},
    {"log-format",
     [](std::string_view v) {
       return v == "logfmt" || v == "json" ? std::string() : "log-format is logfmt or json";
     }},
    {"log-time",
     [](std::string_view v) {
       return v == "utc" || v == "local" ? std::string() : "log-time is utc or local";
     }},
    {"syslog",
     [](std::string_view v) {
       return v == "off" || SyslogFacility(v) >= 0
                  ? std::string()
                  : "syslog is a facility (mail, user, daemon, local0..local7) or off";
     }},
    {"dedup",
     [](std::string_view v) {
       return v == "off" || rules::ParsePeriod(v)
                  ? std::string()
                  : "dedup is off or a period like 7d, 12h, 30m (at most 3650d)";
     }},
    {"dedup-case",
     [](std::string_view v) {
       return v == "insensitive" || v == "sensitive" ? std::string()
                                                     : "dedup-case is insensitive or sensitive";
     }},
    {"dedup-store",
     [](std::string_view v) {
       RedisAddress address;
       Status s = v == "file" ? Status::Ok() : ParseRedisUrl(v, &address);
       return s.ok() ? std::string() : "dedup-store is file or a Redis URL: " + s.message();
     }},
    {"dedup-password-file", [](std::string_view v) { return CheckPath("dedup-password-file", v); }},
    {"dedup-timeout",
     [](std::string_view v) {
       return ParseTimeoutMs(v) ? std::string()
                                : "dedup-timeout is a time from 1ms to 60s, like 5s or 500ms";
     }},
    {"dedup-unreachable",
     [](std::string_view v) {
       return v == "defer" || v == "deliver" ? std::string()
                                             : "dedup-unreachable is defer or deliver";
     }},
    {"max-size",
     [](std::string_view v) {
       std::optional<uint64_t> size = rules::ParseSize(v);
       return size && *size > 0 ? std::string() : "max-size is a size like 50M (1 to 1024G)";
     }},
    {"pipe-failure",
     [](std::string_view v) {
       return v == "keep" || v == "defer" ? std::string() : "pipe-failure is keep or defer";
     }},
    {"program-timeout",
     [](std::string_view v) {
       std::optional<uint64_t> period = rules::ParsePeriod(v);
       return period && *period <= kMaxProgramTimeout
                  ? std::string()
                  : "program-timeout is a time from 1s to 1h, like 30s or 2m";
     }},
    {"sendmail",
     [](std::string_view v) {
       return !v.empty() && v[0] == '/' &&
                      v.find_first_of(std::string_view("\0\n\r\t ", 5)) == std::string_view::npos
                  ? std::string()
                  : "sendmail is the absolute path of the MTA's sendmail, like /usr/sbin/sendmail";
     }},
    {"forward-sender",
     [](std::string_view v) {
       size_t at = v.rfind('@');
       bool address =
           at != std::string_view::npos && at > 0 && at + 1 < v.size() && v[0] != '-' &&
           v.find_first_of(std::string_view(" \t\n\r<>\0\"", 8)) == std::string_view::npos;
       return v == "sender" || v == "recipient" || address
                  ? std::string()
                  : "forward-sender is sender, recipient or an address";
     }},
    {"subscribe",
     [](std::string_view v) {
       return v == "on" || v == "off" ? std::string() : "subscribe is on or off";
     }},
    {"quota-full",
     [](std::string_view v) {
       return v == "defer" || v == "reject" ? std::string() : "quota-full is defer or reject";
     }},
};

// A setting's value, or nullptr when the rule file does not set it.
const rules::Setting* FindSetting(const rules::RuleSet& rules, std::string_view name) {
  auto it = rules.settings.find(name);
  return it == rules.settings.end() ? nullptr : &it->second;
}

const std::string* Setting(const rules::RuleSet& rules, std::string_view name) {
  const rules::Setting* s = FindSetting(rules, name);
  return s ? &s->value : nullptr;
}

// The rule file's paths that a delivery needs, checked before they are used: one that can
// never work (a Maildir whose directory does not exist, a password file that is not there)
// makes the rule file unusable, so the mail goes to INBOX now instead of being deferred
// until Exim gives up. kTemporary: an I/O error, worth a retry.
Status CheckPaths(FileSystem& fs, const Options& options, const rules::RuleSet& rules,
                  const std::string& home) {
  auto at = [&rules](const char* name) {
    return rules.Where(rules.settings.at(name).location) + ": ";
  };
  auto permanent = [](int err) {
    return err == ENOENT || err == ENOTDIR || err == EACCES || err == ELOOP;
  };
  if (const std::string* maildir = Setting(rules, "maildir"); maildir && !options.maildir) {
    std::string path;
    Status s = ExpandPath(*maildir, home, "the maildir setting", &path);
    if (!s.ok()) return Status::BadInput(at("maildir") + s.message());
    struct stat st;
    if (fs.FstatAt(AT_FDCWD, path.c_str(), &st, 0) == 0) {
      if (!S_ISDIR(st.st_mode))
        return Status::BadInput(at("maildir") + path + " is not a directory");
    } else if (errno != ENOENT) {
      if (!permanent(errno)) return Status::Posix("cannot look up the Maildir " + path, errno);
      return Status::BadInput(at("maildir") + Status::Posix("cannot use " + path, errno).message());
    } else {
      // mda makes the Maildir itself, not the directories above it.
      std::string parent = path.substr(0, std::max<size_t>(path.rfind('/'), 1));
      if (fs.FstatAt(AT_FDCWD, parent.c_str(), &st, 0) != 0) {
        if (!permanent(errno)) return Status::Posix("cannot look up " + parent, errno);
        return Status::BadInput(at("maildir") + "the Maildir " + path +
                                " cannot be made: " + Status::Posix(parent, errno).message() +
                                " (create it, or fix the setting)");
      }
      if (!S_ISDIR(st.st_mode)) {
        return Status::BadInput(at("maildir") + "the Maildir " + path +
                                " cannot be made: " + parent + " is not a directory");
      }
    }
  }
  if (const std::string* file = Setting(rules, "dedup-password-file");
      file && !options.dedup_password_file) {
    std::string path;
    Status s = ExpandPath(*file, home, "the dedup-password-file setting", &path);
    if (!s.ok()) return Status::BadInput(at("dedup-password-file") + s.message());
    UniqueFd fd(&fs,
                fs.OpenAt(AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0));
    if (!fd.valid()) {
      if (!permanent(errno)) return Status::Posix("cannot open dedup-password-file " + path, errno);
      return Status::BadInput(at("dedup-password-file") +
                              Status::Posix("cannot open " + path, errno).message());
    }
  }
  return Status::Ok();
}

// The duplicate settings of `rules` (default: the file store, 7 days), the command line
// winning over the rule file. A bad value is kBadInput (a bad rule-file value never gets
// here: the parser refused the file).
Status DedupSettings(const Options& options, const rules::RuleSet& rules, const std::string& home,
                     DedupConfig* out) {
  DedupConfig c;
  c.period = kDefaultDedupPeriod;  // on for 7 days unless the rule file says otherwise
  if (const std::string* dedup = Setting(rules, "dedup")) {
    c.period = *dedup == "off"
                   ? 0
                   : static_cast<int64_t>(rules::ParsePeriod(*dedup).value_or(kDefaultDedupPeriod));
  }
  if (const std::string* v = Setting(rules, "dedup-case")) c.case_sensitive = *v == "sensitive";
  if (const std::string* v = Setting(rules, "dedup-timeout"))
    c.timeout_ms = ParseTimeoutMs(*v).value_or(c.timeout_ms);
  if (const std::string* v = Setting(rules, "dedup-unreachable"))
    c.deliver_unchecked = *v == "deliver";
  const std::string* store =
      options.dedup_store ? &*options.dedup_store : Setting(rules, "dedup-store");
  if (store && *store != "file") {
    RedisAddress address;
    Status s = ParseRedisUrl(*store, &address);
    if (!s.ok())
      return Status::BadInput((options.dedup_store ? "--dedup-store: " : "") + s.message());
    c.redis = std::move(address);
  } else if (!home.empty()) {
    c.file = home + "/.mda/" + kDedupStoreName;
  }
  const std::string* password = options.dedup_password_file ? &*options.dedup_password_file
                                                            : Setting(rules, "dedup-password-file");
  if (password) {
    Status s = ExpandPath(*password, home, "the dedup-password-file setting", &c.password_file);
    if (!s.ok()) return s;
  }
  *out = std::move(c);
  return Status::Ok();
}

}  // namespace

std::span<const rules::SettingSpec> Settings() { return kSettings; }

namespace {

// Loads one file into loaded->rules; on failure nothing of it stays there.
Status LoadInto(FileSystem& fs, const std::string& path, uid_t uid, const std::string& home,
                bool site, LoadedRules* loaded, bool* found) {
  rules::RuleSet& r = loaded->rules;
  size_t files = r.files.size(), count = r.rules.size(), refused = r.refused_settings.size();
  auto settings = r.settings;
  Status s = LoadRuleFile(fs, path, uid, home, Settings(), &r, found, site);
  if (!s.ok()) {
    r.files.resize(files);
    r.sources.resize(files);
    r.rules.erase(r.rules.begin() + static_cast<std::ptrdiff_t>(count), r.rules.end());
    r.refused_settings.resize(refused);
    r.settings = std::move(settings);
  }
  return s;
}

}  // namespace

LoadedRules LoadRules(FileSystem& fs, const std::string& path, uid_t uid, const std::string& home,
                      const std::string& site_dir) {
  LoadedRules loaded;
  loaded.path = path;
  struct stat st;
  bool site = !site_dir.empty() && fs.FstatAt(AT_FDCWD, site_dir.c_str(), &st, 0) == 0;
  if (!site && !site_dir.empty() && errno != ENOENT) {
    loaded.site_warnings.push_back(
        Status::Posix("site rules not applied: cannot stat " + site_dir, errno).message());
  }
  auto load_site = [&](const char* name) {
    std::string file = site_dir + "/" + name;
    bool found = false;
    Status s = LoadInto(fs, file, 0, home, /*site=*/true, &loaded, &found);
    if (!s.ok()) {
      loaded.site_warnings.push_back("site rule file " + file +
                                     " not used (the user's rules still run): " + s.message());
    } else if (found) {
      loaded.site_rules = true;
    }
  };
  if (site) load_site("before.rules");
  if (!path.empty())
    loaded.status = LoadInto(fs, path, uid, home, /*site=*/false, &loaded, &loaded.found);
  if (site) load_site("after.rules");
  return loaded;
}

Status ResolveConfig(const Options& options, const Environment& env,
                     const std::optional<Account>& account, Config* out) {
  Status s = ResolveEnvelope(options, env, account, "", &out->envelope);
  const Envelope& e = out->envelope;
  if (!e.home.empty() && e.home[0] == '/') {
    out->log.path = e.home + "/.mda/log";
    out->log.path_is_default = true;
  }
  if (!s.ok()) return s;
  if (std::string dir; !(s = FolderDirectory(e.folder, &dir)).ok()) {
    return Status::BadInput("--folder: " + s.message());
  }
  return Status::Ok();
}

void UseFromLine(std::string_view from_line, Config* config) {
  if (!config->envelope.sender_given) config->envelope.sender = SenderOfFromLine(from_line);
}

Status ApplyRules(FileSystem& fs, const Options& options, const LoadedRules& loaded, Config* config,
                  std::vector<std::string>* warnings) {
  Envelope& e = config->envelope;
  if (loaded.status.kind() == Status::Kind::kTemporary) return loaded.status;
  config->rules_found = loaded.found;
  static const rules::RuleSet kNoRules;
  for (const std::string& w : loaded.site_warnings) warnings->push_back(w);
  // The user's file unusable: the site's rules (when there are any) still run.
  Status usable = loaded.status;
  bool use = usable.ok() || loaded.site_rules;
  const rules::RuleSet* chosen = &loaded.rules;
  if (use) {
    Status paths = CheckPaths(fs, options, *chosen, e.home);
    if (paths.kind() == Status::Kind::kTemporary) return paths;
    if (!paths.ok()) {
      usable = paths;
      use = false;
    }
    if (!paths.ok() && loaded.status.ok() && loaded.site_rules) {
      // The user's file parsed, but one of its paths cannot work (a Maildir that is not
      // there): the site's rules alone, loaded again without it.
      auto only = std::make_shared<LoadedRules>(
          LoadRules(fs, "", 0, e.home, options.site_dir.value_or(kSiteDir)));
      Status site_paths = only->site_rules ? CheckPaths(fs, options, only->rules, e.home)
                                           : Status::BadInput("no site rules");
      if (site_paths.kind() == Status::Kind::kTemporary) return site_paths;
      if (site_paths.ok()) {
        config->site_only = only;
        chosen = &only->rules;
        use = true;
      }
    }
  }
  const rules::RuleSet& rules = use ? *chosen : kNoRules;
  if (!usable.ok()) {
    warnings->push_back(
        "rule file not used, " +
        (use ? std::string("only the site's rules apply") : "mail goes to " + e.folder) + ": " +
        usable.message());
  }
  config->rules_used = usable.ok() && loaded.found;
  config->rules = &rules;

  if (const std::string* maildir = Setting(rules, "maildir"); maildir && !options.maildir) {
    Status s = ExpandPath(*maildir, e.home, "the maildir setting", &e.maildir);
    if (!s.ok()) return s;
  }
  LogSettings& log = config->log;
  if (const std::string* format = Setting(rules, "log-format")) log.json = *format == "json";
  if (const std::string* t = Setting(rules, "log-time")) log.local_time = *t == "local";
  if (const rules::Setting* s = FindSetting(rules, "syslog")) {
    log.syslog = s->value == "off" ? "" : s->value;
    if (s->value != "off") {
      log.warnings_syslog = s->value;
    } else if (s->fixed) {
      log.warnings_syslog.clear();  // the administrator's choice; a user's off is not theirs
    }
  }
  if (const std::string* path = Setting(rules, "log")) {
    log.path_is_default = false;
    if (*path == "off" || !ExpandPath(*path, e.home, "the log setting", &log.path).ok())
      log.path.clear();
  }
  if (const std::string* m = Setting(rules, "max-size")) config->max_size = rules::ParseSize(*m);
  if (const std::string* t = Setting(rules, "program-timeout"))
    config->programs.timeout_ms = static_cast<int64_t>(rules::ParsePeriod(*t).value_or(30)) * 1000;
  if (const std::string* f = Setting(rules, "pipe-failure"))
    config->programs.defer_on_failure = *f == "defer";
  if (const std::string* p = Setting(rules, "sendmail")) config->mail_out.sendmail = *p;
  if (const std::string* f = Setting(rules, "forward-sender"))
    config->mail_out.forward_sender = *f == "sender" ? "" : *f;
  if (const std::string* v = Setting(rules, "subscribe")) config->subscribe = *v == "on";
  if (const std::string* v = Setting(rules, "quota-full")) config->quota_reject = *v == "reject";
  return DedupSettings(options, rules, e.home, &config->dedup);
}

}  // namespace mda
