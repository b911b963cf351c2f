#include "lib/event_shares.h"

#include <dirent.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

namespace reprise::cr {
namespace {

bool IsEventLink(const std::string& link, bool* pidfd) {
  static const std::set<std::string> kinds = {"anon_inode:[eventfd]", "anon_inode:[timerfd]",
                                              "anon_inode:[signalfd]", "anon_inode:[eventpoll]",
                                              "anon_inode:inotify", "anon_inode:[pidfd]"};
  *pidfd = link == "anon_inode:[pidfd]";
  return kinds.count(link) > 0;
}

std::vector<std::pair<int, std::string>> EventFdsOf(pid_t pid) {
  std::vector<std::pair<int, std::string>> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char link[256];
    ssize_t n = readlink((dir + "/" + e->d_name).c_str(), link, sizeof link - 1);
    if (n <= 0) continue;
    bool pidfd;
    std::string text(link, static_cast<size_t>(n));
    if (IsEventLink(text, &pidfd)) out.push_back({atoi(e->d_name), text});
  }
  closedir(d);
  return out;
}

// "Pid:" of a pidfd as our /proc sees it: 0 if not visible, -1 if gone.
long PidfdTarget(pid_t pid, int fd) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(fd));
  std::string key;
  while (in >> key)
    if (key == "Pid:") {
      long v = 0;
      in >> v;
      return v;
    }
  return 0;
}

}  // namespace

EventShareScan ScanEventShares(const std::vector<pid_t>& host_pids, const std::vector<bool>& may_hold) {
  EventShareScan scan;
  std::set<pid_t> tree(host_pids.begin(), host_pids.end());
  struct Member {
    uint32_t process;
    int fd;
  };
  // Per kind: one list of members per open file found so far.
  std::map<std::string, std::vector<std::vector<Member>>> files;
  for (uint32_t i = 0; i < host_pids.size(); ++i) {
    if (!may_hold[i]) continue;
    pid_t pid = host_pids[i];
    for (auto& [fd, kind] : EventFdsOf(pid)) {
      std::string where = "pid " + std::to_string(pid) + ": fd " + std::to_string(fd) + ": ";
      if (kind == "anon_inode:[pidfd]") {
        long target = PidfdTarget(pid, fd);
        if (target > 0 && !tree.count(static_cast<pid_t>(target))) {
          scan.code = ENOTSUP;
          scan.refusal = where + "pidfd of pid " + std::to_string(target) +
                         ", which is outside the checkpointed tree; only pidfds of processes in the tree can be"
                         " restored (close it, or checkpoint a tree that includes that process)";
          return scan;
        }
      }
      auto& groups = files[kind];
      bool placed = false;
      for (auto& g : groups) {
        long r = syscall(SYS_kcmp, pid, host_pids[g[0].process], KCMP_FILE, fd, g[0].fd);
        if (r < 0) {
          scan.code = errno;
          scan.refusal = where + "cannot tell whether this " + kind.substr(11) +
                         " is shared with another process (kcmp: " + strerror(errno) + ")";
          return scan;
        }
        if (r == 0) {
          g.push_back({i, fd});
          placed = true;
          break;
        }
      }
      if (!placed) groups.push_back({{i, fd}});
    }
  }
  uint32_t group = 0;
  for (auto& [kind, groups] : files)
    for (auto& g : groups) {
      if (g.size() < 2) continue;
      ++group;
      for (const Member& m : g) scan.shares.push_back({m.process, m.fd, group, 0});
    }
  return scan;
}

}  // namespace reprise::cr
