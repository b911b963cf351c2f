#include "server/route_queue.h"

#include "common/resources.h"
#include "common/text_util.h"

namespace reprise::server {

namespace {

std::string get(const Attrs& a, const std::string& k) {
  auto it = a.find(k);
  return it == a.end() ? std::string() : it->second;
}

// Compares a request with a limit for the resources whose values are ordered: durations,
// sizes, counts. Resources of other forms (nodes=2:ppn=4) are not compared here.
bool exceeds(const std::string& resource, const std::string& want, const std::string& limit, bool is_max) {
  long a, b;
  uint64_t x, y;
  bool duration = resource == "walltime" || resource == "cput" || resource == "pcput";
  if (duration && parse_duration(want, a) && parse_duration(limit, b)) return is_max ? a > b : a < b;
  bool size = resource == "mem" || resource == "vmem" || resource == "pmem" || resource == "pvmem" || resource == "file";
  if (size && parse_size(want, x) && parse_size(limit, y)) return is_max ? x > y : x < y;
  if (parse_int(want, a) && parse_int(limit, b)) return is_max ? a > b : a < b;
  return false;
}

// Why `q` does not take a job with these attributes ("" if it does).
std::string refusal(const Queue& q, const Attrs& job) {
  if (get(q.attrs, "queue_type") != "Execution") return q.name + " is not an Execution queue";
  bool enabled = false;
  if (!parse_bool(get(q.attrs, "enabled"), enabled) || !enabled) return q.name + " is not enabled";
  for (const auto& [k, v] : q.attrs) {
    bool is_max = starts_with(k, "resources_max."), is_min = starts_with(k, "resources_min.");
    if (!is_max && !is_min) continue;
    std::string resource = k.substr(k.find('.') + 1);
    std::string want = get(job, "Resource_List." + resource);
    if (want.empty()) want = get(q.attrs, "resources_default." + resource);
    if (!want.empty() && exceeds(resource, want, v, is_max))
      return q.name + " has " + k + " = " + v + " (the job asks " + resource + "=" + want + ")";
  }
  return "";
}

}  // namespace

bool is_route_queue(const Queue& q) { return get(q.attrs, "queue_type") == "Route"; }

std::string route_destination(const std::map<std::string, Queue>& queues, const Queue& route, const Attrs& job_attrs,
                              std::string& why) {
  std::vector<std::string> reasons;
  for (const std::string& raw : split(get(route.attrs, "route_destinations"), ',')) {
    std::string dest = trim(raw);
    dest = dest.substr(0, dest.find('@'));  // queue@server: only this server's queues
    if (dest.empty()) continue;
    auto it = queues.find(dest);
    if (it == queues.end()) {
      reasons.push_back(dest + " does not exist");
      continue;
    }
    std::string r = refusal(it->second, job_attrs);
    if (r.empty()) return dest;
    reasons.push_back(r);
  }
  why = "Route queue " + route.name + " found no destination for the job" +
        (reasons.empty() ? std::string(" (route_destinations is empty)") : " (" + join(reasons, "; ") + ")");
  return "";
}

}  // namespace reprise::server
