/* Fills a duplicate store with N entries (as mda writes them: key, target "*", time), spread
 * over the last 6 days so expiry (7 days) removes none of them during the benchmark.
 * Usage: fill_store PATH N */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv) {
  if (argc != 3) return 64;
  long n = atol(argv[2]);
  sqlite3* db;
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) return 1;
  sqlite3_exec(db,
               "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;"
               "CREATE TABLE IF NOT EXISTS delivered (key TEXT NOT NULL, target TEXT NOT NULL, at INTEGER NOT NULL,"
               " UNIQUE (key, target));"
               "CREATE INDEX IF NOT EXISTS delivered_at ON delivered (at); BEGIN;",
               0, 0, 0);
  sqlite3_stmt* st;
  sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO delivered VALUES (?1, '*', ?2)", -1, &st, 0);
  long now = (long)time(0);
  char key[128];
  for (long i = 0; i < n; ++i) {
    snprintf(key, sizeof key, "<%ld.%08lx@sender%ld.example.net> user%ld@example.com", i, (unsigned long)(i * 2654435761u), i % 997, i % 5);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now - (i % (6 * 86400)));
    sqlite3_step(st);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", 0, 0, 0);
  sqlite3_close(db);
  return 0;
}
