// The mom's side of a checkpoint: the command runs in a child of the mom (as the job's owner,
// in its own session) and the event loop goes on; the child's pidfd fires when it ends, and
// only then is the result recorded and reported to the server. A big job's checkpoint may
// take minutes; the node must not look down meanwhile, nor stop starting and ending jobs.
//
// While one checkpoint of a job runs:
//  - a qchkpt or a periodic checkpoint is answered by the running one (one report);
//  - a qhold (or shutdown) after a checkpoint that does not stop the job waits for it, then
//    takes a fresh image and stops the job (stopping after the older image would lose the
//    work done since, and a restart from it would repeat output);
//  - qdel and walltime kill the checkpoint command: the job goes now, not after its image;
//  - the job's end (a hold's --kill ends it) is reported after the checkpoint's result, so
//    the server learns the image before it requeues the job.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "common/log.h"
#include "common/text_util.h"
#include "mom/mom.h"
#include "mom/owner_process.h"

namespace reprise::mom {
namespace {

bool stops(CheckpointReason r) { return r == CheckpointReason::kHold || r == CheckpointReason::kShutdown; }

const char* reason_name(CheckpointReason r) {
  switch (r) {
    case CheckpointReason::kHold: return "hold";
    case CheckpointReason::kRequest: return "qchkpt";
    case CheckpointReason::kPeriodic: return "periodic";
    case CheckpointReason::kShutdown: return "shutdown";
  }
  return "?";
}

}  // namespace

void Mom::checkpoint(JobRecord& job, CheckpointReason reason) {
  if (auto it = running_checkpoints_.find(job.id); it != running_checkpoints_.end()) {
    RunningCheckpoint& rc = it->second;
    if (!rc.abandoned.empty()) return;  // the job is being killed
    if (stops(reason) && !stops(rc.command.reason)) {
      if (!rc.stop_next)
        log_line("job " + job.id + ": " + reason_name(reason) +
                 " checkpoint requested while a checkpoint runs; it follows when that one ends");
      rc.stop_next = true;
      if (reason == CheckpointReason::kShutdown) rc.command.reason = CheckpointReason::kShutdown;
    } else if (reason != CheckpointReason::kPeriodic) {
      log_line("job " + job.id + ": " + reason_name(reason) +
               " checkpoint requested while a checkpoint runs; the running one answers it");
    }
    return;
  }
  bool stop = stops(reason);
  std::string error;
  // Recorded before the job is stopped, so its end reads as a hold (or a
  // requeue at shutdown), not as completion, even across a mom restart.
  if (stop) {
    job.used[reason == CheckpointReason::kHold ? "reprise_held" : "reprise_requeue"] = "1";
    save_record(jobs_dir_, job, error);
  }
  RunningCheckpoint rc;
  if (!start_checkpoint(home_, config_, job, reason, rc.command, error)) {
    log_line("job " + job.id + ": checkpoint not started: " + error);
    CheckpointResult r;
    r.error = error;
    report_checkpoint(job, r, false);
    return;
  }
  // Durable before we wait: a mom killed now finds the checkpoint when it comes back.
  job.attrs["_checkpoint_pid"] = std::to_string(rc.command.pid);
  job.attrs["_checkpoint_pid_start"] = std::to_string(process_start_time(rc.command.pid));
  save_record(jobs_dir_, job, error);
  rc.pidfd = int(::syscall(SYS_pidfd_open, rc.command.pid, 0));
  if (rc.pidfd < 0) {
    // No pidfd (an old kernel): wait here, as the mom did before.
    log_line("job " + job.id + ": cannot watch the checkpoint command; waiting for it");
    int code = exit_code_of(rc.command.pid);
    report_checkpoint(job, finish_checkpoint(rc.command, job.id, code), false);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = rc.pidfd;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, rc.pidfd, &ev);
  checkpoint_pidfds_[rc.pidfd] = job.id;
  log_line("job " + job.id + ": " + reason_name(reason) + " checkpoint running (pid " +
           std::to_string(rc.command.pid) + ")");
  running_checkpoints_[job.id] = std::move(rc);
}

void Mom::checkpoint_ended(const std::string& id) {
  auto it = running_checkpoints_.find(id);
  if (it == running_checkpoints_.end()) return;
  RunningCheckpoint rc = std::move(it->second);
  running_checkpoints_.erase(it);
  epoll_ctl(epfd_, EPOLL_CTL_DEL, rc.pidfd, nullptr);
  ::close(rc.pidfd);
  checkpoint_pidfds_.erase(rc.pidfd);
  int code = exit_code_of(rc.command.pid);
  auto jt = jobs_.find(id);
  if (jt == jobs_.end()) {  // cannot happen: a job's record stays until its end is acknowledged
    ::close(rc.command.log_fd);
    ::unlink(rc.command.log_path.c_str());
    return;
  }
  JobRecord& job = jt->second;
  CheckpointResult r = finish_checkpoint(rc.command, id, code);
  if (!rc.abandoned.empty() && !r.ok) r.error = "checkpoint abandoned: " + rc.abandoned;
  report_checkpoint(job, r, !rc.abandoned.empty());
  if (rc.supervisor_ended) {
    supervisor_exited(id);
  } else if (rc.stop_next && !job.finished && !job.kill_deadline) {
    checkpoint(job, rc.command.reason == CheckpointReason::kShutdown ? CheckpointReason::kShutdown
                                                                       : CheckpointReason::kHold);
  }
}

void Mom::report_checkpoint(JobRecord& job, const CheckpointResult& r, bool abandoned) {
  job.attrs.erase("_checkpoint_pid");
  job.attrs.erase("_checkpoint_pid_start");
  job.attrs["_last_checkpoint"] = std::to_string(now_seconds());
  wire::JobReport rep = report(job);
  if (r.ok) {
    job.attrs["checkpoint_name"] = r.name;
    job.used["checkpoint_name"] = r.name;
    job.used["checkpoint_time"] = std::to_string(r.time);
    (*rep.mutable_attrs())["checkpoint_name"] = r.name;
    (*rep.mutable_attrs())["checkpoint_time"] = std::to_string(r.time);
  } else {
    (*rep.mutable_attrs())["checkpoint_error"] = r.error;
  }
  // A failed checkpoint did not stop the job; a deleted job is not held or requeued.
  if (!r.ok || abandoned) {
    job.used.erase("reprise_held");
    job.used.erase("reprise_requeue");
  }
  std::string error;
  save_record(jobs_dir_, job, error);
  wire::Request msg;
  msg.set_version(kProtocolVersion);
  msg.set_op("mom_checkpointed");
  *msg.add_jobs() = rep;
  send(msg);
}

void Mom::abandon_checkpoint(JobRecord& job, const std::string& why) {
  auto it = running_checkpoints_.find(job.id);
  if (it == running_checkpoints_.end() || !it->second.abandoned.empty()) return;
  it->second.abandoned = why;
  it->second.stop_next = false;
  pid_t pid = it->second.command.pid;
  // Its own session (start_program_as_owner's setsid): the group takes cr_checkpoint's helpers too.
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  log_line("job " + job.id + ": " + why + " while a checkpoint ran; killed the checkpoint command (pid " +
           std::to_string(pid) + ")");
}

bool Mom::defer_end_for_checkpoint(const std::string& id) {
  auto it = running_checkpoints_.find(id);
  if (it == running_checkpoints_.end()) return false;
  it->second.supervisor_ended = true;
  return true;
}

void Mom::checkpoint_deadlines(long now) {
  for (auto& [id, rc] : running_checkpoints_) {
    if (!rc.abandoned.empty() || now <= rc.command.deadline) continue;
    rc.abandoned = "it ran longer than " + std::to_string(rc.command.deadline - rc.command.time) + " s";
    rc.stop_next = false;
    ::kill(-rc.command.pid, SIGKILL);
    ::kill(rc.command.pid, SIGKILL);
    log_line("job " + id + ": checkpoint command (pid " + std::to_string(rc.command.pid) + ") " + rc.abandoned +
             "; killed it");
  }
}

void Mom::wait_for_checkpoints() {
  while (!running_checkpoints_.empty()) {
    auto it = running_checkpoints_.begin();
    pollfd pf{it->second.pidfd, POLLIN, 0};
    int r = ::poll(&pf, 1, 1000);
    if (r < 0 && errno != EINTR) {
      checkpoint_ended(std::string(it->first));
      continue;
    }
    if (r > 0) checkpoint_ended(std::string(it->first));
    else checkpoint_deadlines(now_seconds());
  }
}

void Mom::shutdown_checkpoints() {
  for (auto& [id, job] : jobs_)
    if (!job.finished && !job.kill_deadline && parse_checkpoint_policy(job.attr("Checkpoint")).shutdown)
      checkpoint(job, CheckpointReason::kShutdown);
  wait_for_checkpoints();
}

}  // namespace reprise::mom
