// Fuzz target: the rule-file parser (with includes), then the evaluator on a fixed message.
// The input is one or more files separated by a line "#--file--": the first is the rule
// file, the others can be included as /f1, /f2, ...
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/split_files.h"
#include "mda/config.h"
#include "rules/body_text.h"
#include "rules/evaluator.h"
#include "rules/header_block.h"
#include "rules/parser.h"

namespace {

const char kMessage[] =
    "From: \"Boss\" <boss@example.com>\nTo: bob@example.org\nSubject: =?UTF-8?Q?caf=C3=A9?= "
    "[ALERT] ticket-12-34\n"
    "List-Id: <dev.lists.example.org>\nX-Spam-Score: 5.5\nContent-Type: multipart/mixed; "
    "boundary=b\n\n"
    "--b\nContent-Type: text/plain\n\nunsubscribe here\n--b--\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> files = SplitFiles(input, 8);
  mda::rules::ParseOptions options;
  options.settings = mda::Settings();
  options.home = "/home/fuzz";
  options.read_include = [&files](const std::string& path, std::string* content,
                                  std::string* identity) {
    for (size_t i = 1; i < files.size(); ++i) {
      if (path == "/f" + std::to_string(i)) {
        *content = files[i];
        *identity = path;
        return mda::Status::Ok();
      }
    }
    return mda::Status::BadInput("no such file " + path);
  };
  mda::rules::RuleSet rules;
  if (!mda::rules::ParseRules("/rules", files[0], "/rules", options, &rules).ok()) return 0;
  mda::rules::HeaderBlock headers(kMessage);
  mda::rules::MessageContext context;
  context.content = kMessage;
  context.headers = &headers;
  context.sender = "alice@example.net";
  context.recipient = "bob+lists@example.org";
  context.local_part = "bob";
  context.domain = "example.org";
  context.local_part_suffix = "+lists";
  context.home = "/home/fuzz";
  context.body_text = [](std::string_view content) {
    return mda::rules::BodyText(content, 1 << 16);
  };
  // A filter that puts its first argument on top of the message as a header, or keeps the
  // message when it has none: every later test then reads a replaced message.
  context.filter = [](const std::vector<std::string>& program, std::string_view content,
                      std::string* result) -> std::optional<std::string> {
    *result = "fuzz";
    if (program.size() < 2) return std::nullopt;
    return "X-Filtered: " + program[1] + "\n" + std::string(content);
  };
  mda::rules::Evaluate(rules, context, "INBOX", /*trace=*/true);
  return 0;
}
