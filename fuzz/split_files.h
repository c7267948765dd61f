// The fuzz targets that read several files from one input: the files are separated by a
// line "#--file--"; at most `max_files` (the rest stays in the last).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

inline std::vector<std::string> SplitFiles(std::string_view input, size_t max_files) {
  std::vector<std::string> files;
  const std::string_view separator = "\n#--file--\n";
  for (size_t start = 0;;) {
    size_t end = input.find(separator, start);
    files.emplace_back(
        input.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos || files.size() == max_files) break;
    start = end + separator.size();
  }
  return files;
}
