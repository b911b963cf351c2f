// qselect's criteria (TORQUE/POSIX): each option restricts the jobs listed; relations are
// .eq. .ne. .lt. .le. .gt. .ge. (docs/man/qselect.1).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace reprise::client {

enum class Relation { kEq, kNe, kLt, kLe, kGt, kGe };

struct Comparison {
  std::string name;  // attribute (Resource_List.X for -l)
  Relation rel = Relation::kEq;
  std::string value;
};

struct SelectCriteria {
  std::vector<Comparison> compare;  // -a -c -p -l, and the exact matches -A -N -r
  std::string states;               // -s: any of these letters
  std::string holds;                // -h: exactly this set of hold letters
  std::vector<std::string> users;   // -u: user or user@host
  std::string queue;                // -q: queue name ("" all)
};

// Reads one option into `c`; false with a one-line error for bad input.
bool add_select_option(char option, const std::string& arg, SelectCriteria& c, std::string& error);

// Whether a job with these attributes meets every criterion.
bool job_selected(const SelectCriteria& c, const std::map<std::string, std::string>& attrs);

// TORQUE's [[CC]YY]MMDDhhmm[.SS] in local time, as seconds since the epoch; false if malformed.
bool parse_touch_time(const std::string& text, long& epoch);

}  // namespace reprise::client
