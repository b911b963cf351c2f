#include "mom/job_limits.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>

#include "common/log.h"
#include "common/resources.h"
#include "common/text_util.h"

namespace reprise::mom {

namespace {

uint64_t size_of(const JobRecord& job, const char* name) {
  uint64_t b = 0;
  parse_size(job.attr(std::string("Resource_List.") + name), b);
  return b;
}

long duration_of(const JobRecord& job, const char* name) {
  long s = 0;
  parse_duration(job.attr(std::string("Resource_List.") + name), s);
  return s;
}

}  // namespace

JobLimits job_limits(const JobRecord& job) {
  JobLimits l;
  l.mem = size_of(job, "mem");
  l.vmem = size_of(job, "vmem");
  l.pmem = size_of(job, "pmem");
  l.pvmem = size_of(job, "pvmem");
  l.file = size_of(job, "file");
  l.cput = duration_of(job, "cput");
  l.pcput = duration_of(job, "pcput");
  return l;
}

const CgroupSupport& node_cgroups() {
  static const CgroupSupport support = CgroupSupport::detect();
  return support;
}

std::string cgroup_parent(const std::string& home) {
  if (home == "/var/spool/torque") return "torque";
  uint32_t h = 2166136261u;  // FNV-1a of the home's path
  for (unsigned char c : home) h = (h ^ c) * 16777619u;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", h);
  return std::string("torque.") + buf;
}

JobCgroup job_cgroup(const std::string& home, const std::string& job_id) {
  return JobCgroup(node_cgroups(), cgroup_parent(home), job_id);
}

std::vector<int> slots_on(const std::string& exec_host, const std::string& node) {
  std::vector<int> out;
  for (const std::string& slot : split(exec_host, '+')) {
    auto slash = slot.find('/');
    long i;
    if (slash != std::string::npos && slot.substr(0, slash) == node && parse_int(slot.substr(slash + 1), i))
      out.push_back(int(i));
  }
  return out;
}

bool prepare_job_cgroup(const std::string& home, const std::string& node, const JobRecord& job,
                        JobCgroup& cgroup, uint64_t& rlimit_as, std::string& error) {
  JobLimits l = job_limits(job);
  std::vector<int> slots = slots_on(job.attr("exec_host"), node);
  const CgroupSupport& support = node_cgroups();
  CgroupLimits c;
  // mem is the job's total; pmem is per process, so here it stands for pmem per core.
  c.mem = l.mem;
  if (l.pmem) {
    uint64_t per_node = l.pmem * std::max<uint64_t>(1, slots.size());
    c.mem = c.mem ? std::min(c.mem, per_node) : per_node;
  }
  c.memsw = l.vmem;
  if (support.has("cpuset")) c.cpus = cpus_for_slots(support, slots);
  rlimit_as = 0;
  if (!support.has("memory") && (c.mem || c.memsw)) {
    rlimit_as = std::max(c.mem, c.memsw);
    c.mem = c.memsw = 0;
  }
  if (support.v1.empty() && !support.v2) return true;
  cgroup = job_cgroup(home, job.id);
  if (!cgroup.create(c, error)) return false;
  if (!c.cpus.empty()) log_line("job " + job.id + " bound to cpus " + c.cpus);
  return true;
}

bool apply_rlimits(const JobLimits& l, uint64_t rlimit_as) {
  bool ok = true;
  auto set = [&](int what, uint64_t value) {
    rlimit r{rlim_t(value), rlim_t(value)};
    if (::setrlimit(what, &r) != 0) ok = false;
  };
  if (l.pcput) set(RLIMIT_CPU, uint64_t(l.pcput));
  uint64_t as = l.pvmem;
  if (rlimit_as) as = as ? std::min(as, rlimit_as) : rlimit_as;
  if (as) set(RLIMIT_AS, as);
  if (l.file) set(RLIMIT_FSIZE, l.file);
  return ok;
}

std::string kb(uint64_t bytes) { return std::to_string(bytes / 1024) + "kb"; }

}  // namespace reprise::mom
