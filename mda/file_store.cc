// FileStore: the user's own duplicate store. Over 400 lines on purpose: one on-disk format
// (below) and every operation on it in one file.
//
// The store file, in the host's byte order (it never leaves the host):
//   page 0, the header: "mda dedup store\n", version 1, 0x01020304 (byte order), the
//     bucket count (a power of two), the 128-bit SipHash key, and a SipHash of those
//     48 bytes. The file is exactly (1 + buckets) pages long.
//   page 1 + b, bucket b: 128 slots of 32 bytes {kh, tag, at, check}. kh is the key's
//     hash (its low bits pick the bucket), tag the hash of key and target ("*" for the
//     whole delivery, else a folder), at the unix time of the first mark, check a mix of
//     the three (never 0), so an empty, torn or garbled slot reads as free.
// A slot older than the dedup period is expired: not found, and reused by the next mark.
// The store is replaced only by rename(2) of a complete, fsynced file (creation, growth),
// so a reader holding the old file still sees a consistent table; writers re-open when
// the file they hold has been unlinked.
#include "mda/file_store.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "mda/siphash.h"

namespace mda {
namespace {

constexpr size_t kPage = 4096;
struct Slot {
  uint64_t kh;
  uint64_t tag;
  int64_t at;
  uint64_t check;
};
static_assert(sizeof(Slot) == 32);
constexpr size_t kSlots = kPage / sizeof(Slot);  // per bucket
constexpr size_t kGrowAt = kSlots * 3 / 4;       // live slots in one bucket that double the table
using Bucket = std::array<Slot, kSlots>;

constexpr char kMagic[16] = {'m', 'd', 'a', ' ', 'd', 'e', 'd', 'u',
                             'p', ' ', 's', 't', 'o', 'r', 'e', '\n'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kByteOrder = 0x01020304;
constexpr size_t kHeaderChecked = 48;  // bytes covered by the header's check
constexpr uint64_t kHeaderK0 = 0x6d64612d64656475ull, kHeaderK1 = 0x702d686561646572ull;
// Key locks sit at 46-bit hashes of the key; the table lock just above them.
constexpr uint64_t kKeyLockMask = (uint64_t{1} << 46) - 1;
constexpr off_t kTableLockOffset = off_t{1} << 46;
constexpr int kTableLockTimeout = 60;

uint64_t Mix(uint64_t x) {  // MurmurHash3's finaliser
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}
uint64_t SlotCheck(const Slot& s) {
  return Mix(s.kh ^ Mix(s.tag ^ Mix(static_cast<uint64_t>(s.at) ^ 0x9e3779b97f4a7c15ull))) | 1;
}
bool Valid(const Slot& s) { return s.check != 0 && s.check == SlotCheck(s); }

off_t BucketOffset(uint64_t b) { return static_cast<off_t>((b + 1) * kPage); }

// pread/pwrite of exactly `n` bytes, retried on EINTR and short transfers. pread returns
// the bytes read (fewer at end of file), or -1 with errno.
ssize_t PreadAll(FileSystem& fs, int fd, void* buf, size_t n, off_t off) {
  size_t done = 0;
  while (done < n) {
    ssize_t r =
        fs.Pread(fd, static_cast<char*>(buf) + done, n - done, off + static_cast<off_t>(done));
    if (r < 0) return -1;
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(done);
}
bool PwriteAll(FileSystem& fs, int fd, const void* buf, size_t n, off_t off) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = fs.Pwrite(fd, static_cast<const char*>(buf) + done, n - done,
                          off + static_cast<off_t>(done));
    if (r <= 0) {
      if (r == 0) errno = EIO;
      return false;
    }
    done += static_cast<size_t>(r);
  }
  return true;
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void OnAlarm(int) {}  // only interrupts the blocking fcntl()

// An OFD lock of `type` on one byte of `fd`: at once if free, else waiting up to
// `timeout_seconds` (an alarm interrupts the wait; no SA_RESTART). F_UNLCK never waits.
Status LockByte(FileSystem& fs, int fd, short type, off_t offset, int timeout_seconds,
                const std::string& path, const std::string& held_message) {
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = offset;
  fl.l_len = 1;
  if (fs.OfdLock(fd, F_OFD_SETLK, &fl) == 0) return Status::Ok();  // uncontended: no timer needed
  if (type == F_UNLCK || (errno != EAGAIN && errno != EACCES))
    return Status::Posix("cannot lock " + path, errno);
  struct sigaction sa = {}, old = {};
  sa.sa_handler = OnAlarm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, &old);
  unsigned previous = alarm(static_cast<unsigned>(timeout_seconds));
  int rc = fs.OfdLock(fd, F_OFD_SETLKW, &fl);
  int err = errno;
  alarm(previous);
  sigaction(SIGALRM, &old, nullptr);
  if (rc == 0) return Status::Ok();
  if (err == EINTR) {
    return Status::Temporary(held_message + " held its lock for " +
                             std::to_string(timeout_seconds) + " s (" + path + ")");
  }
  return Status::Posix("cannot lock " + path, err);
}

Status FsyncDirectoryOf(FileSystem& fs, const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = fs.OpenAt(AT_FDCWD, dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) return Status::Posix("cannot open " + dir, errno);
  int rc = fs.Fsync(fd);
  int err = errno;
  fs.Close(fd);
  if (rc != 0) return Status::Posix("cannot fsync " + dir, err);
  return Status::Ok();
}

void WriteHeader(unsigned char* page, uint64_t buckets, uint64_t k0, uint64_t k1) {
  memset(page, 0, kPage);
  memcpy(page, kMagic, sizeof kMagic);
  memcpy(page + 16, &kVersion, 4);
  memcpy(page + 20, &kByteOrder, 4);
  memcpy(page + 24, &buckets, 8);
  memcpy(page + 32, &k0, 8);
  memcpy(page + 40, &k1, 8);
  uint64_t check = SipHash24(kHeaderK0, kHeaderK1,
                             std::string_view(reinterpret_cast<char*>(page), kHeaderChecked));
  memcpy(page + kHeaderChecked, &check, 8);
}

// Writes a store of `buckets` empty buckets to `tmp`, fsynced; the caller renames it.
Status WriteEmptyStore(FileSystem& fs, const std::string& tmp, uint64_t buckets, uint64_t k0,
                       uint64_t k1, int* out_fd) {
  int fd =
      fs.OpenAt(AT_FDCWD, tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Posix("cannot create " + tmp, errno);
  unsigned char page[kPage];
  WriteHeader(page, buckets, k0, k1);
  if (!PwriteAll(fs, fd, page, kPage, 0) || fs.Ftruncate(fd, BucketOffset(buckets)) != 0) {
    Status s = Status::Posix("cannot write " + tmp, errno);
    fs.Close(fd);
    fs.UnlinkAt(AT_FDCWD, tmp.c_str(), 0);
    return s;
  }
  *out_fd = fd;
  return Status::Ok();
}

// Publishes the fsynced store in `fd` (written at `tmp`) as `path`.
Status Publish(FileSystem& fs, int fd, const std::string& tmp, const std::string& path) {
  Status s;
  if (fs.Fsync(fd) != 0) {
    s = Status::Posix("cannot fsync " + tmp, errno);
  } else if (fs.Rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status::Posix("cannot rename " + tmp + " to " + path, errno);
  }
  if (!s.ok()) {
    fs.UnlinkAt(AT_FDCWD, tmp.c_str(), 0);
    return s;
  }
  return FsyncDirectoryOf(fs, path);
}

constexpr int kKeyLockTimeout = 60;  // seconds; Exim's transport timeout is minutes

}  // namespace

FileStore::FileStore(FileSystem& fs, std::string path)
    : fs_(fs),
      path_(std::move(path)),
      lock_path_(path_.substr(0, path_.rfind('/') + 1) + kDedupLockName) {}

FileStore::~FileStore() = default;

Status FileStore::Open(FileSystem& fs, const std::string& path, const std::string& lock_path,
                       bool read_only, std::unique_ptr<FileStore>* out, std::string* warning) {
  auto store = std::make_unique<FileStore>(fs, path);
  store->lock_path_ = lock_path;
  Status s = store->OpenTable(read_only, -1, warning);
  if (!s.ok()) return s;
  *out = std::move(store);
  return Status::Ok();
}

Status FileStore::Claim(const std::string& key, const std::vector<std::string>& targets,
                        int64_t cutoff, Lookup* out) {
  Status s = KeyLock::Acquire(fs_, lock_path_, key, kKeyLockTimeout, &key_lock_);
  if (!s.ok()) return s;
  if (!fd_.valid()) {
    std::string warning;
    s = OpenTable(/*read_only=*/false, key_lock_->fd(), &warning);
    if (!warning.empty()) warnings_.push_back(warning);
    if (!s.ok()) return s;
  }
  return Find(key, targets, cutoff, out);
}

std::vector<std::string> FileStore::TakeWarnings() {
  std::vector<std::string> taken = std::move(warnings_);
  warnings_.clear();
  return taken;
}

Status FileStore::OpenTable(bool read_only, int lock_fd, std::string* warning) {
  read_only_ = read_only;
  Check check;
  Status s = OpenFile(&check);
  if (!s.ok()) return s;
  if (read_only) {
    if (check != Check::kValid) return Status::Temporary("no usable duplicate store at " + path_);
    return Status::Ok();
  }
  if (lock_fd >= 0) {
    // The same open file description as the key lock: OFD locks on it never conflict with
    // each other, and the table lock's byte is not a key's.
    lock_fd_ = lock_fd;
  } else {
    own_lock_fd_ = UniqueFd(&fs_, fs_.OpenAt(AT_FDCWD, lock_path_.c_str(),
                                             O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!own_lock_fd_.valid()) return Status::Posix("cannot open lock file " + lock_path_, errno);
    lock_fd_ = own_lock_fd_.get();
  }
  if (check != Check::kValid) {
    // Missing or not a store: create or replace it under the table lock, unless another
    // process did so while we waited.
    s = LockTable(F_WRLCK);
    if (s.ok()) s = OpenFile(&check);
    if (s.ok() && check != Check::kValid) s = Replace(check == Check::kInvalid, warning);
    UnlockTable();
    if (!s.ok()) fd_ = UniqueFd();
  }
  return s;
}

Status FileStore::OpenFile(Check* check) {
  fd_ = UniqueFd(&fs_, fs_.OpenAt(AT_FDCWD, path_.c_str(),
                                  (read_only_ ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW, 0));
  if (!fd_.valid()) {
    if (errno == ENOENT) {
      *check = Check::kMissing;
      return Status::Ok();
    }
    return Status::Posix("cannot open duplicate store " + path_, errno);
  }
  struct stat st;
  unsigned char header[kHeaderChecked + 8];
  ssize_t n;
  if (fs_.FstatAt(fd_.get(), "", &st, AT_EMPTY_PATH) != 0 ||
      (n = PreadAll(fs_, fd_.get(), header, sizeof header, 0)) < 0) {
    return Status::Posix("cannot read duplicate store " + path_, errno);
  }
  uint32_t version, order;
  uint64_t buckets, check_value;
  *check = Check::kInvalid;
  if (static_cast<size_t>(n) < sizeof header || memcmp(header, kMagic, sizeof kMagic) != 0)
    return Status::Ok();
  memcpy(&version, header + 16, 4);
  memcpy(&order, header + 20, 4);
  memcpy(&buckets, header + 24, 8);
  memcpy(&check_value, header + kHeaderChecked, 8);
  if (version != kVersion || order != kByteOrder || buckets == 0 || buckets > kMaxBuckets ||
      (buckets & (buckets - 1)) != 0 || st.st_size != BucketOffset(buckets) ||
      check_value != SipHash24(kHeaderK0, kHeaderK1,
                               std::string_view(reinterpret_cast<char*>(header), kHeaderChecked))) {
    return Status::Ok();
  }
  buckets_ = buckets;
  memcpy(&k0_, header + 32, 8);
  memcpy(&k1_, header + 40, 8);
  *check = Check::kValid;
  return Status::Ok();
}

Status FileStore::Replace(bool exists, std::string* warning) {
  if (exists) {
    // Not a store (or a damaged one): set it aside for inspection and start afresh.
    // Losing the marks costs at most duplicates, never a message.
    std::string aside = path_ + ".corrupt-" + std::to_string(time(nullptr));
    if (fs_.Rename(path_.c_str(), aside.c_str()) != 0) {
      return Status::Posix("cannot move corrupt duplicate store " + path_ + " aside", errno);
    }
    *warning =
        "duplicate store " + path_ + " was corrupt; moved to " + aside + " and started afresh";
  }
  uint64_t key[2];
  if (getrandom(key, sizeof key, 0) != static_cast<ssize_t>(sizeof key)) {
    // Not RandomBytes: the table's hash key must be secret (a sender who could predict it
    // could fill one bucket), so no fallback.
    return Status::Posix("cannot get random bytes for duplicate store " + path_, errno);
  }
  std::string tmp = path_ + ".new";
  int fd;
  Status s = WriteEmptyStore(fs_, tmp, kInitialBuckets, key[0], key[1], &fd);
  if (!s.ok()) return s;
  s = Publish(fs_, fd, tmp, path_);
  fs_.Close(fd);
  if (!s.ok()) return s;
  Check check;
  s = OpenFile(&check);
  if (s.ok() && check != Check::kValid)
    s = Status::Temporary("duplicate store " + path_ + " changed while created");
  return s;
}

Status FileStore::LockTable(short type) {
  return LockByte(fs_, lock_fd_, type, kTableLockOffset, kTableLockTimeout, lock_path_,
                  "another delivery (marking, or doubling the duplicate store)");
}

void FileStore::UnlockTable() {
  LockByte(fs_, lock_fd_, F_UNLCK, kTableLockOffset, 0, lock_path_, "");
}

uint64_t FileStore::Tag(const std::string& key, std::string_view target) const {
  // "t", the key's length, the key, the target: unambiguous, and never a key hash's input.
  std::string input = "t";
  uint64_t length = key.size();
  input.append(reinterpret_cast<const char*>(&length), sizeof length);
  input += key;
  input += target;
  return SipHash24(k0_, k1_, input);
}

Status FileStore::Find(const std::string& key, const std::vector<std::string>& targets,
                       int64_t cutoff, Lookup* out) {
  *out = Lookup();
  if (!fd_.valid()) return Status::Temporary("duplicate store " + path_ + " is not open");
  uint64_t kh = SipHash24(k0_, k1_, "k" + key);
  Bucket bucket;
  ssize_t n = PreadAll(fs_, fd_.get(), bucket.data(), kPage, BucketOffset(kh & (buckets_ - 1)));
  if (n != static_cast<ssize_t>(kPage)) {
    return Status::Posix("cannot read duplicate store " + path_, n < 0 ? errno : EIO);
  }
  uint64_t complete = Tag(key, kComplete);
  std::vector<uint64_t> tags;
  for (const std::string& t : targets) tags.push_back(Tag(key, t));
  for (const Slot& slot : bucket) {
    if (slot.kh != kh || slot.at < cutoff || !Valid(slot)) continue;
    if (slot.tag == complete) {
      out->complete = true;
      out->first_delivered = slot.at;
      continue;
    }
    for (size_t i = 0; i < tags.size(); ++i) {
      if (slot.tag != tags[i]) continue;
      out->targets.insert(targets[i]);
      if (!out->complete && (out->first_delivered == 0 || slot.at < out->first_delivered)) {
        out->first_delivered = slot.at;
      }
    }
  }
  return Status::Ok();
}

Status FileStore::Mark(const std::string& key, const std::vector<std::string>& targets, int64_t now,
                       int64_t cutoff, bool /*last*/) {
  if (read_only_) return Status::Temporary("duplicate store " + path_ + " is open read-only");
  Status s = LockTable(F_WRLCK);
  if (!s.ok()) return s;
  // A grower or a repair may have replaced the file since we opened it: follow it.
  struct stat st;
  if (fs_.FstatAt(fd_.get(), "", &st, AT_EMPTY_PATH) != 0)
    s = Status::Posix("cannot stat duplicate store " + path_, errno);
  if (s.ok() && st.st_nlink == 0) {
    Check check;
    s = OpenFile(&check);
    std::string warning;
    if (s.ok() && check != Check::kValid) s = Replace(check == Check::kInvalid, &warning);
    if (!warning.empty()) warnings_.push_back(warning);
  }
  uint64_t kh = SipHash24(k0_, k1_, "k" + key);
  off_t offset = BucketOffset(kh & (buckets_ - 1));
  Bucket bucket;
  if (s.ok()) {
    ssize_t n = PreadAll(fs_, fd_.get(), bucket.data(), kPage, offset);
    if (n != static_cast<ssize_t>(kPage))
      s = Status::Posix("cannot read duplicate store " + path_, n < 0 ? errno : EIO);
  }
  if (s.ok()) {
    for (const std::string& target : targets) {
      uint64_t tag = Tag(key, target);
      Slot* found = nullptr;
      for (Slot& slot : bucket) {
        if (slot.kh == kh && slot.tag == tag && Valid(slot)) found = &slot;
      }
      if (found != nullptr) {
        if (found->at >= cutoff) continue;  // marked before: the first time stays
      } else {
        // A free slot (empty, torn), else an expired one, else the oldest: at the size
        // limit, forgetting the oldest delivery is the least harm.
        for (Slot& slot : bucket) {
          if (!Valid(slot)) {
            found = &slot;
            break;
          }
        }
        for (Slot& slot : bucket) {
          if (found == nullptr && slot.at < cutoff) found = &slot;
        }
        if (found == nullptr) {
          found = &*std::min_element(bucket.begin(), bucket.end(),
                                     [](const Slot& a, const Slot& b) { return a.at < b.at; });
        }
      }
      *found = Slot{kh, tag, now, 0};
      found->check = SlotCheck(*found);
    }
    if (!PwriteAll(fs_, fd_.get(), bucket.data(), kPage, offset))
      s = Status::Posix("cannot write duplicate store " + path_, errno);
  }
  if (s.ok()) {
    size_t live = 0;
    for (const Slot& slot : bucket) live += Valid(slot) && slot.at >= cutoff;
    if (live > kGrowAt && buckets_ < kMaxBuckets) {
      // The marks are written; a failed growth only means a fuller table.
      if (Status g = Grow(cutoff); !g.ok()) warnings_.push_back(g.message());
    }
  }
  UnlockTable();
  if (!s.ok())
    return Status::Temporary("cannot mark the delivery in the duplicate store: " + s.message());
  return Status::Ok();
}

Status FileStore::Grow(int64_t cutoff) {
  // Doubling splits bucket b into b and b + buckets_ by the next bit of kh; expired and
  // invalid slots are left behind. Read and written in chunks of 64 buckets.
  const uint64_t old_count = buckets_, new_count = buckets_ * 2;
  std::string tmp = path_ + ".new";
  int fd;
  Status s = WriteEmptyStore(fs_, tmp, new_count, k0_, k1_, &fd);
  if (!s.ok()) return s;
  constexpr uint64_t kChunk = 64;
  std::vector<Bucket> in(kChunk), low(kChunk), high(kChunk);
  for (uint64_t first = 0; first < old_count && s.ok(); first += kChunk) {
    uint64_t count = std::min(kChunk, old_count - first);
    size_t bytes = count * kPage;
    if (PreadAll(fs_, fd_.get(), in.data(), bytes, BucketOffset(first)) !=
        static_cast<ssize_t>(bytes)) {
      s = Status::Posix("cannot read duplicate store " + path_, errno ? errno : EIO);
      break;
    }
    for (uint64_t i = 0; i < count; ++i) {
      low[i] = Bucket{};
      high[i] = Bucket{};
      size_t nl = 0, nh = 0;
      for (const Slot& slot : in[i]) {
        if (!Valid(slot) || slot.at < cutoff) continue;
        if (slot.kh & old_count) {
          high[i][nh++] = slot;
        } else {
          low[i][nl++] = slot;
        }
      }
    }
    if (!PwriteAll(fs_, fd, low.data(), bytes, BucketOffset(first)) ||
        !PwriteAll(fs_, fd, high.data(), bytes, BucketOffset(first + old_count))) {
      s = Status::Posix("cannot write " + tmp, errno);
    }
  }
  if (s.ok()) {
    s = Publish(fs_, fd, tmp, path_);
  } else {
    fs_.UnlinkAt(AT_FDCWD, tmp.c_str(), 0);
  }
  if (!s.ok()) {
    fs_.Close(fd);
    return Status::Temporary("cannot enlarge the duplicate store: " + s.message());
  }
  fd_ = UniqueFd(&fs_, fd);
  buckets_ = new_count;
  return Status::Ok();
}

Status KeyLock::Acquire(FileSystem& fs, const std::string& lock_path, const std::string& key,
                        int timeout_seconds, std::unique_ptr<KeyLock>* out) {
  std::unique_ptr<KeyLock> lock(new KeyLock());
  lock->fd_ = UniqueFd(
      &fs, fs.OpenAt(AT_FDCWD, lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock->fd_.valid()) return Status::Posix("cannot open lock file " + lock_path, errno);
  Status s = LockByte(fs, lock->fd(), F_WRLCK, static_cast<off_t>(Fnv1a(key) & kKeyLockMask),
                      timeout_seconds, lock_path, "another delivery of the same message");
  if (!s.ok()) return s;
  *out = std::move(lock);
  return Status::Ok();
}

}  // namespace mda
