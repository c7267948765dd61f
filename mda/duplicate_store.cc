// DuplicateStore: the key of a message, and opening the store a delivery or a dry run needs.
#include "mda/duplicate_store.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/ascii.h"
#include "mda/file_store.h"
#include "mda/redis_store.h"
#include "mda/trust.h"

namespace mda {
namespace {

// Why the file store at `file` (and its lock beside it) is not to be trusted, or "".
std::string UntrustedStore(FileSystem& fs, const std::string& file, uid_t uid) {
  size_t slash = file.rfind('/');
  std::string dir = slash == std::string::npos ? "." : file.substr(0, slash);
  return UntrustedPlace(fs, dir, {file.substr(slash + 1), kDedupLockName}, uid);
}

}  // namespace

std::optional<std::string> DedupKey(std::string_view message_id, std::string_view from,
                                    std::string_view recipient, bool case_sensitive) {
  auto compact = [](std::string_view s, bool lower) {
    std::string out;
    for (char c : s) {
      if (IsSpace(c)) continue;
      out += lower ? LowerAscii(c) : c;
    }
    return out;
  };
  std::string id = compact(message_id, false);
  if (id.empty()) return std::nullopt;
  std::string rcpt(recipient);
  size_t at = rcpt.rfind('@');
  for (size_t i = 0; i < rcpt.size(); ++i) {
    bool domain = at != std::string::npos && i > at;
    if (domain || !case_sensitive) rcpt[i] = LowerAscii(rcpt[i]);
  }
  // The ID and the sender have no white space left, so the first two spaces separate the
  // parts unambiguously.
  return id + " " + compact(from, true) + " " + rcpt;
}

Status OpenForDelivery(FileSystem& fs, const DedupConfig& config, const std::string& home,
                       uid_t uid, std::unique_ptr<DuplicateStore>* out, std::string* warning) {
  out->reset();
  if (config.redis) {
    *out = std::make_unique<RedisStore>(fs, config);
    return Status::Ok();
  }
  std::string dir = home + "/.mda";
  if (fs.MkdirAt(AT_FDCWD, dir.c_str(), 0700) != 0 && errno != EEXIST) {
    // No home directory at all (a system user such as nobody): there is nowhere to
    // remember deliveries, and deferring every message for ever would be worse than
    // delivering without suppression. Any other failure defers.
    if (errno == ENOENT) return Status::Ok();
    return Status::Posix("cannot create " + dir + " for the duplicate store", errno);
  }
  // A store that others could write could hold a planted mark for a Message-ID to come:
  // such mail is delivered unchecked (a duplicate is possible, a loss is not).
  if (std::string why = UntrustedStore(fs, config.file, uid); !why.empty()) {
    *warning = why + "; delivered without the duplicate check until it is fixed";
    return Status::Ok();
  }
  *out = std::make_unique<FileStore>(fs, config.file);
  return Status::Ok();
}

Status OpenForReading(FileSystem& fs, const DedupConfig& config,
                      std::unique_ptr<DuplicateStore>* out) {
  out->reset();
  if (config.redis) {
    *out = std::make_unique<RedisStore>(fs, config);
    return Status::Ok();
  }
  // mda would not trust a store others could write (it delivers without the check): then
  // neither does the dry run, or it would show a planted mark as a duplicate.
  if (std::string why = UntrustedStore(fs, config.file, geteuid()); !why.empty()) {
    return Status::BadInput(why + "; mda delivers without the duplicate check until it is fixed");
  }
  std::unique_ptr<FileStore> store;
  std::string ignored;  // read-only: nothing is replaced, so nothing to warn of
  Status s = FileStore::Open(fs, config.file, "", /*read_only=*/true, &store, &ignored);
  if (!s.ok()) return s;  // none there is an error: nothing is created
  *out = std::move(store);
  return Status::Ok();
}

}  // namespace mda
