// Diagnostic: "FILE:LINE:COL: MESSAGE", the line, a caret.
#include "rules/diagnostic.h"

namespace mda::rules {

std::string_view LineOf(std::string_view source, int line) {
  size_t start = 0;
  for (int l = 1; l < line; ++l) {
    size_t nl = source.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  size_t end = source.find('\n', start);
  std::string_view text =
      source.substr(start, (end == std::string_view::npos ? source.size() : end) - start);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

namespace {

// "FILE:LINE:COL".
std::string Location(std::string_view file, int line, int col) {
  return std::string(file) + ":" + std::to_string(line) + ":" + std::to_string(col);
}

// The message, the line, and a caret under the column.
std::string WithExcerpt(std::string_view source, int line, int col, std::string_view message) {
  std::string out = std::string(message) + "\n";
  std::string_view text = LineOf(source, line);
  out += text;
  out += "\n";
  // Tabs stay tabs, so that the caret lines up however the terminal shows them.
  for (int i = 1; i < col; ++i) {
    size_t idx = static_cast<size_t>(i - 1);
    out += (idx < text.size() && text[idx] == '\t') ? '\t' : ' ';
  }
  return out + "^";
}

}  // namespace

std::string Diagnostic(std::string_view file, std::string_view source, int line, int col,
                       std::string_view message) {
  return Location(file, line, col) + ": " + WithExcerpt(source, line, col, message);
}

Status DiagnosticStatus(std::string_view file, std::string_view source, int line, int col,
                        std::string_view message) {
  return Status::BadInputAt(Location(file, line, col), WithExcerpt(source, line, col, message));
}

}  // namespace mda::rules
