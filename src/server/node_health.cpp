// Node health: which nodes are down, and what becomes of the jobs of a node that failed.
//
// A mom sends its status every $status_update_time seconds. A node is down when its mom's
// connection closes or when nothing has come from it for node_check_rate seconds (TORQUE's
// meaning). A node that stays down for node_fail_requeue seconds (OpenPBS's name; 0 = never)
// has failed: each job whose first node it was restarts elsewhere from its latest checkpoint,
// reruns from the start, or fails, as its -c and -r options say. If the mom comes back with
// such a job still running, registration tells it to kill that stale copy (mom_link.cpp).
#include "common/checkpoint_policy.h"
#include "common/log.h"
#include "common/text_util.h"
#include "server/server.h"

namespace reprise::server {

namespace {

constexpr int kExitNodeFailed = -2;  // TORQUE's JOB_EXEC_FAIL2: failed, not retried

long server_seconds(const ServerState& st, const char* name, long fallback) {
  long v = fallback;
  parse_int(attr_or(st.attrs, name, std::to_string(fallback)), v);
  return v;
}

}  // namespace

void Server::check_nodes() {
  long now = now_seconds();
  long check_rate = server_seconds(st_, "node_check_rate", 150);
  long fail_requeue = server_seconds(st_, "node_fail_requeue", 310);
  std::vector<int> silent;
  for (auto& [name, n] : st_.nodes)
    if (n.mom_fd >= 0 && check_rate > 0 && now - n.last_heard > check_rate) {
      log_line("node " + name + " is down: nothing from its mom for " + std::to_string(now - n.last_heard) +
               " s (node_check_rate " + std::to_string(check_rate) + ")");
      silent.push_back(n.mom_fd);
    }
  for (int fd : silent) close_conn(fd);
  if (fail_requeue <= 0) return;
  std::vector<std::pair<long, std::string>> failed;
  for (long seq : st_.running) {
    std::string node = st_.jobs.at(seq).first_node();
    auto it = st_.nodes.find(node);
    if (it == st_.nodes.end() || (it->second.mom_fd < 0 && now - it->second.down_since >= fail_requeue))
      failed.emplace_back(seq, node);
  }
  for (const auto& [seq, node] : failed) job_lost(st_.jobs.at(seq), "node " + node + " failed");
}

void Server::job_lost(Job& job, const std::string& why) {
  std::string image = job.attr("checkpoint_name");
  bool has_image = parse_checkpoint_policy(job.attr("Checkpoint")).enabled && !image.empty();
  if (!job.attr("_deleting").empty()) {
    complete(job, 271, "Job deleted; its " + why);
  } else if (has_image) {
    requeue(job, "Job requeued: " + why + "; it restarts from its checkpoint " + image);
  } else if (is_true(job.attr("Rerunable"))) {
    requeue(job, "Job requeued: " + why + "; it reruns from the start (no checkpoint)");
  } else {
    complete(job, kExitNodeFailed, "Job failed: " + why + " and it is not rerunable (qsub -r n)");
  }
  log_line("job " + job.id + ": " + job.attr("comment"));
}

}  // namespace reprise::server
