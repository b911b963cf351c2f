// The part of a restart that runs in each new process itself, between its
// creation (with its saved pid) and exec of the restorer: credentials, open
// files, cwd, umask and limits, and the fds the restorer needs.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "lib/image_reader.h"

namespace reprise::cr {

// A restart that cannot go on: an errno value and one line for the user.
struct RestartError {
  int code;
  std::string message;
};

// Everything is prepared by cr_restart; the child only makes syscalls.
struct ChildSetup {
  const ProcessImage* process = nullptr;
  uid_t uid = 0;             // owner to become when cr_restart runs as root
  gid_t gid = 0;
  std::string restorer;      // path of cr_restorer
  // Inherited fds (all numbered above every target) and the numbers they
  // must have in this process: the program's own fds and the restorer's.
  std::vector<std::pair<int, int>> placements;
  int plan_fd_number = -1;
  int status_fd_inherited = -1;  // for errors before the fds are placed
  int status_fd_number = -1;     // for errors after
  bool pids_restored = true;     // processes have their saved pids (pidfds need them)
};

// Reports a failure on the status pipe and exits; used before the restorer runs.
[[noreturn]] void ReportChildFailure(int status_fd, int code, const std::string& message);

[[noreturn]] void RunRestartChild(const ChildSetup& setup);

}  // namespace reprise::cr
