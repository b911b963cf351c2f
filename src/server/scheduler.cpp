// Job lifecycle (state changes, completion, dependencies) and the FIFO scheduler.
#include <algorithm>

#include "common/log.h"
#include "common/resources.h"
#include "common/text_util.h"
#include "server/accounting.h"
#include "server/job_array.h"
#include "server/mail.h"
#include "server/policy.h"
#include "server/route_queue.h"
#include "server/server.h"

#include "common/checkpoint_policy.h"

namespace reprise::server {

namespace {

using Usage = SlotUsage;

// try_start's reason when the nodes are too busy for the job now.
const std::string kNotEnoughFreeNodes = "not enough free nodes for nodes=";
// The comment of such a job (TORQUE's pbs_sched: "Not Running: " and why).
const std::string kWaitingForNodes = "Not Running: Not enough of the right type of nodes are available";

int node_np(const Node& n) {
  long np = 1;
  parse_int(attr_or(n.attrs, "np", "1"), np);
  return int(std::max(1L, np));
}

Usage compute_usage(const ServerState& st) {
  Usage u;
  for (const auto& [name, n] : st.nodes) u[name].assign(size_t(node_np(n)), "");
  for (long seq : st.running) {
    const Job& j = st.jobs.at(seq);
    for (const std::string& slot : split(j.attr("exec_host"), '+')) {
      auto parts = split(slot, '/');
      long idx;
      if (parts.size() != 2 || !parse_int(parts[1], idx)) continue;
      auto it = u.find(parts[0]);
      if (it != u.end() && idx >= 0 && size_t(idx) < it->second.size()) it->second[size_t(idx)] = j.id;
    }
  }
  return u;
}

int free_slots(const std::vector<std::string>& slots) {
  return int(std::count(slots.begin(), slots.end(), std::string()));
}

uint64_t job_mem(const Job& j) {
  uint64_t b = 0;
  parse_size(j.attr("Resource_List.mem"), b);
  return b;
}

}  // namespace

Job* Server::find_job(const std::string& id) {
  if (id.find('[') != std::string::npos) return find_array_job(id);
  size_t digits = id.find_first_not_of("0123456789");
  if (digits == 0) return nullptr;
  std::string num = id.substr(0, digits);
  if (num.size() > 15) return nullptr;
  if (digits != std::string::npos) {
    // "SEQ.SUFFIX": the suffix must name this server (short or long host name).
    std::string suffix = id.substr(digits);
    if (suffix[0] != '.') return nullptr;
    suffix = suffix.substr(1);
    if (!(starts_with(st_.name, suffix) || starts_with(suffix, st_.name))) return nullptr;
  }
  auto it = st_.jobs.find(std::stol(num));
  return it == st_.jobs.end() ? nullptr : &it->second;
}

void Server::set_state(Job& job, char state) {
  job.attrs["job_state"] = std::string(1, state);
  if (state == 'Q') {
    st_.queued.insert(job.seq);
    if (!is_subjob_key(job.seq)) untold_.insert(job.seq);
  } else {
    st_.queued.erase(job.seq);
  }
  if (state == 'R' || state == 'E') st_.running.insert(job.seq);
  else st_.running.erase(job.seq);
}

void Server::save(Job& job) {
  if (is_subjob_key(job.seq)) save_subjob(job);
  else store_.save_job(job);
}

void Server::complete(Job& job, int exit_status, const std::string& comment) {
  bool had_run = job.state() == 'R' || job.state() == 'E';
  set_state(job, 'C');
  job.attrs["exit_status"] = std::to_string(exit_status);
  job.attrs["comp_time"] = std::to_string(now_seconds());
  if (!comment.empty()) job.attrs["comment"] = comment;
  job.attrs.erase("_deleting");
  job.attrs.erase("_rerun");
  job.attrs.erase("_depend_wait");
  st_.waiting.erase(job.seq);
  save(job);
  if (had_run) account_ended(opts_.home, job);
  // A job that ran ends ('e'); one that never started or failed to was aborted ('a').
  mail_job_event(st_, job, job.attr("exec_host").empty() || exit_status < 0 ? 'a' : 'e');
  release_dependents(job);
  sched_wanted_ = true;
}

void Server::requeue(Job& job, const std::string& comment) {
  if (job.state() == 'R' || job.state() == 'E') {
    job.attrs["comment"] = comment;
    account_rerun(opts_.home, job);
  }
  job.attrs.erase("exec_host");
  job.attrs.erase("session_id");
  job.attrs.erase("exit_status");
  job.attrs.erase("comp_time");
  job.attrs.erase("_rerun");
  job.attrs.erase("_deleting");
  job.attrs["comment"] = comment;
  job.attrs["qtime"] = std::to_string(now_seconds());
  set_state(job, job.attr("Hold_Types") != "n" && !job.attr("Hold_Types").empty() ? 'H' : 'Q');
  save(job);
  sched_wanted_ = true;
}

bool Server::dependencies_met(const Job& job, bool& failed) {
  failed = false;
  bool met = true;
  for (const std::string& item : split(job.attr("depend"), ',')) {
    auto parts = split(item, ':');
    if (parts.size() < 2) continue;
    if (parts[0].starts_with("before")) continue;  // the other jobs wait, not this one
    if (parts[0] == "on") {  // on:N: N before* dependencies must have named this job
      long want = 0, have = 0;
      parse_int(parts[1], want);
      parse_int(job.attr("_on_registered"), have);
      if (have < want) met = false;
      continue;
    }
    for (size_t i = 1; i < parts.size(); ++i) {
      Job* parent = find_job(parts[i]);
      if (!parent) continue;  // purged long ago: it was satisfied when it completed
      if (is_array_parent(*parent) && array_dependency(parts[0], *parent, met, failed)) continue;
      char ps = parent->state();
      long code = 0;
      parse_int(parent->attr("exit_status"), code);
      if (parts[0] == "after") {
        if (ps == 'Q' || ps == 'H' || ps == 'W') met = false;
      } else if (ps != 'C') {
        met = false;
      } else if ((parts[0] == "afterok" && code != 0) || (parts[0] == "afternotok" && code == 0)) {
        failed = true;
      }
    }
  }
  return met && !failed;
}

char Server::unheld_state(const Job& job) {
  long when = 0;
  return parse_int(job.attr("Execution_Time"), when) && when > now_seconds() ? 'W' : 'Q';
}

void Server::release_dependents(const Job& parent) {
  std::vector<long> waiting;
  for (long seq : st_.waiting)
    if (st_.jobs.at(seq).attr("depend").find(parent.id) != std::string::npos) waiting.push_back(seq);
  for (long seq : waiting) {
    Job& j = st_.jobs[seq];
    bool failed = false;
    if (dependencies_met(j, failed)) {
      st_.waiting.erase(seq);
      j.attrs.erase("_depend_wait");
      if (j.attr("Hold_Types") == "n") set_state(j, unheld_state(j));
      save(j);
    } else if (failed) {
      st_.waiting.erase(seq);
      j.attrs.erase("_depend_wait");
      complete(j, 271, "Job deleted: dependency " + j.attr("depend") + " can never be satisfied");
    }
  }
}

bool Server::try_start(Job& job, const std::string& forced_host, std::string& why) {
  auto q = st_.queues.find(job.attr("queue"));
  if (q != st_.queues.end() && is_route_queue(q->second)) {
    why = "the job is in route queue " + q->first + " (" + job.attr("comment") + ")";
    return false;
  }
  if (forced_host.empty() && (q == st_.queues.end() || !is_true(attr_or(q->second.attrs, "started", "False")))) {
    why = "queue is not started";
    return false;
  }
  std::vector<NodeSpecPart> parts;
  std::string spec = attr_or(job.attrs, "Resource_List.nodes", "1");
  if (!parse_node_spec(spec, parts, why)) return false;
  if (!forced_host.empty() && !st_.nodes.count(forced_host)) {
    why = "Unknown node " + forced_host;
    return false;
  }
  Usage local;
  if (!sched_usage_) local = compute_usage(st_);
  Usage& usage = sched_usage_ ? *sched_usage_ : local;
  uint64_t mem = job_mem(job);
  int total_nodes = 0;
  for (auto& p : parts) total_nodes += p.count;
  uint64_t mem_per_node = total_nodes ? mem / uint64_t(total_nodes) : mem;
  std::map<std::string, uint64_t> mem_used;
  if (mem_per_node) {
    for (const auto& [seq, j] : st_.jobs)
      if (j.state() == 'R') mem_used[j.first_node()] += job_mem(j);
  }
  auto usable = [&](const std::string& name, int ppn) {
    const Node& n = st_.nodes.at(name);
    if (n.mom_fd < 0 || n.mom_says_down() || attr_or(n.attrs, "state", "") == "offline" || n.stale_jobs.count(job.id))
      return false;
    if (free_slots(usage[name]) < ppn) return false;
    if (mem_per_node) {
      uint64_t phys = 0;
      if (parse_size(attr_or(n.mom_status, "physmem", ""), phys) && phys &&
          mem_used[name] + mem_per_node > phys)
        return false;
    }
    return true;
  };
  std::vector<std::pair<std::string, int>> chosen;  // node, ppn
  std::set<std::string> taken;
  for (const auto& p : parts) {
    for (int k = 0; k < p.count; ++k) {
      std::string pick;
      if (!forced_host.empty()) {
        if (!taken.count(forced_host) && usable(forced_host, p.ppn)) pick = forced_host;
      } else if (!p.host.empty()) {
        if (st_.nodes.count(p.host) && !taken.count(p.host) && usable(p.host, p.ppn)) pick = p.host;
      } else {
        // The usable node with the most free slots: jobs spread over the nodes.
        int most = 0;
        for (const auto& [name, n] : st_.nodes)
          if (!taken.count(name) && usable(name, p.ppn) && free_slots(usage[name]) > most) {
            most = free_slots(usage[name]);
            pick = name;
          }
      }
      if (pick.empty()) {
        why = kNotEnoughFreeNodes + spec;
        return false;
      }
      taken.insert(pick);
      chosen.emplace_back(pick, p.ppn);
    }
  }
  std::vector<std::string> slots;
  for (const auto& [name, ppn] : chosen) {
    auto& s = usage[name];
    int need = ppn;
    for (size_t i = 0; i < s.size() && need > 0; ++i)
      if (s[i].empty()) {
        s[i] = job.id;
        slots.push_back(name + "/" + std::to_string(i));
        --need;
      }
  }
  long now = now_seconds();
  job.attrs["exec_host"] = join(slots, "+");
  job.attrs["start_time"] = std::to_string(now);
  job.attrs["mtime"] = std::to_string(now);
  long count = 0;
  parse_int(job.attr("start_count"), count);
  job.attrs["start_count"] = std::to_string(count + 1);
  job.attrs["Resource_List.nodect"] = std::to_string(chosen.size());
  job.attrs.erase("comment");
  CheckpointPolicy policy = parse_checkpoint_policy(job.attr("Checkpoint"));
  if (policy.enabled && job.attr("checkpoint_dir").empty()) {
    // -c dir=, else the queue's checkpoint_dir, else PBS_HOME/checkpoint.
    std::string dir = policy.dir;
    if (dir.empty() && q != st_.queues.end()) dir = attr_or(q->second.attrs, "checkpoint_dir", "");
    job.attrs["checkpoint_dir"] = dir.empty() ? opts_.home + "/checkpoint" : dir;
  }
  set_state(job, 'R');
  save(job);
  account_started(opts_.home, job);
  wire::MomCommand cmd;
  cmd.set_op("run");
  cmd.set_id(job.id);
  for (const auto& [k, v] : job.attrs)
    if (!starts_with(k, "_")) (*cmd.mutable_attrs())[k] = v;
  (*cmd.mutable_attrs())["server_name"] = st_.name;
  // The mom creates a job's image directory as root only inside a directory an admin chose
  // (the server's PBS_HOME/checkpoint or the queue's checkpoint_dir); in any directory a user
  // named it works as the job's owner. Decided here at each start, never stored on the job,
  // so no qalter can carry it over to another directory.
  if (policy.enabled) {
    const std::string& dir = job.attr("checkpoint_dir");
    std::string queue_dir = q == st_.queues.end() ? "" : attr_or(q->second.attrs, "checkpoint_dir", "");
    bool admin = dir == opts_.home + "/checkpoint" || (!queue_dir.empty() && dir == queue_dir);
    if (admin) (*cmd.mutable_attrs())["checkpoint_dir_admin"] = "True";
  }
  cmd.set_script(script_of(job));
  send_to_mom(chosen[0].first, cmd);
  mail_job_event(st_, job, 'b');
  release_dependents(job);  // "after" dependencies wait for the start only
  return true;
}

void Server::schedule() {
  sched_wanted_ = false;
  if (shutdown_pending_) return;  // qterm: nothing new starts
  Usage usage = compute_usage(st_);
  auto count_free = [&] {
    int total = 0;
    for (const auto& [name, n] : st_.nodes)
      if (n.mom_fd >= 0 && !n.mom_says_down() && attr_or(n.attrs, "state", "") != "offline")
        total += free_slots(usage[name]);
    return total;
  };
  // A job that fits the cluster but not its free nodes now says so, in pbs_sched's words; an
  // earlier comment of another kind (why it was requeued, say) stays.
  auto waiting_for_nodes = [&](Job& job) {
    std::string now = job.attr("comment");
    if (now == kWaitingForNodes || !(now.empty() || starts_with(now, "Not Running: "))) return;
    job.attrs["comment"] = kWaitingForNodes;
    save(job);
  };
  if (count_free() == 0) {
    // Nothing can start: the jobs queued since the last pass wait for nodes (sub-jobs are not
    // told one by one).
    for (long seq : untold_) {
      auto it = st_.jobs.find(seq);
      if (it != st_.jobs.end() && it->second.state() == 'Q' && !is_route_queue(st_, it->second.attr("queue")))
        waiting_for_nodes(it->second);
    }
    untold_.clear();
    return;
  }
  sched_usage_ = &usage;  // try_start places into this shared picture of the nodes
  // Queue priority, then job priority, then FIFO; run limits hold a job back with a comment.
  RunCounts running = RunCounts::of(st_);
  ArraySchedulePass arrays(st_);
  bool full = false;
  for (long seq : scheduling_order(st_)) {
    auto it = st_.jobs.find(seq);
    if (it == st_.jobs.end() || it->second.state() != 'Q' || arrays.skip(it->second)) continue;
    Job& job = it->second;
    if (is_route_queue(st_, job.attr("queue"))) continue;  // it runs once routed
    std::string limit = run_limit_reached(st_, job, running);
    if (!limit.empty()) {
      if (job.attr("comment") != limit) {
        job.attrs["comment"] = limit;
        save(job);
      }
      continue;
    }
    std::string why;
    if (try_start(job, "", why)) {
      running.add(job);
      if (count_free() == 0) {
        full = true;  // the jobs after it are told in the next pass
        break;
      }
    } else {
      if (starts_with(why, kNotEnoughFreeNodes)) waiting_for_nodes(job);
      arrays.did_not_fit(job);
    }
  }
  if (!full) untold_.clear();  // every queued job was looked at
  sched_usage_ = nullptr;
}

wire::Response Server::status_nodes(const wire::Request& req) {
  wire::Response r;
  Usage usage = compute_usage(st_);
  for (const std::string& id : req.ids())
    if (!st_.nodes.count(id)) return error_response(kErrUnknownNode, "Unknown node " + id);
  for (const auto& [name, n] : st_.nodes) {
    if (req.ids_size() && std::find(req.ids().begin(), req.ids().end(), name) == req.ids().end()) continue;
    wire::Object* o = r.add_objects();
    o->set_name(name);
    auto& a = *o->mutable_attrs();
    for (const auto& [k, v] : n.attrs) a[k] = v;
    std::vector<std::string> states;
    if (n.mom_fd < 0 || n.mom_says_down()) states.push_back("down");
    if (attr_or(n.attrs, "state", "") == "offline") states.push_back("offline");
    const auto& slots = usage[name];
    if (states.empty()) states.push_back(free_slots(slots) == 0 ? "job-exclusive" : "free");
    a["state"] = join(states, ",");
    a["np"] = std::to_string(node_np(n));
    a["ntype"] = "cluster";
    std::vector<std::string> jobs;
    for (size_t i = 0; i < slots.size(); ++i)
      if (!slots[i].empty()) jobs.push_back(std::to_string(i) + "/" + slots[i]);
    if (!jobs.empty()) a["jobs"] = join(jobs, ",");
    std::vector<std::string> status;
    for (const auto& [k, v] : n.mom_status) status.push_back(k + "=" + v);
    if (!status.empty()) a["status"] = join(status, ",");
  }
  return r;
}

wire::Response Server::node_state(const Who& w, const wire::Request& req) {
  if (!w.operator_) return error_response(kErrPermission, "Unauthorized Request (operator or manager privilege needed)");
  for (const std::string& id : req.ids())
    if (!st_.nodes.count(id)) return error_response(kErrUnknownNode, "Unknown node " + id);
  for (const std::string& id : req.ids()) {
    Node& n = st_.nodes[id];
    if (req.arg() == "offline") n.attrs["state"] = "offline";
    else n.attrs.erase("state");
    if (req.attrs().count("note")) n.attrs["note"] = req.attrs().at("note");
    store_.save_node(n);
  }
  sched_wanted_ = true;
  return {};
}

}  // namespace reprise::server
