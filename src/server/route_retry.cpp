// Jobs waiting in route queues: retried every route_retry_time, aborted after route_lifetime
// (route_queue.h says what routing decides).
#include <set>

#include "common/log.h"
#include "common/text_util.h"
#include "server/accounting.h"
#include "server/route_queue.h"
#include "server/server.h"

namespace reprise::server {

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
