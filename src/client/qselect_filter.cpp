#include "client/qselect_filter.h"

#include <cstdint>
#include <ctime>
#include <set>

#include "common/resources.h"
#include "common/text_util.h"

namespace reprise::client {

namespace {

// "[.op.]value": the relation (default eq) and the rest.
bool split_relation(const std::string& text, Relation& rel, std::string& rest, bool required) {
  static const std::map<std::string, Relation> ops = {{".eq.", Relation::kEq}, {".ne.", Relation::kNe},
                                                      {".lt.", Relation::kLt}, {".le.", Relation::kLe},
                                                      {".gt.", Relation::kGt}, {".ge.", Relation::kGe}};
  for (const auto& [name, r] : ops)
    if (starts_with(text, name)) {
      rel = r;
      rest = text.substr(name.size());
      return true;
    }
  rel = Relation::kEq;
  rest = text;
  return !required;
}

template <typename T>
bool holds(Relation rel, const T& a, const T& b) {
  switch (rel) {
    case Relation::kEq: return a == b;
    case Relation::kNe: return a != b;
    case Relation::kLt: return a < b;
    case Relation::kLe: return a <= b;
    case Relation::kGt: return a > b;
    case Relation::kGe: return a >= b;
  }
  return false;
}

// Checkpoint intervals compare by minutes (c=N, interval=N); n, s, c, u and the like only
// for equality.
bool checkpoint_minutes(const std::string& v, long& minutes) {
  for (const std::string& item : split(v, ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos) continue;
    std::string key = item.substr(0, eq);
    if ((key == "c" || key == "interval") && parse_int(item.substr(eq + 1), minutes)) return true;
  }
  return false;
}

bool compare_values(const Comparison& cmp, const std::string& have) {
  const std::string& want = cmp.value;
  if (cmp.name == "Execution_Time") {
    long h = 0, w = 0;
    if (!parse_int(have, h) && !parse_touch_time(have, h)) return false;
    return parse_touch_time(want, w) && holds(cmp.rel, h, w);
  }
  if (cmp.name == "Checkpoint") {
    if (cmp.rel == Relation::kEq || cmp.rel == Relation::kNe) return holds(cmp.rel, have, want);
    long h = 0, w = 0;
    return checkpoint_minutes(have, h) && checkpoint_minutes(want, w) && holds(cmp.rel, h, w);
  }
  long hi = 0, wi = 0;
  if (parse_int(have, hi) && parse_int(want, wi)) return holds(cmp.rel, hi, wi);
  uint64_t hs = 0, ws = 0;
  if (parse_size(have, hs) && parse_size(want, ws)) return holds(cmp.rel, hs, ws);
  long hd = 0, wd = 0;
  if (parse_duration(have, hd) && parse_duration(want, wd)) return holds(cmp.rel, hd, wd);
  return holds(cmp.rel, have, want);
}

std::string letters(const std::string& s) {
  std::set<char> set(s.begin(), s.end());
  return std::string(set.begin(), set.end());
}

}  // namespace

bool parse_touch_time(const std::string& text, long& epoch) {
  std::string main = text, secs = "00";
  if (auto dot = text.find('.'); dot != std::string::npos) {
    main = text.substr(0, dot);
    secs = text.substr(dot + 1);
  }
  if (secs.size() != 2 || main.find_first_not_of("0123456789") != std::string::npos ||
      secs.find_first_not_of("0123456789") != std::string::npos)
    return false;
  if (main.size() != 8 && main.size() != 10 && main.size() != 12) return false;
  time_t now = ::time(nullptr);
  struct tm tm{};
  localtime_r(&now, &tm);
  int year = tm.tm_year + 1900;
  size_t pos = 0;
  auto take = [&](size_t n) { int v = std::stoi(main.substr(pos, n)); pos += n; return v; };
  if (main.size() == 12) year = take(4);
  else if (main.size() == 10) year = 2000 + take(2);
  struct tm t{};
  t.tm_year = year - 1900;
  t.tm_mon = take(2) - 1;
  t.tm_mday = take(2);
  t.tm_hour = take(2);
  t.tm_min = take(2);
  t.tm_sec = std::stoi(secs);
  t.tm_isdst = -1;
  if (t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31 || t.tm_hour > 23 || t.tm_min > 59 ||
      t.tm_sec > 60)
    return false;
  epoch = long(mktime(&t));
  return epoch != -1;
}

bool add_select_option(char option, const std::string& arg, SelectCriteria& c, std::string& error) {
  Relation rel;
  std::string rest;
  switch (option) {
    case 'a': {
      split_relation(arg, rel, rest, false);
      long epoch;
      if (!parse_touch_time(rest, epoch)) {
        error = "illegal -a value '" + arg + "' (use [.op.][[CC]YY]MMDDhhmm[.SS])";
        return false;
      }
      c.compare.push_back({"Execution_Time", rel, rest});
      return true;
    }
    case 'c':
      split_relation(arg, rel, rest, false);
      if (rest.empty()) break;
      c.compare.push_back({"Checkpoint", rel, rest});
      return true;
    case 'p': {
      split_relation(arg, rel, rest, false);
      long p;
      if (!parse_int(rest, p)) break;
      c.compare.push_back({"Priority", rel, rest});
      return true;
    }
    case 'l':
      for (const std::string& item : split(arg, ',')) {
        auto dot = item.find('.');
        if (dot == 0 || dot == std::string::npos || !split_relation(item.substr(dot), rel, rest, true)) {
          error = "illegal -l value '" + item + "' (use RESOURCE.op.VALUE, op one of eq ne lt le gt ge)";
          return false;
        }
        c.compare.push_back({"Resource_List." + item.substr(0, dot), rel, rest});
      }
      return true;
    case 'A':
      c.compare.push_back({"Account_Name", Relation::kEq, arg});
      return true;
    case 'N':
      c.compare.push_back({"Job_Name", Relation::kEq, arg});
      return true;
    case 'r':
      if (arg != "y" && arg != "n") break;
      c.compare.push_back({"Rerunable", Relation::kEq, arg == "y" ? "True" : "False"});
      return true;
    case 's':
      if (arg.empty() || arg.find_first_not_of("CEHQRTWS") != std::string::npos) break;
      c.states += arg;
      return true;
    case 'h':
      if (arg.empty() || arg.find_first_not_of("uosn") != std::string::npos ||
          (arg.find('n') != std::string::npos && arg.find_first_not_of("n") != std::string::npos))
        break;
      c.holds = letters(arg);
      return true;
    case 'u':
      for (const std::string& u : split(arg, ','))
        if (!trim(u).empty()) c.users.push_back(trim(u));
      if (c.users.empty()) break;
      return true;
    case 'q':
      c.queue = arg.substr(0, arg.find('@'));
      return true;
  }
  error = std::string("illegal -") + option + " value '" + arg + "'";
  return false;
}

bool job_selected(const SelectCriteria& c, const std::map<std::string, std::string>& attrs) {
  auto get = [&](const std::string& name) {
    auto it = attrs.find(name);
    return it == attrs.end() ? std::string() : it->second;
  };
  if (!c.states.empty()) {
    std::string s = get("job_state");
    if (s.empty() || c.states.find(s[0]) == std::string::npos) return false;
  }
  if (!c.holds.empty()) {
    std::string h = get("Hold_Types");
    if (letters(h.empty() ? "n" : h) != c.holds) return false;
  }
  if (!c.queue.empty() && get("queue") != c.queue) return false;
  if (!c.users.empty()) {
    std::string owner = get("Job_Owner");
    std::string user = get("euser"), host = owner.substr(owner.find('@') == std::string::npos ? owner.size() : owner.find('@') + 1);
    bool any = false;
    for (const std::string& u : c.users) {
      auto at = u.find('@');
      if (u.substr(0, at) != user) continue;
      if (at != std::string::npos && u.substr(at + 1) != host) continue;
      any = true;
    }
    if (!any) return false;
  }
  for (const Comparison& cmp : c.compare) {
    auto it = attrs.find(cmp.name);
    if (it == attrs.end()) {
      // Unset: Priority is 0 and Rerunable True by default; anything else does not match.
      if (cmp.name == "Priority" && compare_values(cmp, "0")) continue;
      return false;
    }
    if (!compare_values(cmp, it->second)) return false;
  }
  return true;
}

}  // namespace reprise::client
