// Requests of qmove, qorder, qmsg, qterm, qenable/qdisable/qstart/qstop (and qstat -Q), qdel
// all, printjob, and qalter's change of queue and of dependencies (docs/batch-system.md, "Commands").
#include <algorithm>
#include <set>

#include "common/checkpoint_policy.h"
#include "common/log.h"
#include "common/text_util.h"
#include "server/job_array.h"
#include "server/policy.h"
#include "server/route_queue.h"
#include "server/server.h"

namespace reprise::server {

namespace {

wire::Response denied(const Job& job) { return error_response(kErrPermission, "Unauthorized Request  " + job.id); }

wire::Response bad_state(const Job& job, const std::string& why) {
  return error_response(kErrBadState, "Request invalid for state of job " + job.id + " (" + why + ")");
}

}  // namespace

bool Server::resolve_depend(const std::string& depend, std::string& normalised, int& code, std::string& error) {
  static const std::set<std::string> types = {"after", "afterok", "afternotok", "afterany", "afterstartarray",
                                              "afterokarray", "afternotokarray", "afteranyarray",
                                              "before", "beforeok", "beforenotok", "beforeany", "on"};
  std::vector<std::string> items;
  for (const std::string& item : split(depend, ',')) {
    auto parts = split(item, ':');
    if (!parts.empty() && (parts[0] == "syncwith" || parts[0] == "synccount")) {
      code = kErrBadAttrValue;
      error = "Illegal attribute or resource value for depend (" + item + "): " + parts[0] + " is not supported";
      return false;
    }
    if (!parts.empty() && parts[0] == "on") {  // on:N: waits for N before* dependencies to name it
      long n = 0;
      if (parts.size() != 2 || !parse_int(parts[1], n) || n < 1 || n > 100000) {
        code = kErrBadAttrValue;
        error = "Illegal attribute or resource value for depend (" + item + ")";
        return false;
      }
      items.push_back("on:" + std::to_string(n));
      continue;
    }
    if (parts.size() < 2 || !types.count(parts[0])) {
      code = kErrBadAttrValue;
      error = "Illegal attribute or resource value for depend (" + item + ")";
      return false;
    }
    std::string out = parts[0];
    for (size_t i = 1; i < parts.size(); ++i) {
      Job* parent = find_job(parts[i]);
      if (!parent) {
        code = kErrUnknownJob;
        error = "Unknown Job Id " + parts[i] + " (in depend)";
        return false;
      }
      if (parts[0].starts_with("before") && (is_array_parent(*parent) || is_subjob_key(parent->seq))) {
        code = kErrBadAttrValue;
        error = parts[0] + " names plain jobs, not arrays (" + parent->id + ")";
        return false;
      }
      if (parts[0].starts_with("before") && parent->state() != 'Q' && parent->state() != 'H' && parent->state() != 'W') {
        code = kErrBadState;
        error = "Request invalid for state of job " + parent->id + " (" + parts[0] + " names a job that has started)";
        return false;
      }
      if (parts[0].ends_with("array") && !is_array_parent(*parent)) {
        code = kErrBadAttrValue;
        error = parts[0] + " needs an array id (SEQ[]), not " + parent->id;
        return false;
      }
      out += ":" + parent->id;
    }
    items.push_back(out);
  }
  normalised = join(items, ",");
  return true;
}

// qalter -W depend=: checks the new dependencies ("" removes them) without changing the job.
wire::Response Server::check_depend(const Job& job, const std::string& depend, std::string& normalised, bool& met) {
  char st = job.state();
  if (st != 'Q' && st != 'H') return bad_state(job, "dependencies of a job that has started cannot change");
  if (is_array_parent(job) || is_subjob_key(job.seq))
    return error_response(kErrBadAttrValue, "qalter -W depend= applies to plain jobs, not arrays (" + job.id + ")");
  for (const std::string& item : split(depend, ','))
    if (item.starts_with("before") || item.starts_with("on:"))
      return error_response(kErrBadAttrValue, "qalter -W depend= takes after* dependencies; " + item.substr(0, item.find(':')) +
                                                  " is given at qsub (" + job.id + ")");
  int code = 0;
  std::string error;
  normalised.clear();
  if (!depend.empty() && !resolve_depend(depend, normalised, code, error)) return error_response(code, error);
  Job probe = job;
  probe.attrs["depend"] = normalised;
  bool failed = false;
  met = dependencies_met(probe, failed);
  if (failed) return error_response(kErrBadAttrValue, "dependency can never be satisfied: " + normalised);
  return {};
}

// The job waits (held) until its new dependencies are met.
void Server::apply_depend(Job& job, const std::string& normalised, bool met) {
  if (normalised.empty()) job.attrs.erase("depend");
  else job.attrs["depend"] = normalised;
  if (met) {
    job.attrs.erase("_depend_wait");
    st_.waiting.erase(job.seq);
    if (job.state() == 'H' && (job.attr("Hold_Types") == "n" || job.attr("Hold_Types").empty())) set_state(job, unheld_state(job));
  } else {
    job.attrs["_depend_wait"] = "1";
    st_.waiting.insert(job.seq);
    set_state(job, 'H');
  }
  sched_wanted_ = true;
}

// qmove and qalter -q: a job that has not started goes to another queue of this server,
// through a route queue if it names one, subject to the destination's ACLs and limits.
wire::Response Server::move_job(const Who& w, Job& job, const std::string& destination) {
  if (job.attr("euser") != w.user && !w.operator_) return denied(job);
  if (is_subjob_key(job.seq)) return error_response(kErrBadAttrValue, "a sub-job moves with its array: name " +
                                                                          std::to_string(base_seq(job.seq)) + "[]");
  char st = job.state();
  if (st != 'Q' && st != 'H' && st != 'W') return bad_state(job, st == 'C' ? "job has completed" : "job is running");
  if (is_array_parent(job)) {
    std::string error;
    for (Job* sub : array_members(job, "", error))
      if (sub->state() == 'R' || sub->state() == 'E') return bad_state(job, "sub-job " + sub->id + " is running");
  }
  std::string qname = destination.substr(0, destination.find('@'));
  if (auto at = destination.find('@'); at != std::string::npos && destination.substr(at + 1) != st_.name &&
                                       !destination.substr(at + 1).empty())
    return error_response(kErrBadRequest, "cannot move " + job.id + " to another server (" + destination + ")");
  if (qname.empty()) qname = attr_or(st_.attrs, "default_queue", "batch");
  auto q = st_.queues.find(qname);
  if (q == st_.queues.end()) return error_response(kErrUnknownQueue, "Unknown queue " + qname);
  // A manager's move ignores `enabled`, as TORQUE's (qmove by a manager may fill a closed queue).
  if (!w.manager && !is_true(attr_or(q->second.attrs, "enabled", "False")))
    return error_response(kErrQueueDisabled, "Queue is not enabled: " + qname);
  if (is_route_queue(q->second)) {
    // qmove into a route queue routes now or not at all: the job does not wait there.
    std::string owner = job.attr("euser");
    RouteChoice rc = route_job(st_, q->second, Submitter{owner, job.attr("submit_host"), groups_of(owner)}, job);
    if (rc.dest.empty()) return error_response(kErrRouteRejected, rc.why);
    q = st_.queues.find(rc.dest);
  }
  Job moved = job;
  moved.attrs["queue"] = q->first;
  {
    int code = 0;
    std::string message;
    std::string owner = job.attr("euser");
    Submitter who{owner, job.attr("submit_host"), groups_of(owner)};
    if (!admit_job(st_, q->second, who, moved, code, message)) return error_response(code, message);
  }
  job.attrs = moved.attrs;
  job.attrs["mtime"] = std::to_string(now_seconds());
  save(job);
  if (is_array_parent(job)) {
    std::string error;
    for (Job* sub : array_members(job, "", error)) {
      sub->attrs["queue"] = q->first;
      save(*sub);
    }
  }
  sched_wanted_ = true;
  return {};
}

wire::Response Server::move_request(const Who& w, const wire::Request& req) {
  if (req.ids_size() != 1) return error_response(kErrBadRequest, "Invalid request: one job id per request");
  Job* job = find_job(req.ids(0));
  if (!job) return error_response(kErrUnknownJob, "Unknown Job Id " + req.ids(0));
  return move_job(w, *job, req.arg());
}

// qorder: two jobs that have not started swap their places in the order the scheduler
// considers them (queue_rank); in different queues they swap queues as well.
wire::Response Server::order_jobs(const Who& w, const wire::Request& req) {
  if (req.ids_size() != 2) return error_response(kErrBadRequest, "Invalid request: qorder takes two job ids");
  Job* a = find_job(req.ids(0));
  if (!a) return error_response(kErrUnknownJob, "Unknown Job Id " + req.ids(0));
  Job* b = find_job(req.ids(1));
  if (!b) return error_response(kErrUnknownJob, "Unknown Job Id " + req.ids(1));
  for (Job* j : {a, b}) {
    if (j->attr("euser") != w.user && !w.operator_) return denied(*j);
    if (is_subjob_key(j->seq)) return error_response(kErrBadAttrValue, "a sub-job keeps its array's place (" + j->id + ")");
    char st = j->state();
    if (st != 'Q' && st != 'H' && st != 'W') return bad_state(*j, st == 'C' ? "job has completed" : "job is running");
  }
  if (a == b) return {};
  std::string qa = a->attr("queue"), qb = b->attr("queue");
  if (qa != qb) {
    // Each must be acceptable to the other's queue; nothing changes unless both are.
    for (auto [j, dest] : {std::pair{a, qb}, std::pair{b, qa}}) {
      Job moved = *j;
      moved.attrs["queue"] = dest;
      int code = 0;
      std::string message;
      std::string owner = j->attr("euser");
      Submitter who{owner, j->attr("submit_host"), groups_of(owner)};
      if (!admit_job(st_, st_.queues.at(dest), who, moved, code, message)) return error_response(code, message);
    }
  }
  long ra = job_queue_rank(*a), rb = job_queue_rank(*b);
  a->attrs["queue_rank"] = std::to_string(rb);
  b->attrs["queue_rank"] = std::to_string(ra);
  a->attrs["queue"] = qb;
  b->attrs["queue"] = qa;
  for (Job* j : {a, b}) {
    j->attrs["mtime"] = std::to_string(now_seconds());
    save(*j);
    if (is_array_parent(*j)) {
      std::string error;
      for (Job* sub : array_members(*j, "", error)) {
        sub->attrs["queue"] = j->attr("queue");
        save(*sub);
      }
    }
  }
  sched_wanted_ = true;
  return {};
}

// qmsg: one line appended to a running job's error (or output) file by its mom, as the owner.
wire::Response Server::message_job(const Who& w, const wire::Request& req) {
  if (req.ids_size() != 1) return error_response(kErrBadRequest, "Invalid request: one job id per request");
  Job* job = find_job(req.ids(0));
  if (!job) return error_response(kErrUnknownJob, "Unknown Job Id " + req.ids(0));
  if (job->attr("euser") != w.user && !w.operator_) return denied(*job);
  if (is_array_parent(*job)) return error_response(kErrBadAttrValue, "qmsg needs one job; name a sub-job (SEQ[INDEX])");
  if (job->state() != 'R') return bad_state(*job, "job is not running");
  const std::string& text = req.arg();
  if (text.empty() || text.size() > 4096 || text.find('\n') != std::string::npos || text.find('\0') != std::string::npos)
    return error_response(kErrBadAttrValue, "the message must be one line of at most 4096 bytes");
  std::string stream = req.attrs().count("stream") ? req.attrs().at("stream") : "E";
  if (stream != "E" && stream != "O" && stream != "OE") return error_response(kErrBadAttrValue, "qmsg: stream must be O, E or OE");
  auto node = st_.nodes.find(job->first_node());
  if (node == st_.nodes.end() || node->second.mom_fd < 0)
    return error_response(kErrSystem, "the mom of " + job->id + " (node " + job->first_node() + ") is not connected; no message sent");
  wire::MomCommand cmd;
  cmd.set_op("message");
  cmd.set_id(job->id);
  cmd.set_arg(text);
  (*cmd.mutable_attrs())["stream"] = stream;
  send_to_mom(job->first_node(), cmd);
  return {};
}

wire::Response Server::status_queues(const wire::Request& req) {
  wire::Response r;
  for (const auto& [name, q] : st_.queues) {
    if (req.ids_size() && std::find(req.ids().begin(), req.ids().end(), name) == req.ids().end()) continue;
    std::map<char, int> count;
    int total = 0;
    for (const auto& [seq, j] : st_.jobs)
      if (j.attr("queue") == name) {
        ++count[j.state()];
        ++total;
      }
    wire::Object* o = r.add_objects();
    o->set_name(name);
    for (const auto& [k, v] : q.attrs) (*o->mutable_attrs())[k] = v;
    (*o->mutable_attrs())["total_jobs"] = std::to_string(total);
    (*o->mutable_attrs())["state_count"] =
        "Transit:0 Queued:" + std::to_string(count['Q']) + " Held:" + std::to_string(count['H']) +
        " Waiting:" + std::to_string(count['W']) + " Running:" + std::to_string(count['R']) +
        " Exiting:" + std::to_string(count['E']) + " Complete:" + std::to_string(count['C']);
  }
  for (const std::string& id : req.ids())
    if (!st_.queues.count(id)) return error_response(kErrUnknownQueue, "Unknown queue " + id);
  return r;
}

// qenable, qdisable, qstart, qstop: operators and managers.
wire::Response Server::queue_state(const Who& w, const wire::Request& req) {
  if (!w.operator_) return error_response(kErrPermission, "Unauthorized Request (operator or manager privilege needed)");
  if (req.attrs_size() != 1) return error_response(kErrBadRequest, "Invalid request: one queue attribute");
  const auto& [name, value] = *req.attrs().begin();
  if ((name != "enabled" && name != "started") || (value != "True" && value != "False"))
    return error_response(kErrBadRequest, "Invalid request: enabled or started, True or False");
  if (req.ids_size() == 0) return error_response(kErrBadRequest, "Invalid request: no queue named");
  for (const std::string& q : req.ids())
    if (!st_.queues.count(q)) return error_response(kErrUnknownQueue, "Unknown queue " + q);
  for (const std::string& q : req.ids()) {
    Queue& queue = st_.queues[q];
    queue.attrs[name] = value;
    store_.save_queue(queue);
  }
  sched_wanted_ = true;
  return {};
}

// qterm (TORQUE's -t): quick leaves running jobs running; immediate and delay checkpoint
// and requeue checkpointable jobs and requeue (kill and rerun) rerunable ones; immediate
// kills the others, delay lets them run and waits for them. The server stops once no
// running job is left to wait for (or after shutdown_wait seconds).
wire::Response Server::shutdown(const Who& w, const wire::Request& req) {
  if (!w.manager) return error_response(kErrPermission, "Unauthorized Request (qterm needs manager privilege)");
  std::string how = req.arg().empty() ? "quick" : req.arg();
  if (how != "quick" && how != "immediate" && how != "delay")
    return error_response(kErrBadAttrValue, "qterm -t takes quick, immediate or delay, not " + how);
  log_line("shutdown requested by " + w.user + "@" + w.host + " (" + how + ")");
  if (how == "quick") {
    stop_ = true;  // after this pass: the reply is sent, the jobs run on under their moms
    return {};
  }
  shutdown_pending_ = true;
  long wait = 0;
  parse_int(attr_or(st_.attrs, "kill_delay", "2"), wait);
  shutdown_deadline_ = now_seconds() + wait + kShutdownCheckpointSeconds;
  for (long key : std::vector<long>(st_.running.begin(), st_.running.end())) {
    Job& job = st_.jobs.at(key);
    if (job.state() != 'R') continue;
    const std::string node = job.first_node();
    auto n = st_.nodes.find(node);
    bool reachable = n != st_.nodes.end() && n->second.mom_fd >= 0;
    if (reachable && parse_checkpoint_policy(job.attr("Checkpoint")).enabled) {
      send_checkpoint(job, "requeue");
      continue;
    }
    bool rerun = is_true(job.attr("Rerunable"));
    if (!rerun && how == "delay") continue;  // runs on; the server waits for it
    if (!reachable) continue;               // its node is down: node health decides later
    job.attrs[rerun ? "_rerun" : "_deleting"] = "1";
    save(job);
    wire::MomCommand cmd;
    cmd.set_op("delete");
    cmd.set_id(job.id);
    cmd.set_arg(attr_or(st_.attrs, "kill_delay", "2"));
    send_to_mom(node, cmd);
  }
  check_shutdown();
  return {};
}

void Server::check_shutdown() {
  if (!shutdown_pending_) return;
  bool running = false;
  for (long key : st_.running)
    if (auto it = st_.jobs.find(key); it != st_.jobs.end()) {
      const Job& j = it->second;
      // A node that is down cannot end its jobs: they do not hold the shutdown up.
      auto n = st_.nodes.find(j.first_node());
      if (n != st_.nodes.end() && n->second.mom_fd >= 0) running = true;
    }
  if (!running || now_seconds() >= shutdown_deadline_) {
    if (running) log_line("shutdown: jobs still running after the wait; stopping anyway");
    stop_ = true;
  }
}

// qdel all / ALL: the requester's own jobs; a manager's: every job.
wire::Response Server::delete_all(const Who& w, const wire::Request& req) {
  std::vector<std::string> ids;
  for (auto it = st_.jobs.begin(); it != st_.jobs.end() && !is_subjob_key(it->first); ++it) {
    const Job& j = it->second;
    if (j.state() == 'C') continue;
    if (w.manager || j.attr("euser") == w.user) ids.push_back(j.id);
  }
  wire::Response first_error;
  for (const std::string& id : ids) {
    wire::Request one;
    one.set_op("delete");
    one.add_ids(id);
    one.set_arg(req.arg());
    wire::Response r = job_op(w, one);
    if (r.code() != 0 && r.code() != kErrBadState && first_error.code() == 0) first_error = r;
  }
  return first_error;
}

// printjob: the server's whole record of a job, its own (_) attributes too; root only.
wire::Response Server::print_job(const Who& w, const wire::Request& req) {
  if (w.uid != 0) return error_response(kErrPermission, "Unauthorized Request (printjob is for root)");
  if (req.ids_size() != 1) return error_response(kErrBadRequest, "Invalid request: one job id per request");
  Job* job = find_job(req.ids(0));
  if (!job) return error_response(kErrUnknownJob, "Unknown Job Id " + req.ids(0));
  wire::Response r;
  wire::Object* o = r.add_objects();
  o->set_name(job->id);
  for (const auto& [k, v] : job->attrs) (*o->mutable_attrs())[k] = v;
  (*o->mutable_attrs())["_key"] = std::to_string(job->seq);
  r.set_text(script_of(*job));
  return r;
}

}  // namespace reprise::server
