#include "common/array_range.h"

#include <algorithm>

#include "common/text_util.h"

namespace reprise {

namespace {

bool parse_index(const std::string& text, long& out) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stol(text);
  return out <= kMaxArrayIndex;
}

}  // namespace

bool parse_array_range(const std::string& text, std::vector<long>& out, std::string& error) {
  out.clear();
  if (text.empty()) return error = "empty array range", false;
  for (const std::string& item : split(text, ',')) {
    auto dash = item.find('-');
    long first, last;
    if (dash == std::string::npos) {
      if (!parse_index(item, first)) return error = "bad array index '" + item + "' (use 0-" + std::to_string(kMaxArrayIndex) + ")", false;
      last = first;
    } else if (!parse_index(item.substr(0, dash), first) || !parse_index(item.substr(dash + 1), last)) {
      return error = "bad array range '" + item + "' (use FIRST-LAST, e.g. 1-100)", false;
    } else if (last < first) {
      return error = "bad array range '" + item + "' (the end is below the start)", false;
    }
    if (last - first + 1 > kMaxArraySize || long(out.size()) + (last - first + 1) > kMaxArraySize)
      return error = "array range '" + text + "' has more than " + std::to_string(kMaxArraySize) + " indices", false;
    for (long i = first; i <= last; ++i) out.push_back(i);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return true;
}

bool parse_array_request(const std::string& text, ArrayRequest& out, std::string& error) {
  out = {};
  std::string range = text;
  auto pct = text.find('%');
  if (pct != std::string::npos) {
    range = text.substr(0, pct);
    std::string limit = text.substr(pct + 1);
    if (!parse_index(limit, out.slot_limit) || out.slot_limit == 0)
      return error = "bad slot limit '%" + limit + "' in array request '" + text + "' (use %N with N >= 1)", false;
  }
  return parse_array_range(range, out.indices, error);
}

std::string format_array_range(const std::vector<long>& indices) {
  std::string out;
  for (size_t i = 0; i < indices.size();) {
    size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(indices[i]);
    if (j > i) out += "-" + std::to_string(indices[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace reprise
