// Tests of folder names: Maildir++ mapping, modified UTF-7, and what is refused.
#include "mda/folder.h"

#include <gtest/gtest.h>

namespace mda {
namespace {

TEST(FolderDirectoryTest, Accepted) {
  struct Case {
    std::string folder, directory;
  } cases[] = {
      {"INBOX", ""},
      {"inbox", ""},
      {"Junk", ".Junk"},
      {"Lists/dev", ".Lists.dev"},
      {"a/b/c", ".a.b.c"},
      {"Work & Play", ".Work &- Play"},
      {"R\xc3\xa9sum\xc3\xa9", ".R&AOk-sum&AOk-"},  // Résumé
      {"\xe5\x8f\xb0\xe5\x8c\x97", ".&U,BTFw-"},    // 台北 (RFC 3501's example)
      {"\xf0\x9f\x93\xa7", ".&2D3c5w-"},            // 📧, a surrogate pair
      {"INBOX/sub", ".INBOX.sub"},
      {"with space", ".with space"},
  };
  for (const Case& c : cases) {
    std::string dir = "unset";
    Status s = FolderDirectory(c.folder, &dir);
    ASSERT_TRUE(s.ok()) << c.folder << ": " << s.message();
    EXPECT_EQ(dir, c.directory) << c.folder;
  }
}

TEST(FolderDirectoryTest, Refused) {
  std::string long_name(300, 'x');
  const std::string refused[] = {
      "",        "..",      "../etc", "a/../b",   ".hidden",   "a/.b",  "trailing.",
      "a..b",    "/abs",    "a//b",   "a/",       "tab\there", "nl\nx", std::string("nul\0x", 5),
      "del\x7f", "bad\xff", "\xc3",   "\xc0\xaf", long_name,
  };
  for (const std::string& folder : refused) {
    std::string dir;
    Status s = FolderDirectory(folder, &dir);
    EXPECT_EQ(s.kind(), Status::Kind::kBadInput) << "accepted: " << folder;
  }
}

TEST(FolderDirectoryTest, RefusalSaysWhy) {
  std::string dir;
  EXPECT_EQ(FolderDirectory("a/../b", &dir).message(),
            "folder name 'a/../b' has a component that starts or ends with '.' or contains '..'");
  EXPECT_EQ(FolderDirectory("a//b", &dir).message(),
            "folder name 'a//b' has an empty component (a leading, trailing or double '/')");
}

}  // namespace
}  // namespace mda
