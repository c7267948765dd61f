// MdatestReport: what mdatest prints, in its three formats.
#include "mda/mdatest_report.h"

#include "mda/log.h"

namespace mda {
namespace {

using Decided = rules::Outcome;

constexpr size_t kShownHeader = 200;  // a header value in text and TSV output
constexpr size_t kShownLine = 4096;   // a warning, trace or diagnostic line

std::string OneLine(const std::string& s, size_t max = kShownHeader) { return DisplayText(s, max); }

std::string When(int64_t t) { return Rfc3339(t, 0, false).substr(0, 19) + "Z"; }

std::string Action(Decided o) {
  switch (o) {
    case Decided::kDeliver:
      return "deliver";
    case Decided::kDiscard:
      return "discard";
    case Decided::kDefer:
      return "defer";
    case Decided::kReject:
      return "reject";
  }
  return "?";
}

}  // namespace

std::string Destination(const rules::Decision& d) {
  std::string folders;
  for (const rules::Target& t : d.targets)
    folders += (folders.empty() ? "" : " + ") + rules::ShowTarget(t);
  switch (d.outcome) {
    case Decided::kDeliver:
      return folders;
    case Decided::kDiscard:
      return "discard" + (folders.empty() ? "" : " (copies: " + folders + ")");
    case Decided::kDefer:
      return "defer \"" + d.reason + "\"";
    case Decided::kReject:
      return "reject \"" + d.reason + "\"" + (folders.empty() ? "" : " (copies: " + folders + ")");
  }
  return "?";
}

std::string Shown(const std::string& s) {
  std::string out;
  size_t start = 0;
  for (;;) {
    size_t nl = s.find('\n', start);
    out += OneLine(s.substr(start, nl - start), kShownLine);
    if (nl == std::string::npos) return out;
    out += "\n";
    start = nl + 1;
  }
}

std::optional<MdatestReport::Format> MdatestReport::ParseFormat(const std::string& name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  if (name == "tsv") return Format::kTsv;
  return std::nullopt;
}

std::string MdatestReport::Header() const {
  return format_ == Format::kTsv
             ? "name\tmessage_id\tsubject\trule\taction\tfolders\tduplicate_of\n"
             : "";
}

std::string MdatestReport::Message(const std::string& name, const Evaluation& e,
                                   std::optional<int64_t> duplicate_of) {
  const rules::Decision& d = e.decision;
  std::string destination = Destination(d);
  ++per_destination_[destination];
  std::string out;
  if (format_ == Format::kJson) {
    out = "{\"name\":" + JsonString(name) + ",\"message_id\":" + JsonString(e.message_id) +
          ",\"subject\":" + JsonString(e.subject) + ",\"rule\":" + JsonString(d.rule) +
          ",\"action\":" + JsonString(Action(d.outcome)) + ",\"folders\":[";
    bool first = true;
    for (const rules::Target& t : d.targets) {
      if (!t.is_folder()) continue;
      out += (first ? "" : ",") + JsonString(t.folder);
      first = false;
    }
    out += "]";
    auto argv = [](const std::vector<std::string>& program) {
      std::string list = "[";
      for (size_t i = 0; i < program.size(); ++i) list += (i ? "," : "") + JsonString(program[i]);
      return list + "]";
    };
    std::string programs;
    for (const rules::Target& t : d.targets) {
      if (t.is_program()) programs += (programs.empty() ? "" : ",") + argv(t.program);
    }
    if (!programs.empty()) out += ",\"programs\":[" + programs + "]";
    std::string forwards;
    for (const rules::Target& t : d.targets) {
      if (t.is_forward()) forwards += (forwards.empty() ? "" : ",") + JsonString(t.forward);
    }
    if (!forwards.empty()) out += ",\"forwards\":[" + forwards + "]";
    if (!d.filters.empty()) {
      out += ",\"filters\":[";
      for (size_t i = 0; i < d.filters.size(); ++i) {
        const rules::FilterStep& f = d.filters[i];
        out += std::string(i ? "," : "") + "{\"program\":" + argv(f.program) +
               ",\"rule\":" + JsonString(f.rule) + ",\"result\":" + JsonString(f.result) +
               ",\"replaced\":" + (f.replaced ? "true" : "false") + "}";
      }
      out += "]";
    }
    if (!d.flags.empty()) out += ",\"flags\":" + JsonString(rules::ShowFlags(d.flags));
    if (!d.edits.empty()) {
      out += ",\"header_edits\":[";
      for (size_t i = 0; i < d.edits.size(); ++i) out += (i ? "," : "") + JsonString(d.edits[i]);
      out += "]";
    }
    if (!d.reason.empty()) out += ",\"reason\":" + JsonString(d.reason);
    if (duplicate_of) out += ",\"duplicate_of\":" + JsonString(When(*duplicate_of));
    if (!e.vacation.empty()) out += ",\"vacation\":" + JsonString(e.vacation);
    if (!e.envelope.empty()) {
      out += ",\"envelope\":[";
      for (size_t i = 0; i < e.envelope.size(); ++i)
        out += (i ? "," : "") + JsonString(e.envelope[i]);
      out += "]";
    }
    out += ",\"warnings\":[";
    for (size_t i = 0; i < e.warnings.size(); ++i)
      out += (i ? "," : "") + JsonString(e.warnings[i]);
    out += "]";
    if (explain_) {
      out += ",\"trace\":[";
      for (size_t i = 0; i < d.trace.size(); ++i) out += (i ? "," : "") + JsonString(d.trace[i]);
      out += "]";
    }
    return out + "}\n";
  }
  if (format_ == Format::kTsv) {
    std::string folders;
    for (const rules::Target& t : d.targets)
      folders += (folders.empty() ? "" : ",") + rules::ShowTarget(t);
    return OneLine(name, kShownLine) + "\t" + OneLine(e.message_id) + "\t" + OneLine(e.subject) +
           "\t" + OneLine(d.rule, kShownLine) + "\t" + Action(d.outcome) + "\t" +
           OneLine(folders, kShownLine) + "\t" + (duplicate_of ? When(*duplicate_of) : "") + "\n";
  }
  std::string shown_destination = OneLine(destination, kShownLine),
              rule = OneLine(d.rule, kShownLine);
  out = OneLine(name, kShownLine) + " -> " + shown_destination + "  [" + rule + "]";
  if (!e.message_id.empty()) out += "  " + OneLine(e.message_id);
  if (!e.subject.empty()) out += "  \"" + OneLine(e.subject) + "\"";
  out += "\n";
  if (duplicate_of) {
    out += "  duplicate: first delivered " + When(*duplicate_of) +
           "; mda would not deliver it again\n";
  }
  for (const rules::FilterStep& f : d.filters) {
    out += "  filter " + Shown(rules::ShowProgram(f.program).substr(2)) + "  [" +
           OneLine(f.rule, kShownLine) + "]: " + Shown(f.result) + "\n";
  }
  if (!d.flags.empty()) out += "  flags: " + rules::ShowFlags(d.flags) + " (stored in cur/)\n";
  for (const std::string& edit : d.edits) out += "  header: " + Shown(edit) + "\n";
  for (const std::string& f : e.forwards) out += "  " + Shown(f) + "\n";
  if (!e.vacation.empty()) out += "  vacation: " + Shown(e.vacation) + "\n";
  for (const std::string& w : e.warnings) out += "  warning: " + Shown(w) + "\n";
  if (explain_) {
    if (!e.envelope.empty()) {
      std::string said;
      for (const std::string& part : e.envelope) said += (said.empty() ? "" : ", ") + part;
      out += "  envelope: " + Shown(said) + "\n";
    }
    for (const std::string& t : d.trace) out += "  " + Shown(t) + "\n";
    out += d.rule == "default" ? "  => no rule filed it: " + shown_destination + "\n"
                               : "  => " + rule + " decided: " + shown_destination + "\n";
  }
  return out;
}

std::string MdatestReport::Moved(const std::string& name, const Evaluation& before,
                                 const Evaluation& after) {
  std::string from = Destination(before.decision), to = Destination(after.decision);
  if (from == to) return "";
  ++moved_;
  ++per_destination_[from + " -> " + to];
  return Shown(name + ": " + from + " -> " + to + "  [" + before.decision.rule + " -> " +
               after.decision.rule + "]") +
         (after.subject.empty() ? "" : "  \"" + OneLine(after.subject) + "\"") + "\n";
}

std::string MdatestReport::Summary(int messages, size_t unreadable) const {
  if (format_ == Format::kJson) {
    std::string summary = "{\"summary\":{\"messages\":" + std::to_string(messages) +
                          ",\"unreadable\":" + std::to_string(unreadable) + ",\"destinations\":{";
    bool first = true;
    for (const auto& [dest, count] : per_destination_) {
      summary += (first ? "" : ",") + JsonString(dest) + ":" + std::to_string(count);
      first = false;
    }
    return summary + "}}}\n";
  }
  if (format_ == Format::kTsv) return "";
  std::string summary = "\n" + std::to_string(messages) + " message(s)";
  for (const auto& [dest, count] : per_destination_)
    summary += "\n  " + std::to_string(count) + "  " + Shown(dest);
  if (unreadable > 0) summary += "\n  " + std::to_string(unreadable) + " unreadable";
  return summary + "\n";
}

std::string MdatestReport::DiffSummary(int messages) const {
  std::string summary =
      "\n" + std::to_string(moved_) + " of " + std::to_string(messages) + " message(s) move";
  for (const auto& [change, count] : per_destination_)
    summary += "\n  " + std::to_string(count) + "  " + Shown(change);
  return summary + "\n";
}

}  // namespace mda
