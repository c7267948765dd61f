// LogStats: the processing log summarised (mdatest --stats), one pass, no regex.
#include "mda/log_stats.h"

#include <time.h>

#include <algorithm>

#include "mda/log.h"

namespace mda {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A quoted value from line[*i] (at the opening quote); JSON's escapes when `json`, else
// logfmt's (\" \\ \n \r \t \xNN \uXXXX). False when it is not closed.
bool Quoted(std::string_view line, size_t* i, bool json, std::string* out) {
  out->clear();
  for (size_t j = *i + 1; j < line.size(); ++j) {
    char c = line[j];
    if (c == '"') {
      *i = j + 1;
      return true;
    }
    if (c != '\\' || j + 1 >= line.size()) {
      *out += c;
      continue;
    }
    char e = line[++j];
    switch (e) {
      case 'n':
        *out += '\n';
        break;
      case 'r':
        *out += '\r';
        break;
      case 't':
        *out += '\t';
        break;
      case 'b':
        *out += '\b';
        break;
      case 'f':
        *out += '\f';
        break;
      case 'x':
        if (!json && j + 2 < line.size() && Hex(line[j + 1]) >= 0 && Hex(line[j + 2]) >= 0) {
          *out += static_cast<char>(Hex(line[j + 1]) * 16 + Hex(line[j + 2]));
          j += 2;
        } else {
          *out += e;
        }
        break;
      case 'u': {
        uint32_t cp = 0;
        bool ok = j + 4 < line.size();
        for (size_t k = 1; ok && k <= 4; ++k) {
          int h = Hex(line[j + k]);
          ok = h >= 0;
          cp = cp * 16 + static_cast<uint32_t>(h < 0 ? 0 : h);
        }
        if (ok) {
          AppendUtf8(cp, out);
          j += 4;
        } else {
          *out += e;
        }
        break;
      }
      default:
        *out += e;  // \" \\ \/
    }
  }
  return false;
}

std::string Percent(int64_t part, int64_t whole) {
  char buf[16];
  snprintf(buf, sizeof buf, "%5.1f%%",
           whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

std::string Bytes(int64_t n) {
  char buf[32];
  if (n >= 10LL * 1024 * 1024 * 1024) {
    snprintf(buf, sizeof buf, "%.1fG", static_cast<double>(n) / (1024.0 * 1024 * 1024));
  } else if (n >= 10LL * 1024 * 1024) {
    snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(n) / (1024.0 * 1024));
  } else if (n >= 10LL * 1024) {
    snprintf(buf, sizeof buf, "%.1fK", static_cast<double>(n) / 1024.0);
  } else {
    snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  }
  return buf;
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string LeftPad(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

// The `top` entries of a count map, most first (then by name).
std::vector<std::pair<std::string, int64_t>> Top(const std::map<std::string, int64_t>& m,
                                                 size_t top) {
  std::vector<std::pair<std::string, int64_t>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (v.size() > top) v.resize(top);
  return v;
}

}  // namespace

bool ParseLogfmtLine(std::string_view line, std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) break;
    size_t eq = line.find('=', i);
    if (eq == std::string_view::npos || eq == i) return false;
    std::string key(line.substr(i, eq - i));
    if (key.find(' ') != std::string::npos) return false;
    i = eq + 1;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      if (!Quoted(line, &i, /*json=*/false, &value)) return false;
    } else {
      size_t end = line.find(' ', i);
      if (end == std::string_view::npos) end = line.size();
      value = std::string(line.substr(i, end - i));
      i = end;
    }
    out->emplace_back(std::move(key), std::move(value));
  }
  return !out->empty();
}

bool ParseJsonLine(std::string_view line, std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  size_t i = 0;
  auto skip = [&]() {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  };
  skip();
  if (i >= line.size() || line[i] != '{') return false;
  ++i;
  for (;;) {
    skip();
    if (i < line.size() && line[i] == '}') return true;
    std::string key, value;
    if (i >= line.size() || line[i] != '"' || !Quoted(line, &i, true, &key)) return false;
    skip();
    if (i >= line.size() || line[i] != ':') return false;
    ++i;
    skip();
    // The log's arrays (folders, files) become one entry each under the singular key.
    std::string single = key == "folders" ? "folder" : key == "files" ? "file" : key;
    if (i < line.size() && line[i] == '"') {
      if (!Quoted(line, &i, true, &value)) return false;
      out->emplace_back(key, std::move(value));
    } else if (i < line.size() && line[i] == '[') {
      ++i;
      for (;;) {
        skip();
        if (i < line.size() && line[i] == ']') {
          ++i;
          break;
        }
        if (i >= line.size() || line[i] != '"' || !Quoted(line, &i, true, &value)) return false;
        out->emplace_back(single, value);
        skip();
        if (i < line.size() && line[i] == ',') ++i;
      }
    } else {
      size_t end = line.find_first_of(",}", i);
      if (end == std::string_view::npos) return false;
      value = std::string(line.substr(i, end - i));
      while (!value.empty() && value.back() == ' ') value.pop_back();
      out->emplace_back(key, std::move(value));
      i = end;
    }
    skip();
    if (i < line.size() && line[i] == ',') {
      ++i;
    } else if (i < line.size() && line[i] == '}') {
      return true;
    } else {
      return false;
    }
  }
}

std::optional<int64_t> ParseLogTime(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.mmm](Z|+hh:mm|-hh:mm)
  if (t.size() < 20) return std::nullopt;
  auto num = [&](size_t at, size_t n) -> int {
    int v = 0;
    for (size_t k = at; k < at + n; ++k) {
      if (t[k] < '0' || t[k] > '9') return -1;
      v = v * 10 + (t[k] - '0');
    }
    return v;
  };
  struct tm tm = {};
  int year = num(0, 4), mon = num(5, 2), day = num(8, 2), hour = num(11, 2), min = num(14, 2),
      sec = num(17, 2);
  if (year < 0 || mon < 1 || day < 1 || hour < 0 || min < 0 || sec < 0 || t[4] != '-' ||
      t[10] != 'T')
    return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  int64_t seconds = static_cast<int64_t>(timegm(&tm));
  size_t zone = 19;
  if (zone < t.size() && t[zone] == '.') {
    ++zone;
    while (zone < t.size() && t[zone] >= '0' && t[zone] <= '9') ++zone;
  }
  if (zone >= t.size()) return std::nullopt;
  if (t[zone] == 'Z') return seconds;
  if ((t[zone] == '+' || t[zone] == '-') && zone + 6 <= t.size()) {
    int oh = num(zone + 1, 2), om = num(zone + 4, 2);
    if (oh < 0 || om < 0) return std::nullopt;
    int64_t offset = (oh * 60 + om) * 60;
    return t[zone] == '+' ? seconds - offset : seconds + offset;
  }
  return std::nullopt;
}

void LogStats::Add(std::string_view line, std::optional<int64_t> since) {
  if (line.empty()) return;
  ++lines;
  std::vector<std::pair<std::string, std::string>> f;
  bool ok = line[0] == '{' ? ParseJsonLine(line, &f) : ParseLogfmtLine(line, &f);
  auto get = [&f](const char* key) -> const std::string* {
    for (const auto& kv : f)
      if (kv.first == key) return &kv.second;
    return nullptr;
  };
  const std::string* time = ok ? get("time") : nullptr;
  const std::string* level = ok ? get("level") : nullptr;
  if (!time || !level) {
    ++unreadable;
    return;
  }
  if (since) {
    std::optional<int64_t> at = ParseLogTime(*time);
    if (!at) {
      ++unreadable;
      return;
    }
    if (*at < *since) return;
  }
  if (first_time.empty()) first_time = *time;
  last_time = *time;
  const std::string* reason = get("reason");
  if (*level == "warning") {
    if (reason) ++warnings[*reason];
    return;
  }
  const std::string* outcome = get("outcome");
  if (!outcome) return;
  ++messages;
  int64_t size = 0;
  if (const std::string* s = get("size")) size = strtoll(s->c_str(), nullptr, 10);
  Count& o = outcomes[*outcome];
  ++o.messages;
  o.bytes += size;
  if (*outcome == "deferred" && reason) ++deferrals[*reason];
  if (const std::string* rule = get("rule")) ++rules[*rule];
  for (const auto& [key, value] : f) {
    if (key != "folder") continue;
    Count& c = folders[value];
    ++c.messages;
    c.bytes += size;
  }
}

std::string LogStats::Text(size_t top) const {
  std::string out;
  out += "period: " +
         (first_time.empty() ? std::string("no messages") : first_time + " to " + last_time) + "\n";
  out += std::to_string(messages) + " messages in " + std::to_string(lines) + " lines";
  if (unreadable) out += " (" + std::to_string(unreadable) + " lines not readable, skipped)";
  out += "\n\n";
  auto table = [&](const char* title, const std::map<std::string, Count>& m) {
    int64_t total = 0;
    for (const auto& [k, c] : m) total += c.messages;
    std::vector<std::pair<std::string, Count>> v(m.begin(), m.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.second.messages > b.second.messages;
    });
    size_t width = 12;
    for (const auto& [k, c] : v) width = std::max(width, DisplayText(k, 60).size() + 2);
    out += Pad(title, width) + "  messages    bytes   share\n";
    for (const auto& [k, c] : v)
      out += Pad(DisplayText(k, 60), width) + LeftPad(std::to_string(c.messages), 10) +
             LeftPad(Bytes(c.bytes), 9) + " " + Percent(c.messages, total) + "\n";
    out += "\n";
  };
  table("outcome", outcomes);
  table("folder", folders);
  auto counted = [&](const char* title, const std::map<std::string, int64_t>& m) {
    if (m.empty()) return;
    out += std::string(title) + "\n";
    for (const auto& [k, n] : Top(m, top))
      out += LeftPad(std::to_string(n), 8) + "  " + DisplayText(k, 200) + "\n";
    if (m.size() > top) out += "     ...  and " + std::to_string(m.size() - top) + " more\n";
    out += "\n";
  };
  counted("deferrals (by reason)", deferrals);
  counted("warnings (by reason)", warnings);
  counted("rules that decided most", rules);
  if (!never_fired.empty()) {
    out += "rules that decided no message in this period\n";
    for (const std::string& r : never_fired) out += "          " + r + "\n";
  }
  return out;
}

std::string LogStats::Json() const {
  auto counts = [](const std::map<std::string, Count>& m) {
    std::string s = "{";
    bool first = true;
    for (const auto& [k, c] : m) {
      s += (first ? "" : ",") + JsonString(k) + ":{\"messages\":" + std::to_string(c.messages) +
           ",\"bytes\":" + std::to_string(c.bytes) + "}";
      first = false;
    }
    return s + "}";
  };
  auto numbers = [](const std::map<std::string, int64_t>& m) {
    std::string s = "{";
    bool first = true;
    for (const auto& [k, n] : m) {
      s += (first ? "" : ",") + JsonString(k) + ":" + std::to_string(n);
      first = false;
    }
    return s + "}";
  };
  std::string never = "[";
  for (size_t i = 0; i < never_fired.size(); ++i)
    never += (i ? "," : "") + JsonString(never_fired[i]);
  never += "]";
  return "{\"from\":" + JsonString(first_time) + ",\"to\":" + JsonString(last_time) +
         ",\"lines\":" + std::to_string(lines) + ",\"unreadable\":" + std::to_string(unreadable) +
         ",\"messages\":" + std::to_string(messages) + ",\"outcomes\":" + counts(outcomes) +
         ",\"folders\":" + counts(folders) + ",\"deferrals\":" + numbers(deferrals) +
         ",\"warnings\":" + numbers(warnings) + ",\"rules\":" + numbers(rules) +
         ",\"never_decided\":" + never + "}\n";
}

}  // namespace mda
