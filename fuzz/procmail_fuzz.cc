// Fuzz target: the .procmailrc converter. Whatever the input, the converter must not crash,
// and what it prints must be a rule file mda parses (mdatest --from-procmail promises it).
// The input may carry included files after lines "#--file--" (as /inc1, /inc2, ...).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/split_files.h"
#include "mda/config.h"
#include "mda/procmail_convert.h"
#include "rules/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> files = SplitFiles(input, 4);
  mda::ProcmailConversion c =
      mda::ConvertProcmailrc("/home/bob/.procmailrc", files[0], "/home/bob",
                             [&files](const std::string& path, std::string* out) {
                               for (size_t i = 1; i < files.size(); ++i) {
                                 if (path == "/inc" + std::to_string(i)) {
                                   *out = files[i];
                                   return mda::Status::Ok();
                                 }
                               }
                               return mda::Status::BadInput("no such file");
                             });
  mda::rules::RuleSet rules;
  mda::rules::ParseOptions options;
  options.home = "/home/bob";
  options.settings = mda::Settings();
  mda::Status s = mda::rules::ParseRules("converted", c.rules, "converted", options, &rules);
  if (!s.ok() && s.kind() != mda::Status::Kind::kTemporary) abort();  // a converter bug
  return 0;
}
