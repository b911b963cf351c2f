#include "lib/time_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace reprise::cr {
namespace {

int64_t NowNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// The offsets of pid's time namespace (0 in the host's, or without timens).
void ReadOffsets(pid_t pid, int64_t* monotonic, int64_t* boottime) {
  *monotonic = *boottime = 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/timens_offsets");
  std::string name;
  int64_t sec = 0, nsec = 0;
  while (in >> name >> sec >> nsec) {
    int64_t v = sec * 1000000000LL + nsec;
    if (name == "monotonic" || name == "1") *monotonic = v;
    else if (name == "boottime" || name == "7") *boottime = v;
  }
}

uint64_t TimeNamespaceInode(pid_t pid) {
  struct stat st {};
  return stat(("/proc/" + std::to_string(pid) + "/ns/time").c_str(), &st) == 0 ? st.st_ino : 0;
}

// "CLOCK SEC NSEC" with 0 <= NSEC < 1e9, as timens_offsets takes it.
std::string OffsetLine(int clock, int64_t ns) {
  int64_t sec = ns / 1000000000LL, nsec = ns % 1000000000LL;
  if (nsec < 0) {
    nsec += 1000000000LL;
    sec -= 1;
  }
  return std::to_string(clock) + " " + std::to_string(sec) + " " + std::to_string(nsec) + "\n";
}

}  // namespace

ClockRecord TreeClocksNow(pid_t pid) {
  int64_t monotonic_offset = 0, boottime_offset = 0;
  ReadOffsets(pid, &monotonic_offset, &boottime_offset);
  ClockRecord c{};
  c.monotonic_ns = NowNs(CLOCK_MONOTONIC) + monotonic_offset;
  c.boottime_ns = NowNs(CLOCK_BOOTTIME) + boottime_offset;
  return c;
}

std::string CheckOneTimeNamespace(const std::vector<ProcInfo>& scope) {
  uint64_t first = TimeNamespaceInode(scope[0].pid);
  for (const ProcInfo& p : scope) {
    uint64_t ino = TimeNamespaceInode(p.pid);
    if (ino != first)
      return "pid " + std::to_string(p.pid) + " is in another time namespace than pid " +
             std::to_string(scope[0].pid) + " (it or a parent called unshare(CLONE_NEWTIME)); its clocks cannot be"
             " restored with the others";
  }
  return "";
}

bool EnterTimeNamespace(const ClockRecord& saved, ClockOffsets* offsets, std::string* error) {
  if (unshare(CLONE_NEWTIME) != 0) {
    *error = std::string("cannot create a time namespace: ") + strerror(errno);
    return false;
  }
  offsets->monotonic_ns = saved.monotonic_ns - NowNs(CLOCK_MONOTONIC);
  offsets->boottime_ns = saved.boottime_ns - NowNs(CLOCK_BOOTTIME);
  std::string lines =
      OffsetLine(CLOCK_MONOTONIC, offsets->monotonic_ns) + OffsetLine(CLOCK_BOOTTIME, offsets->boottime_ns);
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  bool ok = fd >= 0 && write(fd, lines.data(), lines.size()) == static_cast<ssize_t>(lines.size());
  int e = errno;
  if (fd >= 0) close(fd);
  if (!ok) *error = std::string("cannot set the time namespace's clocks: ") + strerror(e);
  return ok;
}

int64_t HostDeadline(clockid_t clock, int64_t deadline_ns, const ClockOffsets& offsets) {
  int64_t shift = clock == CLOCK_MONOTONIC                                   ? offsets.monotonic_ns
                  : clock == CLOCK_BOOTTIME || clock == CLOCK_BOOTTIME_ALARM ? offsets.boottime_ns
                                                                             : 0;
  int64_t host = deadline_ns - shift;
  return host > 0 ? host : 1;  // already passed: fires at once
}

}  // namespace reprise::cr
