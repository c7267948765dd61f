// Log: lines appended to the processing log, each with one write(2) on a descriptor opened
// O_APPEND|O_CLOEXEC, so concurrent deliveries never interleave (notes/libraries.md).
#pragma once

#include <string>
#include <string_view>

#include "mda/fs.h"
#include "mda/status.h"

namespace mda {

// logfmt value: bare if it is a plain word, else quoted with \" \\ \n \r \t and \xNN escaped,
// so a hostile Subject cannot forge or break a line.
std::string LogfmtValue(std::string_view value);

// Appends `line` (a newline is added) to `path`, creating it 0600. Never follows a symlink.
Status AppendLogLine(FileSystem& fs, const std::string& path, const std::string& line);

// "2026-11-25T06:10:15Z"
std::string Rfc3339Now();

}  // namespace mda
