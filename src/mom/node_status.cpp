#include "mom/node_status.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/text_util.h"

namespace reprise::mom {

namespace {

// Sessions and users of the processes not owned by root (TORQUE's sessions/nusers).
void sessions_and_users(std::set<long>& sessions, std::set<long>& users) {
  DIR* d = ::opendir("/proc");
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st{};
    if (::stat(("/proc/" + name).c_str(), &st) != 0 || st.st_uid == 0) continue;
    std::string stat;
    if (!read_file("/proc/" + name + "/stat", stat)) continue;
    // pid (comm) state ppid pgrp session ...: comm may hold spaces, so count after ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream in(stat.substr(close + 1));
    std::string state;
    long ppid, pgrp, session;
    if (!(in >> state >> ppid >> pgrp >> session) || session <= 0) continue;
    sessions.insert(session);
    users.insert(long(st.st_uid));
  }
  ::closedir(d);
}

// Seconds since the last terminal or input device activity (TORQUE's idletime).
long idle_seconds(long now) {
  long latest = 0;
  for (const char* dir : {"/dev/pts", "/dev/input"}) {
    DIR* d = ::opendir(dir);
    if (!d) continue;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      struct stat st{};
      if (::stat((std::string(dir) + "/" + e->d_name).c_str(), &st) == 0) latest = std::max(latest, long(st.st_atime));
    }
    ::closedir(d);
  }
  if (latest == 0) {
    struct sysinfo si{};
    ::sysinfo(&si);
    return si.uptime;
  }
  return std::max(0L, now - latest);
}

// Bytes received plus sent on every interface but loopback since boot (TORQUE's netload).
unsigned long long netload() {
  std::ifstream in("/proc/net/dev");
  std::string line;
  unsigned long long total = 0;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (trim(line.substr(0, colon)) == "lo") continue;
    std::istringstream f(line.substr(colon + 1));
    unsigned long long v[9] = {};
    for (auto& x : v) f >> x;
    total += v[0] + v[8];  // rx bytes, tx bytes
  }
  return total;
}

std::string no_commas(std::string s) {
  std::replace(s.begin(), s.end(), ',', ' ');
  return s;
}

}  // namespace

std::map<std::string, std::string> read_node_status(const std::vector<std::string>& jobs, const std::string& home) {
  std::map<std::string, std::string> s;
  long now = now_seconds();
  struct sysinfo si{};
  ::sysinfo(&si);
  uint64_t unit = si.mem_unit ? si.mem_unit : 1;
  auto kb = [&](uint64_t n) { return std::to_string(n * unit / 1024) + "kb"; };
  utsname u{};
  ::uname(&u);
  unsigned cores = std::thread::hardware_concurrency();
  s["ncpus"] = std::to_string(cores ? cores : 1);
  s["physmem"] = kb(si.totalram);
  s["totmem"] = kb(uint64_t(si.totalram) + si.totalswap);
  s["availmem"] = kb(uint64_t(si.freeram) + si.bufferram + si.freeswap);
  char load[32];
  std::snprintf(load, sizeof load, "%.2f", double(si.loads[0]) / 65536.0);
  s["loadave"] = load;
  s["opsys"] = "linux";
  s["uname"] = no_commas(std::string(u.sysname) + " " + u.nodename + " " + u.release + " " + u.version + " " + u.machine);
  std::set<long> sessions, users;
  sessions_and_users(sessions, users);
  std::vector<std::string> ids;
  for (long x : sessions) ids.push_back(std::to_string(x));
  s["sessions"] = ids.empty() ? "? 0" : join(ids, " ");  // TORQUE writes "? 0" for none
  s["nsessions"] = std::to_string(sessions.size());
  s["nusers"] = std::to_string(users.size());
  s["idletime"] = std::to_string(idle_seconds(now));
  s["netload"] = std::to_string(netload());
  struct statvfs fs{};
  if (::statvfs(home.c_str(), &fs) == 0)
    s["size"] = std::to_string(uint64_t(fs.f_bavail) * fs.f_frsize / 1024) + "kb:" +
                std::to_string(uint64_t(fs.f_blocks) * fs.f_frsize / 1024) + "kb";
  s["state"] = "free";
  s["jobs"] = no_commas(join(jobs, " "));
  s["varattr"] = "";
  s["rectime"] = std::to_string(now);
  return s;
}

}  // namespace reprise::mom
