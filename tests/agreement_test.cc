// mdatest decides as mda does for every message, near PCRE2's limits too: random messages
// built to sit around the match limit of backtracking patterns, each delivered by the real
// mda and dry-run by the real mdatest; the folders must be the same. (With JIT in mdatest,
// a 5.8 KB receipt went to the folder in mdatest and to INBOX in mda.) And a pattern that
// gives up costs one limit and one warning per message, however many headers it meets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <random>
#include <sstream>

#include "tests/test_util.h"

namespace mda {
namespace {

const char kRules[] =
    "set dedup = off\n"
    "if body ~ /Total:(.|\\n)*Thank you/ then folder Receipts\n"
    "if Subject: ~ /^(?:a|b)*c$/ then folder AB\n"
    "if Subject: ~ /^(a+)+$/ then folder Nested\n"
    "if X-Tag: ~ /^(\\w+\\s?)*$/ then folder Words\n";

// A message whose parts sit on either side of the limits, by chance.
std::string RandomMessage(std::mt19937& rng) {
  auto pick = [&rng](size_t lo, size_t hi) {
    return std::uniform_int_distribution<size_t>(lo, hi)(rng);
  };
  std::string subject;
  switch (pick(0, 2)) {
    case 0:
      for (size_t i = pick(5, 40000); i > 0; --i) subject += "ab"[pick(0, 1)];
      subject += pick(0, 1) ? "c" : "d";
      break;
    case 1:
      subject = std::string(pick(5, 40), 'a') + (pick(0, 1) ? "" : "!");
      break;
    default:
      subject = "plain " + std::to_string(pick(0, 1000));
  }
  std::string tag;
  for (size_t i = pick(1, 30); i > 0; --i) tag += std::string(pick(1, 4), 'w') + " ";
  if (pick(0, 1)) tag += "!";
  std::string body = "Total: 12.00\n";
  for (size_t i = pick(10, 2000); i > 0; --i) body += "line of the receipt\n";
  if (pick(0, 1)) body += "Thank you\n";
  return "From: shop@example.com\nSubject: " + subject + "\nX-Tag: " + tag + "\n\n" + body;
}

const char* const kFolders[] = {"Receipts", "AB", "Nested", "Words", ""};

// Messages in a folder's new/ ("" is INBOX).
size_t Count(const std::string& maildir, const std::string& folder) {
  std::string dir = maildir + (folder.empty() ? "" : "/." + folder) + "/new";
  return access(dir.c_str(), F_OK) == 0 ? test::ListDir(dir).size() : 0;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(s);
  while (std::getline(in, field, sep)) out.push_back(field);
  return out;
}

TEST(AgreementTest, MdatestDecidesAsMdaNearTheLimits) {
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  test::WriteFile(home / ".mda/rules", kRules);
  test::ChownToTestUser(home / ".mda/rules");
  test::MakeDirs(home / "saved");
  std::vector<std::string> env = {"HOME=" + home.path(), "RECIPIENT=bob@example.com",
                                  "SENDER=shop@example.com", "LOCAL_PART=bob",
                                  "DOMAIN=example.com"};
  std::mt19937 rng(20261205);
  // The review's two cases first, then random ones.
  std::vector<std::string> messages = {
      "Subject: receipt\n\nTotal: 5.80\n" + std::string(5800, 'x') + "\nThank you\n",
      "Subject: " + std::string(30000, 'a') + "c\n\nhi\n",
  };
  for (int i = 0; i < 40; ++i) messages.push_back(RandomMessage(rng));

  std::map<std::string, std::string> mda_folders;  // message file name -> folder
  for (size_t i = 0; i < messages.size(); ++i) {
    char name[32];
    snprintf(name, sizeof name, "m%03zu", i);
    test::WriteFile(home / "saved/" + name, messages[i]);
    std::map<std::string, size_t> before;
    for (const char* folder : kFolders) before[folder] = Count(home / "Maildir", folder);
    test::Result r = test::Exec({test::MdaBinary()}, env, messages[i]);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::string where;
    for (const char* folder : kFolders) {
      if (Count(home / "Maildir", folder) == before[folder]) continue;
      where += (where.empty() ? "" : ",") + (folder[0] ? std::string(folder) : "INBOX");
    }
    mda_folders[name] = where;
  }
  test::Result r = test::Exec({test::MdatestBinary(), "--format", "tsv", home / "saved"}, env, "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int compared = 0, filed = 0;
  for (const std::string& line : Split(r.output, '\n')) {
    std::vector<std::string> f = Split(line, '\t');
    if (line.rfind(home / "saved/", 0) != 0) continue;  // the summary
    ASSERT_GE(f.size(), 6u) << line;
    std::string name = f[0].substr(f[0].rfind('/') + 1);
    ASSERT_TRUE(mda_folders.count(name)) << name;
    EXPECT_EQ(f[5], mda_folders[name]) << name << ": mdatest and mda disagree";
    ++compared;
    if (f[5] != "INBOX") ++filed;
  }
  EXPECT_EQ(compared, static_cast<int>(messages.size()));
  EXPECT_GT(filed, 5);  // the rules did file some: the comparison is not INBOX against INBOX
}

TEST(AgreementTest, APatternThatGivesUpCostsOneLimitAndOneWarningPerMessage) {
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  test::WriteFile(home / ".mda/rules", "if Subject: ~ /^(a+)+$/ then folder Nested\n");
  test::ChownToTestUser(home / ".mda/rules");
  std::string message;
  for (int i = 0; i < 30000; ++i) message += "Subject: " + std::string(30, 'a') + "!\n";
  message += "\nbody\n";
  test::Result r = test::Exec(
      {test::MdaBinary()},
      {"HOME=" + home.path(), "RECIPIENT=bob@example.com", "LOCAL_PART=bob", "DOMAIN=example.com"},
      message);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<test::LogFields> log = test::ReadLog(home / ".mda/log");
  ASSERT_EQ(log.size(), 2u);  // one warning, one record of the delivery
  EXPECT_EQ(test::Get(log[0], "level"), "warning");
  EXPECT_NE(test::Get(log[0], "reason").find("gave up"), std::string::npos);
  EXPECT_EQ(test::Get(log[1], "folder"), "INBOX");
}

}  // namespace
}  // namespace mda
