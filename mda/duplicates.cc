// Duplicates: opening the store a delivery or a dry run needs, and the file store behind the
// interface.
#include "mda/duplicates.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "mda/redis_store.h"
#include "mda/trust.h"

namespace mda {
namespace {

constexpr int kKeyLockTimeout = 60;  // seconds; Exim's transport timeout is minutes

// The user's own store: ~/.mda/dedup.store, its key lock in ~/.mda/dedup.lock.
class FileDuplicates : public DuplicateStore {
 public:
  FileDuplicates(FileSystem& fs, std::string path, bool read_only)
      : fs_(fs), path_(std::move(path)), read_only_(read_only) {}

  Status Claim(const std::string& key, const std::vector<std::string>& targets, int64_t cutoff,
               Lookup* out) override {
    std::string lock_path = path_.substr(0, path_.rfind('/') + 1) + kDedupLockName;
    Status s = KeyLock::Acquire(fs_, lock_path, key, kKeyLockTimeout, &lock_);
    if (!s.ok()) return s;
    std::string warning;
    s = DedupStore::Open(fs_, path_, lock_path, /*read_only=*/false, &store_, &warning,
                         lock_->fd());
    if (!warning.empty()) warnings_.push_back(warning);
    if (!s.ok()) return s;
    return store_->Find(key, targets, cutoff, out);
  }

  Status Find(const std::string& key, const std::vector<std::string>& targets, int64_t cutoff,
              Lookup* out) override {
    if (!store_) {
      std::string warning;
      Status s = DedupStore::Open(fs_, path_, "", read_only_, &store_, &warning);
      if (!s.ok()) return s;
    }
    return store_->Find(key, targets, cutoff, out);
  }

  Status Mark(const std::string& key, const std::vector<std::string>& targets, int64_t now,
              int64_t cutoff, bool /*last*/) override {
    // The key lock is released with the process (or this object): a mark needs no more.
    return store_->Mark(key, targets, now, cutoff);
  }

  std::vector<std::string> TakeWarnings() override {
    std::vector<std::string> all = std::move(warnings_);
    warnings_.clear();
    if (store_) {
      for (std::string& w : store_->TakeWarnings()) all.push_back(std::move(w));
    }
    return all;
  }

 private:
  FileSystem& fs_;
  std::string path_;
  bool read_only_;
  std::unique_ptr<KeyLock> lock_;  // before the store, which shares its descriptor
  std::unique_ptr<DedupStore> store_;
  std::vector<std::string> warnings_;
};

// Why the file store at `file` (and its lock beside it) is not to be trusted, or "".
std::string UntrustedStore(FileSystem& fs, const std::string& file, uid_t uid) {
  size_t slash = file.rfind('/');
  std::string dir = slash == std::string::npos ? "." : file.substr(0, slash);
  return UntrustedPlace(fs, dir, {file.substr(slash + 1), kDedupLockName}, uid);
}

}  // namespace

Status OpenForDelivery(FileSystem& fs, const DedupConfig& config, const std::string& home,
                       uid_t uid, std::unique_ptr<DuplicateStore>* out, std::string* warning) {
  out->reset();
  if (config.redis) {
    *out = std::make_unique<RedisStore>(config);
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
  *out = std::make_unique<FileDuplicates>(fs, config.file, /*read_only=*/false);
  return Status::Ok();
}

Status OpenForReading(FileSystem& fs, const DedupConfig& config,
                      std::unique_ptr<DuplicateStore>* out) {
  out->reset();
  if (config.redis) {
    *out = std::make_unique<RedisStore>(config);
    return Status::Ok();
  }
  // mda would not trust a store others could write (it delivers without the check): then
  // neither does the dry run, or it would show a planted mark as a duplicate.
  if (std::string why = UntrustedStore(fs, config.file, geteuid()); !why.empty()) {
    return Status::BadInput(why + "; mda delivers without the duplicate check until it is fixed");
  }
  auto store = std::make_unique<FileDuplicates>(fs, config.file, /*read_only=*/true);
  DuplicateStore::Lookup ignored;
  Status s = store->Find("", {}, 0, &ignored);  // opens it: none there is an error
  if (!s.ok()) return s;
  *out = std::move(store);
  return Status::Ok();
}

}  // namespace mda
