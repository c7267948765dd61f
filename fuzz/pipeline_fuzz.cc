// Fuzz target: the whole of mda's decision and delivery for one message, the file system
// in memory (MemFs). The input is a rule file, a line "%%", and the message. Every folder
// the rules choose must be delivered, byte for byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/mem_fs.h"
#include "mda/config.h"
#include "mda/maildir.h"
#include "mda/message.h"
#include "mda/pipeline.h"
#include "rules/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find("\n%%\n");
  std::string_view rules_text =
      split == std::string_view::npos ? std::string_view() : input.substr(0, split);
  std::string_view message_bytes =
      split == std::string_view::npos ? input : input.substr(split + 4);

  mda::LoadedRules loaded;
  loaded.path = "/home/fuzz/.mda/rules";
  loaded.found = true;
  mda::rules::ParseOptions parse;
  parse.home = "/home/fuzz";
  parse.settings = mda::Settings();
  parse.read_include = [](const std::string& path, std::string*, std::string*) {
    return mda::Status::BadInput("no such file " + path);
  };
  loaded.status =
      mda::rules::ParseRules(loaded.path, rules_text, loaded.path, parse, &loaded.rules);

  mda::Options options;
  options.home = "/home/fuzz";
  options.maildir = "/home/fuzz/Maildir";
  options.rules = loaded.path;
  mda::Environment env = [](const char* name) -> const char* {
    std::string_view n = name;
    if (n == "RECIPIENT") return "Bob+lists@Example.ORG";
    if (n == "LOCAL_PART") return "bob";
    if (n == "LOCAL_PART_SUFFIX") return "+lists";
    if (n == "DOMAIN") return "example.org";
    if (n == "SENDER") return "alice@example.net";
    return nullptr;
  };
  mda::fuzz::MemFs fs;
  fs.dirs.insert("/home");
  fs.dirs.insert("/home/fuzz");
  mda::Message message = mda::Message::FromBytes(message_bytes);
  mda::Config config;
  if (!mda::ResolveConfig(options, env, std::nullopt, &config).ok()) return 0;
  mda::UseFromLine(message.from_line(), &config);
  std::vector<std::string> warnings;
  if (!mda::ApplyRules(fs, options, loaded, &config, &warnings).ok()) return 0;
  mda::rules::HeaderBlock headers(message.content());
  mda::Evaluation e;
  mda::Identify(headers, &e);
  mda::Decide(config, message, headers, /*trace=*/true, &e);
  mda::Maildir maildir(fs, config.envelope.maildir);
  // Header edits make a new message: its body is the original's, byte for byte.
  const mda::rules::Decision& d = e.decision;
  std::string_view content = d.message ? std::string_view(*d.message) : message.content();
  if (d.message) {
    mda::rules::HeaderBlock edited(content);
    if (content.substr(edited.body_offset()) != message.content().substr(headers.body_offset()))
      __builtin_trap();
  }
  for (const mda::rules::Target& target : d.targets) {
    if (!target.is_folder()) continue;  // a dry run: nothing runs, nothing is sent
    const std::string& folder = target.folder;
    mda::Delivery delivery;
    mda::Status s = maildir.Deliver(folder, content, &delivery, d.flags);
    if (!s.ok()) __builtin_trap();  // a folder Decide let through must be deliverable
    auto stored = fs.files.find(delivery.path());
    if (stored == fs.files.end() || *stored->second != content) __builtin_trap();
    if (!d.flags.empty() && delivery.subdir != "cur") __builtin_trap();
  }
  return 0;
}
