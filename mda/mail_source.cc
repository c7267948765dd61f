// MailSource: the saved messages mdatest reads.
#include "mda/mail_source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace mda {
namespace {

// Nothing below the path the user gave is followed through a symbolic link (as in mda):
// cur/, new/, a .Folder or a message that is a link is skipped, so a Maildir cannot make
// mdatest (run by root, say) read /etc. lstat() decides; O_NOFOLLOW opens.
bool IsDirectory(FileSystem& fs, const std::string& path) {
  struct stat st;
  return fs.FstatAt(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

bool IsMaildir(FileSystem& fs, const std::string& dir) {
  return IsDirectory(fs, dir + "/cur") && IsDirectory(fs, dir + "/new");
}

// The entries of `dir`; `top`: the path the user gave, which may itself be a link. The
// directory is opened through the seam; its entries are read by readdir(3), which the seam
// does not have (only mdatest lists directories, read-only: a failure is an unreadable path,
// reported, and nothing else).
std::vector<std::string> SortedEntries(FileSystem& fs, const std::string& dir, bool top,
                                       std::vector<std::string>* errors) {
  std::vector<std::string> names;
  int fd = fs.OpenAt(AT_FDCWD, dir.c_str(),
                     O_RDONLY | O_DIRECTORY | O_CLOEXEC | (top ? 0 : O_NOFOLLOW), 0);
  DIR* d = fd < 0 ? nullptr : fdopendir(fd);
  if (d == nullptr) {
    int err = errno;
    if (fd >= 0) fs.Close(fd);
    errors->push_back(Status::Posix("cannot read directory " + dir, err).message());
    return names;
  }
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

class Walker {
 public:
  Walker(FileSystem& fs, bool recursive, const MessageVisitor& visit,
         std::vector<std::string>* errors)
      : fs_(fs), recursive_(recursive), visit_(visit), errors_(errors) {}

  bool Path(const std::string& path) {
    if (path == "-") {
      Message m;
      Status s = Message::Read(fs_, STDIN_FILENO, "standard input", &m);
      if (!s.ok()) {
        errors_->push_back(s.message());
        return true;
      }
      return visit_("-", m);
    }
    struct stat st;
    if (fs_.FstatAt(AT_FDCWD, path.c_str(), &st, 0) != 0) {
      errors_->push_back(Status::Posix("cannot read " + path, errno).message());
      return true;
    }
    if (S_ISDIR(st.st_mode)) return Directory(path, /*top=*/true);
    return File(path, /*top=*/true);
  }

 private:
  bool File(const std::string& path, bool top = false) {
    int fd = fs_.OpenAt(AT_FDCWD, path.c_str(),
                        O_RDONLY | O_CLOEXEC | O_NOCTTY | (top ? 0 : O_NOFOLLOW), 0);
    if (fd < 0) {
      errors_->push_back(Status::Posix("cannot open " + path, errno).message());
      return true;
    }
    UniqueFd owned(&fs_, fd);
    Message m;
    Status s = Message::Read(fs_, fd, path, &m);
    if (!s.ok()) {
      errors_->push_back(s.message());
      return true;
    }
    // An mbox holds one or more messages behind From_ lines; a message file, one.
    if (!m.from_line().empty()) {
      std::vector<std::string> messages =
          SplitMbox(std::string(m.from_line()) + "\n" + std::string(m.content()));
      if (messages.size() > 1) {
        for (size_t i = 0; i < messages.size(); ++i) {
          if (!visit_(path + "#" + std::to_string(i + 1), Message::FromBytes(messages[i])))
            return false;
        }
        return true;
      }
      if (messages.size() == 1) return visit_(path, Message::FromBytes(messages[0]));
    }
    return visit_(path, m);
  }

  bool Directory(const std::string& dir, bool top) {
    if (IsMaildir(fs_, dir)) {
      for (const char* sub : {"/cur", "/new"}) {
        for (const std::string& name : SortedEntries(fs_, dir + sub, false, errors_)) {
          if (name[0] == '.') continue;
          if (!RegularFile(dir + sub + "/" + name)) continue;
          if (!File(dir + sub + "/" + name)) return false;
        }
      }
      if (!recursive_) return true;
      for (const std::string& name : SortedEntries(fs_, dir, top, errors_)) {  // Maildir++ folders
        if (name.size() > 1 && name[0] == '.' && name != ".." &&
            IsDirectory(fs_, dir + "/" + name) && IsMaildir(fs_, dir + "/" + name)) {
          if (!Directory(dir + "/" + name, false)) return false;
        }
      }
      return true;
    }
    for (const std::string& name : SortedEntries(fs_, dir, top, errors_)) {
      if (name[0] == '.') continue;
      std::string path = dir + "/" + name;
      struct stat st;
      if (fs_.FstatAt(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISREG(st.st_mode)) {
        if (!File(path)) return false;
      } else if (S_ISDIR(st.st_mode) && recursive_) {
        if (!Directory(path, false)) return false;
      }
    }
    return true;
  }

  bool RegularFile(const std::string& path) {
    struct stat st;
    return fs_.FstatAt(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISREG(st.st_mode);
  }

  FileSystem& fs_;
  bool recursive_;
  const MessageVisitor& visit_;
  std::vector<std::string>* errors_;
};

bool IsFromLine(std::string_view line) { return FromLineLength(line) > 0; }

}  // namespace

void ForEachMessage(FileSystem& fs, const std::vector<std::string>& paths, bool recursive,
                    const MessageVisitor& visit, std::vector<std::string>* errors) {
  Walker walker(fs, recursive, visit, errors);
  for (const std::string& path : paths) {
    if (!walker.Path(path)) return;
  }
}

std::vector<std::string> SplitMbox(std::string_view mbox) {
  std::vector<std::string> messages;
  std::string current;
  bool have = false;
  bool previous_blank = true;  // the start of the file counts as after a blank line
  size_t pos = 0;
  std::string pending_blank;  // a blank line held back: it separates messages if a From_ follows
  while (pos < mbox.size()) {
    size_t eol = mbox.find('\n', pos);
    size_t next = eol == std::string_view::npos ? mbox.size() : eol + 1;
    std::string_view line = mbox.substr(pos, next - pos);
    pos = next;
    std::string_view bare = line;
    if (!bare.empty() && bare.back() == '\n') bare.remove_suffix(1);
    if (!bare.empty() && bare.back() == '\r') bare.remove_suffix(1);
    if (previous_blank && IsFromLine(bare)) {
      if (have) messages.push_back(std::move(current));  // the held-back blank line is dropped
      current.assign(line);
      pending_blank.clear();
      have = true;
      previous_blank = false;
      continue;
    }
    if (!pending_blank.empty()) {
      current += pending_blank;
      pending_blank.clear();
    }
    if (bare.empty()) {
      pending_blank.assign(line);
      previous_blank = true;
      continue;
    }
    previous_blank = false;
    // mboxrd: ">From ", ">>From " ... lose one '>'.
    size_t gt = 0;
    while (gt < bare.size() && bare[gt] == '>') ++gt;
    if (gt > 0 && bare.substr(gt, 5) == "From ") line.remove_prefix(1);
    current.append(line);
  }
  if (have) messages.push_back(std::move(current));  // a last blank line is the separator too
  return messages;
}

}  // namespace mda
