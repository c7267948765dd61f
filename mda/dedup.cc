// Dedup: duplicate suppression that never drops a message.
#include "mda/dedup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <memory>

namespace mda {
namespace {

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS delivered ("
    "  key TEXT NOT NULL, target TEXT NOT NULL, at INTEGER NOT NULL, UNIQUE (key, target));"
    "CREATE INDEX IF NOT EXISTS delivered_at ON delivered (at);";

Status SqliteError(sqlite3* db, const std::string& what) {
  return Status::Temporary(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

bool Corrupt(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

// A statement, finalized at scope exit.
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void OnAlarm(int) {}  // only interrupts the blocking fcntl()

}  // namespace

std::optional<std::string> DedupKey(std::string_view message_id, std::string_view recipient,
                                    bool case_sensitive) {
  std::string id;
  for (char c : message_id) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') id += c;
  }
  if (id.empty()) return std::nullopt;
  std::string rcpt(recipient);
  size_t at = rcpt.rfind('@');
  for (size_t i = 0; i < rcpt.size(); ++i) {
    bool domain = at != std::string::npos && i > at;
    if ((domain || !case_sensitive) && rcpt[i] >= 'A' && rcpt[i] <= 'Z') rcpt[i] = static_cast<char>(rcpt[i] + 32);
  }
  // The ID has no white space left, so a space separates the parts unambiguously.
  return id + " " + rcpt;
}

Status DedupStore::Open(const std::string& path, bool read_only, std::unique_ptr<DedupStore>* out,
                        std::string* warning) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<DedupStore> store(new DedupStore());
    int flags = SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX |
                (read_only ? SQLITE_OPEN_READONLY | SQLITE_OPEN_URI : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    // Read-only must mean it: without readonly_shm, a reader still writes its read marks
    // into the WAL index (dedup.db-shm). With it, SQLite reads the index, or builds a
    // private copy in memory.
    std::string name = path;
    if (read_only) {
      name = "file:";
      for (char c : path) {
        if (c == '?' || c == '#' || c == '%') {
          char buf[4];
          snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
          name += buf;
        } else {
          name += c;
        }
      }
      name += "?mode=ro&readonly_shm=1";
    }
    int rc = sqlite3_open_v2(name.c_str(), &store->db_, flags, nullptr);
    if (rc == SQLITE_OK) {
      sqlite3_busy_timeout(store->db_, 10000);
      sqlite3_extended_result_codes(store->db_, 1);
      // Every mda process is the last to close the store, so by default each delivery
      // would checkpoint the WAL on exit (two fsyncs). Instead the WAL stays and
      // Maintain() truncates it once it passes kWalLimit (256 KiB): it must stay small, because every
      // process is also the first to open the store, and the first connection reads the
      // whole WAL (recovery). Durability is unchanged: a commit is in the WAL either way.
      sqlite3_db_config(store->db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
      // journal_mode is stored in the file and the schema exists after the first delivery:
      // both are set up only when the table is missing (a fresh or an emptied store).
      rc = sqlite3_exec(store->db_, read_only ? "PRAGMA query_only = 1" : "PRAGMA synchronous = NORMAL", nullptr,
                        nullptr, nullptr);
      if (rc == SQLITE_OK) {
        // A read proves the file is a database we can use.
        Statement check;
        rc = sqlite3_prepare_v2(store->db_, "SELECT 1 FROM delivered LIMIT 1", -1, &check.stmt, nullptr);
        if (rc == SQLITE_ERROR && !read_only) {  // no such table: a new store
          rc = sqlite3_exec(store->db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
          if (rc == SQLITE_OK) rc = sqlite3_exec(store->db_, kSchema, nullptr, nullptr, nullptr);
        } else if (rc == SQLITE_OK) {
          rc = sqlite3_step(check.stmt) == SQLITE_ERROR ? sqlite3_errcode(store->db_) : SQLITE_OK;
        }
      }
    }
    if (rc == SQLITE_OK) {
      *out = std::move(store);
      return Status::Ok();
    }
    if (!Corrupt(rc) || read_only || attempt > 0) {
      return SqliteError(store->db_, "cannot open duplicate store " + path);
    }
    // Corrupt: set it aside (kept for inspection) and start a new one. Losing the marks
    // costs at most duplicates, never a message.
    sqlite3_close(store->db_);
    store->db_ = nullptr;
    std::string aside = path + ".corrupt-" + std::to_string(time(nullptr));
    if (rename(path.c_str(), aside.c_str()) != 0) {
      return Status::Posix("cannot move corrupt duplicate store " + path + " aside", errno);
    }
    unlink((path + "-wal").c_str());
    unlink((path + "-shm").c_str());
    *warning = "duplicate store " + path + " was corrupt; moved to " + aside + " and started afresh";
  }
  return Status::Temporary("cannot open duplicate store " + path);
}

DedupStore::~DedupStore() { sqlite3_close(db_); }

Status DedupStore::Find(const std::string& key, Lookup* out) {
  Statement st;
  if (sqlite3_prepare_v2(db_, "SELECT target, at FROM delivered WHERE key = ?1 ORDER BY at", -1, &st.stmt,
                         nullptr) != SQLITE_OK) {
    return SqliteError(db_, "cannot read the duplicate store");
  }
  sqlite3_bind_text(st.stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  *out = Lookup();
  int rc;
  while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) {
    std::string target(reinterpret_cast<const char*>(sqlite3_column_text(st.stmt, 0)));
    int64_t at = sqlite3_column_int64(st.stmt, 1);
    if (out->first_delivered == 0) out->first_delivered = at;
    if (target == kComplete) {
      out->complete = true;
      out->first_delivered = at;
    } else {
      out->targets.insert(target);
    }
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, "cannot read the duplicate store");
  return Status::Ok();
}

Status DedupStore::Mark(const std::string& key, const std::vector<std::string>& targets, int64_t now) {
  // One transaction for all: one WAL commit per delivery, not one per mark.
  if (targets.size() > 1 && sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqliteError(db_, "cannot write the duplicate store");
  }
  Statement st;
  if (sqlite3_prepare_v2(db_, "INSERT OR IGNORE INTO delivered (key, target, at) VALUES (?1, ?2, ?3)", -1,
                         &st.stmt, nullptr) != SQLITE_OK) {
    Status s = SqliteError(db_, "cannot write the duplicate store");
    if (targets.size() > 1) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  for (const std::string& target : targets) {
    sqlite3_bind_text(st.stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_text(st.stmt, 2, target.data(), static_cast<int>(target.size()), SQLITE_STATIC);
    sqlite3_bind_int64(st.stmt, 3, now);
    if (sqlite3_step(st.stmt) != SQLITE_DONE) {
      Status s = SqliteError(db_, "cannot write the duplicate store");
      if (targets.size() > 1) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    }
    sqlite3_reset(st.stmt);
  }
  if (targets.size() > 1 && sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Status s = SqliteError(db_, "cannot write the duplicate store");
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  return Status::Ok();
}

void DedupStore::Maintain(const std::string& path, int64_t cutoff, int batch) {
  sqlite3_busy_timeout(db_, 0);  // maintenance never waits: busy means someone else does it
  Statement st;
  if (sqlite3_prepare_v2(db_,
                         "DELETE FROM delivered WHERE rowid IN "
                         "(SELECT rowid FROM delivered WHERE at < ?1 ORDER BY at LIMIT ?2)",
                         -1, &st.stmt, nullptr) == SQLITE_OK) {
    sqlite3_bind_int64(st.stmt, 1, cutoff);
    sqlite3_bind_int(st.stmt, 2, batch);
    sqlite3_step(st.stmt);
  }
  struct stat wal;
  if (::stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > kWalLimit) {
    sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  }
}

Status KeyLock::Acquire(const std::string& lock_path, const std::string& key, int timeout_seconds,
                        std::unique_ptr<KeyLock>* out) {
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Posix("cannot open lock file " + lock_path, errno);
  std::unique_ptr<KeyLock> lock(new KeyLock());
  lock->fd_ = fd;
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(Fnv1a(key) & 0x3fffffffffffull);  // a byte per key, sparse
  fl.l_len = 1;
  if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {  // uncontended: no timer needed
    *out = std::move(lock);
    return Status::Ok();
  }
  if (errno != EAGAIN && errno != EACCES) return Status::Posix("cannot lock " + lock_path, errno);
  // Contended: wait, interrupted by an alarm at the timeout (no SA_RESTART).
  struct sigaction sa = {}, old = {};
  sa.sa_handler = OnAlarm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, &old);
  unsigned previous = alarm(static_cast<unsigned>(timeout_seconds));
  int rc = fcntl(fd, F_OFD_SETLKW, &fl);
  int err = errno;
  alarm(previous);
  sigaction(SIGALRM, &old, nullptr);
  if (rc != 0) {
    if (err == EINTR) {
      return Status::Temporary("another delivery of the same message held its lock for " +
                               std::to_string(timeout_seconds) + " s (" + lock_path + ")");
    }
    return Status::Posix("cannot lock " + lock_path, err);
  }
  *out = std::move(lock);
  return Status::Ok();
}

KeyLock::~KeyLock() {
  if (fd_ >= 0) close(fd_);  // releases the OFD lock
}

}  // namespace mda
