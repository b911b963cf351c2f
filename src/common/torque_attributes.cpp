#include "common/torque_attributes.h"

#include <map>

namespace reprise {

bool torque_attribute_without_effect(const std::string& objtype, const std::string& name, TorqueValue& kind) {
  using V = TorqueValue;
  static const std::map<std::string, V> server = {
      {"acl_group_sloppy", V::kBool}, {"allow_proxy_user", V::kBool}, {"authorized_users", V::kList},
      {"auto_node_np", V::kBool},
      {"automatic_requeue_exit_code", V::kInt}, {"cgroup_per_task", V::kBool}, {"checkpoint_defaults", V::kText},
      {"clone_batch_delay", V::kInt}, {"clone_batch_size", V::kInt}, {"copy_on_rerun", V::kBool},
      {"cray_enabled", V::kBool}, {"default_gpu_mode", V::kText}, {"disable_automatic_requeue", V::kBool},
      {"disable_server_id_check", V::kBool}, {"display_job_server_suffix", V::kBool},
      {"dont_write_nodes_file", V::kBool}, {"down_on_error", V::kBool}, {"email_batch_seconds", V::kInt},
      {"exit_code_canceled_job", V::kInt}, {"ghost_array_recovery", V::kBool}, {"gres_modifiers", V::kList},
      {"idle_slot_limit", V::kInt}, {"interactive_jobs_can_roam", V::kBool}, {"job_exclusive_on_use", V::kBool},
      {"job_force_cancel_time", V::kInt}, {"job_full_report_time", V::kInt}, {"job_log_file_max_size", V::kInt},
      {"job_log_file_roll_depth", V::kInt}, {"job_log_keep_days", V::kInt}, {"job_nanny", V::kBool},
      {"job_start_timeout", V::kInt}, {"job_stat_rate", V::kInt}, {"job_suffix_alias", V::kText},
      {"job_sync_timeout", V::kInt}, {"keep_default_queue", V::kBool}, {"legacy_vmem", V::kBool},
      {"lock_file", V::kText}, {"lock_file_check_time", V::kInt},
      {"lock_file_update_time", V::kInt}, {"log_events", V::kInt}, {"log_file_max_size", V::kInt},
      {"log_file_roll_depth", V::kInt}, {"log_keep_days", V::kInt}, {"mail_body_fmt", V::kText},
      {"mail_domain", V::kText}, {"mail_subject_fmt", V::kText}, {"max_slot_limit", V::kInt},
      {"max_threads", V::kInt}, {"min_threads", V::kInt},
      {"moab_array_compatible", V::kBool}, {"mom_job_sync", V::kBool}, {"no_mail_force", V::kBool},
      {"node_pack", V::kBool}, {"node_ping_rate", V::kInt}, {"node_submit_exceptions", V::kList},
      {"np_default", V::kInt}, {"nppcu", V::kInt}, {"owner_purge", V::kBool}, {"pass_cpuclock", V::kBool},
      {"poll_jobs", V::kBool}, {"record_job_info", V::kBool}, {"record_job_script", V::kBool},
      {"resources_available", V::kText}, {"sched_version", V::kText}, {"scheduler_iteration", V::kInt},
      {"submit_hosts", V::kList}, {"thread_idle_seconds", V::kInt}, {"timeout_for_job_delete", V::kInt},
      {"timeout_for_job_requeue", V::kInt}, {"use_jobs_subdirs", V::kBool}};
  static const std::map<std::string, V> queue = {
      {"acl_group_sloppy", V::kBool}, {"alter_router", V::kBool}, {"features_required", V::kList},
      {"from_route_only", V::kBool}, {"ghost_queue", V::kBool}, {"is_transit", V::kBool},
      {"max_group_run", V::kInt},
      {"kill_delay", V::kInt}, {"required_login_property", V::kText}, {"route_waiting_jobs", V::kBool},
      {"Priority", V::kInt}};
  const auto& table = objtype == "server" ? server : queue;
  if (objtype != "server" && objtype != "queue") return false;
  auto it = table.find(name);
  if (it == table.end()) {
    // resources_available.X / resources_max.X on the server, resources_available.X on queues.
    if (name.rfind("resources_available.", 0) == 0 || (objtype == "server" && name.rfind("resources_", 0) == 0)) {
      kind = V::kText;
      return true;
    }
    return false;
  }
  kind = it->second;
  return true;
}

}  // namespace reprise
