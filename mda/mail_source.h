// MailSource: the saved messages mdatest reads: message files, directories of them, Maildirs
// (cur/ and new/, and with `recursive` their Maildir++ folders), mbox files, and stdin.
// Read-only: nothing is ever opened for writing.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "mda/fs.h"
#include "mda/message.h"

namespace mda {

// Called for each message, with a name that says where it came from: a file's path, or
// "PATH#N" for the Nth message of an mbox. Returning false stops the walk.
using MessageVisitor = std::function<bool(const std::string& name, const Message& message)>;

// Visits every message under `paths` in a stable order (names sorted within a directory).
// A path that cannot be read is reported in *errors and the walk goes on.
void ForEachMessage(FileSystem& fs, const std::vector<std::string>& paths, bool recursive,
                    const MessageVisitor& visit, std::vector<std::string>* errors);

// Splits an mbox (mboxrd: a message starts at a "From " line at the start of the file or
// after a blank line; ">From ", ">>From " lose one '>'), LF or CRLF. Each message keeps its
// From_ line (so the envelope sender is known) and loses the blank line that separates it
// from the next message (or ends the file).
std::vector<std::string> SplitMbox(std::string_view mbox);

}  // namespace mda
