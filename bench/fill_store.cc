// Fills a duplicate store with N entries, as mda marks them (key, "*"), spread over the
// last 6 days so that none expires (7 days) during the benchmark. Built by CMake as
// mda_fill_store; run by bench/dedup.   Usage: mda_fill_store STORE LOCK N
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <memory>
#include <string>

#include "mda/file_store.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: mda_fill_store STORE LOCK N\n");
    return 64;
  }
  long n = atol(argv[3]);
  std::unique_ptr<mda::FileStore> store;
  std::string warning;
  mda::Status s = mda::FileStore::Open(mda::PosixFs(), argv[1], argv[2], false, &store, &warning);
  int64_t now = time(nullptr);
  for (long i = 0; s.ok() && i < n; ++i) {
    char key[128];
    snprintf(key, sizeof key, "<%ld.%08lx@sender%ld.example.net> user%ld@example.com", i,
             static_cast<unsigned long>(i * 2654435761u), i % 997, i % 5);
    s = store->Mark(key, {mda::DuplicateStore::kComplete}, now - i % (6 * 86400), now - 7 * 86400,
                    false);
  }
  if (!s.ok()) {
    fprintf(stderr, "mda_fill_store: %s\n", s.message().c_str());
    return 1;
  }
  printf("%ld entries, %llu buckets\n", n, static_cast<unsigned long long>(store->buckets()));
  return 0;
}
