// RuleFile: the user's rule file read safely and parsed, includes too.
#include "mda/rule_file.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "mda/trust.h"
#include "rules/parser.h"

namespace mda {
namespace {

// Why `st` (the file or its directory) is not safe to take rules from, or "".
std::string Unsafe(const struct stat& st, uid_t uid, const std::string& path, bool directory) {
  std::string why = Untrusted(st, uid, path, directory);
  if (why.empty()) return why;
  return why + (uid == 0 ? " (mda only takes site rules that root alone controls)"
                         : " (mda only takes rules that the mailbox owner alone controls)");
}

// Why a rule file reached through symbolic links could be swapped by others, or "": the
// directory of every link on the way and every directory above the file it reaches must
// be the owner's (or root's) and writable by nobody else (a link into a mode-777 directory
// would let others choose the rules).
std::string UnsafeLinks(FileSystem& fs, const std::string& path, uid_t uid) {
  auto parent = [](const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? std::string(".")
           : slash == 0               ? std::string("/")
                                      : p.substr(0, slash);
  };
  auto trusted_dir = [&](const std::string& dir) -> std::string {
    struct stat st;
    if (fs.FstatAt(AT_FDCWD, dir.c_str(), &st, 0) != 0)
      return Status::Posix("cannot stat " + dir, errno).message();
    return Unsafe(st, uid, dir, true);
  };
  std::string current = path;
  for (int hops = 0;; ++hops) {
    struct stat st;
    if (fs.FstatAt(AT_FDCWD, current.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISLNK(st.st_mode))
      break;
    if (hops == 40) return path + ": too many symbolic links";
    char target[4096];
    ssize_t n = fs.ReadLinkAt(AT_FDCWD, current.c_str(), target, sizeof target - 1);
    if (n < 0) return Status::Posix("cannot read the link " + current, errno).message();
    std::string next(target, static_cast<size_t>(n));
    if (next.empty() || next[0] != '/') next = parent(current) + "/" + next;
    if (std::string why = trusted_dir(parent(next)); !why.empty())
      return "the rule file " + path + " is a link: " + why;
    current = next;
  }
  // realpath(3) is libc's walk (lstat and readlink of every component), not one system call:
  // it stays outside the seam. Only rule files reached through a link get here, and each
  // directory it names is then checked through the seam.
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr)
    return Status::Posix("cannot resolve " + path, errno).message();
  for (std::string dir = parent(resolved);; dir = parent(dir)) {
    if (std::string why = trusted_dir(dir); !why.empty())
      return "the rule file " + path + " is a link: " + why;
    if (dir == "/") break;
  }
  return "";
}

// Reads one rule file, checking it and its directory first.
Status ReadChecked(FileSystem& fs, const std::string& path, uid_t uid, std::string* content,
                   std::string* identity, bool* found) {
  *found = false;
  int fd = fs.OpenAt(AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::Ok();
    if (err == EACCES || err == ELOOP || err == ENOTDIR)
      return Status::BadInput(Status::Posix("cannot open " + path, err).message());
    return Status::Posix("cannot open rule file " + path, err);
  }
  UniqueFd file(&fs, fd);
  *found = true;
  struct stat st;
  if (fs.FstatAt(fd, "", &st, AT_EMPTY_PATH) != 0)
    return Status::Posix("cannot stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::BadInput(path + " is not a regular file");
  if (std::string why = Unsafe(st, uid, path, false); !why.empty()) return Status::BadInput(why);
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat dst;
  if (fs.FstatAt(AT_FDCWD, dir.c_str(), &dst, 0) != 0)
    return Status::Posix("cannot stat " + dir, errno);
  if (std::string why = Unsafe(dst, uid, dir, true); !why.empty()) return Status::BadInput(why);
  struct stat lst;
  if (fs.FstatAt(AT_FDCWD, path.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode)) {
    if (std::string why = UnsafeLinks(fs, path, uid); !why.empty()) return Status::BadInput(why);
  }
  if (static_cast<size_t>(st.st_size) > kMaxRuleFileSize) {
    return Status::BadInput(path + " is larger than 1 MiB; that is not a rule file");
  }
  content->assign(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < content->size()) {
    ssize_t n = fs.Read(fd, content->data() + done, content->size() - done);
    if (n < 0) return Status::Posix("cannot read " + path, errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  content->resize(done);
  *identity = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  return Status::Ok();
}

}  // namespace

namespace {

// The first word of a line, for finding where statements start.
std::string_view FirstWord(std::string_view line) {
  size_t start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  size_t end = line.find_first_of(" \t", start);
  return line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

// What reads an included file: as safely as the file itself.
std::function<Status(const std::string&, std::string*, std::string*)> IncludeReader(FileSystem& fs,
                                                                                    uid_t uid) {
  return [&fs, uid](const std::string& include, std::string* text, std::string* id) {
    bool exists = false;
    Status r = ReadChecked(fs, include, uid, text, id, &exists);
    if (r.ok() && !exists) return Status::BadInput("no such file");
    return r;
  };
}

bool StartsRule(std::string_view line) {
  std::string_view w = FirstWord(line);
  return w == "if" || w == "set" || w == "set!" || w == "include";
}

// A line no rule continues on: a procmail recipe's (":0", "* ^Subject", "| prog", "! addr")
// or a variable assignment: it is an error of its own.
bool Foreign(std::string_view line) {
  std::string_view w = FirstWord(line);
  if (w.empty()) return false;
  if (w[0] == ':' || w[0] == '*' || w[0] == '|' || w[0] == '!') return true;
  size_t eq = w.find('=');
  return eq != std::string_view::npos && eq > 0 && w[0] >= 'A' && w[0] <= 'Z';
}

// The braces that stand alone as words on a line: +1 for each "{", -1 for each "}".
int Braces(std::string_view line) {
  int depth = 0;
  size_t i = 0;
  while (i < line.size()) {
    size_t start = line.find_first_not_of(" \t", i);
    if (start == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", start);
    std::string_view w = line.substr(start, end == std::string_view::npos ? end : end - start);
    if (w == "{") ++depth;
    if (w == "}") --depth;
    if (w.substr(0, 1) == "#") break;
    i = end == std::string_view::npos ? line.size() : end;
  }
  return depth;
}

}  // namespace

std::vector<Status> AllParseErrors(FileSystem& fs, const std::string& path, uid_t uid,
                                   const std::string& home,
                                   std::span<const rules::SettingSpec> settings, size_t max) {
  std::vector<Status> errors;
  std::string content, identity;
  bool found = false;
  Status s = ReadChecked(fs, path, uid, &content, &identity, &found);
  if (!s.ok() || !found) {
    if (!s.ok()) errors.push_back(s);
    return errors;
  }
  std::vector<std::string> lines;
  for (size_t start = 0; start <= content.size();) {
    size_t nl = content.find('\n', start);
    lines.push_back(content.substr(start, nl == std::string::npos ? nl : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  rules::ParseOptions options;
  options.home = home;
  options.settings = settings;
  options.read_include = IncludeReader(fs, uid);
  const std::string prefix = path + ":";
  int last_line = 0;
  while (errors.size() < max) {
    std::string text;
    for (size_t i = 0; i < lines.size(); ++i) text += lines[i] + (i + 1 < lines.size() ? "\n" : "");
    rules::RuleSet rules;
    s = rules::ParseRules(path, text, identity, options, &rules);
    if (s.ok()) break;
    errors.push_back(s);
    // Where it is: "PATH:LINE:COL" in this file (an include's error ends the search).
    std::string where(s.location());
    if (where.rfind(prefix, 0) != 0) break;
    int line = atoi(where.c_str() + prefix.size());
    if (line <= last_line || line < 1 || static_cast<size_t>(line) > lines.size()) break;
    last_line = line;
    // The statement around it: back to its start (an else line belongs to the if above),
    // on to the next one; a block it opened goes with it, the brace closing a block around
    // it stays.
    size_t first = static_cast<size_t>(line - 1);
    size_t end = first + 1;
    if (!Foreign(lines[first])) {  // a procmail line is set aside alone
      while (first > 0 && !StartsRule(lines[first])) {
        std::string_view above = FirstWord(lines[first - 1]);
        if (above.empty() || above == "}" || Foreign(lines[first - 1])) break;
        --first;
      }
      int depth = 0;
      for (end = first; end < lines.size(); ++end) {
        bool after = end > first && end >= static_cast<size_t>(line);
        if (after && depth <= 0 &&
            (StartsRule(lines[end]) || Foreign(lines[end]) || FirstWord(lines[end]) == "}"))
          break;
        depth += Braces(lines[end]);
      }
    }
    for (size_t i = first; i < end; ++i) lines[i].clear();
  }
  return errors;
}

Status LoadRuleFile(FileSystem& fs, const std::string& path, uid_t uid, const std::string& home,
                    std::span<const rules::SettingSpec> settings, rules::RuleSet* out, bool* found,
                    bool site) {
  std::string content, identity;
  Status s = ReadChecked(fs, path, uid, &content, &identity, found);
  if (!s.ok() || !*found) return s;
  rules::ParseOptions options;
  options.home = home;
  options.settings = settings;
  options.site = site;
  options.read_include = IncludeReader(fs, uid);
  return rules::ParseRules(path, content, identity, options, out);
}

}  // namespace mda
