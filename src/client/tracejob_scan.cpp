#include "client/tracejob_scan.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>

namespace reprise::client {

std::string full_job_id(const std::string& given, const std::string& server_name) {
  if (given.find('.') != std::string::npos || server_name.empty()) return given;
  return given + "." + server_name;
}

static bool stamped(const std::string& line) {
  // "MM/DD/YYYY HH:MM:SS;" is 20 characters.
  return line.size() > 20 && line[2] == '/' && line[5] == '/' && line[10] == ' ' && line[19] == ';';
}

static bool id_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '[' || c == ']'; }

// `id` appears in `text` with no id character right before or after it.
static bool names(const std::string& text, const std::string& id) {
  for (size_t at = text.find(id); at != std::string::npos; at = text.find(id, at + 1)) {
    bool before = at == 0 || !id_char(text[at - 1]);
    size_t end = at + id.size();
    bool after = end >= text.size() || !id_char(text[end]) || (text[end] == '.' && (end + 1 >= text.size() || text[end + 1] == ' '));
    if (before && after) return true;
  }
  return false;
}

// Calls `pick(line, n)` for each time-stamped line (n counts from 1); keeps what it returns.
template <typename Pick>
static std::vector<TraceLine> scan_stamped(const std::string& content, Pick pick) {
  std::vector<TraceLine> out;
  std::istringstream in(content);
  std::string line;
  long n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!stamped(line)) continue;
    if (std::optional<TraceLine> kept = pick(line, n)) out.push_back(std::move(*kept));
  }
  return out;
}

std::vector<TraceLine> trace_accounting(const std::string& content, const std::string& id) {
  return scan_stamped(content, [&](const std::string& line, long n) -> std::optional<TraceLine> {
    // STAMP;T;ID;MESSAGE
    size_t t = 20;
    size_t id_start = line.find(';', t);
    if (id_start == std::string::npos) return std::nullopt;
    size_t id_end = line.find(';', id_start + 1);
    if (id_end == std::string::npos || line.substr(id_start + 1, id_end - id_start - 1) != id) return std::nullopt;
    return TraceLine{line.substr(0, 19), 'A', line.substr(t, id_start - t) + "    " + line.substr(id_end + 1), n};
  });
}

std::vector<TraceLine> trace_log(const std::string& content, const std::string& id, char source) {
  return scan_stamped(content, [&](const std::string& line, long n) -> std::optional<TraceLine> {
    std::string text = line.substr(20);
    if (!names(text, id)) return std::nullopt;
    return TraceLine{line.substr(0, 19), source, text, n};
  });
}

static std::string sortable(const std::string& stamp) {
  // MM/DD/YYYY HH:MM:SS -> YYYYMMDD HH:MM:SS
  return stamp.substr(6, 4) + stamp.substr(0, 2) + stamp.substr(3, 2) + stamp.substr(10);
}

void sort_trace(std::vector<TraceLine>& lines) {
  std::stable_sort(lines.begin(), lines.end(),
                   [](const TraceLine& a, const TraceLine& b) { return sortable(a.stamp) < sortable(b.stamp); });
}

}  // namespace reprise::client
