// While a job runs: its usage from its cgroup (resources_used.*, reported to the server with
// the node status) and the limits the mom enforces itself: memory (the cgroup stops the job
// at its limit; the mom ends it), cput (polled). At its end the cgroup goes.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/resources.h"
#include "common/text_util.h"
#include "mom/job_limits.h"
#include "mom/mom.h"
#include "mom/mom_directives.h"
#include "mom/owner_process.h"

namespace reprise::mom {

void Mom::tell_job(const JobRecord& job, const std::string& line) { append_to_job_file(job, 'E', line); }

void Mom::append_to_job_file(const JobRecord& job, char stream, const std::string& line) {
  // With -j oe (eo) both streams are the output (error) file.
  std::string join = job.attr("Join_Path");
  bool out = join == "oe" || (join != "eo" && stream == 'O');
  // The file the supervisor opened when it is not the one asked for (src/mom/job_output.h).
  std::string path = job.attr(out ? "_output_file" : "_error_file");
  if (path.empty()) path = output_path_on_node(config_, job.attr(out ? "Output_Path" : "Error_Path"));
  // The path is the user's: append as the owner, never as root.
  Owner owner;
  std::string why, ignored;
  if (!resolve_owner(job, owner, why)) return;
  std::string text = line + "\n";
  as_owner(owner, [&](std::string&) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st{};
    if (fd < 0) return 1;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      ssize_t w = ::write(fd, text.data(), text.size());
      (void)w;
    }
    ::close(fd);
    return 0;
  }, ignored);
}

void Mom::update_usage(JobRecord& job, long now) {
  CgroupUsage u = job_cgroup(home_, job.id).usage();
  job.used["resources_used.walltime"] = format_duration(job.start_time ? now - job.start_time : 0);
  if (!u.valid) return;
  job.used["resources_used.cput"] = format_duration(u.cpu_seconds);
  job.used["resources_used.mem"] = kb(u.mem);
  job.used["resources_used.vmem"] = kb(u.vmem);
  if (job.kill_deadline) return;  // already being stopped
  JobLimits l = job_limits(job);
  std::string over, comment;
  if (u.over_memory) {
    uint64_t limit = l.mem ? l.mem : l.pmem ? l.pmem : l.vmem;
    over = "mem " + std::to_string(u.mem) + " exceeded limit " + std::to_string(limit);
    comment = "Job killed: memory limit exceeded (" + over + ")";
  } else if (l.cput && u.cpu_seconds > l.cput) {
    over = "cput " + std::to_string(u.cpu_seconds) + " exceeded limit " + std::to_string(l.cput);
    comment = "Job killed: cput limit exceeded (" + over + ")";
  }
  if (over.empty()) return;
  tell_job(job, "=>> PBS: job killed: " + over);
  log_line("job " + job.id + ": " + over + "; killing it");
  job.used["comment"] = comment;
  // A job stopped at its memory limit waits in the kernel; only SIGKILL frees it.
  JobCgroup cg = job_cgroup(home_, job.id);
  if (u.over_memory) {
    cg.kill_all(SIGKILL);
    kill_session(job, SIGKILL);
  } else {
    kill_session(job, SIGTERM);
  }
  job.kill_deadline = now + 2;
  std::string error;
  save_record(jobs_dir_, job, error);
}

void Mom::release_cgroup(JobRecord& job) {
  JobCgroup cg = job_cgroup(home_, job.id);
  CgroupUsage u = cg.usage();
  if (u.valid) {
    job.used["resources_used.cput"] = format_duration(u.cpu_seconds);
    job.used["resources_used.mem"] = kb(u.mem);
    job.used["resources_used.vmem"] = kb(u.vmem);
  }
  cg.remove();
}

}  // namespace reprise::mom
