#include "lib/process_tree.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace reprise::cr {
namespace {

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  DIR* d = opendir("/proc");
  if (!d) return pids;
  while (dirent* e = readdir(d))
    if (e->d_name[0] >= '1' && e->d_name[0] <= '9') pids.push_back(static_cast<pid_t>(atoi(e->d_name)));
  closedir(d);
  return pids;
}

bool IsLauncher(const ProcInfo& p) { return p.exe == "cr_run" || p.exe == "cr_restart"; }

std::vector<ProcInfo> ChildrenOf(pid_t parent, const std::vector<ProcInfo>& all) {
  std::vector<ProcInfo> out;
  for (const ProcInfo& p : all)
    if (p.ppid == parent) out.push_back(p);
  return out;
}

std::vector<ProcInfo> ReadAll() {
  std::vector<ProcInfo> all;
  for (pid_t pid : AllPids())
    if (auto p = ReadProc(pid)) all.push_back(*p);
  return all;
}

}  // namespace

std::optional<ProcInfo> ReadProc(pid_t pid) {
  std::string base = "/proc/" + std::to_string(pid);
  std::ifstream stat(base + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return std::nullopt;
  ProcInfo p;
  p.pid = pid;
  size_t close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close_paren + 2));
  rest >> p.state >> p.ppid >> p.pgid >> p.sid;
  std::string field;
  for (int n = 7; n <= 52 && rest >> field; ++n)  // fields 7..52 follow; 52 is exit_code
    if (n == 52) p.exit_code = atoi(field.c_str());
  std::ifstream status(base + "/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream in(line);
    std::string key;
    in >> key;
    if (key == "Uid:") in >> p.uid;
    else if (key == "Gid:") in >> p.gid;
    else if (key == "TracerPid:") in >> p.tracer;
    else if (key == "Threads:") in >> p.threads;
    else if (key == "NSpid:")
      for (pid_t v; in >> v;) p.ns_pid = v;  // the last one is the innermost
  }
  struct stat st {};
  if (::stat((base + "/ns/pid").c_str(), &st) == 0) p.pidns_inode = st.st_ino;
  char exe[4096];
  ssize_t n = readlink((base + "/exe").c_str(), exe, sizeof exe - 1);
  if (n > 0) {
    std::string path(exe, static_cast<size_t>(n));
    p.exe = path.substr(path.rfind('/') + 1);
  }
  return p;
}

pid_t ResolveLauncher(pid_t pid) {
  for (int depth = 0; depth < 4; ++depth) {
    auto p = ReadProc(pid);
    if (!p || !IsLauncher(*p)) return pid;
    std::vector<ProcInfo> children = ChildrenOf(pid, ReadAll());
    if (children.size() != 1) return pid;
    pid = children[0].pid;
  }
  return pid;
}

std::vector<ProcInfo> CollectScope(pid_t root, ScopeKind scope) {
  std::vector<ProcInfo> all = ReadAll();
  std::vector<ProcInfo> out;
  auto root_it = std::find_if(all.begin(), all.end(), [&](const ProcInfo& p) { return p.pid == root; });
  if (root_it == all.end()) return out;
  switch (scope) {
    case kScopePid:
      out.push_back(*root_it);
      break;
    case kScopeTree:
      out.push_back(*root_it);
      for (size_t i = 0; i < out.size(); ++i)  // breadth first: parents before children
        for (const ProcInfo& c : ChildrenOf(out[i].pid, all)) out.push_back(c);
      break;
    case kScopePgid:
    case kScopeSid:
      for (const ProcInfo& p : all)
        if ((scope == kScopePgid ? p.pgid : p.sid) == root) out.push_back(p);
      std::sort(out.begin(), out.end(), [](const ProcInfo& a, const ProcInfo& b) { return a.pid < b.pid; });
      break;
  }
  return out;
}

}  // namespace reprise::cr
