// Client requests: submit, status, and per-job operations, with their permission checks.
#include <grp.h>
#include <pwd.h>
#include <signal.h>

#include <algorithm>
#include <set>

#include "common/job_env.h"
#include "common/log.h"
#include "common/resources.h"
#include "common/text_util.h"
#include "server/accounting.h"
#include "server/job_array.h"
#include "server/job_attrs.h"
#include "server/policy.h"
#include "server/route_queue.h"
#include "server/server.h"

#include "common/checkpoint_policy.h"

namespace reprise::server {

namespace {

bool host_matches(const std::string& pattern, const std::string& host) {
  if (pattern == "*" || pattern == host) return true;
  if (starts_with(pattern, "*.")) return host.size() > pattern.size() - 1 &&
                                         host.compare(host.size() - (pattern.size() - 1), std::string::npos, pattern.substr(1)) == 0;
  return false;
}

bool in_acl(const std::string& list, const std::string& user, const std::string& host) {
  for (const std::string& entry : split(list, ',')) {
    std::string e = trim(entry);
    auto at = e.find('@');
    std::string u = e.substr(0, at);
    std::string h = at == std::string::npos ? "*" : e.substr(at + 1);
    if (u == user && host_matches(h, host)) return true;
  }
  return false;
}

bool valid_hold_types(const std::string& t) {
  return !t.empty() && t.find_first_not_of("uosn") == std::string::npos;
}

// Hold type letters need: u owner, o operator, s manager.
bool may_hold(const Who& w, const std::string& types, bool owner) {
  for (char c : types) {
    if (c == 'u' && !(owner || w.operator_)) return false;
    if (c == 'o' && !w.operator_) return false;
    if (c == 's' && !w.manager) return false;
  }
  return true;
}

int signal_number(const std::string& text) {
  long n;
  if (parse_int(text, n)) return n > 0 && n < 65 ? int(n) : -1;
  std::string name = starts_with(text, "SIG") ? text.substr(3) : text;
  static const std::map<std::string, int> names = {
      {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"TERM", SIGTERM},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"STOP", SIGSTOP}, {"CONT", SIGCONT},
      {"ALRM", SIGALRM}, {"ABRT", SIGABRT}, {"TSTP", SIGTSTP}, {"XCPU", SIGXCPU}};
  auto it = names.find(name);
  return it == names.end() ? -1 : it->second;
}

}  // namespace

Who Server::who(const Conn& c) const {
  Who w;
  w.user = c.user;
  w.host = c.host;
  w.uid = c.uid;
  w.manager = c.uid == 0 || in_acl(attr_or(st_.attrs, "managers", ""), w.user, w.host);
  w.operator_ = w.manager || in_acl(attr_or(st_.attrs, "operators", ""), w.user, w.host);
  return w;
}

wire::Response Server::dispatch(Conn& c, const wire::Request& req) {
  Who w = who(c);
  const std::string& op = req.op();
  if (op == "submit") return submit(w, req);
  if (op == "status_job") {
    wire::Response r;
    status_jobs(w, req, r);
    return r;
  }
  if (op == "status_queue") return status_queues(req);
  if (op == "status_server") return status_server();
  if (op == "status_node") return status_nodes(req);
  if (op == "node_state") return node_state(w, req);
  if (op == "manage") return manage(w, req);
  if (op == "move") return move_request(w, req);
  if (op == "order") return order_jobs(w, req);
  if (op == "message") return message_job(w, req);
  if (op == "queue_state") return queue_state(w, req);
  if (op == "shutdown") return shutdown(w, req);
  if (op == "print_job") return print_job(w, req);
  if (op == "delete" && req.ids_size() == 1 && (req.ids(0) == "all" || req.ids(0) == "ALL")) return delete_all(w, req);
  if (op == "delete" || op == "hold" || op == "release" || op == "rerun" || op == "run" || op == "checkpoint" ||
      op == "signal" || op == "alter")
    return job_op(w, req);
  return error_response(kErrBadRequest, "Invalid request: unknown operation '" + op + "'");
}

wire::Response Server::submit(const Who& w, const wire::Request& req) {
  if (shutdown_pending_) return error_response(kErrBadState, "Request invalid: the server is shutting down (qterm)");
  Job job;
  for (const auto& [name, value] : req.attrs()) {
    int code;
    std::string error;
    if (!may_set_job_attr(name, value, AttrSetter::kSubmit, w.manager, code, error)) return error_response(code, error);
    job.attrs[name] = value;
  }
  // A submitter may ask for the holds it could set with qhold (-h is a user hold).
  if (job.attrs.count("Hold_Types") && !may_hold(w, job.attrs["Hold_Types"], true))
    return error_response(kErrPermission, "Unauthorized Request (Hold_Types " + job.attrs["Hold_Types"] + ")");
  if (std::string e = array_request_error(job); !e.empty()) return error_response(kErrBadAttrValue, e);
  if (req.script().size() > 8u << 20) return error_response(kErrBadAttrValue, "job script larger than 8 MiB");
  // -P user[:group]: a manager (root included) submits for another user, who owns and runs
  // the job (TORQUE's proxy user).
  const std::string proxy = job.attr("proxy_user");
  if (!proxy.empty() && !w.manager)
    return error_response(kErrPermission, "Unauthorized Request (-P " + proxy + ": only managers may submit for another user)");
  const std::string owner_name = proxy.empty() ? w.user : proxy;
  if (proxy.empty() && w.uid == 0 && !in_acl(attr_or(st_.attrs, "acl_roots", ""), "root", w.host) &&
      !in_acl(attr_or(st_.attrs, "acl_roots", ""), "root", "*"))
    return error_response(kErrPermission, "Bad UID for job execution (root may not run jobs; see acl_roots)");
  std::string qname = attr_or(job.attrs, "queue", attr_or(st_.attrs, "default_queue", "batch"));
  auto q = st_.queues.find(qname);
  if (q == st_.queues.end()) return error_response(kErrUnknownQueue, "Unknown queue " + qname);
  // The group database only when a group ACL needs it (submissions come by the thousand);
  // a route queue's destinations may have one.
  bool groups_needed = is_route_queue(q->second) || is_true(attr_or(st_.attrs, "acl_group_enable", "False")) ||
                       is_true(attr_or(q->second.attrs, "acl_group_enable", "False"));
  Submitter who{w.user, w.host, groups_needed ? groups_of(w.user) : std::vector<std::string>{}};
  // A job no destination takes now (but one may later) waits in the route queue (route_queue.h).
  std::string route_wait;
  if (is_route_queue(q->second)) {
    if (!is_true(attr_or(q->second.attrs, "enabled", "False")))
      return error_response(kErrQueueDisabled, "Queue is not enabled: " + qname);
    RouteChoice rc = route_job(st_, q->second, who, job);
    if (rc.dest.empty() && !rc.retry) return error_response(kErrRouteRejected, rc.why);
    std::string holds = job.attr("Hold_Types");
    bool held = !holds.empty() && holds != "n" && !is_true(attr_or(q->second.attrs, "route_held_jobs", "False"));
    if (!rc.dest.empty() && !held) {
      qname = rc.dest;
      q = st_.queues.find(qname);
      job.attrs["queue"] = qname;
    } else if (job.attrs.count("job_array_request")) {
      return error_response(kErrRouteRejected, held ? "Route queue " + qname + " does not keep held job arrays (route_held_jobs = False); submit to a destination queue"
                                                    : rc.why + "; a job array is routed at submit or not at all");
    } else {
      route_wait = held ? "Not Routed: the job is held and route queue " + qname +
                              " has route_held_jobs = False; it is routed when released"
                        : "Not Routed: " + rc.why;
    }
  }
  if (!is_true(attr_or(q->second.attrs, "enabled", "False")))
    return error_response(kErrQueueDisabled, "Queue is not enabled: " + qname);
  // ACLs, disallowed_types, resources_default/min/max and the queuable limits (policy.cpp).
  // A job waiting in a route queue gets its resources_default where it is routed to.
  {
    int code = 0;
    std::string message;
    Job route_copy;
    if (!route_wait.empty()) route_copy = job;
    if (!admit_job(st_, q->second, who, route_wait.empty() ? job : route_copy, code, message))
      return error_response(code, message);
  }
  // Dependencies: every referenced job must exist; ids are stored in full.
  if (!job.attr("depend").empty()) {
    std::string normalised, error;
    int code = 0;
    if (!resolve_depend(job.attr("depend"), normalised, code, error)) return error_response(code, error);
    job.attrs["depend"] = normalised;
  }
  std::string group;
  {
    passwd pw{}, *res = nullptr;
    char buf[4096];
    bool known = getpwnam_r(owner_name.c_str(), &pw, buf, sizeof buf, &res) == 0 && res;
    if (!proxy.empty() && (!known || pw.pw_uid == 0))
      return error_response(kErrBadUser, "Bad UID for job execution (-P " + proxy + (known ? ": root may not run jobs)" : ": no such user)"));
    if (known) {
      struct group grp{}, *gres = nullptr;
      char gbuf[4096];
      if (getgrgid_r(pw.pw_gid, &grp, gbuf, sizeof gbuf, &gres) == 0 && gres) group = grp.gr_name;
    }
    // -W group_list=G: the job runs with group G, which must be the owner's (as TORQUE's
    // "Bad GID for job execution").
    if (std::string wanted = job.attr("group_list"); !wanted.empty() && wanted != group) {
      std::vector<std::string> member_of = groups_of(owner_name);
      if (std::find(member_of.begin(), member_of.end(), wanted) == member_of.end())
        return error_response(kErrBadGroup, "Bad GID for job execution (" + owner_name + " is not a member of group " + wanted + ")");
      group = wanted;
    }
  }
  long now = now_seconds();
  job.seq = st_.next_seq++;
  job.id = std::to_string(job.seq) + "." + st_.name;
  // The host the kernel or MUNGE vouches for, never one the client names.
  std::string submit_host = w.host;
  std::string workdir;
  for (const auto& [k, v] : decode_variable_list(job.attr("Variable_List")))
    if (k == "PBS_O_WORKDIR") workdir = v;
  if (workdir.empty()) workdir = "/";
  // No -o/-e, or one naming a directory ("host:/dir/", qsub adds the '/'): TORQUE's default
  // file name, in the working directory or in that directory.
  auto default_name = [&](const char* path_attr, const char* suffix) {
    std::string& path = job.attrs[path_attr];
    if (!path.empty() && path.back() != '/') return false;
    if (path.empty()) path = submit_host + ":" + workdir + "/";
    path += job.attrs["Job_Name"] + suffix + std::to_string(job.seq);
    return true;
  };
  job.attrs["Job_Name"] = attr_or(job.attrs, "Job_Name", "STDIN");
  const bool default_out = default_name("Output_Path", ".o"), default_err = default_name("Error_Path", ".e");
  job.attrs["queue"] = qname;
  job.attrs["server"] = st_.name;
  job.attrs["Job_Owner"] = owner_name + "@" + submit_host;
  job.attrs["euser"] = owner_name;
  job.attrs["egroup"] = group;
  job.attrs["submit_host"] = submit_host;
  job.attrs["queue_type"] = route_wait.empty() ? "E" : "R";
  if (!route_wait.empty()) job.attrs["comment"] = route_wait;
  for (const char* t : {"ctime", "mtime", "qtime", "etime"}) job.attrs[t] = std::to_string(now);
  for (auto [k, v] : std::map<std::string, std::string>{{"Checkpoint", "u"}, {"Rerunable", "True"},
                                                        {"Keep_Files", "n"}, {"Priority", "0"},
                                                        {"Hold_Types", "n"}, {"Join_Path", "n"},
                                                        {"Mail_Points", "a"}, {"fault_tolerant", "False"}})
    if (job.attr(k).empty()) job.attrs[k] = v;
  job.script = req.script();
  bool failed = false;
  bool deps_ok = dependencies_met(job, failed);
  if (failed) return error_response(kErrBadAttrValue, "dependency can never be satisfied: " + job.attr("depend"));
  if (job.attrs.count("job_array_request")) {
    if (unheld_state(job) == 'W')
      return error_response(kErrBadAttrValue, "a deferred job array (-a with -t) is not supported; submit the array at its time");
    return submit_array(job, default_out, default_err, deps_ok);
  }
  job.attrs["job_state"] = std::string(1, unheld_state(job));
  if (job.attr("Hold_Types") != "n" || !deps_ok) job.attrs["job_state"] = "H";
  if (!deps_ok) job.attrs["_depend_wait"] = "1";
  st_.jobs[job.seq] = job;
  Job& stored = st_.jobs[job.seq];
  set_state(stored, stored.state());
  if (!deps_ok) st_.waiting.insert(stored.seq);
  save(stored);
  register_before(stored);
  account_queued(opts_.home, stored);
  if (!route_wait.empty()) {
    log_line("job " + stored.id + " waits in route queue " + qname + ": " + route_wait);
    route_next_[stored.seq] = now + route_retry_seconds(st_.queues.at(qname));
  }
  store_.save_server(st_);
  wire::Response r;
  r.set_text(job.id);
  return r;
}

// One job of a status answer. `full`: the requester may see the job's private attributes
// (owner, operator, manager); otherwise only the public ones (query_other_jobs).
void add_job_object(wire::Response& r, const Job& job, const wire::Request& req, bool full) {
  auto visible = [&](const std::string& name) { return full ? !starts_with(name, "_") : job_attr_public(name); };
  wire::Object* o = r.add_objects();
  o->set_name(job.id);
  if (req.positional() && req.select_size() > 0) {
    auto* values = o->mutable_values();
    values->Reserve(req.select_size());
    for (const std::string& name : req.select()) {
      auto it = visible(name) ? job.attrs.find(name) : job.attrs.end();
      if (it == job.attrs.end()) values->Add();
      else values->Add()->assign(it->second);
    }
    return;
  }
  if (req.select_size() > 0) {
    for (const std::string& name : req.select())
      if (auto it = job.attrs.find(name); it != job.attrs.end() && visible(name)) (*o->mutable_attrs())[name] = it->second;
    return;
  }
  for (const auto& [k, v] : job.attrs)
    if (visible(k)) (*o->mutable_attrs())[k] = v;
}

void Server::status_jobs(const Who& w, const wire::Request& req, wire::Response& r) {
  bool see_all = w.operator_ || is_true(attr_or(st_.attrs, "query_other_jobs", "False"));
  // Compares without copying the attribute: a listing looks at every job.
  auto attr_is = [](const Job& job, const char* name, const std::string& value) {
    auto it = job.attrs.find(name);
    return it == job.attrs.end() ? value.empty() : it->second == value;
  };
  if (req.ids_size() == 0) {
    if (!req.arg().empty() && !st_.queues.count(req.arg())) {  // qstat QUEUE of no queue
      r.set_code(kErrUnknownQueue);
      r.set_error("Unknown queue " + req.arg());
      return;
    }
    r.mutable_objects()->Reserve(int(st_.jobs.size()));
    // Sub-jobs sort after every other key: they are listed with their array (qstat -t), or
    // the array's summary line stands for them.
    for (auto it = st_.jobs.begin(); it != st_.jobs.end() && !is_subjob_key(it->first); ++it) {
      Job& job = it->second;
      if (!req.arg().empty() && !attr_is(job, "queue", req.arg())) continue;  // qstat QUEUE
      bool own = attr_is(job, "euser", w.user);
      if (!see_all && !own) continue;
      if (req.expand_arrays() && is_array_parent(job)) {
        for (const auto& [index, key] : st_.arrays[job.seq].subs) add_job_object(r, st_.jobs.at(key), req, own || w.operator_);
        continue;
      }
      add_job_object(r, job, req, own || w.operator_);
    }
    return;
  }
  for (const std::string& id : req.ids()) {
    Job* job = find_job(id);
    if (!job) {
      r.Clear();
      r.set_code(kErrUnknownJob);
      r.set_error("Unknown Job Id " + id);
      return;
    }
    if (!see_all && job->attr("euser") != w.user) {
      r.Clear();
      r.set_code(kErrPermission);
      r.set_error("Unauthorized Request  " + job->id);
      return;
    }
    if (is_array_parent(*job) && (req.expand_arrays() || !req.array_range().empty())) {
      add_array_subjobs(w, *job, req, r);
      if (r.code() != 0) return;
      continue;
    }
    add_job_object(r, *job, req, w.operator_ || job->attr("euser") == w.user);
  }
}

wire::Response Server::job_op(const Who& w, const wire::Request& req) {
  if (req.ids_size() != 1) return error_response(kErrBadRequest, "Invalid request: one job id per request");
  Job* job = find_job(req.ids(0));
  if (!job) return error_response(kErrUnknownJob, "Unknown Job Id " + req.ids(0));
  if (is_array_parent(*job) || !req.array_range().empty()) return array_op(w, *job, req);
  bool owner = job->attr("euser") == w.user;
  const std::string& op = req.op();
  char st = job->state();
  auto denied = [&] { return error_response(kErrPermission, "Unauthorized Request  " + job->id); };
  auto bad_state = [&](const std::string& why) {
    return error_response(kErrBadState, "Request invalid for state of job " + job->id + " (" + why + ")");
  };
  if ((op == "run" || op == "rerun") && !w.operator_) return denied();
  if (!owner && !w.operator_) return denied();
  job->attrs["mtime"] = std::to_string(now_seconds());

  if (op == "delete") {
    if (st == 'C') return bad_state("job has completed");
    account_deleted(opts_.home, *job, w.user + "@" + w.host);
    if (st == 'R' || st == 'E') {
      std::string node = job->first_node();
      auto n = st_.nodes.find(node);
      if (n == st_.nodes.end() || n->second.mom_fd < 0) {
        complete(*job, 271, "Job deleted while its node was down");
        return {};
      }
      job->attrs["_deleting"] = "1";
      save(*job);
      wire::MomCommand cmd;
      cmd.set_op("delete");
      cmd.set_id(job->id);
      cmd.set_arg(attr_or(st_.attrs, "kill_delay", "2"));
      send_to_mom(node, cmd);
      return {};
    }
    complete(*job, 271, "Job deleted by " + w.user);
    return {};
  }
  if (op == "hold" || op == "release") {
    std::string types = req.arg().empty() ? "u" : req.arg();
    if (!valid_hold_types(types) || types.find('n') != std::string::npos)
      return error_response(kErrBadAttrValue, "Illegal attribute or resource value for Hold_Types (" + types + ")");
    if (!may_hold(w, types, owner)) return denied();
    if (st == 'C' || st == 'E') return bad_state("job has completed");
    std::string have = job->attr("Hold_Types") == "n" ? "" : job->attr("Hold_Types");
    if (op == "hold") {
      for (char c : types)
        if (have.find(c) == std::string::npos) have += c;
      job->attrs["Hold_Types"] = have;
      if (st == 'R') {
        // A checkpointable job is checkpointed, then stopped; the mom's report
        // puts it in H (mom_link.cpp). Any other running job keeps running
        // with the hold recorded, as TORQUE does: it applies if it is requeued.
        if (parse_checkpoint_policy(job->attr("Checkpoint")).enabled) send_checkpoint(*job, "hold");
      } else {
        set_state(*job, 'H');
      }
    } else {
      std::string left;
      for (char c : have)
        if (types.find(c) == std::string::npos) left += c;
      job->attrs["Hold_Types"] = left.empty() ? "n" : left;
      if (left.empty() && st == 'H' && job->attr("_depend_wait").empty()) set_state(*job, unheld_state(*job));
    }
    save(*job);
    return {};
  }
  if (op == "rerun") {
    if (!is_true(job->attr("Rerunable"))) return bad_state("job is not rerunable");
    if (st == 'R') {
      std::string node = job->first_node();
      auto n = st_.nodes.find(node);
      if (n == st_.nodes.end() || n->second.mom_fd < 0) {
        requeue(*job, "Job rerun while its node was down");
        return {};
      }
      job->attrs["_rerun"] = "1";
      save(*job);
      wire::MomCommand cmd;
      cmd.set_op("delete");
      cmd.set_id(job->id);
      cmd.set_arg(attr_or(st_.attrs, "kill_delay", "2"));
      send_to_mom(node, cmd);
      return {};
    }
    if (st == 'C') {
      requeue(*job, "Job rerun by " + w.user);
      return {};
    }
    return bad_state("job is not running");
  }
  if (op == "run") {
    // An operator's qrun also starts a held job (its holds are released once it starts):
    // `qhold JOB; qrun -H othernode JOB` moves a checkpointed job to another node.
    bool held = st == 'H' && job->attr("_depend_wait").empty();
    if (st != 'Q' && !held) return bad_state(st == 'H' ? "job waits for a dependency" : "job is not queued or held");
    std::string why;
    if (!try_start(*job, req.arg(), why))
      return error_response(kErrNoResources, "Resource temporarily unavailable (" + why + ")");
    if (held) {
      job->attrs["Hold_Types"] = "n";
      save(*job);
    }
    return {};
  }
  if (op == "checkpoint") {  // qchkpt: an image, and the job goes on
    if (st != 'R') return bad_state("job is not running");
    if (!parse_checkpoint_policy(job->attr("Checkpoint")).enabled)
      return bad_state("job is not checkpointable; submit it with qsub -c enabled");
    send_checkpoint(*job, "request");
    save(*job);
    return {};
  }
  if (op == "signal") {
    if (st != 'R') return bad_state("job is not running");
    int sig = signal_number(req.arg());
    if (sig < 0) return error_response(kErrBadAttrValue, "Unknown signal " + req.arg());
    wire::MomCommand cmd;
    cmd.set_op("signal");
    cmd.set_id(job->id);
    cmd.set_arg(std::to_string(sig));
    send_to_mom(job->first_node(), cmd);
    return {};
  }
  return alter(w, *job, req);
}

wire::Response Server::alter(const Who& w, Job& job, const wire::Request& req) {
  char st = job.state();
  AttrSetter setter = st == 'R' ? AttrSetter::kAlterRunning : AttrSetter::kAlterQueued;
  Attrs updates;
  // A change of queue is a move (qmove's checks); of dependencies, a new wait.
  std::string new_queue, new_depend;
  bool depend_given = false;
  for (const auto& [name, value] : req.attrs()) {
    if (name == "queue") {
      new_queue = value;
      continue;
    }
    if (name == "depend") {
      new_depend = value;
      depend_given = true;
      continue;
    }
    int code;
    std::string error;
    if (!may_set_job_attr(name, value, setter, w.manager, code, error)) {
      if (code == kErrBadState) return error_response(code, "Request invalid for state of job " + job.id + " (" + error + ")");
      return error_response(code, error);
    }
    if (name == "Hold_Types" && !may_hold(w, value, true))
      return error_response(kErrPermission, "Unauthorized Request  " + job.id + " (Hold_Types " + value + ")");
    updates[name] = value;
  }
  if (st == 'C') return error_response(kErrBadState, "Request invalid for state of job " + job.id + " (job has completed)");
  std::string depend;
  bool depend_met = true;
  if (depend_given)
    if (wire::Response r = check_depend(job, new_depend, depend, depend_met); r.code() != 0) return r;
  if (!new_queue.empty()) {
    if (is_subjob_key(job.seq))
      return error_response(kErrBadAttrValue, "qalter -q does not move arrays; use qmove QUEUE " +
                                                  std::to_string(base_seq(job.seq)) + "[]");
    if (wire::Response moved = move_job(w, job, new_queue); moved.code() != 0) return moved;
  }
  if (depend_given) apply_depend(job, depend, depend_met);
  for (const auto& [k, v] : updates) job.attrs[k] = v;
  if (updates.count("Hold_Types") && updates["Hold_Types"] != "n" && (st == 'Q' || st == 'W')) set_state(job, 'H');
  // qalter -a: a job not held waits in W for the new time, or is queued when it has come.
  if (updates.count("Execution_Time") && (job.state() == 'Q' || job.state() == 'W')) {
    set_state(job, unheld_state(job));
    sched_wanted_ = true;
  }
  save(job);
  return {};
}

wire::Response Server::status_server() {
  wire::Response r;
  std::map<char, int> count;
  for (const auto& [seq, j] : st_.jobs) ++count[j.state()];
  wire::Object* o = r.add_objects();
  o->set_name(st_.name);
  for (const auto& [k, v] : st_.attrs) (*o->mutable_attrs())[k] = v;
  auto& a = *o->mutable_attrs();
  a["server_state"] = "Active";
  a["total_jobs"] = std::to_string(st_.jobs.size());
  a["state_count"] = "Transit:0 Queued:" + std::to_string(count['Q']) + " Held:" + std::to_string(count['H']) +
                     " Waiting:" + std::to_string(count['W']) + " Running:" + std::to_string(count['R']) +
                     " Exiting:" + std::to_string(count['E']) + " Complete:" + std::to_string(count['C']);
  a["next_job_number"] = std::to_string(st_.next_seq);
  a["pbs_version"] = "reprise-0.1";
  return r;
}

}  // namespace reprise::server
