// Tests of the duplicate store, the key and the per-key lock.
#include "mda/dedup.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/test_util.h"

namespace mda {
namespace {

TEST(DedupKeyTest, Table) {
  struct Case {
    std::string id, recipient;
    bool sensitive;
    std::optional<std::string> key;
  } cases[] = {
      {"<a@b>", "Bob@Example.COM", false, "<a@b> bob@example.com"},
      {"<a@b>", "Bob@Example.COM", true, "<a@b> Bob@example.com"},  // the domain is always folded
      {" <a@b> ", "bob@example.com", false, "<a@b> bob@example.com"},
      {"<a\r\n @b>", "bob@example.com", false, "<a@b> bob@example.com"},  // folded inside
      {"<A@B>", "bob@example.com", false, "<A@B> bob@example.com"},        // the ID is compared exactly
      {"", "bob@example.com", false, std::nullopt},
      {"  \t ", "bob@example.com", false, std::nullopt},
      {"<a@b>", "bob", false, "<a@b> bob"},
  };
  for (const Case& c : cases) EXPECT_EQ(DedupKey(c.id, c.recipient, c.sensitive), c.key) << c.id << " " << c.recipient;
}

TEST(DedupStoreTest, MarksAreFoundAndTargetsKept) {
  test::TempDir dir;
  std::unique_ptr<DedupStore> store;
  std::string warning;
  ASSERT_TRUE(DedupStore::Open(dir / "d.db", false, &store, &warning).ok());
  DedupStore::Lookup found;
  ASSERT_TRUE(store->Find("k", &found).ok());
  EXPECT_FALSE(found.complete);
  EXPECT_TRUE(found.targets.empty());
  ASSERT_TRUE(store->Mark("k", {"Alerts"}, 100).ok());
  ASSERT_TRUE(store->Mark("k", {"Alerts"}, 150).ok());  // idempotent
  ASSERT_TRUE(store->Find("k", &found).ok());
  EXPECT_FALSE(found.complete);
  EXPECT_EQ(found.targets, (std::set<std::string>{"Alerts"}));
  ASSERT_TRUE(store->Mark("k", {DedupStore::kComplete}, 200).ok());
  ASSERT_TRUE(store->Find("k", &found).ok());
  EXPECT_TRUE(found.complete);
  EXPECT_EQ(found.first_delivered, 200);
  ASSERT_TRUE(store->Find("other", &found).ok());
  EXPECT_FALSE(found.complete);
  EXPECT_EQ(warning, "");
}

TEST(DedupStoreTest, ExpiryRemovesOldEntriesInBoundedBatches) {
  test::TempDir dir;
  std::unique_ptr<DedupStore> store;
  std::string warning;
  ASSERT_TRUE(DedupStore::Open(dir / "d.db", false, &store, &warning).ok());
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(store->Mark("old" + std::to_string(i), {"*"}, 1000).ok());
  ASSERT_TRUE(store->Mark("new", {"*"}, 5000).ok());
  store->Maintain(dir / "d.db", 2000, 200);
  int left = 0;
  DedupStore::Lookup found;
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(store->Find("old" + std::to_string(i), &found).ok());
    left += found.complete;
  }
  EXPECT_EQ(left, 300);  // one batch of 200
  store->Maintain(dir / "d.db", 2000, 200);
  store->Maintain(dir / "d.db", 2000, 200);
  left = 0;
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(store->Find("old" + std::to_string(i), &found).ok());
    left += found.complete;
  }
  EXPECT_EQ(left, 0);
  ASSERT_TRUE(store->Find("new", &found).ok());
  EXPECT_TRUE(found.complete);
}

TEST(DedupStoreTest, CorruptStoreIsSetAsideAndRebuilt) {
  test::TempDir dir;
  test::WriteFile(dir / "d.db", std::string(8192, 'x'));
  std::unique_ptr<DedupStore> store;
  std::string warning;
  Status s = DedupStore::Open(dir / "d.db", false, &store, &warning);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_NE(warning.find("was corrupt; moved to " + (dir / "d.db.corrupt-")), std::string::npos) << warning;
  EXPECT_TRUE(store->Mark("k", {"*"}, 1).ok());
  bool aside = false;
  for (const std::string& f : test::ListDir(dir.path())) aside = aside || f.rfind("d.db.corrupt-", 0) == 0;
  EXPECT_TRUE(aside);
}

TEST(DedupStoreTest, ReadOnlyOpenCreatesNothing) {
  test::TempDir dir;
  std::unique_ptr<DedupStore> store;
  std::string warning;
  EXPECT_FALSE(DedupStore::Open(dir / "none.db", true, &store, &warning).ok());
  EXPECT_TRUE(test::ListDir(dir.path()).empty());
}

TEST(KeyLockTest, SecondHolderWaitsThenTimesOut) {
  test::TempDir dir;
  std::unique_ptr<KeyLock> held;
  ASSERT_TRUE(KeyLock::Acquire(dir / "l", "key", 1, &held).ok());
  // OFD locks conflict between open file descriptions, even in one process; a child
  // shows the cross-process case.
  pid_t pid = fork();
  if (pid == 0) {
    std::unique_ptr<KeyLock> mine;
    Status s = KeyLock::Acquire(dir / "l", "key", 1, &mine);
    bool timed_out = !s.ok() && s.message().find("held its lock for 1 s") != std::string::npos;
    std::unique_ptr<KeyLock> other;
    bool other_key_free = KeyLock::Acquire(dir / "l", "another key", 1, &other).ok();
    _exit(timed_out && other_key_free ? 0 : 1);
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  held.reset();
  std::unique_ptr<KeyLock> again;
  EXPECT_TRUE(KeyLock::Acquire(dir / "l", "key", 1, &again).ok());
}

}  // namespace
}  // namespace mda
