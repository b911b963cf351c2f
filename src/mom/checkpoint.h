// Checkpointable jobs on the mom: what a job's -c value asks for, and running
// the checkpoint and restart commands ($checkpoint_script / $restart_script,
// or Reprise's cr_checkpoint / cr_restart) as the job's owner.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/checkpoint_policy.h"
#include "common/pbs_home.h"
#include "mom/job_launch.h"
#include "mom/image_dir.h"
#include "mom/job_record.h"

namespace reprise::mom {



// Why a checkpoint is taken; `kHold` and `kShutdown` stop the job afterwards.
enum class CheckpointReason { kHold, kRequest, kPeriodic, kShutdown };

struct CheckpointResult {
  bool ok = false;
  std::string dir;    // the job's image directory (CHECKPOINT_DIR/JOBID.CK)
  std::string name;   // file name of the new image inside dir
  long time = 0;
  std::string error;  // one line when !ok
};

// The cr_checkpoint/cr_restart flags `$checkpoint_external_sockets` asks for.
std::vector<std::string> external_sockets_flags(const MomConfig& config);

// The cr_checkpoint flags a job's -c rewritten_files= and rewritten_limit= ask for.
std::vector<std::string> rewritten_files_flags(const CheckpointPolicy& policy);

// The cr_restart flags `$checkpoint_clock` asks for (`host`: the job's
// CLOCK_MONOTONIC shows the time it spent checkpointed; default `continue`).
std::vector<std::string> restart_clock_flags(const MomConfig& config);

// A checkpoint command running as the job's owner, in its own session. The mom's loop
// watches `pid` and, when it has ended, hands its exit status to finish_checkpoint().
struct StartedCheckpoint {
  CheckpointReason reason = CheckpointReason::kRequest;
  Owner owner;
  std::string dir, name, program, log_path;
  long time = 0, depth = 1;
  long deadline = 0;  // killed if still running then
  pid_t pid = -1;
  int log_fd = -1;    // the command's output (mom_priv/jobs/ID.CO)
};

// Prepares the image directory, reserves the image's name and starts the checkpoint
// command ($checkpoint_script, or cr_checkpoint --tree). Does not wait for it.
bool start_checkpoint(const std::string& home, const MomConfig& config, const JobRecord& job,
                      CheckpointReason reason, StartedCheckpoint& c, std::string& error);

// After the command ended with `code`: its result (the image must exist, as the owner sees
// it), older images pruned to the job's depth, the output file removed.
CheckpointResult finish_checkpoint(StartedCheckpoint& c, const std::string& job_id, int code);

// The command that restarts the job from its image, or an empty vector if it
// has none (then it starts from its script). `%SESSION%` stands for the
// session id, known only in the job's process.
// The image's existence is checked as the owner.
std::vector<std::string> restart_command(const std::string& home, const MomConfig& config, const JobRecord& job,
                                         const Owner& owner);

// The command that starts a checkpointable job: $checkpoint_run_exe (default
// cr_run) in front of the login shell.
std::vector<std::string> checkpointable_command(const MomConfig& config, const std::string& shell);

// execve(path, argv, envp). A script the caller may read but not execute
// (the shipped scripts are root's, mode 754, as in TORQUE, and run as the
// job's owner) runs through the interpreter on its #! line. Returns only on
// failure, with errno set.
void exec_program(const std::string& path, const std::vector<std::string>& argv, char* const* envp);

// Directory holding the mom's own executable (where cr_run & co. are found).
std::string program_dir();
// Path of one of the engine's commands (cr_run, cr_checkpoint, cr_restart): beside pbs_mom
// (the build tree) or in ../bin/ (an installed tree, where pbs_mom is in sbin/).
std::string engine_tool(const std::string& name);

}  // namespace reprise::mom
