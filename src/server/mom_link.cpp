// The server's side of the mom connection: registration, reconciliation, obits.
#include "common/auth_binding.h"
#include "common/log.h"
#include "common/munge_auth.h"
#include "common/text_util.h"
#include "server/accounting.h"
#include "server/job_attrs.h"
#include "server/server.h"

namespace reprise::server {

// A report about this run of the job, not about an earlier run on the same node (a stale
// copy left by a node failure): the mom echoes the start_count it was given.
static bool same_run(const Job& job, const wire::JobReport& rep) {
  auto it = rep.attrs().find("_start_count");
  return it == rep.attrs().end() || it->second == job.attr("start_count");
}

// Is `rep` about the run of its job that the server has on `node`?
static bool ours(const Job* job, const std::string& node, const wire::JobReport& rep) {
  return job && job->state() == 'R' && job->first_node() == node && same_run(*job, rep);
}

// The attributes of a mom's report that a mom may set (the attribute table says which: state
// results, resources used, checkpoint results); anything else is dropped and logged. A mom
// can never change a job's owner, paths, script or resources.
static Attrs mom_owned(const Job& job, const wire::JobReport& rep) {
  Attrs out;
  for (const auto& [k, v] : rep.attrs()) {
    if (starts_with(k, "_")) continue;  // protocol fields such as _start_count
    int code;
    std::string error;
    if (may_set_job_attr(k, v, AttrSetter::kMomReport, false, code, error)) out[k] = v;
    else log_line("job " + job.id + ": ignoring a mom's report of " + k + " (" + error + ")");
  }
  return out;
}

// Checkpoints the mom took while the server could not hear about them.
static bool take_checkpoint_report(Job& job, const wire::JobReport& rep) {
  Attrs a = mom_owned(job, rep);
  auto name = a.find("checkpoint_name");
  if (name == a.end() || name->second.empty() || name->second == job.attr("checkpoint_name")) return false;
  job.attrs["checkpoint_name"] = name->second;
  if (auto t = a.find("checkpoint_time"); t != a.end()) job.attrs["checkpoint_time"] = t->second;
  return true;
}

wire::Response Server::mom_register(Conn& c, const wire::Request& req) {
  if (c.uid != 0)
    return error_response(kErrPermission, "Unauthorized Request (a mom must run as root; the credential is of uid " + std::to_string(c.uid) + ")");
  // Over TCP the (bound) credential names the mom's node: a mom may only register as that node.
  if (!c.local && c.claimed_node != req.node())
    return error_response(kErrPermission, "Unauthorized Request (the credential names node '" + c.claimed_node + "', not " + req.node() + ")");
  // Our proof below answers the mom's own challenge: a nonce it chose for this connection.
  if (!valid_nonce(req.arg()))
    return error_response(kErrPermission, "Unauthorized Request (the registration carries no valid nonce for the server's proof)");
  auto it = st_.nodes.find(req.node());
  if (it == st_.nodes.end())
    return error_response(kErrUnknownNode, "Unknown node " + req.node() + " (add it with qmgr -c 'create node " + req.node() + "')");
  Node& node = it->second;
  if (node.mom_fd >= 0 && node.mom_fd != c.fd) {
    auto old = conns_.find(node.mom_fd);
    if (old != conns_.end()) old->second.is_mom = false;  // superseded; its close must not mark the node down
  }
  c.is_mom = true;
  c.node = node.name;
  node.mom_fd = c.fd;
  node.last_heard = now_seconds();
  node.stale_jobs.clear();  // the report below says which are still there
  node.mom_status.clear();
  for (const auto& [k, v] : req.status()) node.mom_status[k] = v;
  log_line("node " + node.name + " is up (mom registered, " + std::to_string(req.jobs_size()) + " jobs reported)");
  // The first command on the connection proves to the mom that this is the server: a MUNGE
  // credential of root naming the node, bound to this connection and to the mom's nonce (so
  // a proof obtained on another connection convinces no mom). The mom obeys nothing before it.
  wire::MomCommand ok;
  ok.set_op("registered");
  std::string cred, error;
  Binding proof = connection_binding(c.fd, false, "server", req.arg(), node.name);
  if (munge_make_credential(binding_payload(proof), cred, error)) ok.set_arg(cred);
  else log_line("cannot prove ourselves to the mom of " + node.name + ": " + error);
  send_to_mom(node.name, ok);

  std::map<std::string, const wire::JobReport*> reported;
  for (const auto& rep : req.jobs()) reported[rep.id()] = &rep;
  // Jobs the server believes run there.
  for (auto& [seq, job] : st_.jobs) {
    if (job.state() != 'R' || job.first_node() != node.name) continue;
    auto r = reported.find(job.id);
    if (r != reported.end() && !same_run(job, *r->second)) r = reported.end();
    if (r == reported.end()) {
      if (!job.attr("_deleting").empty()) complete(job, 271, "Job deleted");
      else job_lost(job, "its mom on " + node.name + " restarted without it");
      continue;
    }
    if (r->second->finished()) {
      job_finished(job, *r->second);
      continue;
    }
    bool changed = take_checkpoint_report(job, *r->second);
    if (r->second->session_id() && job.attr("session_id") != std::to_string(r->second->session_id())) {
      job.attrs["session_id"] = std::to_string(r->second->session_id());
      changed = true;
    }
    if (changed) save(job);
  }
  // Jobs the mom has that the server does not run there: finished ones are acknowledged
  // below; running ones are stopped.
  for (const auto& rep : req.jobs()) {
    if (!rep.finished() && !ours(find_job(rep.id()), node.name, rep)) {
      log_line("node " + node.name + " still runs a stale copy of job " + rep.id() + "; killing it");
      node.stale_jobs.insert(rep.id());
      wire::MomCommand kill;
      kill.set_op("delete");
      kill.set_id(rep.id());
      kill.set_arg("0");
      send_to_mom(node.name, kill);
    }
  }
  for (const auto& rep : req.jobs())
    if (rep.finished()) {
      wire::MomCommand ack;
      ack.set_op("ack_obit");
      ack.set_id(rep.id());
      send_to_mom(node.name, ack);
    }
  sched_wanted_ = true;
  return {};
}

void Server::mom_message(Conn& c, const wire::Request& req) {
  if (req.op() == "mom_register") {
    wire::Response resp = mom_register(c, req);
    if (resp.code() != 0) {
      log_line("mom registration refused: peer " + (c.local ? std::string("unix socket") : c.peer) +
               ", node " + req.node() + ", user " + c.user + ": " + resp.error());
      replies_.push_back({c.fd, encode_frame(resp), false, "mom_register"});
      c.close_after_flush = true;
    }
    return;
  }
  if (!c.is_mom) {
    replies_.push_back({c.fd, encode_frame(error_response(kErrPermission, "Unauthorized Request (mom not registered)")), false, "mom"});
    c.close_after_flush = true;
    return;
  }
  auto node = st_.nodes.find(c.node);
  if (node == st_.nodes.end()) {  // deleted with qmgr while its mom was connected
    c.close_after_flush = true;
    return;
  }
  node->second.last_heard = now_seconds();
  if (req.op() == "mom_status") {
    // The whole status each time: a key the mom no longer reports (message=) goes.
    bool was_down = node->second.mom_says_down();
    node->second.mom_status.clear();
    for (const auto& [k, v] : req.status()) node->second.mom_status[k] = v;
    if (was_down != node->second.mom_says_down()) {
      log_line("node " + c.node + (was_down ? " is up again: its health check passes"
                                            : " is down: " + attr_or(node->second.mom_status, "message", "its mom says so")));
      sched_wanted_ = true;
    }
    // resources_used.* of the jobs running there, while they run.
    for (const auto& rep : req.jobs()) {
      Job* job = find_job(rep.id());
      if (rep.finished() || !ours(job, c.node, rep) || job->state() != 'R') continue;
      bool changed = false;
      for (const auto& [k, v] : mom_owned(*job, rep))
        if (starts_with(k, "resources_used.") && job->attrs[k] != v) {
          job->attrs[k] = v;
          changed = true;
        }
      if (changed) save(*job);
    }
    return;
  }
  for (const auto& rep : req.jobs()) {
    Job* job = find_job(rep.id());
    bool mine = ours(job, c.node, rep);
    if (req.op() == "mom_started") {
      if (mine && rep.session_id()) {
        job->attrs["session_id"] = std::to_string(rep.session_id());
        // Said at the start: output kept in PBS_HOME/undelivered (src/mom/job_output.h).
        Attrs a = mom_owned(*job, rep);
        if (a.count("comment")) job->attrs["comment"] = a.at("comment");
        save(*job);
      }
    } else if (req.op() == "mom_checkpointed") {
      if (mine) job_checkpointed(*job, rep);
    } else if (req.op() == "mom_obit") {
      if (mine) job_finished(*job, rep);
      if (node->second.stale_jobs.erase(rep.id())) sched_wanted_ = true;
      wire::MomCommand ack;
      ack.set_op("ack_obit");
      ack.set_id(rep.id());
      send_to_mom(c.node, ack);
    }
  }
}

void Server::send_checkpoint(Job& job, const std::string& reason) {
  wire::MomCommand cmd;
  cmd.set_op("checkpoint");
  cmd.set_id(job.id);
  cmd.set_arg(reason);
  send_to_mom(job.first_node(), cmd);
}

void Server::job_checkpointed(Job& job, const wire::JobReport& rep) {
  if (auto e = rep.attrs().find("checkpoint_error"); e != rep.attrs().end()) {
    std::string line = e->second.substr(0, 4096);  // a program's message: one printable line
    for (char& ch : line)
      if (static_cast<unsigned char>(ch) < 32 || ch == 127) ch = ' ';
    job.attrs["comment"] = line;
  } else {
    Attrs a = mom_owned(job, rep);
    if (a.count("checkpoint_name")) job.attrs["checkpoint_name"] = a.at("checkpoint_name");
    if (a.count("checkpoint_time")) job.attrs["checkpoint_time"] = a.at("checkpoint_time");
  }
  save(job);
}

void Server::job_finished(Job& job, const wire::JobReport& rep) {
  Attrs reported = mom_owned(job, rep);
  for (const auto& [k, v] : reported) job.attrs[k] = v;
  bool held = job.attrs.erase("reprise_held") > 0;
  bool shutdown = job.attrs.erase("reprise_requeue") > 0;
  if (held || shutdown) {
    // Checkpointed and stopped (qhold, or pbs_mom shutting down): the job
    // waits with its image, held or queued, and restarts from it when it runs.
    if (held && (job.attr("Hold_Types") == "n" || job.attr("Hold_Types").empty())) job.attrs["Hold_Types"] = "u";
    requeue(job, held ? "Job checkpointed and held" : "Job checkpointed at pbs_mom shutdown");
    return;
  }
  if (auto p = job.attrs.find("reprise_prologue"); p != job.attrs.end()) {
    // The prologue did not let the job start: a script an admin must fix holds it (system
    // hold), any other failure requeues it (TORQUE's rules; src/mom/prologue.h).
    bool hold = p->second == "hold";
    job.attrs.erase(p);
    std::string holds = job.attr("Hold_Types");
    if (hold && holds.find('s') == std::string::npos) job.attrs["Hold_Types"] = holds == "n" || holds.empty() ? "s" : holds + "s";
    requeue(job, reported.count("comment") ? reported.at("comment") : "Job requeued: prologue failed");
    return;
  }
  if (!job.attr("_rerun").empty()) {
    requeue(job, "Job rerun");
    return;
  }
  std::string comment = job.attr("_deleting").empty() ? "" : "Job deleted";
  if (reported.count("comment")) comment = reported.at("comment");
  if (starts_with(comment, "Job aborted: ")) account_aborted(opts_.home, job, comment.substr(13));
  complete(job, rep.exit_status(), comment);
}

}  // namespace reprise::server
