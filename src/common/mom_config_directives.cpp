#include "common/mom_config_directives.h"

#include <set>

namespace reprise {

namespace {

// Directives Reprise acts on (docs/man/pbs_mom_config.5 says how).
const std::set<std::string>& effective() {
  static const std::set<std::string> s = {
      "pbsserver", "clienthost", "mom_host", "loglevel", "status_update_time", "checkpoint_interval",
      "checkpoint_interval_unit", "checkpoint_script", "restart_script", "checkpoint_run_exe",
      "remote_checkpoint_dirs", "tmpdir", "job_output_file_umask", "prologalarm", "spool_as_final_name",
      "usecp", "checkpoint_external_sockets", "checkpoint_clock", "node_check_script", "node_check_interval", "node_check_timeout",
      "down_on_error"};
  return s;
}

// Every other directive of TORQUE 4-6's pbs_mom (its config table and the admin guide's list).
const std::set<std::string>& torque_only() {
  static const std::set<std::string> s = {
      "alias_server_name", "alloc_par_cmd", "apbasil_path", "apbasil_protocol", "arch", "attempt_to_make_dir",
      "auto_ideal_load", "auto_max_load", "cgroup_per_task", "check_poll_time", "configversion", "cputmult",
      "cray_check_rur", "cuda_visible_devices", "enablemomrestart", "exec_with_exec",
      "ext_pwd_retry", "force_overwrite", "ideal_load", "igncput", "ignmem", "ignvmem", "ignwalltime",
      "jobdirectory_sticky", "job_exit_wait_time", "job_oom_score_adjust", "job_starter",
      "job_starter_run_privileged", "jobstartblocktime", "log_directory", "log_file_max_size",
      "log_file_roll_depth", "log_file_suffix", "log_keep_days", "logevent", "login_node",
      "max_conn_timeout_micro_sec", "max_join_job_wait_time", "max_load", "max_physical_memory",
      "max_swap_memory", "max_updates_before_sending", "memory_pressure_duration", "memory_pressure_threshold",
      "mom_hierarchy_retry_time", "mom_oom_immunize", "nodefile_suffix", "nospool_dir_list", "opsys",
      "pbsclient", "preexec", "presetup_prologue", "rcp_cmd", "rcpcmd", "reduce_prolog_checks",
      "reject_job_submission", "remote_reconfig", "reporter_mom", "resend_join_job_wait_time", "restricted",
      "source_login_batch", "source_login_interactive", "thread_unlink_calls", "timeout", "tmpdir_sticky",
      "use_smt", "varattr", "wallmult", "xauthpath"};
  return s;
}

}  // namespace

DirectiveUse mom_directive_use(const std::string& name) {
  if (effective().count(name)) return DirectiveUse::kEffective;
  if (torque_only().count(name)) return DirectiveUse::kNoEffect;
  return DirectiveUse::kUnknown;
}

}  // namespace reprise
