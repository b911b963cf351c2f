// Many submissions fast, for the load test and the batch benchmark: real submit requests (the
// wire protocol qsub speaks) sent by `workers` child processes, one server connection each.
#pragma once
#include <functional>
#include <map>
#include <string>

namespace reprise::test {

// Submits jobs 0..count-1 with `script`; `attrs(i, a)` fills job i's attributes. Runs as the
// calling process's identity and environment (PBS_HOME, ...): call it from a process that has
// become the submitting user. Returns how many workers saw a failed or refused submission.
int submit_over_connections(int count, int workers, const std::string& script,
                            const std::function<void(int, std::map<std::string, std::string>&)>& attrs);

}  // namespace reprise::test
