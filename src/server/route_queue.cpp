#include "server/route_queue.h"

#include <set>

#include "common/log.h"
#include "common/text_util.h"
#include "server/accounting.h"
#include "server/mail.h"
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

long route_retry_seconds(const Queue& q) {
  long v = 30;
  if (!parse_int(attr_or(q.attrs, "route_retry_time", "30"), v) || v < 1) v = 30;
  return v;
}

void Server::route_waiting_jobs() {
  bool any = false;
  for (const auto& [name, q] : st_.queues) any = any || is_route_queue(q);
  if (!any) {
    route_next_.clear();
    return;
  }
  long now = now_seconds();
  std::set<long> waiting;
  for (const auto& [seq, j] : st_.jobs)
    if (!is_subjob_key(seq) && (j.state() == 'Q' || j.state() == 'H') && is_route_queue(st_, j.attr("queue")))
      waiting.insert(seq);
  for (auto it = route_next_.begin(); it != route_next_.end();)  // deleted or moved meanwhile
    it = waiting.count(it->first) ? std::next(it) : route_next_.erase(it);
  for (long seq : waiting) {
    Job& job = st_.jobs.at(seq);
    const Queue& route = st_.queues.at(job.attr("queue"));
    long lifetime = 0, entered = now;
    parse_int(attr_or(route.attrs, "route_lifetime", "0"), lifetime);
    parse_int(job.attr("qtime"), entered);
    if (lifetime > 0 && now - entered >= lifetime) {
      // TORQUE's job_abt: the owner is told by mail, accounting records the abort.
      std::string why = "Route queue lifetime exceeded: the job waited " + std::to_string(now - entered) +
                        " s in route queue " + route.name + " (route_lifetime = " + std::to_string(lifetime) + ")";
      route_next_.erase(seq);
      log_line("job " + job.id + " aborted: " + why);
      complete(job, 271, "Job aborted: " + why);
      account_aborted(opts_.home, job, why);
      continue;
    }
    bool route_held = is_true(attr_or(route.attrs, "route_held_jobs", "False"));
    if (!is_true(attr_or(route.attrs, "started", "False")) || (job.state() == 'H' && !route_held)) continue;
    if (auto next = route_next_.find(seq); next != route_next_.end() && next->second > now) continue;
    route_next_[seq] = now + route_retry_seconds(route);
    std::string user = job.attr("euser"), host = job.attr("submit_host");
    RouteChoice rc = route_job(st_, route, Submitter{user, host, groups_of(user)}, job);
    if (!rc.dest.empty()) {
      route_next_.erase(seq);
      log_line("job " + job.id + " routed from " + route.name + " to " + rc.dest);
      job.attrs = std::move(rc.admitted.attrs);
      job.attrs.erase("comment");
      job.attrs["queue_type"] = "E";
      job.attrs["qtime"] = job.attrs["mtime"] = std::to_string(now);
      save(job);
      sched_wanted_ = true;
    } else if (!rc.retry) {
      route_next_.erase(seq);
      log_line("job " + job.id + " aborted: " + rc.why);
      complete(job, 271, "Job aborted: Route rejected by all destinations: " + rc.why);
      account_aborted(opts_.home, job, "Route rejected by all destinations: " + rc.why);
    } else if (job.attr("comment") != "Not Routed: " + rc.why) {
      job.attrs["comment"] = "Not Routed: " + rc.why;
      save(job);
    }
  }
}

}  // namespace reprise::server
