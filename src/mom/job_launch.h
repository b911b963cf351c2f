// Starting a job: a root supervisor process (so the end of the job is recorded even if the
// mom is down) and under it the job itself, as its owner, in its own session.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "common/pbs_home.h"
#include "mom/job_record.h"

namespace reprise::mom {

struct Owner {
  std::string name, home, shell;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Looks up the job's owner (euser) on this node. Refuses root.
bool resolve_owner(const JobRecord& job, Owner& owner, std::string& error);

// In a child process: takes on the owner's groups, gid and uid for good.
// False if any step failed or root privileges are somehow left.
bool become_owner(const Owner& owner);

// The command that runs the job script (the script is on stdin): the owner's
// login shell; for a checkpointable job $checkpoint_run_exe in front of it,
// or the restart command when the job has an image to restart from.
struct JobCommand {
  std::vector<std::string> argv;  // argv[0] is the program's path
  std::string argv0;              // what the program sees as argv[0] ("-bash" for a login shell)
  bool restart = false;           // restarting from an image: output files continue
};
JobCommand job_command(const std::string& home, const JobRecord& job, const Owner& owner, const MomConfig& config);

// Output file of a job from "host:/path" (we write in place; no copy-back stage).
std::string local_path(const std::string& host_path);

// Forks the supervisor and the job. On success fills supervisor and session pids.
bool launch_job(const std::string& home, const MomConfig& config, JobRecord& job, std::string& error);

}  // namespace reprise::mom
