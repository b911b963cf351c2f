#include "server/route_queue.h"

#include "common/text_util.h"
#include "server/server.h"

namespace reprise::server {

namespace {

// Refusals that may go away without anyone touching the job (TORQUE's should_retry_route).
bool temporary(int code) { return code == kErrQueueDisabled || code == kErrMaxQueued || code == kErrMaxUserQueued; }

}  // namespace

bool is_route_queue(const Queue& q) { return attr_or(q.attrs, "queue_type", "") == "Route"; }

bool is_route_queue(const ServerState& st, const std::string& queue) {
  auto it = st.queues.find(queue);
  return it != st.queues.end() && is_route_queue(it->second);
}

RouteChoice route_job(const ServerState& st, const Queue& route, const Submitter& who, const Job& job) {
  RouteChoice c;
  std::vector<std::string> reasons;
  for (const std::string& raw : split(attr_or(route.attrs, "route_destinations", ""), ',')) {
    std::string dest = trim(raw);
    if (!dest.empty() && (dest[0] == '+' || dest[0] == '-')) dest = dest.substr(1);  // qmgr's list edit marks
    dest = dest.substr(0, dest.find('@'));  // queue@server: only this server's queues
    if (dest.empty()) continue;
    auto it = st.queues.find(dest);
    if (it == st.queues.end()) {
      reasons.push_back(dest + " does not exist");
      continue;
    }
    const Queue& q = it->second;
    if (attr_or(q.attrs, "queue_type", "") != "Execution") {
      reasons.push_back(dest + " is not an Execution queue");
      continue;
    }
    if (!is_true(attr_or(q.attrs, "enabled", "False"))) {
      reasons.push_back(dest + " is not enabled");
      c.retry = true;
      continue;
    }
    Job candidate = job;
    candidate.attrs["queue"] = dest;
    int code = 0;
    std::string message;
    if (admit_job(st, q, who, candidate, code, message)) {
      c.dest = dest;
      c.admitted = std::move(candidate);
      c.retry = false;
      return c;
    }
    if (temporary(code)) c.retry = true;
    reasons.push_back(dest + ": " + message);
  }
  c.why = "Route queue " + route.name + " found no destination for the job" +
          (reasons.empty() ? std::string(" (route_destinations is empty)") : " (" + join(reasons, "; ") + ")");
  return c;
}

}  // namespace reprise::server
