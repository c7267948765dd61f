// Quota: Maildir++ soft quota (the `maildirsize` file of Courier, maildrop and Dovecot).
//
// When the Maildir root has a `maildirsize` file, its first line sets the limits
// ("10000000S,1000C": bytes and messages; either may be missing; 0 is no limit) and every
// further line adds "BYTES COUNT" to what is in use. A delivery that would go over a limit
// is not stored; one that is stored adds its line. The file is recalculated from the
// Maildir (every message of new/ and cur/ of the root and of each .folder, its size from
// the ",S=" of its name, else from stat) when it has grown to 5120 bytes or more, when a
// line does not parse, or when the quota seems full and the file is older than 15 minutes
// (the rules of Courier's README.maildirquota, as maildrop's deliverquota follows them).
// No maildirsize: no quota, at the cost of one failed open.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "mda/fs.h"

namespace mda {

struct QuotaUsage {
  int64_t bytes = 0;
  int64_t count = 0;
};

struct QuotaLimits {
  uint64_t bytes = 0;  // 0: none
  uint64_t count = 0;
};

// Parses a quota definition ("10000000S,1000C"); unknown letters are ignored, as the
// specification says. False when it names no usable limit at all.
bool ParseQuotaDefinition(std::string_view line, QuotaLimits* out);

struct QuotaCheck {
  bool present = false;  // the Maildir has a maildirsize file that mda can use
  bool over = false;     // the delivery would exceed a limit: do not store it
  QuotaLimits limits;
  QuotaUsage used;  // after any recalculation
  bool recalculated = false;
  std::string warning;  // a maildirsize that cannot be used (quota not enforced); or ""
  std::string Describe(uint64_t bytes, uint64_t count) const;  // why it is over, for the log
};

// Whether `count` messages of `bytes` in all fit into the Maildir at `root`. kTemporary: an
// I/O error (worth a retry); a maildirsize that cannot be used is a warning, not an error.
Status CheckQuota(FileSystem& fs, const std::string& root, uint64_t bytes, uint64_t count,
                  int64_t now, QuotaCheck* out);

// Adds "BYTES COUNT" to maildirsize after a delivery (one write, O_APPEND). A failure is
// returned; the message is in place whatever happens here.
Status AddToQuota(FileSystem& fs, const std::string& root, uint64_t bytes, uint64_t count);

// Counts the Maildir as Maildir++ says (see above), and writes maildirsize afresh with
// `definition` on its first line (through tmp/ and a rename).
Status RecalculateQuota(FileSystem& fs, const std::string& root, const std::string& definition,
                        QuotaUsage* out);

}  // namespace mda
