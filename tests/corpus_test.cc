// The corpus (acceptance 2 of the rule language): every message of tests/corpus/messages,
// run through mda's own Decide() under tests/corpus/rules, lands where expected.tsv says.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "mda/pipeline.h"

namespace mda {
namespace {

TEST(CorpusTest, EveryMessageLandsWhereExpected) {
  const std::string dir = std::string(MDA_SOURCE_DIR) + "/tests/corpus";
  std::ifstream expected(dir + "/expected.tsv");
  ASSERT_TRUE(expected) << dir << "/expected.tsv";
  Options options;
  options.rules = dir + "/rules";
  options.maildir = "/nonexistent/Maildir";  // nothing is written: DryRun
  Environment env = [](const char* name) -> const char* {
    std::string n = name;
    if (n == "RECIPIENT") return "bob@example.com";
    if (n == "SENDER") return "someone@example.net";
    if (n == "HOME") return "/nonexistent";
    return nullptr;
  };
  DryRun run;
  ASSERT_TRUE(run.Open(PosixFs(), options, env, std::nullopt, getuid(), "").ok());
  std::string line;
  int checked = 0;
  std::map<std::string, int> per_destination;
  while (std::getline(expected, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::string name = line.substr(0, line.find('\t'));
    std::string want = line.substr(line.find('\t') + 1);
    int fd = open((dir + "/messages/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << name;
    Message message;
    Status s = Message::Read(PosixFs(), fd, name, &message);
    close(fd);
    ASSERT_TRUE(s.ok()) << s.message();
    Evaluation e;
    s = run.Decide(message, /*trace=*/false, &e);
    ASSERT_TRUE(s.ok()) << name << ": " << s.message();
    ASSERT_TRUE(run.config().rules_used)
        << "the corpus rule file was not used: " << (e.warnings.empty() ? "" : e.warnings[0]);
    std::string got;
    for (const rules::Target& t : e.decision.targets)
      got += (got.empty() ? "" : ",") + rules::ShowTarget(t);
    if (!e.decision.flags.empty()) got += ":" + e.decision.flags;
    EXPECT_EQ(got, want) << name << " (rule " << e.decision.rule << ")";
    ++per_destination[want];
    ++checked;
  }
  EXPECT_GE(checked, 200);
  // Every destination of the rule file is exercised.
  for (const char* d :
       {"Junk", "Lists/dev", "Lists/DEV", "Alerts,INBOX", "Work", "Newsletters", "Large", "INBOX",
        "Quarantine", "Lists/dev/announce", "INBOX:F", "Junk:F", "Alerts,INBOX:F"}) {
    EXPECT_GT(per_destination[d], 0) << d;
  }
}

}  // namespace
}  // namespace mda
