// Folder names: the user's folder name (INBOX, Junk, Lists/dev) checked and mapped to its
// Maildir++ directory (".Junk", ".Lists.dev"), in IMAP's modified UTF-7 as Dovecot and Courier
// store it.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace mda {

// Maps a folder name to its directory below the Maildir root: "" for INBOX (any case),
// otherwise "." + the components joined by ".", each encoded in modified UTF-7 (RFC 3501
// 5.1.3). Refused (kBadInput, saying why): an empty name or component, a component that
// starts or ends with "." or contains "..", control characters, invalid UTF-8, a
// directory name longer than 255 bytes.
Status FolderDirectory(std::string_view folder, std::string* directory);

// RFC 3501 modified UTF-7 of a UTF-8 string; false if `utf8` is not valid UTF-8.
bool EncodeModifiedUtf7(std::string_view utf8, std::string* out);

}  // namespace mda
