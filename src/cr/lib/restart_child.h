// The part of a restart that runs in the new process itself, between its
// creation (with the saved pid) and exec of the restorer: credentials, open
// files, cwd, umask and limits, and the fds the restorer needs.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "lib/image_reader.h"

namespace reprise::cr {

// Everything is prepared by the parent; the child only makes syscalls.
struct ChildSetup {
  const ProcessImage* process = nullptr;
  uid_t uid = 0;             // owner to become when cr_restart runs as root
  gid_t gid = 0;
  std::string restorer;      // path of cr_restorer
  // fds to place at fixed numbers before exec: {current fd, wanted number}
  std::vector<std::pair<int, int>> helper_fds;
  int plan_fd_number = -1;
  int status_fd_number = -1;  // where the status pipe ends up (for errors)
  int status_fd_now = -1;     // where it is before the fds are placed
};

// Reports a failure on the status pipe and exits; used before the restorer runs.
[[noreturn]] void ReportChildFailure(int status_fd, int code, const std::string& message);

[[noreturn]] void RunRestartChild(const ChildSetup& setup);

}  // namespace reprise::cr
