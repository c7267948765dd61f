// Quota: Maildir++ soft quota (README.maildirquota), checked before a delivery and added
// to after it.
#include "mda/quota.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <vector>

#include "mda/maildir.h"

namespace mda {
namespace {

constexpr char kFile[] = "maildirsize";
// README.maildirquota: a file of 5120 bytes or more is recalculated (its lines have grown);
// so is one older than 15 minutes when the quota looks full (it may be out of date).
constexpr off_t kRecalculateSize = 5120;
constexpr int64_t kStaleSeconds = 15 * 60;
// What is read of the file: one bigger than this is recalculated without reading all of it.
constexpr size_t kMaxRead = 64 * 1024;

bool ParseInt(std::string_view text, int64_t* out) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

// The size a message file's name states (",S=1234" before ":2," or another ","), or -1.
int64_t NamedSize(std::string_view name) {
  size_t at = name.find(",S=");
  if (at == std::string_view::npos) return -1;
  std::string_view rest = name.substr(at + 3);
  size_t end = rest.find_first_of(",:");
  int64_t size;
  return ParseInt(rest.substr(0, end), &size) && size >= 0 ? size : -1;
}

// Adds the messages of one directory (new/ or cur/) to `usage`. A directory that is not
// there counts nothing (a folder being made, or removed meanwhile).
Status SumDirectory(FileSystem& fs, int parent, const std::string& name, const std::string& path,
                    QuotaUsage* usage) {
  int fd = fs.OpenAt(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return Status::Ok();
    return Status::Posix("cannot open " + path, errno);
  }
  UniqueFd dir_fd(&fs, fd);
  int listing = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  DIR* dir = listing < 0 ? nullptr : fdopendir(listing);
  if (!dir) {
    if (listing >= 0) close(listing);
    return Status::Posix("cannot read " + path, errno);
  }
  Status status;
  errno = 0;
  while (struct dirent* entry = readdir(dir)) {
    std::string_view file = entry->d_name;
    if (file.empty() || file[0] == '.') continue;
    int64_t size = NamedSize(file);
    if (size < 0) {
      struct stat st;
      if (fs.FstatAt(fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // expunged while we looked
        status = Status::Posix("cannot stat " + path + "/" + entry->d_name, errno);
        break;
      }
      if (!S_ISREG(st.st_mode)) continue;
      size = st.st_size;
    }
    usage->bytes += size;
    usage->count += 1;
    errno = 0;
  }
  if (status.ok() && errno != 0) status = Status::Posix("cannot read " + path, errno);
  closedir(dir);
  return status;
}

}  // namespace

bool ParseQuotaDefinition(std::string_view line, QuotaLimits* out) {
  *out = QuotaLimits();
  bool any = false;
  while (!line.empty()) {
    size_t comma = line.find(',');
    std::string_view item = line.substr(0, comma);
    line = comma == std::string_view::npos ? std::string_view() : line.substr(comma + 1);
    if (item.size() < 2) continue;
    int64_t value;
    if (!ParseInt(item.substr(0, item.size() - 1), &value) || value < 0) continue;
    char kind = item.back();
    if (kind == 'S') {
      out->bytes = static_cast<uint64_t>(value);
      any = true;
    } else if (kind == 'C') {
      out->count = static_cast<uint64_t>(value);
      any = true;
    }
  }
  return any;
}

std::string QuotaCheck::Describe(uint64_t bytes, uint64_t count) const {
  std::string why = "mailbox full: ";
  if (limits.bytes && used.bytes + static_cast<int64_t>(bytes) > static_cast<int64_t>(limits.bytes))
    why += std::to_string(used.bytes) + " of " + std::to_string(limits.bytes) +
           " bytes in use, the message has " + std::to_string(bytes);
  else
    why += std::to_string(used.count) + " of " + std::to_string(limits.count) +
           " messages in use, the message adds " + std::to_string(count);
  return why + " (Maildir++ quota, maildirsize)";
}

Status RecalculateQuota(FileSystem& fs, const std::string& root, const std::string& definition,
                        QuotaUsage* out) {
  *out = QuotaUsage();
  int fd = fs.OpenAt(AT_FDCWD, root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) return Status::Posix("cannot open Maildir " + root, errno);
  UniqueFd root_fd(&fs, fd);
  // The folders: every .NAME directory of the root (Maildir++), each with new/ and cur/.
  std::vector<std::string> folders = {""};
  int listing = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  DIR* dir = listing < 0 ? nullptr : fdopendir(listing);
  if (!dir) {
    if (listing >= 0) close(listing);
    return Status::Posix("cannot read Maildir " + root, errno);
  }
  errno = 0;
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.size() < 2 || name[0] != '.' || name == "..") continue;
    if (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN) continue;
    folders.push_back(name);
    errno = 0;
  }
  int read_error = errno;
  closedir(dir);
  if (read_error != 0) return Status::Posix("cannot read Maildir " + root, read_error);
  for (const std::string& folder : folders) {
    int folder_fd = fd;
    UniqueFd opened;
    std::string path = folder.empty() ? root : root + "/" + folder;
    if (!folder.empty()) {
      folder_fd = fs.OpenAt(fd, folder.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
      if (folder_fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
        return Status::Posix("cannot open " + path, errno);
      }
      opened = UniqueFd(&fs, folder_fd);
    }
    for (const char* sub : {"new", "cur"}) {
      Status s = SumDirectory(fs, folder_fd, sub, path + "/" + sub, out);
      if (!s.ok()) return s;
    }
  }
  // Written whole in tmp/ and renamed over: a reader sees the old file or the new one.
  std::string content =
      definition + "\n" + std::to_string(out->bytes) + " " + std::to_string(out->count) + "\n";
  std::string tmp_name =
      "tmp/" + FormatUniqueName(NewUniqueNameParts(), content.size()) + ".maildirsize";
  int tmp =
      fs.OpenAt(fd, tmp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (tmp < 0) return Status::Posix("cannot create " + root + "/" + tmp_name, errno);
  UniqueFd tmp_fd(&fs, tmp);
  Status s = WriteAll(fs, tmp, content.data(), content.size(), root + "/" + tmp_name);
  if (s.ok() && fs.Fsync(tmp) != 0)
    s = Status::Posix("cannot fsync " + root + "/" + tmp_name, errno);
  if (s.ok() && tmp_fd.Close() != 0)
    s = Status::Posix("cannot close " + root + "/" + tmp_name, errno);
  if (s.ok() && fs.Rename((root + "/" + tmp_name).c_str(), (root + "/" + kFile).c_str()) != 0)
    s = Status::Posix("cannot rename " + root + "/" + tmp_name + " to maildirsize", errno);
  if (!s.ok()) fs.UnlinkAt(fd, tmp_name.c_str(), 0);
  return s;
}

Status CheckQuota(FileSystem& fs, const std::string& root, uint64_t bytes, uint64_t count,
                  int64_t now, QuotaCheck* out) {
  *out = QuotaCheck();
  std::string path = root + "/" + kFile;
  int fd = fs.OpenAt(AT_FDCWD, path.c_str(), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Ok();  // no quota
    if (errno == ELOOP || errno == EACCES || errno == ENOTDIR || errno == ENXIO) {
      out->warning = Status::Posix("quota not enforced: cannot open " + path, errno).message();
      return Status::Ok();
    }
    return Status::Posix("cannot open " + path, errno);
  }
  UniqueFd file(&fs, fd);
  struct stat st;
  if (fs.FstatAt(fd, "", &st, AT_EMPTY_PATH) != 0)
    return Status::Posix("cannot stat " + path, errno);
  if (!S_ISREG(st.st_mode)) {
    out->warning = "quota not enforced: " + path + " is not a regular file";
    return Status::Ok();
  }
  std::string text;
  char buf[8192];
  while (text.size() < kMaxRead) {
    ssize_t n = fs.Read(fd, buf, sizeof buf);
    if (n < 0) return Status::Posix("cannot read " + path, errno);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  file.Close();
  size_t nl = text.find('\n');
  std::string definition = text.substr(0, nl);
  if (!ParseQuotaDefinition(definition, &out->limits)) {
    out->warning = "quota not enforced: the first line of " + path +
                   " sets no limit (it should be like 10000000S,1000C)";
    return Status::Ok();
  }
  out->present = true;
  bool recalculate = st.st_size >= kRecalculateSize;
  for (size_t start = nl == std::string::npos ? text.size() : nl + 1;
       !recalculate && start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      recalculate = true;  // a line being written, or cut: count afresh
      break;
    }
    std::vector<std::string_view> words = Words(std::string_view(text).substr(start, end - start));
    start = end + 1;
    if (words.empty()) continue;
    int64_t b, c;
    if (words.size() != 2 || !ParseInt(words[0], &b) || !ParseInt(words[1], &c)) {
      recalculate = true;
      break;
    }
    out->used.bytes += b;
    out->used.count += c;
  }
  auto over = [&]() {
    const QuotaLimits& l = out->limits;
    return (l.bytes &&
            out->used.bytes + static_cast<int64_t>(bytes) > static_cast<int64_t>(l.bytes)) ||
           (l.count &&
            out->used.count + static_cast<int64_t>(count) > static_cast<int64_t>(l.count));
  };
  if (!recalculate && over() && now - static_cast<int64_t>(st.st_mtime) > kStaleSeconds)
    recalculate = true;
  if (!recalculate && (out->used.bytes < 0 || out->used.count < 0)) recalculate = true;
  if (recalculate) {
    Status s = RecalculateQuota(fs, root, definition, &out->used);
    if (!s.ok()) return Status::Temporary("cannot recalculate the quota: " + s.message());
    out->recalculated = true;
  }
  out->over = over();
  return Status::Ok();
}

Status AddToQuota(FileSystem& fs, const std::string& root, uint64_t bytes, uint64_t count) {
  std::string path = root + "/" + kFile;
  int fd =
      fs.OpenAt(AT_FDCWD, path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0) return Status::Posix("cannot open " + path, errno);
  UniqueFd file(&fs, fd);
  std::string line = std::to_string(bytes) + " " + std::to_string(count) + "\n";
  ssize_t n = fs.Write(fd, line.data(), line.size());  // one write: concurrent lines stay whole
  if (n != static_cast<ssize_t>(line.size()))
    return Status::Posix("cannot write " + path, n < 0 ? errno : EIO);
  if (file.Close() != 0) return Status::Posix("cannot close " + path, errno);
  return Status::Ok();
}

}  // namespace mda
