// Options: the command lines of mda and mdatest, parsed without global state.
#include "mda/options.h"

#include <string.h>

#include <string_view>

namespace mda {
namespace {

struct ValueOption {
  const char* name;
  std::optional<std::string> Options::*field;
};

constexpr ValueOption kValueOptions[] = {
    {"recipient", &Options::recipient},
    {"sender", &Options::sender},
    {"local-part", &Options::local_part},
    {"domain", &Options::domain},
    {"local-part-prefix", &Options::local_part_prefix},
    {"local-part-suffix", &Options::local_part_suffix},
    {"home", &Options::home},
    {"queue-id", &Options::queue_id},
    {"maildir", &Options::maildir},
    {"rules", &Options::rules},
    {"folder", &Options::folder},
    {"dedup-store", &Options::dedup_store},
    {"dedup-password-file", &Options::dedup_password_file},
    {"site-dir", &Options::site_dir},
    {"syslog-socket", &Options::syslog_socket},
};

}  // namespace

Status ParseOptions(int argc, const char* const* argv, bool allow_paths, Options* out) {
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-' || arg == "-") {
      if (!allow_paths) {
        return Status::BadInput("unexpected argument '" + std::string(arg) +
                                "' (mda reads the message on standard input; see mda --help)");
      }
      out->paths.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      out->help = true;
      continue;
    }
    if (arg == "--version" || arg == "-V") {
      out->version = true;
      continue;
    }
    if (allow_paths) {
      bool Options::*flag = nullptr;
      if (arg == "--explain") flag = &Options::explain;
      if (arg == "--recursive" || arg == "-r") flag = &Options::recursive;
      if (arg == "--check") flag = &Options::check;
      if (arg == "--diff") flag = &Options::diff;
      if (arg == "--run-filters") flag = &Options::run_filters;
      if (arg == "--stats") flag = &Options::stats;
      if (flag != nullptr) {
        out->*flag = true;
        continue;
      }
    }
    if (arg.substr(0, 2) != "--") {
      return Status::BadInput("unknown option '" + std::string(arg) + "' (see --help)");
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> value;
    if (size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const ValueOption* option = nullptr;
    for (const ValueOption& candidate : kValueOptions) {
      if (name == candidate.name) option = &candidate;
    }
    static constexpr ValueOption kFormat = {"format", &Options::format};
    static constexpr ValueOption kUser = {"user", &Options::user};
    if (allow_paths && name == "format") option = &kFormat;
    if (allow_paths && name == "user") option = &kUser;
    static constexpr ValueOption kSince = {"since", &Options::since};
    static constexpr ValueOption kFromProcmail = {"from-procmail", &Options::from_procmail};
    if (allow_paths && name == "from-procmail") option = &kFromProcmail;
    if (allow_paths && name == "since") option = &kSince;
    if (option == nullptr) {
      return Status::BadInput("unknown option '--" + std::string(name) + "' (see --help)");
    }
    if (!value) {
      if (i + 1 >= argc) {
        return Status::BadInput("option '--" + std::string(name) + "' needs a value (see --help)");
      }
      value = argv[++i];
    }
    out->*(option->field) = std::string(*value);
  }
  return Status::Ok();
}

}  // namespace mda
