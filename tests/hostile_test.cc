// Hostile messages through the real mda with a realistic rule file: a 1 MB header line,
// 100 000 header lines, invalid UTF-8, NUL bytes, a catastrophic regex on a long subject.
// Each is delivered (exit 0) where the rules say, byte for byte, without a crash.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/test_util.h"

namespace mda {
namespace {

TEST(HostileTest, MessagesThatAttackTheParserAreDeliveredIntact) {
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  test::WriteFile(home / ".mda/rules",
                  "if Subject: ~ /(a+)+$/ then folder Slow\n"
                  "if X-Spam-Score: >= 5 then folder Junk\n"
                  "if address From: ~ /@example\\.com$/ then folder Work\n"
                  "if body ~ /(x+x+)+y/ then folder Body\n"
                  "if List-Id: ~ /<([^.]+)\\./ then folder Lists/$1\n");
  struct Case {
    std::string name, message, folder;
  };
  std::vector<Case> cases;
  cases.push_back({"1 MB header line",
                   "Subject: " + std::string(1 << 20, 'b') + "\nX-Spam-Score: 9\n\nx\n", ".Junk"});
  std::string many = "From: a@example.com\n";
  for (int i = 0; i < 100000; ++i) many += "X-Filler-" + std::to_string(i) + ": v\n";
  cases.push_back({"100 000 header lines", many + "\nbody\n", ".Work"});
  cases.push_back({"invalid UTF-8",
                   "Subject: \xff\xfe\xc3(\x80\nX-Spam-Score: \xe9 7.5 \xff\n\n\xc3\x28\n",
                   ".Junk"});
  cases.push_back(
      {"NUL bytes", std::string("Subject: a\0b\nX-Spam-Score: 8\n\n\0\0\0\n", 33), ".Junk"});
  cases.push_back(
      {"catastrophic header regex", "Subject: " + std::string(50000, 'a') + "!\n\nx\n", ""});
  cases.push_back(
      {"catastrophic body regex", "Subject: s\n\n" + std::string(200000, 'x') + "\n", ""});
  cases.push_back({"capture with a slash and dots", "List-Id: <a/b.x>\n\nx\n", ".Lists.a.b"});
  cases.push_back({"capture with control characters", "List-Id: <a\x01\x7f.x>\n\nx\n", ""});
  for (const Case& c : cases) {
    test::Result r = test::Exec({test::MdaBinary()},
                                {"HOME=" + home.path(), "RECIPIENT=b@example.com"}, c.message);
    ASSERT_EQ(r.exit_code, 0) << c.name << ": " << r.output;
    std::string dir = home / "Maildir/" + c.folder + (c.folder.empty() ? "" : "/") + "new";
    std::vector<std::string> files = test::ListDir(dir);
    ASSERT_EQ(files.size(), 1u) << c.name << " in " << dir;
    EXPECT_TRUE(test::ReadFile(dir + "/" + files[0]) == c.message) << c.name;
    ASSERT_EQ(unlink((dir + "/" + files[0]).c_str()), 0);
  }
  std::string log = test::ReadFile(home / ".mda/log");
  EXPECT_NE(log.find("gave up (match limit)"), std::string::npos) << log;
  // Nothing was written outside the Maildir and ~/.mda.
  EXPECT_EQ(test::ListDir(home.path()), (std::vector<std::string>{".mda", "Maildir"}));
}

TEST(HostileTest, HugeHeadersAreBoundedWork) {
  // 1 000 000 header lines and a 100 MB header line: delivered byte for byte, where the
  // rules say, each in bounded time (the test's own timeout) and memory.
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  test::WriteFile(home / ".mda/rules",
                  "if Subject: ~ /(a+)+$/ then folder Slow\n"
                  "if X-Spam-Score: >= 5 then folder Junk\n"
                  "if address From: ~ /@example\\.com$/ then folder Work\n");
  std::string many = "From: a@example.com\n";
  many.reserve(24 << 20);
  for (int i = 0; i < 1000000; ++i) many += "X-F" + std::to_string(i) + ": v\n";
  many += "\nbody\n";
  std::string line = "X-Spam-Score: 9\nSubject: " + std::string(100 << 20, 'a') + "!\n\nx\n";
  struct Case {
    const char* name;
    const std::string& message;
    const char* folder;
  } cases[] = {{"1 000 000 header lines", many, ".Work"}, {"a 100 MB header line", line, ".Junk"}};
  for (const Case& c : cases) {
    test::Result r = test::Exec({test::MdaBinary()},
                                {"HOME=" + home.path(), "RECIPIENT=b@example.com"}, c.message);
    ASSERT_EQ(r.exit_code, 0) << c.name << ": " << r.output;
    std::vector<std::string> files = test::ListDir(home / "Maildir/" + c.folder + "/new");
    ASSERT_EQ(files.size(), 1u) << c.name;
    EXPECT_TRUE(test::ReadFile(home / "Maildir/" + c.folder + "/new/" + files[0]) == c.message)
        << c.name;
  }
}

}  // namespace
}  // namespace mda
