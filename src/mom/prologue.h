// The site's job scripts in mom_priv/ (TORQUE's prologue and epilogue): prologue and epilogue
// run as root, prologue.user and epilogue.user as the job's owner, prologue.parallel and
// epilogue.parallel on the sister nodes of a multi-node job. All of them run in the job's
// supervisor (root), before the job starts and after it ends.
#pragma once
#include <string>
#include <vector>

#include "common/pbs_home.h"
#include "mom/job_launch.h"
#include "mom/job_record.h"

namespace reprise::mom {

enum class Pelog { kPrologue, kPrologueUser, kProloguePar, kEpilogue, kEpilogueUser, kEpiloguePar };

const char* pelog_file_name(Pelog which);

// TORQUE's codes for a script that did not succeed (and, >= 0, its exit status).
constexpr int kPelogPermission = -1;  // not root-owned, writable by others, not executable
constexpr int kPelogTimeout = -4;     // still running after $prologalarm seconds
constexpr int kPelogCannotRun = -2;   // fork/exec failed

struct PelogOutcome {
  bool ran = false;   // the script exists (a missing script is success)
  int code = 0;       // exit status, or one of the kPelog* codes
  std::string why;    // one line for the log and the job's comment when code != 0
};

// What the scripts are told about the job: TORQUE's argument lists.
struct PelogJob {
  std::string id, user, group, name, limits, queue, account;
  std::string session, used;  // epilogues only
  int exit_status = 0;        // epilogues only
};
PelogJob pelog_job(const JobRecord& job, const Owner& owner);

// Checks the file as TORQUE does: a regular file owned by root, not writable by group or
// others, executable by root (and readable and executable by others for the .user ones).
// Empty when it may run.
std::string pelog_refusal(const std::string& path, Pelog which);

// Runs mom_priv/<which> if it exists, waiting at most `alarm_seconds` (then kills its process
// group). Its stdin is /dev/null; stdout and stderr append to `out_fd`/`err_fd` (the job's
// files, opened as the owner; -1 for /dev/null).
PelogOutcome run_pelog(const std::string& home, Pelog which, const PelogJob& job, const Owner& owner, int out_fd,
                       int err_fd, long alarm_seconds);

// $prologalarm, TORQUE's default 300 s.
long prolog_alarm(const MomConfig& config);

// What becomes of a job whose prologue did not succeed (TORQUE's table): exit 1 aborts the
// job, a script that may not run holds it (an admin must fix it), anything else requeues it.
enum class PrologueVerdict { kRun, kAbort, kRequeue, kHold };
PrologueVerdict prologue_verdict(const PelogOutcome& o);

// Hook for the sister moms of a multi-node job (they run prologue.parallel before the job's
// tasks join and epilogue.parallel after): call run_pelog(home, Pelog::kProloguePar, ...) with
// the same PelogJob. The mother superior runs prologue/prologue.user only.

// The supervisor records a prologue that stopped the job in mom_priv/jobs/ID.PF, one line
// "abort|requeue|hold REASON"; the mom turns it into the job's report.
bool write_prologue_failure(const std::string& jobs_dir, const std::string& id, PrologueVerdict v,
                            const std::string& why);
bool read_prologue_failure(const std::string& jobs_dir, const std::string& id, std::string& verdict,
                           std::string& why);

}  // namespace reprise::mom
