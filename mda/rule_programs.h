// RulePrograms: the programs of a rule's filter and pipe actions, as a delivery runs them:
// the call (environment, directory, time limit) from the configuration, and when a filter's
// output may replace the message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mda/config.h"
#include "mda/program.h"

namespace mda {

// What a program of a rule runs with: a clean environment (the fixed PATH, the envelope as
// Exim's pipe transport names it), in the home directory (or /, for a user without one).
ProgramCall MakeProgramCall(const Config& config, const std::vector<std::string>& program,
                            std::string_view input);

// A filter action: the program's output replaces the message only when it exited 0, read
// all of the message, and printed a whole message, not too big (twice the message and
// 1 MiB: a report that wraps the original fits). Anything else keeps it; *result says
// which and why ("replaced the message (N bytes, was M)", "kept the original: exited 1").
std::optional<std::string> RunFilter(Processes& processes, const Config& config,
                                     const std::vector<std::string>& program,
                                     std::string_view content, std::string* result);

}  // namespace mda
