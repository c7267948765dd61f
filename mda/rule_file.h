// RuleFile: the user's rule file read safely (owner, permissions, size) and parsed, includes too.
#pragma once

#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "mda/fs.h"
#include "rules/ast.h"
#include "rules/parser.h"

namespace mda {

constexpr size_t kMaxRuleFileSize = 1024 * 1024;

// Loads `path` into `out`. A missing file is fine: *found = false and no rules.
// kBadInput: the file is unsafe (owned by another user, writable by others, in a directory
// others can write) or does not parse; the message says what to fix and where. The caller
// delivers to INBOX. kTemporary: an I/O error; the caller defers. `settings`: the names
// `set` may give (mda's are config.h's Settings()).
// `site`: a site file (owned by root, which passes uid 0): `set!` allowed (ParseOptions).
Status LoadRuleFile(FileSystem& fs, const std::string& path, uid_t uid, const std::string& home,
                    std::span<const rules::SettingSpec> settings, rules::RuleSet* out, bool* found,
                    bool site = false);

// mdatest --check: every parse error of the file at `path`, not only the first (at most
// `max`). After an error the statement it is in (from its first line to the next that
// starts one: if, set, include, a closing brace) is set aside and the rest parsed again,
// so that one mistake does not hide the next. Line numbers stay the file's.
std::vector<Status> AllParseErrors(FileSystem& fs, const std::string& path, uid_t uid,
                                   const std::string& home,
                                   std::span<const rules::SettingSpec> settings, size_t max);

}  // namespace mda
