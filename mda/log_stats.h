// LogStats: procmail's mailstat for mda's processing log (mdatest --stats): messages, bytes
// and share per folder and per outcome, duplicates suppressed, deferrals and their reasons,
// warnings, the rules that fired most and those that never fired, over a period.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mda {

// One logfmt line's fields, in order (a key may repeat: folder, file). False when the line
// is not logfmt (a torn or foreign line), which is counted, not fatal.
bool ParseLogfmtLine(std::string_view line, std::vector<std::pair<std::string, std::string>>* out);
// The same for one line of the JSON log (strings, numbers, arrays of strings).
bool ParseJsonLine(std::string_view line, std::vector<std::pair<std::string, std::string>>* out);

// Seconds since the epoch of an RFC 3339 time as the log writes it (Z or +hh:mm).
std::optional<int64_t> ParseLogTime(std::string_view text);

struct LogStats {
  struct Count {
    int64_t messages = 0;
    int64_t bytes = 0;
  };
  int64_t lines = 0, unreadable = 0, messages = 0;
  std::string first_time, last_time;
  std::map<std::string, Count> outcomes;     // delivered, duplicate, deferred, ...
  std::map<std::string, Count> folders;      // each copy counts once for its folder
  std::map<std::string, int64_t> deferrals;  // reason -> times
  std::map<std::string, int64_t> warnings;   // reason -> times
  std::map<std::string, int64_t> rules;      // rule (file:line, "default") -> messages
  std::vector<std::string> never_fired;      // rules of the rule file no message reached

  // Adds one line of the log, when its time is at or after `since` (seconds; none: all).
  void Add(std::string_view line, std::optional<int64_t> since);
  std::string Text(size_t top) const;
  std::string Json() const;
};

}  // namespace mda
