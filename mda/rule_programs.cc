// RulePrograms: the programs of a rule's filter and pipe actions, as a delivery runs them.
#include "mda/rule_programs.h"

#include <sys/stat.h>

#include "rules/header_block.h"

namespace mda {
namespace {

// Why a filter's output cannot stand for the message, or "" when it can: it starts with a
// header field and, as the original did, ends its header with a blank line (a filter that
// stopped early printed a header cut short, and its body would be lost).
std::string NotAMessage(std::string_view text, std::string_view original) {
  size_t i = 0;
  while (i < text.size() && text[i] > 32 && text[i] < 127 && text[i] != ':') ++i;
  if (i == 0 || i == text.size() || text[i] != ':')
    return "its output does not start with a header (Name: value)";
  rules::HeaderBlock headers(text);
  if (headers.fields().empty()) return "its output does not start with a header (Name: value)";
  if (headers.body_offset() == text.size() &&
      rules::HeaderBlock(original).body_offset() < original.size()) {
    return "its output is not a whole message (no blank line after its header)";
  }
  return "";
}

}  // namespace

ProgramCall MakeProgramCall(const Config& config, const std::vector<std::string>& program,
                            std::string_view input) {
  const Envelope& e = config.envelope;
  ProgramCall call;
  call.argv = program;
  call.env = {std::string("PATH=") + kProgramPath,
              "HOME=" + e.home,
              "SENDER=" + e.sender,
              "RECIPIENT=" + e.recipient,
              "LOCAL_PART=" + e.local_part,
              "LOCAL_PART_PREFIX=" + e.local_part_prefix,
              "LOCAL_PART_SUFFIX=" + e.local_part_suffix,
              "DOMAIN=" + e.domain,
              "MESSAGE_ID=" + e.queue_id};
  struct stat st;
  call.dir =
      !e.home.empty() && stat(e.home.c_str(), &st) == 0 && S_ISDIR(st.st_mode) ? e.home : "/";
  call.input = input;
  call.timeout_ms = config.programs.timeout_ms;
  return call;
}

std::optional<std::string> RunFilter(Processes& processes, const Config& config,
                                     const std::vector<std::string>& program,
                                     std::string_view content, std::string* result) {
  ProgramCall call = MakeProgramCall(config, program, content);
  call.filter = true;
  call.output_limit = 2 * content.size() + (1 << 20);
  ProgramResult r = RunProgram(processes, call);
  std::string kept = "kept the original: ";
  if (!r.ok()) {
    std::string said = r.FirstLines();
    *result = kept + r.Describe(call.timeout_ms) + (said.empty() ? "" : ": " + said);
  } else if (r.input_taken < content.size()) {
    *result = kept + "it read " + std::to_string(r.input_taken) + " of the " +
              std::to_string(content.size()) + " bytes of the message";
  } else if (r.over_limit) {
    *result = kept + "its output is over " + std::to_string(call.output_limit) + " bytes";
  } else if (r.output.empty()) {
    *result = kept + "it printed nothing";
  } else if (std::string why = NotAMessage(r.output, content); !why.empty()) {
    *result = kept + why;
  } else {
    *result = "replaced the message (" + std::to_string(r.output.size()) + " bytes, was " +
              std::to_string(content.size()) + ")";
    return std::move(r.output);
  }
  return std::nullopt;
}

}  // namespace mda
