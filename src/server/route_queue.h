// Route queues (TORQUE's queue_type = Route). A job submitted to one goes to the first of its
// route_destinations, in order, that admits it as a submission there would be admitted: an
// enabled Execution queue whose ACLs, disallowed_types, resources_max/min and queuable limits
// (policy.h) take the job. When no destination takes it:
//  - if every refusal is one that cannot change by itself (resources, ACLs, types, no such
//    queue), the submission is refused with every destination's reason;
//  - else (a destination is disabled or full: max_queuable, max_user_queuable) the job waits
//    in the route queue (state Q, its comment says why) and routing is retried every
//    route_retry_time seconds (default 30) while the route queue is started. It is aborted
//    (accounting A record, mail 'a') once it has waited route_lifetime seconds (0 = forever)
//    or when every destination refuses it for good.
// Held jobs (qsub -h, dependencies) wait in the route queue until released unless
// route_held_jobs = True. route_waiting_jobs has no effect (no job waits for an
// Execution_Time here). Job arrays are routed at submit only: one no destination takes now
// is refused.
#pragma once
#include <string>

#include "server/policy.h"
#include "server/state.h"

namespace reprise::server {

struct RouteChoice {
  std::string dest;    // the destination that takes the job, or ""
  Job admitted;        // the job as `dest` admitted it (its resources_default applied)
  bool retry = false;  // none takes it now, but one may later (disabled or full)
  std::string why;     // when dest is "": every destination's refusal, in one line
};

// `job` is the job before any queue's defaults; `job.seq` is not counted against the
// queuable limits (it may already be stored, waiting in the route queue).
RouteChoice route_job(const ServerState& st, const Queue& route, const Submitter& who, const Job& job);

bool is_route_queue(const Queue& q);
bool is_route_queue(const ServerState& st, const std::string& queue);

}  // namespace reprise::server
