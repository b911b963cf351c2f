// A job's stdout and stderr files (-o, -e, -j), opened by the root supervisor with the
// owner's file-system identity (fsuid, fsgid, groups): root never opens a path a user names
// with root's rights.
#pragma once
#include <sys/types.h>

#include <string>

#include "mom/job_launch.h"
#include "mom/job_record.h"

namespace reprise::mom {

struct JobOutputs {
  int out = -1, err = -1;   // one descriptor for both when joined (-j oe, -j eo)
  std::string undelivered;  // what could not be written where, and where it is kept; "" if all went well
  std::string out_file, err_file;  // the files opened for stdout and stderr ("" for /dev/null)
  bool moved = false;               // some stream is not in the file asked for (a directory's, undelivered)
};

// `out_path`, `err_path`: the job's paths on this node. One that is a directory gets the
// default file name in it (JOBNAME.oSEQ, .eSEQ, as TORQUE). One the owner cannot open: that
// stream goes to PBS_HOME/undelivered/JOBID.OU (.ER), made as the owner, never following a
// link; a name someone else put there is left alone and a fresh JOBID.OU.XXXXXX is made
// instead. `undelivered` then says so (the job's comment). If even that fails the stream goes
// to /dev/null: the job runs anyway. `restart`: the files continue (O_APPEND); `mask`: the
// umask of the files ($job_output_file_umask).
JobOutputs open_job_outputs(const std::string& home, const Owner& owner, const JobRecord& job, bool restart,
                            const std::string& out_path, const std::string& err_path, mode_t mask);

// The default file name of a job's stream ('o' or 'e'): "NAME.o12"; "NAME.o12-3" for sub-job 12[3].
std::string default_output_name(const JobRecord& job, char stream);

// What the supervisor tells the mom (mom_priv/jobs/ID.UD) when a stream did not go where the
// job asked: the comment and the files used, so the mom's own lines (qmsg, the walltime kill)
// go there too. Read back into the job's comment and its _output_file/_error_file.
std::string encode_output_note(const JobOutputs& o);
void apply_output_note(const std::string& note, JobRecord& job);

}  // namespace reprise::mom
