// What the mom does with the TORQUE directives of mom_priv/config that shape a job's run:
// $tmpdir, $job_output_file_umask, $prologalarm, $usecp ($spool_as_final_name needs nothing:
// output is always written to its final name). The list of every accepted directive is in
// common/mom_config_directives.
#pragma once
#include <sys/types.h>

#include <string>

#include "common/pbs_home.h"
#include "mom/job_launch.h"

namespace reprise::mom {

// Settings the job's supervisor needs after it forked away from the mom.
struct SupervisorSettings {
  mode_t output_umask = 077;  // $job_output_file_umask (octal; "userdefault" = the job's 077)
  long prolog_alarm = 300;    // $prologalarm
  std::string output_path, error_path;  // the job's -o/-e on this node ($usecp applied)
};
SupervisorSettings supervisor_settings(const MomConfig& config);

// $tmpdir DIR: the job's TMPDIR is DIR/JOBID. "" when $tmpdir is not set.
std::string job_tmpdir(const MomConfig& config, const std::string& job_id);
// Creates it as root inside DIR (mkdirat + O_NOFOLLOW + fchown, so a name planted in a
// world-writable DIR is never followed) with mode 0700, owned by the owner. An existing
// directory of the owner's (a rerun) is kept.
bool create_job_tmpdir(const std::string& dir, const Owner& owner, std::string& error);
// Removes it and everything in it, as the owner (the job may have left anything there).
void remove_job_tmpdir(const std::string& dir, const Owner& owner);

// $usecp HOST:PATH LOCALPATH: an output path "host:/path/file" whose host matches HOST
// (exactly, "*", or "*.domain") and whose path starts with PATH is written at LOCALPATH + the
// rest. Other paths lose their "host:" prefix (output is written in place).
std::string output_path_on_node(const MomConfig& config, const std::string& host_path);

}  // namespace reprise::mom
