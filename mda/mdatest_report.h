// MdatestReport: what mdatest prints, in its three formats (text, json, tsv): a line (or an
// object) per message, the --diff lines, and the summaries. The sender's text (Subject,
// Message-ID) is escaped and cut: it must not act on the terminal of the user who runs it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mda/pipeline.h"
#include "rules/decision.h"

namespace mda {

// "Junk", "Alerts + INBOX", "discard", "defer \"...\"", "reject \"...\" (copies: A)".
std::string Destination(const rules::Decision& d);

// Text of several lines (a diagnostic with its caret) for a terminal, each line escaped.
std::string Shown(const std::string& text);

class MdatestReport {
 public:
  enum class Format { kText, kJson, kTsv };
  // "text", "json" or "tsv"; nullopt for anything else.
  static std::optional<Format> ParseFormat(const std::string& name);

  MdatestReport(Format format, bool explain) : format_(format), explain_(explain) {}

  // Before the first message (the TSV column names), or "".
  std::string Header() const;
  // One message: where it goes, why, and (when the store says so) that mda would not
  // deliver it again.
  std::string Message(const std::string& name, const Evaluation& e,
                      std::optional<int64_t> duplicate_of);
  // --diff: one message whose destination changes, or "" when it does not.
  std::string Moved(const std::string& name, const Evaluation& before, const Evaluation& after);
  // After the last message: counts per destination (per change, for --diff).
  std::string Summary(int messages, size_t unreadable) const;
  std::string DiffSummary(int messages) const;

 private:
  Format format_;
  bool explain_;
  int moved_ = 0;
  std::map<std::string, int> per_destination_;
};

}  // namespace mda
