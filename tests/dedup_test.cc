// Tests of the duplicate store, the key and the per-key lock.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "mda/file_store.h"
#include "mda/siphash.h"
#include "tests/test_util.h"

namespace mda {
namespace {

TEST(DedupKeyTest, Table) {
  struct Case {
    std::string id, from, recipient;
    bool sensitive;
    std::optional<std::string> key;
  } cases[] = {
      {"<a@b>", "", "Bob@Example.COM", false, "<a@b>  bob@example.com"},
      {"<a@b>", "", "Bob@Example.COM", true,
       "<a@b>  Bob@example.com"},  // the domain is always folded
      {" <a@b> ", "", "bob@example.com", false, "<a@b>  bob@example.com"},
      {"<a\r\n @b>", "", "bob@example.com", false, "<a@b>  bob@example.com"},  // folded inside
      {"<A@B>", "", "bob@example.com", false,
       "<A@B>  bob@example.com"},  // the ID is compared exactly
      {"", "", "bob@example.com", false, std::nullopt},
      {"  \t ", "", "bob@example.com", false, std::nullopt},
      {"<a@b>", "", "bob", false, "<a@b>  bob"},
      // The sender is part of the key, in one spelling: case and white space do not count.
      {"<a@b>", "Alice@Example.ORG", "bob@example.com", false,
       "<a@b> alice@example.org bob@example.com"},
      {"<a@b>", "\"A l\"@x.org", "bob@example.com", true, "<a@b> \"al\"@x.org bob@example.com"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DedupKey(c.id, c.from, c.recipient, c.sensitive), c.key)
        << c.id << " " << c.recipient;
  }
}

TEST(SipHashTest, ReferenceVectors) {
  // The paper's vectors: key 00..0f, message 00..len-1.
  const uint64_t k0 = 0x0706050403020100ull, k1 = 0x0f0e0d0c0b0a0908ull;
  const uint64_t expected[] = {0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull,
                               0x85676696d7fb7e2dull, 0xcf2794e0277187b7ull};
  std::string message;
  for (uint64_t want : expected) {
    EXPECT_EQ(SipHash24(k0, k1, message), want) << message.size();
    message += static_cast<char>(message.size());
  }
}

std::unique_ptr<FileStore> OpenStore(const test::TempDir& dir, std::string* warning = nullptr) {
  std::unique_ptr<FileStore> store;
  std::string w;
  Status s = FileStore::Open(PosixFs(), dir / "d.store", dir / "d.lock", false, &store,
                             warning ? warning : &w);
  EXPECT_TRUE(s.ok()) << s.message();
  return store;
}

bool Complete(FileStore& store, const std::string& key, int64_t cutoff = 0) {
  DuplicateStore::Lookup found;
  Status s = store.Find(key, {}, cutoff, &found);
  EXPECT_TRUE(s.ok()) << s.message();
  return found.complete;
}

TEST(FileStoreTest, MarksAreFoundAndTargetsKept) {
  test::TempDir dir;
  std::string warning;
  std::unique_ptr<FileStore> store = OpenStore(dir, &warning);
  DuplicateStore::Lookup found;
  ASSERT_TRUE(store->Find("k", {"Alerts", "INBOX"}, 0, &found).ok());
  EXPECT_FALSE(found.complete);
  EXPECT_TRUE(found.targets.empty());
  ASSERT_TRUE(store->Mark("k", {"Alerts"}, 100, 0, false).ok());
  ASSERT_TRUE(
      store->Mark("k", {"Alerts"}, 150, 0, false).ok());  // idempotent: the first time stays
  ASSERT_TRUE(store->Find("k", {"Alerts", "INBOX"}, 0, &found).ok());
  EXPECT_FALSE(found.complete);
  EXPECT_EQ(found.targets, (std::set<std::string>{"Alerts"}));
  EXPECT_EQ(found.first_delivered, 100);
  ASSERT_TRUE(store->Mark("k", {"INBOX", DuplicateStore::kComplete}, 200, 0, false).ok());
  ASSERT_TRUE(store->Find("k", {"Alerts", "INBOX", "Junk"}, 0, &found).ok());
  EXPECT_TRUE(found.complete);
  EXPECT_EQ(found.first_delivered, 200);
  EXPECT_EQ(found.targets, (std::set<std::string>{"Alerts", "INBOX"}));
  EXPECT_FALSE(Complete(*store, "other"));
  EXPECT_FALSE(Complete(*store, "k "));  // keys are compared exactly
  EXPECT_EQ(warning, "");
  // Another process (a fresh open, read-only as mdatest opens it) sees the same.
  std::unique_ptr<FileStore> reader;
  ASSERT_TRUE(FileStore::Open(PosixFs(), dir / "d.store", "", true, &reader, &warning).ok());
  EXPECT_TRUE(Complete(*reader, "k"));
  EXPECT_FALSE(reader->Mark("x", {DuplicateStore::kComplete}, 1, 0, false).ok());
}

TEST(FileStoreTest, ExpiredEntriesAreNotFoundAndTheirSlotsAreReused) {
  test::TempDir dir;
  std::unique_ptr<FileStore> store = OpenStore(dir);
  for (int i = 0; i < 500; ++i)
    ASSERT_TRUE(store->Mark("old" + std::to_string(i), {"*"}, 1000, 0, false).ok());
  EXPECT_TRUE(Complete(*store, "old7", 1000));
  EXPECT_FALSE(Complete(*store, "old7", 1001));  // a period later: expired
  // A store that lives for 60 "days" with 1 500 deliveries a day and a 2-day period holds
  // at most 4 500 live entries; the 90 000 marked in all would need 16 times the slots
  // that the size limit below allows, so expired slots were reused, nothing piled up.
  const int64_t day = 86400;
  for (int d = 0; d < 60; ++d) {
    int64_t now = 10 * day + d * day;
    for (int i = 0; i < 1500; ++i) {
      ASSERT_TRUE(store
                      ->Mark("d" + std::to_string(d) + "." + std::to_string(i), {"*"}, now,
                             now - 2 * day, false)
                      .ok());
    }
    EXPECT_TRUE(Complete(*store, "d" + std::to_string(d) + ".1", now - 2 * day));
    if (d >= 3) {
      EXPECT_FALSE(Complete(*store, "d" + std::to_string(d - 3) + ".1", now - 2 * day));
    }
  }
  EXPECT_LE(store->buckets(), 128u);  // 16 384 slots, 4 096 of them at 3/4 full in one bucket
  EXPECT_EQ(test::ReadFile(dir / "d.store").size(), (1 + store->buckets()) * 4096);
}

TEST(FileStoreTest, GrowsAndKeepsEveryEntry) {
  test::TempDir dir;
  std::unique_ptr<FileStore> store = OpenStore(dir);
  EXPECT_EQ(store->buckets(), FileStore::kInitialBuckets);
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    ASSERT_TRUE(store->Mark("<" + std::to_string(i) + "@x> u@y", {"*"}, 5000 + i, 0, false).ok());
  EXPECT_GE(store->buckets(), 256u);
  EXPECT_TRUE(store->TakeWarnings().empty());
  std::unique_ptr<FileStore> fresh = OpenStore(dir);
  EXPECT_EQ(fresh->buckets(), store->buckets());
  EXPECT_EQ(test::ReadFile(dir / "d.store").size(), (1 + store->buckets()) * 4096);
  int found = 0;
  for (int i = 0; i < n; ++i) found += Complete(*fresh, "<" + std::to_string(i) + "@x> u@y");
  EXPECT_EQ(found, n);
  EXPECT_FALSE(std::filesystem::exists(dir / "d.store.new"));
}

TEST(FileStoreTest, ConcurrentMarksAcrossGrowthLoseNothing) {
  // Four processes mark distinct keys at once; the table doubles several times under
  // them, and each must follow the new file: every mark is found at the end.
  test::TempDir dir;
  OpenStore(dir);
  const int kProcesses = 4, kKeys = 3000;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    if (pid == 0) {
      std::unique_ptr<FileStore> store;
      std::string warning;
      if (!FileStore::Open(PosixFs(), dir / "d.store", dir / "d.lock", false, &store, &warning)
               .ok())
        _exit(2);
      for (int i = 0; i < kKeys; ++i) {
        if (!store->Mark("p" + std::to_string(p) + "." + std::to_string(i), {"*"}, 100, 0, false)
                 .ok())
          _exit(3);
      }
      _exit(store->TakeWarnings().empty() ? 0 : 4);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  std::unique_ptr<FileStore> store = OpenStore(dir);
  EXPECT_GT(store->buckets(), FileStore::kInitialBuckets);
  int found = 0;
  for (int p = 0; p < kProcesses; ++p) {
    for (int i = 0; i < kKeys; ++i)
      found += Complete(*store, "p" + std::to_string(p) + "." + std::to_string(i));
  }
  EXPECT_EQ(found, kProcesses * kKeys);
}

TEST(FileStoreTest, CorruptStoreIsSetAsideAndRebuilt) {
  struct Case {
    const char* name;
    std::function<void(const std::string&)> damage;
  } cases[] = {
      {"not a store", [](const std::string& p) { test::WriteFile(p, std::string(8192, 'x')); }},
      {"empty", [](const std::string& p) { test::WriteFile(p, ""); }},
      {"truncated", [](const std::string& p) { ASSERT_EQ(truncate(p.c_str(), 4096 * 5), 0); }},
      {"header bit flip",
       [](const std::string& p) {
         std::string s = test::ReadFile(p);
         s[40] ^= 1;
         test::WriteFile(p, s);
       }},
  };
  for (const Case& c : cases) {
    test::TempDir dir;
    OpenStore(dir)->Mark("k", {"*"}, 1, 0, false);
    c.damage(dir / "d.store");
    std::string warning;
    std::unique_ptr<FileStore> store = OpenStore(dir, &warning);
    ASSERT_TRUE(store) << c.name;
    EXPECT_NE(warning.find("was corrupt; moved to " + (dir / "d.store.corrupt-")),
              std::string::npos)
        << warning;
    EXPECT_FALSE(Complete(*store, "k")) << c.name;
    EXPECT_TRUE(store->Mark("k", {"*"}, 1, 0, false).ok()) << c.name;
    EXPECT_TRUE(Complete(*store, "k")) << c.name;
    bool aside = false;
    for (const std::string& f : test::ListDir(dir.path()))
      aside = aside || f.rfind("d.store.corrupt-", 0) == 0;
    EXPECT_TRUE(aside) << c.name;
  }
}

TEST(FileStoreTest, GarbledSlotReadsAsFreeAndIsReused) {
  test::TempDir dir;
  std::unique_ptr<FileStore> store = OpenStore(dir);
  ASSERT_TRUE(store->Mark("k", {"*"}, 7, 0, false).ok());
  // Flip one byte of every used slot (a torn or garbled write): the mark is gone (a
  // possible duplicate, never a lost message), and the slot is free again.
  std::string s = test::ReadFile(dir / "d.store");
  int garbled = 0;
  for (size_t off = 4096; off + 32 <= s.size(); off += 32) {
    if (s.substr(off, 32) != std::string(32, '\0')) {
      s[off + 17] ^= 0x40;
      ++garbled;
    }
  }
  EXPECT_EQ(garbled, 1);
  test::WriteFile(dir / "d.store", s);
  std::unique_ptr<FileStore> reopened = OpenStore(dir);
  EXPECT_FALSE(Complete(*reopened, "k"));
  ASSERT_TRUE(reopened->Mark("k", {"*"}, 8, 0, false).ok());
  EXPECT_TRUE(Complete(*reopened, "k"));
}

TEST(FileStoreTest, ReadOnlyOpenCreatesNothing) {
  test::TempDir dir;
  std::unique_ptr<FileStore> store;
  std::string warning;
  EXPECT_FALSE(FileStore::Open(PosixFs(), dir / "none", "", true, &store, &warning).ok());
  test::WriteFile(dir / "bad", "not a store");
  EXPECT_FALSE(FileStore::Open(PosixFs(), dir / "bad", "", true, &store, &warning).ok());
  EXPECT_EQ(test::ListDir(dir.path()), (std::vector<std::string>{"bad"}));
  EXPECT_EQ(test::ReadFile(dir / "bad"), "not a store");
}

TEST(FileStoreTest, SymlinkedStoreIsRefusedNotFollowed) {
  test::TempDir dir;
  test::WriteFile(dir / "elsewhere", "precious");
  ASSERT_EQ(symlink((dir / "elsewhere").c_str(), (dir / "d.store").c_str()), 0);
  std::unique_ptr<FileStore> store;
  std::string warning;
  Status s = FileStore::Open(PosixFs(), dir / "d.store", dir / "d.lock", false, &store, &warning);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot open duplicate store " + (dir / "d.store")), std::string::npos)
      << s.message();
  EXPECT_EQ(test::ReadFile(dir / "elsewhere"), "precious");
}

TEST(KeyLockTest, SecondHolderWaitsThenTimesOut) {
  test::TempDir dir;
  std::unique_ptr<KeyLock> held;
  ASSERT_TRUE(KeyLock::Acquire(PosixFs(), dir / "l", "key", 1, &held).ok());
  // OFD locks conflict between open file descriptions, even in one process; a child
  // shows the cross-process case.
  pid_t pid = fork();
  if (pid == 0) {
    std::unique_ptr<KeyLock> mine;
    Status s = KeyLock::Acquire(PosixFs(), dir / "l", "key", 1, &mine);
    bool timed_out = !s.ok() && s.message().find("held its lock for 1 s") != std::string::npos;
    std::unique_ptr<KeyLock> other;
    bool other_key_free = KeyLock::Acquire(PosixFs(), dir / "l", "another key", 1, &other).ok();
    _exit(timed_out && other_key_free ? 0 : 1);
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  held.reset();
  std::unique_ptr<KeyLock> again;
  EXPECT_TRUE(KeyLock::Acquire(PosixFs(), dir / "l", "key", 1, &again).ok());
}

}  // namespace
}  // namespace mda
