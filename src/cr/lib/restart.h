// cr_restart's work: validate an image, recreate its processes, and stay
// their parent until the root exits.
#pragma once

#include <string>

namespace reprise::cr {

struct RestartRequest {
  std::string path;
  bool restore_pid = true;
  bool external_sockets_closed = false;  // --external-sockets=closed
  bool clocks_continue = true;  // --clock=continue: CLOCK_MONOTONIC/BOOTTIME go on from the checkpoint
};

struct RestartFailure {
  int exit_code = 0;     // an errno value (BLCR convention)
  std::string message;   // one line
};

// On success the restored program runs and this never returns: cr_restart
// exits the way the restored root does. Returns only on failure, before any
// of the program's code has run.
RestartFailure Restart(const RestartRequest& request);

}  // namespace reprise::cr
