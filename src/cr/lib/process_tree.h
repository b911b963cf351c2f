// What /proc says about the processes cr_checkpoint is asked to save.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format/image_format.h"

namespace reprise::cr {

struct ProcInfo {
  pid_t pid = 0;      // in our pid namespace
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t sid = 0;
  pid_t ns_pid = 0;   // in the process's own (innermost) pid namespace
  uid_t uid = 0;
  gid_t gid = 0;
  char state = '?';
  pid_t tracer = 0;   // TracerPid: non-zero while ptraced
  int threads = 0;    // Threads: of /proc/PID/status
  int exit_code = 0;  // a zombie's wait status (stat field 52; readable by its owner and root)
  uint64_t pidns_inode = 0;
  std::string exe;    // basename of /proc/PID/exe
};

std::optional<ProcInfo> ReadProc(pid_t pid);

// cr_run and cr_restart stay as parents of what they run (and run a small
// init inside the pid namespace); a pid of one of them means its program.
pid_t ResolveLauncher(pid_t pid);

// The processes of a scope, root first, parents before children.
std::vector<ProcInfo> CollectScope(pid_t root, ScopeKind scope);

}  // namespace reprise::cr
