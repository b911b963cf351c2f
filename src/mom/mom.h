// pbs_mom: keeps one TCP connection to the server (MUNGE-authenticated), takes run/signal/
// delete commands on it, supervises jobs and reports how they ended until the server
// acknowledges. Everything about a job is in mom_priv/jobs/, so a restarted mom carries on.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/pbs_home.h"
#include "common/wire.h"
#include "mom/checkpoint.h"
#include "mom/health_check.h"
#include "mom/job_record.h"
#include "reprise.pb.h"

namespace reprise::mom {

class Mom {
 public:
  Mom(std::string home, bool foreground) : home_(std::move(home)), foreground_(foreground) {}
  int run();

 private:
  bool setup(std::string& error);
  void loop();
  void try_connect();
  void send_registration(const std::string& server_nonce);
  void disconnect(const std::string& why);
  bool server_credential_ok(const std::string& cred, std::string& why) const;
  void read_server();
  void handle(const wire::MomCommand& cmd);
  void start_job(const wire::MomCommand& cmd);
  void watch(JobRecord& job);
  void supervisor_exited(const std::string& id);
  void finish(JobRecord& job, int exit_status, const std::string& comment);
  void send_obit(JobRecord& job);
  void send(const wire::Request& req);
  void tick();
  void kill_session(const JobRecord& job, int sig);
  // Checkpoints a running job and tells the server when done (checkpoint_runner.cpp): the
  // command runs in a child that the loop watches, so the mom keeps answering meanwhile.
  void checkpoint(JobRecord& job, CheckpointReason reason);
  void checkpoint_ended(const std::string& id);
  void report_checkpoint(JobRecord& job, const CheckpointResult& r, bool abandoned);
  // qdel or walltime while a checkpoint runs: the checkpoint command is killed.
  void abandon_checkpoint(JobRecord& job, const std::string& why);
  bool defer_end_for_checkpoint(const std::string& id);
  void checkpoint_deadlines(long now);
  void wait_for_checkpoints();  // at shutdown, when the loop has ended
  void periodic_checkpoints(long now);
  // After a mom restart: adopts the newest image of the job's current run that its record
  // does not name yet (the mom died between the image's rename and its report), and tells
  // the server when `report`. While the checkpoint command still runs the job waits in
  // checkpoints_in_flight_ (unless `now`: its supervisor ended, the image is durable).
  void recover_checkpoint(JobRecord& job, bool report, bool now = false);
  void shutdown_checkpoints();
  wire::JobReport report(const JobRecord& job) const;
  std::map<std::string, std::string> node_status() const;
  void send_status();  // node status and the running jobs' resources_used
  // $node_check_script (health_check.h): runs it every $node_check_interval status
  // intervals; a changed verdict is sent at once.
  void health_tick(long now);
  // Resource use and limits of running jobs (job_usage.cpp).
  void update_usage(JobRecord& job, long now);
  void release_cgroup(JobRecord& job);             // at the job's end: final usage, cgroup removed
  void tell_job(const JobRecord& job, const std::string& line);  // a line in its error file
  // Appends `line` to the job's output ('O') or error ('E') file as its owner (qmsg).
  void append_to_job_file(const JobRecord& job, char stream, const std::string& line);

  std::string home_, jobs_dir_;
  bool foreground_;
  MomConfig config_;
  int epfd_ = -1, sig_fd_ = -1, timer_fd_ = -1, server_fd_ = -1;
  bool stop_ = false;
  std::set<std::string> checkpoints_in_flight_;
  // Checkpoints this mom started and is waiting for, by job id.
  struct RunningCheckpoint {
    StartedCheckpoint command;
    int pidfd = -1;
    std::string abandoned;         // why it was killed (qdel, walltime, timeout), or empty
    bool supervisor_ended = false;  // the job ended meanwhile: its end is reported after
    bool stop_next = false;         // a qhold came meanwhile: a hold checkpoint follows
  };
  std::map<std::string, RunningCheckpoint> running_checkpoints_;
  std::map<int, std::string> checkpoint_pidfds_;  // pidfd of a checkpoint command -> job id
  long next_connect_ = 0;
  long last_status_ = 0;  // when node status was last sent
  HealthCheck health_;
  long status_intervals_ = 0;  // status intervals since the health check last started
  bool reconciled_ = false;  // the server has answered our first registration
  // The server proved itself on this connection (a MUNGE credential of root naming our
  // node); commands that arrive before that wait in untrusted_.
  bool server_trusted_ = false;
  std::vector<wire::MomCommand> untrusted_;
  // Authentication bound to the connection (auth_binding.h): we wait for the server's
  // challenge, register with a credential answering it, and want the server's proof to
  // answer our own nonce.
  bool awaiting_challenge_ = false;
  std::string my_nonce_;
  long connected_at_ = 0;
  FrameReader reader_;
  std::map<std::string, JobRecord> jobs_;
  std::map<int, std::string> pidfds_;  // pidfd -> job id
};

}  // namespace reprise::mom
