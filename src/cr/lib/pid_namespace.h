// Running a program in its own PID namespace, so that a restart can give
// every process its old pid back (clone3 with set_tid needs the pid free,
// which only a fresh namespace guarantees).
//
// Shape:  launcher (cr_run / cr_restart, outside)  ->  init (pid 1 inside)
//         ->  the program's root process (pid 2 inside, or its saved pid)
// init reaps orphans, forwards signals to the root, and hands the root's
// wait status back to the launcher, which exits the same way.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

namespace reprise::cr {

class PidNamespaceRun {
 public:
  // Enters new pid and mount namespaces (plus a user namespace when not
  // root), calls prepare() (which may enter more namespaces for init and
  // its children, e.g. a time namespace), and forks init, which calls
  // start_root() to create the root process and returns its pid, or -1
  // after reporting why. Returns false, with *error set, when namespaces are
  // not available here or prepare() fails.
  bool Start(const std::function<pid_t()>& start_root, std::string* error,
             const std::function<bool(std::string*)>& prepare = nullptr);

  pid_t init_pid() const { return init_pid_; }

  // Forwards the usual termination/job-control signals to init until the
  // root has exited, then returns the root's wait status.
  int Wait();

 private:
  pid_t init_pid_ = -1;
  int status_read_fd_ = -1;
};

// Sends each of the usual signals received by this process on to `target`.
void ForwardSignals(pid_t target);

// Waits for pid, retrying on EINTR; returns its wait status.
int WaitFor(pid_t pid);

// Exits with the same status: the exit code, or death by the same signal.
[[noreturn]] void ExitLike(int wait_status);

}  // namespace reprise::cr
