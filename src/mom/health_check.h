// TORQUE's node health check: $node_check_script PATH runs as root every
// $node_check_interval N status intervals ($status_update_time), and at job start and/or end
// when the interval says ",jobstart" / ",jobend". A line of its output starting with "ERROR"
// (any case) makes the node report state=down and message=THAT LINE in its status, so the
// server starts nothing on it; the next run without such a line brings it back.
// ($down_on_error false: the message is reported, the node stays up.) The script must pass
// the prologue's checks (root-owned, not writable by group or others, executable); one that
// does not, cannot run, or outlives $node_check_timeout (Reprise's; default 60 s) is an ERROR
// too: a node whose health nobody can vouch for takes no jobs.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "common/pbs_home.h"

namespace reprise::mom {

struct HealthCheckConfig {
  std::string script;         // "" when no $node_check_script
  long every = 1;             // status intervals between runs
  bool at_job_start = false;  // ",jobstart": also before each job starts (the job waits)
  bool at_job_end = false;    // ",jobend": also when a job ends
  long timeout = 60;          // seconds
  bool down_on_error = true;  // $down_on_error
};
// Bad values are warnings (appended to `warnings`), and the default is used.
HealthCheckConfig health_check_config(const MomConfig& config, std::vector<std::string>& warnings);

// The verdict of a finished run: "" for healthy, else the ERROR line (commas replaced by
// spaces: pbsnodes joins the status with commas).
std::string health_verdict(const std::string& output);

// One run at a time, watched from the mom's loop (it never waits for the script, except
// run_now at job start, as TORQUE does).
class HealthCheck {
 public:
  HealthCheck() = default;
  HealthCheck(const HealthCheck&) = delete;
  HealthCheck& operator=(const HealthCheck&) = delete;
  void configure(HealthCheckConfig config) { config_ = std::move(config); }
  bool enabled() const { return !config_.script.empty(); }
  const HealthCheckConfig& config() const { return config_; }
  // Starts a run unless one is running.
  void start(long now);
  // Reads what the running script wrote; when it has ended (or timed out), sets the verdict.
  // True when the verdict changed (the mom then sends its status at once).
  bool poll(long now);
  // Runs the script to its end (or timeout) and returns whether the verdict changed.
  bool run_now();
  const std::string& message() const { return message_; }  // "" while healthy
  bool down() const { return !message_.empty() && config_.down_on_error; }
  ~HealthCheck();

 private:
  bool conclude(const std::string& verdict);
  void kill_running();
  HealthCheckConfig config_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  long started_ = 0;
  std::string output_;
  std::string message_;
};

}  // namespace reprise::mom
