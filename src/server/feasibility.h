// Whether the cluster could ever run a job, however idle it were: enough nodes, each with
// np >= ppn and (when its mom reports physmem) enough memory for its share of mem. Nodes
// down or offline count (they may come back). A job that fails this is refused at submit,
// as TORQUE does ("MSG=cannot locate feasible nodes ...").
#pragma once
#include <string>

#include "server/state.h"

namespace reprise::server {

// TORQUE 6's message (chk_svr_resc_limit), after "Job exceeds queue resource limits MSG=".
inline constexpr const char* kNoFeasibleNodes =
    "cannot locate feasible nodes (nodes file is empty, all systems are busy, or no nodes have the requested feature)";

// False if no set of the cluster's nodes fits `job`'s Resource_List.nodes and .mem. A spec
// that does not parse is left to the other checks (true).
bool nodes_could_fit(const ServerState& st, const Job& job);

}  // namespace reprise::server
