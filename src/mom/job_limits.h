// The resource limits of a job on its node, as TORQUE enforces them: mem (and pmem times the
// job's cores here) and vmem through the job's memory cgroup, its cores (ppn) through a
// cpuset, cput from the cgroup's CPU accounting (polled by the mom), pcput, pvmem and file
// through rlimits of every job process. docs/batch-system.md, "Resource limits on the node".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mom/cgroup.h"
#include "mom/job_record.h"

namespace reprise::mom {

struct JobLimits {
  uint64_t mem = 0, vmem = 0, pmem = 0, pvmem = 0, file = 0;  // bytes, 0 = none
  long cput = 0, pcput = 0;                                    // seconds, 0 = none
};
JobLimits job_limits(const JobRecord& job);

// The cgroups this node offers, detected once (the first call, at mom start).
const CgroupSupport& node_cgroups();

// The directory under each controller holding this mom's jobs: "torque" for the default
// PBS_HOME, "torque.HASH" for another (several moms on one machine, as the tests run them).
std::string cgroup_parent(const std::string& home);
JobCgroup job_cgroup(const std::string& home, const std::string& job_id);

// The slots of exec_host ("n1/0+n1/1+n2/0") that are on `node`.
std::vector<int> slots_on(const std::string& exec_host, const std::string& node);

// Makes the job's cgroup with its limits and cpuset. With no memory cgroup on the node a mem
// limit becomes an address-space rlimit (stricter, never unenforced): `rlimit_as` says so.
bool prepare_job_cgroup(const std::string& home, const std::string& node, const JobRecord& job,
                        JobCgroup& cgroup, uint64_t& rlimit_as, std::string& error);

// In the job's process before exec: RLIMIT_CPU (pcput), RLIMIT_AS (pvmem, or the fallback),
// RLIMIT_FSIZE (file). Async-signal-safe.
bool apply_rlimits(const JobLimits& limits, uint64_t rlimit_as);

// "314572kb" as TORQUE reports sizes.
std::string kb(uint64_t bytes);

}  // namespace reprise::mom
