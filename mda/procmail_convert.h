// ProcmailConvert: a .procmailrc into an mda rule file (mdatest --from-procmail), keeping
// procmail's semantics (case-insensitive matching unless D, the header matched line by line,
// the first delivering recipe wins, c copies) and never dropping what it cannot translate:
// such lines stay in the output, commented, under "# NOT CONVERTED: reason", and the report
// lists them. Every rule carries a comment naming the procmailrc line it came from.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mda {

struct ProcmailConversion {
  std::string rules;                // the mda rule file
  std::vector<std::string> report;  // "FILE:LINE: what was done or not, and why"
  int not_converted = 0;            // recipes and assignments left as comments
};

// `home`: the user's home ($HOME); `read_include`: reads an INCLUDERC file (converted in
// place, recursively, 8 deep at most).
ProcmailConversion ConvertProcmailrc(
    const std::string& path, std::string_view text, const std::string& home,
    const std::function<Status(const std::string& path, std::string* text)>& read_include);

// A procmail (egrep) regex as an mda (PCRE) one between slashes: the macros ^TO_, ^TO,
// ^FROM_DAEMON and ^FROM_MAILER expanded, \/ as the named group MATCH, \< \> as \b, a
// slash escaped. Empty with `why` set when it cannot be translated.
std::string ProcmailRegex(std::string_view re, std::string* why);

}  // namespace mda
