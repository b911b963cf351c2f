// The node status a TORQUE mom reports (pbsnodes' `status`): opsys, uname, sessions,
// nsessions, nusers, idletime, totmem, availmem, physmem, ncpus, loadave, netload, size,
// state, jobs, varattr, rectime; all read from this machine (/proc, sysinfo, statvfs).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace reprise::mom {

// `jobs`: ids of the jobs this mom runs; `home`: PBS_HOME (its filesystem is `size`).
std::map<std::string, std::string> read_node_status(const std::vector<std::string>& jobs,
                                                    const std::string& home);

}  // namespace reprise::mom
