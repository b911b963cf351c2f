#include "common/resources.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/text_util.h"

namespace reprise {

bool parse_duration(const std::string& text, long& seconds) {
  auto parts = split(text, ':');
  if (parts.empty() || parts.size() > 4) return false;
  long total = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string p = parts[i];
    // The last field may carry fractions of a second (TORQUE accepts "10.5"); drop them.
    if (i + 1 == parts.size()) {
      auto dot = p.find('.');
      if (dot != std::string::npos) {
        std::string frac = p.substr(dot + 1);
        if (frac.find_first_not_of("0123456789") != std::string::npos) return false;
        p = p.substr(0, dot);
      }
    }
    long v;
    if (!parse_int(p, v) || v < 0 || v > 100000000) return false;
    // [[DD:]HH:]MM:SS: a fourth field from the right counts days.
    total = (parts.size() == 4 && i == 1 ? total * 24 : total * 60) + v;
  }
  seconds = total;
  return true;
}

std::string format_duration(long s) {
  if (s < 0) s = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

bool parse_size(const std::string& text, uint64_t& bytes) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), ::tolower);
  size_t digits = t.find_first_not_of("0123456789");
  size_t len = digits == std::string::npos ? t.size() : digits;
  if (len == 0 || len > 15) return false;
  uint64_t n = std::stoull(t.substr(0, digits == std::string::npos ? t.size() : digits));
  std::string unit = digits == std::string::npos ? "" : t.substr(digits);
  uint64_t mult;
  if (unit == "" || unit == "b") mult = 1;
  else if (unit == "w") mult = 8;
  else if (unit == "kb" || unit == "k" || unit == "kw") mult = 1ull << 10;
  else if (unit == "mb" || unit == "m" || unit == "mw") mult = 1ull << 20;
  else if (unit == "gb" || unit == "g" || unit == "gw") mult = 1ull << 30;
  else if (unit == "tb" || unit == "t" || unit == "tw") mult = 1ull << 40;
  else return false;
  if (unit.size() == 2 && unit[1] == 'w') mult *= 8;
  bytes = n * mult;
  return true;
}

bool parse_node_spec(const std::string& text, std::vector<NodeSpecPart>& parts, std::string& error) {
  parts.clear();
  if (text.empty()) {
    error = "empty node specification";
    return false;
  }
  for (const std::string& chunk : split(text, '+')) {
    auto fields = split(chunk, ':');
    NodeSpecPart part;
    if (fields[0].empty()) {
      error = "bad node specification '" + text + "'";
      return false;
    }
    long n;
    if (parse_int(fields[0], n)) {
      if (n < 1 || n > 100000) {
        error = "bad node count in '" + text + "'";
        return false;
      }
      part.count = int(n);
    } else if (fields[0].find_first_not_of(
                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") ==
               std::string::npos) {
      part.host = fields[0];
    } else {
      error = "bad node specification '" + text + "'";
      return false;
    }
    for (size_t i = 1; i < fields.size(); ++i) {
      const std::string& f = fields[i];
      if (starts_with(f, "ppn=")) {
        long p;
        if (!parse_int(f.substr(4), p) || p < 1 || p > 100000) {
          error = "bad ppn in '" + text + "'";
          return false;
        }
        part.ppn = int(p);
      } else if (f.empty() || f.find_first_not_of(
                                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=") !=
                                  std::string::npos) {
        error = "bad node property '" + f + "' in '" + text + "'";
        return false;
      }
      // Other fields are node properties; accepted and ignored (no property matching yet).
    }
    parts.push_back(part);
  }
  return true;
}

static const std::set<std::string>& known_resources() {
  static const std::set<std::string> names = {
      "walltime", "nodes", "ppn", "mem", "vmem", "pmem", "pvmem", "cput", "pcput", "ncpus",
      "procs", "file", "host", "nice", "arch", "software", "nodect", "neednodes", "naccesspolicy"};
  return names;
}

bool validate_resource(const std::string& name, const std::string& value, std::string& error) {
  if (!known_resources().count(name)) {
    error = "Unknown resource type  Resource_List." + name;
    return false;
  }
  bool ok = true;
  long l;
  uint64_t b;
  std::vector<NodeSpecPart> parts;
  std::string why;
  if (name == "walltime" || name == "cput" || name == "pcput") ok = parse_duration(value, l);
  else if (name == "mem" || name == "vmem" || name == "pmem" || name == "pvmem" || name == "file")
    ok = parse_size(value, b);
  else if (name == "nodes") ok = parse_node_spec(value, parts, why);
  else if (name == "ppn" || name == "ncpus" || name == "procs" || name == "nodect")
    ok = parse_int(value, l) && l >= 1;
  else if (name == "nice") ok = parse_int(value, l) && l >= -20 && l <= 19;
  else ok = !value.empty();
  if (!ok)
    error = "Illegal attribute or resource value for Resource_List." + name + " (" + value + ")" +
            (why.empty() ? "" : ": " + why);
  return ok;
}

bool parse_resource_list(const std::string& text, std::map<std::string, std::string>& out,
                         std::string& error) {
  if (trim(text).empty()) {
    error = "empty resource list";
    return false;
  }
  for (const std::string& item : split(text, ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      error = "illegal -l value '" + item + "' (expected name=value)";
      return false;
    }
    std::string name = trim(item.substr(0, eq));
    std::string value = trim(item.substr(eq + 1));
    if (!validate_resource(name, value, error)) return false;
    out[name] = value;
  }
  return true;
}

}  // namespace reprise
