// Route queues (TORQUE's queue_type = Route): a job submitted to one moves at once to the
// first of its route_destinations, in order, that exists, is an enabled Execution queue and
// whose resources_max/resources_min the job's request fits. Routing happens at submit, so a
// route queue never holds jobs (decision: TORQUE retries routing every route_retry_time;
// here a job no destination takes is refused with the reason, so the user learns it now).
#pragma once
#include <string>

#include "server/state.h"

namespace reprise::server {

// The destination queue's name, or "" with `why` saying why none takes the job. `job_attrs`
// are the job's attributes (Resource_List.*) before the destination's defaults are applied.
std::string route_destination(const std::map<std::string, Queue>& queues, const Queue& route, const Attrs& job_attrs,
                              std::string& why);

bool is_route_queue(const Queue& q);

}  // namespace reprise::server
