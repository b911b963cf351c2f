#include "mom/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/text_util.h"

namespace reprise::mom {

namespace {

const char* const kV1Controllers[] = {"memory", "cpuset", "cpuacct", "freezer"};

std::string read_text(const std::string& path) {
  std::string s;
  if (!read_file(path, s)) return "";
  return s;
}

bool write_text(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::write(fd, value.data(), value.size());
  ::close(fd);
  return n == ssize_t(value.size());
}

uint64_t read_u64(const std::string& path) {
  std::string s = trim(read_text(path));
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoull(s);
}

// "key value" lines (memory.oom_control, memory.events, cpu.stat).
uint64_t read_key(const std::string& path, const std::string& key) {
  std::istringstream in(read_text(path));
  std::string k;
  uint64_t v;
  while (in >> k >> v)
    if (k == key) return v;
  return 0;
}

// The mom's own cgroup in one hierarchy, from /proc/self/cgroup ("4:memory:/a/b" or "0::/a").
std::string own_cgroup(const std::string& controller) {
  std::istringstream in(read_text("/proc/self/cgroup"));
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    bool match = controller.empty() ? ctrls.empty() : false;
    for (const std::string& c : split(ctrls, ','))
      if (c == controller) match = true;
    if (match) return path == "/" ? "" : path;
  }
  return "";
}

bool make_dir(const std::string& path) { return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST; }

// A v1 cpuset needs cpus and mems before anything can join it; a new one starts empty.
void inherit_cpuset(const std::string& dir) {
  std::string parent = dir.substr(0, dir.rfind('/'));
  for (const char* f : {"cpuset.cpus", "cpuset.mems"})
    if (trim(read_text(dir + "/" + f)).empty()) write_text(dir + "/" + f, trim(read_text(parent + "/" + f)));
}

// "0-3,6" -> {0,1,2,3,6}
std::vector<int> cpu_list(const std::string& text) {
  std::vector<int> out;
  for (const std::string& part : split(trim(text), ',')) {
    auto dash = part.find('-');
    long a, b;
    if (dash == std::string::npos) {
      if (parse_int(part, a)) out.push_back(int(a));
    } else if (parse_int(part.substr(0, dash), a) && parse_int(part.substr(dash + 1), b)) {
      for (long i = a; i <= b; ++i) out.push_back(int(i));
    }
  }
  return out;
}

}  // namespace

bool CgroupSupport::has(const std::string& controller) const {
  if (v2) {
    std::string c = controller == "cpuacct" ? "cpu" : controller;
    if (c == "freezer") return true;  // cgroup.freeze is core in v2
    for (const std::string& x : split(trim(read_text(v2_root + "/cgroup.controllers")), ' '))
      if (x == c) return true;
    return false;
  }
  return v1.count(controller) > 0;
}

std::string CgroupSupport::describe() const {
  if (v2) return "cgroup v2 at " + v2_root + " (" + trim(read_text(v2_root + "/cgroup.controllers")) + ")";
  if (v1.empty()) return "no cgroups: memory, cpuset and cput limits fall back to rlimits";
  std::vector<std::string> parts;
  for (const auto& [c, m] : v1) parts.push_back(c + " at " + m);
  return "cgroup v1: " + join(parts, ", ");
}

CgroupSupport CgroupSupport::detect(const std::string& mounts_file) {
  CgroupSupport s;
  std::istringstream in(read_text(mounts_file));
  std::string dev, mnt, type, opts, rest;
  std::string unified;
  while (in >> dev >> mnt >> type >> opts && std::getline(in, rest)) {
    if (type == "cgroup2") {
      unified = mnt;
    } else if (type == "cgroup") {
      for (const std::string& o : split(opts, ','))
        for (const char* c : kV1Controllers)
          if (o == c && !s.v1.count(c)) s.v1[c] = mnt;
    }
  }
  // v2 where the unified hierarchy really has the memory controller (a hybrid system's
  // /sys/fs/cgroup/unified has none: its controllers are all bound to v1).
  if (!unified.empty()) {
    for (const std::string& c : split(trim(read_text(unified + "/cgroup.controllers")), ' '))
      if (c == "memory") {
        s.v2 = true;
        s.v2_root = unified;
        s.v1.clear();
      }
  }
  return s;
}

JobCgroup::JobCgroup(const CgroupSupport& support, const std::string& parent, const std::string& job_id)
    : support_(support) {
  if (support.v2) {
    dirs_["unified"] = support.v2_root + own_cgroup("") + "/" + parent + "/" + job_id;
    return;
  }
  for (const auto& [ctrl, mount] : support.v1) dirs_[ctrl] = mount + own_cgroup(ctrl) + "/" + parent + "/" + job_id;
}

std::string JobCgroup::dir(const std::string& controller) const {
  if (support_.v2) return dirs_.count("unified") ? dirs_.at("unified") : "";
  auto it = dirs_.find(controller);
  return it == dirs_.end() ? "" : it->second;
}

bool JobCgroup::create(const CgroupLimits& limits, std::string& error) {
  for (const auto& [ctrl, d] : dirs_) {
    std::string parent = d.substr(0, d.rfind('/'));
    if (support_.v2) {
      // Controllers must be handed down level by level (subtree_control).
      std::string grand = parent.substr(0, parent.rfind('/'));
      std::string want;
      for (const char* c : {"memory", "cpu", "cpuset"})
        if (support_.has(c)) want += std::string(want.empty() ? "" : " ") + "+" + c;
      write_text(grand + "/cgroup.subtree_control", want);
      make_dir(parent);
      write_text(parent + "/cgroup.subtree_control", want);
    } else {
      make_dir(parent);
      if (ctrl == "cpuset") inherit_cpuset(parent);
    }
    if (!make_dir(d)) {
      error = "cannot create cgroup " + d + ": " + std::strerror(errno);
      return false;
    }
    if (!support_.v2 && ctrl == "cpuset") inherit_cpuset(d);
  }
  std::string mem = dir("memory");
  if (limits.mem) {
    if (mem.empty()) {
      error = "mem limit asked for but this node has no memory cgroup";
      return false;
    }
    bool ok;
    if (support_.v2) {
      ok = write_text(mem + "/memory.max", std::to_string(limits.mem));
      write_text(mem + "/memory.oom.group", "1");  // over its memory the whole job goes
      if (limits.memsw > limits.mem) write_text(mem + "/memory.swap.max", std::to_string(limits.memsw - limits.mem));
      else write_text(mem + "/memory.swap.max", "0");
    } else {
      ok = write_text(mem + "/memory.limit_in_bytes", std::to_string(limits.mem));
      // Swap counts too (TORQUE: vmem), and at least as much as mem, so the job cannot
      // escape its limit by swapping.
      uint64_t sw = std::max(limits.mem, limits.memsw);
      write_text(mem + "/memory.memsw.limit_in_bytes", std::to_string(sw));
      // No OOM kill inside the job: it stops at the limit, and the mom ends the whole job
      // with a line saying why (a killed child would let the script go on).
      write_text(mem + "/memory.oom_control", "1");
    }
    if (!ok) {
      error = "cannot set the memory limit of cgroup " + mem + ": " + std::strerror(errno);
      return false;
    }
  } else if (limits.memsw && !mem.empty()) {
    if (support_.v2) write_text(mem + "/memory.max", std::to_string(limits.memsw));
    else {
      write_text(mem + "/memory.limit_in_bytes", std::to_string(limits.memsw));
      write_text(mem + "/memory.memsw.limit_in_bytes", std::to_string(limits.memsw));
      write_text(mem + "/memory.oom_control", "1");
    }
  }
  std::string cs = dir("cpuset");
  if (!limits.cpus.empty() && !cs.empty() && !write_text(cs + "/cpuset.cpus", limits.cpus)) {
    error = "cannot bind cgroup " + cs + " to cpus " + limits.cpus + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

std::vector<std::string> JobCgroup::procs_files() const {
  std::vector<std::string> out;
  for (const auto& [ctrl, d] : dirs_) out.push_back(d + "/cgroup.procs");
  return out;
}

CgroupUsage JobCgroup::usage() const {
  CgroupUsage u;
  if (dirs_.empty()) return u;
  std::string mem = dir("memory");
  if (support_.v2) {
    std::string d = dirs_.at("unified");
    u.valid = ::access(d.c_str(), F_OK) == 0;
    u.cpu_seconds = long(read_key(d + "/cpu.stat", "usage_usec") / 1000000);
    u.mem = read_u64(d + "/memory.peak");
    if (!u.mem) u.mem = read_u64(d + "/memory.current");
    u.vmem = u.mem + read_u64(d + "/memory.swap.peak");
    u.over_memory = read_key(d + "/memory.events", "oom") > 0 || read_key(d + "/memory.events", "oom_kill") > 0;
    return u;
  }
  std::string cpu = dir("cpuacct");
  if (!cpu.empty()) u.cpu_seconds = long(read_u64(cpu + "/cpuacct.usage") / 1000000000ull);
  if (!mem.empty()) {
    u.mem = read_u64(mem + "/memory.max_usage_in_bytes");
    u.vmem = std::max(u.mem, read_u64(mem + "/memory.memsw.max_usage_in_bytes"));
    u.over_memory = read_key(mem + "/memory.oom_control", "under_oom") > 0 ||
                    read_key(mem + "/memory.oom_control", "oom_kill") > 0;
  }
  u.valid = true;
  return u;
}

std::vector<pid_t> JobCgroup::pids() const {
  std::vector<pid_t> out;
  for (const auto& [ctrl, d] : dirs_) {
    std::istringstream in(read_text(d + "/cgroup.procs"));
    long p;
    while (in >> p) out.push_back(pid_t(p));
    if (!out.empty()) break;  // every hierarchy holds the same processes
  }
  return out;
}

void JobCgroup::kill_all(int sig) const {
  if (support_.v2 && sig == SIGKILL && dirs_.count("unified") &&
      write_text(dirs_.at("unified") + "/cgroup.kill", "1"))
    return;
  for (pid_t p : pids()) ::kill(p, sig);
}

void JobCgroup::remove() const {
  // A frozen job (v1 freezer) cannot die; thaw it first.
  if (std::string fz = dir("freezer"); !fz.empty() && !support_.v2) write_text(fz + "/freezer.state", "THAWED");
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (pids().empty()) break;
    kill_all(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& [ctrl, d] : dirs_) ::rmdir(d.c_str());
}

std::string cpus_for_slots(const CgroupSupport& support, const std::vector<int>& slots) {
  std::string root;
  if (support.v2) root = read_text(support.v2_root + "/cpuset.cpus.effective");
  else if (support.v1.count("cpuset")) root = read_text(support.v1.at("cpuset") + own_cgroup("cpuset") + "/cpuset.cpus");
  std::vector<int> cpus = cpu_list(root);
  std::vector<std::string> picked;
  for (int i : slots) {
    if (i < 0 || size_t(i) >= cpus.size()) return "";
    picked.push_back(std::to_string(cpus[size_t(i)]));
  }
  return join(picked, ",");
}

void remove_stale_cgroups(const CgroupSupport& support, const std::string& parent,
                          const std::set<std::string>& keep) {
  std::vector<std::string> roots;
  if (support.v2) roots.push_back(support.v2_root + own_cgroup("") + "/" + parent);
  for (const auto& [ctrl, mount] : support.v1) roots.push_back(mount + own_cgroup(ctrl) + "/" + parent);
  std::set<std::string> jobs;
  for (const std::string& root : roots) {
    DIR* d = ::opendir(root.c_str());
    if (!d) continue;
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.' && !keep.count(e->d_name)) jobs.insert(e->d_name);
    ::closedir(d);
  }
  for (const std::string& id : jobs) JobCgroup(support, parent, id).remove();
  for (const std::string& root : roots) ::rmdir(root.c_str());  // fails while jobs remain: fine
}

bool join_cgroup(const std::vector<std::string>& procs_files) {
  char pid[24];
  int len = 0;
  pid_t p = ::getpid();
  char rev[24];
  int r = 0;
  do {
    rev[r++] = char('0' + p % 10);
    p /= 10;
  } while (p);
  while (r) pid[len++] = rev[--r];
  bool ok = true;
  for (const std::string& f : procs_files) {
    int fd = ::open(f.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, pid, size_t(len)) != len) ok = false;
    if (fd >= 0) ::close(fd);
  }
  return ok;
}

}  // namespace reprise::mom
