// Job arrays: what a sub-job counts as, and its stored row (a delta against its parent).
// Pure functions, unit-tested (tests/batch/unit_array_test.cpp).
#include <set>
#include <vector>

#include "common/text_util.h"
#include "server/job_array.h"

namespace reprise::server {

namespace {

// Attributes that are each sub-job's own: they are always in its row and never taken from the
// parent when a row is read back.
bool own_attr(const std::string& name) {
  static const std::set<std::string> own = {"job_state", "comp_time", "exit_status", "exec_host", "start_time",
                                            "session_id", "comment", "mtime", "start_count", "Hold_Types",
                                            "checkpoint_name", "checkpoint_time", "Resource_List.nodect",
                                            "job_array_id", "Job_Name", "Output_Path", "Error_Path"};
  return own.count(name) || starts_with(name, "_") || starts_with(name, "resources_used.");
}

// The parent's attributes no sub-job has.
bool parent_only_attr(const std::string& name) {
  return name == "job_array_request" || name == "array_indices_submitted" || name == "array_state_count";
}

}  // namespace

char array_class_of(const Job& sub) {
  switch (sub.state()) {
    case 'Q': return 'Q';
    case 'R':
    case 'E': return 'R';
    case 'C': {
      long code = 0;
      return parse_int(sub.attr("exit_status"), code) && code == 0 ? 'K' : 'F';
    }
    default: return 'H';
  }
}

Attrs subjob_delta(const Attrs& parent, const Attrs& sub) {
  Attrs delta;
  std::vector<std::string> unset;
  for (const auto& [k, v] : sub) {
    auto p = parent.find(k);
    if (own_attr(k) || p == parent.end() || p->second != v) delta[k] = v;
  }
  for (const auto& [k, v] : parent)
    if (!own_attr(k) && !parent_only_attr(k) && !sub.count(k)) unset.push_back(k);
  if (!unset.empty()) delta["_array_unset"] = join(unset, ",");
  return delta;
}

Attrs subjob_attrs(const Attrs& parent, const Attrs& delta) {
  std::set<std::string> unset;
  if (auto it = delta.find("_array_unset"); it != delta.end())
    for (const std::string& n : split(it->second, ',')) unset.insert(n);
  Attrs out;
  for (const auto& [k, v] : parent)
    if (!own_attr(k) && !parent_only_attr(k) && !unset.count(k)) out[k] = v;
  for (const auto& [k, v] : delta)
    if (k != "_array_unset") out[k] = v;
  return out;
}

}  // namespace reprise::server
