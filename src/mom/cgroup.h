// A job's cgroup on this node: memory limit, cpuset (the job's cores), CPU accounting and,
// where present, the freezer. cgroup v2 is used when the unified hierarchy offers the
// controllers; otherwise each v1 controller where it is mounted (/sys/fs/cgroup/<ctrl>).
// Detected once at mom start. docs/batch-system.md, "Resource limits on the node".
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace reprise::mom {

struct CgroupSupport {
  bool v2 = false;
  std::string v2_root;                       // mount point of the unified hierarchy
  std::map<std::string, std::string> v1;     // controller -> its mount point (v1)
  bool has(const std::string& controller) const;  // memory, cpuset, cpuacct (cpu on v2), freezer
  std::string describe() const;              // for the mom's log
  static CgroupSupport detect(const std::string& mounts_file = "/proc/self/mounts");
};

// What the job asks for that a cgroup enforces.
struct CgroupLimits {
  uint64_t mem = 0;   // bytes of memory, 0 = none
  uint64_t memsw = 0; // bytes of memory plus swap (vmem), 0 = none
  std::string cpus;   // cpuset.cpus ("0-1"), "" = all
};

struct CgroupUsage {
  bool valid = false;
  long cpu_seconds = 0;
  uint64_t mem = 0;        // peak memory (bytes)
  uint64_t vmem = 0;       // peak memory + swap (bytes), mem where unknown
  bool over_memory = false;  // the job hit its memory limit (OOM in its cgroup)
};

class JobCgroup {
 public:
  JobCgroup() = default;
  // `parent`: the directory under each controller holding this mom's jobs ("torque").
  JobCgroup(const CgroupSupport& support, const std::string& parent, const std::string& job_id);
  // Makes the cgroup (as root) and applies the limits. False with `error` if a limit that
  // was asked for cannot be enforced.
  bool create(const CgroupLimits& limits, std::string& error);
  // The files a process writes its pid into to join the job's cgroup (the job's shell does,
  // before it becomes the owner).
  std::vector<std::string> procs_files() const;
  CgroupUsage usage() const;
  std::vector<pid_t> pids() const;
  void kill_all(int sig) const;
  // Kills what is left and removes the directories (at job end).
  void remove() const;
  bool empty() const { return dirs_.empty(); }

 private:
  CgroupSupport support_;
  std::map<std::string, std::string> dirs_;  // controller -> directory (v2: one, key "unified")
  std::string dir(const std::string& controller) const;
};

// The cpus of the mom's cpuset that the job's slots on this node stand for (slot i: the
// i-th cpu; "0,2"); "" when a slot is beyond the cpus (a node with np above its cores).
std::string cpus_for_slots(const CgroupSupport& support, const std::vector<int>& slots);

// Removes the job cgroups under `parent` (killing what is left in them) except those of
// `keep`, and `parent` itself when it is then empty: stale cgroups of jobs that ended while
// no mom was there to see it (the mom at start), or all of a test home's.
void remove_stale_cgroups(const CgroupSupport& support, const std::string& parent,
                          const std::set<std::string>& keep);

// Joins the cgroup: writes the caller's pid into each procs file. Async-signal-safe (used
// between fork and exec).
bool join_cgroup(const std::vector<std::string>& procs_files);

}  // namespace reprise::mom
