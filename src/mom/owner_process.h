// Work the mom does as a job's owner, in a child process: everything that touches a path a
// user can influence (image directories, output files). Root never follows such a path.
#pragma once
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "mom/job_launch.h"

namespace reprise::mom {

// Runs `fn` in a forked child that has become `owner` for good, and waits for it. Returns
// fn's result (0-125), 126 if the child could not become the owner, -1 if it could not be
// started or was killed. `out` receives what fn put into its string (at most 64 KiB).
int as_owner(const Owner& owner, const std::function<int(std::string& out)>& fn, std::string& out);

// Runs argv[0] as `owner` in directory `dir` with stdin from /dev/null and stdout+stderr
// into `log_fd` (a file of the mom's, so the program can finish even if the mom dies).
// `started` is called with the child's pid before waiting (the mom records it). Waits up
// to `timeout_seconds`, then kills it. Returns its exit status, or -1.
int run_program_as_owner(const Owner& owner, const std::string& dir, const std::vector<std::string>& argv,
                         int log_fd, long timeout_seconds, const std::function<void(pid_t)>& started);

// The start of run_program_as_owner without the wait: the child's pid, or -1. The caller
// watches it (a pidfd in the mom's loop) and collects it with exit_code_of().
pid_t start_program_as_owner(const Owner& owner, const std::string& dir, const std::vector<std::string>& argv,
                             int log_fd);

// Reaps a child that has ended (or waits for it): its exit status, or -1 if it was killed.
int exit_code_of(pid_t pid);

}  // namespace reprise::mom
