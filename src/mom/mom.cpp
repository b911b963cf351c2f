#include "mom/mom.h"

#include <dirent.h>
#include <pwd.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common/auth_binding.h"
#include "common/log.h"
#include "common/munge_auth.h"
#include "common/names.h"
#include "common/net.h"
#include "common/resources.h"
#include "common/text_util.h"
#include "mom/job_launch.h"
#include "mom/job_limits.h"
#include "mom/node_status.h"
#include "mom/mom_directives.h"
#include "mom/owner_process.h"
#include "mom/prologue.h"

namespace reprise::mom {

static int pidfd_open(pid_t pid) { return int(::syscall(SYS_pidfd_open, pid, 0)); }

int Mom::run() {
  ::mkdir((home_ + "/mom_logs").c_str(), 0750);
  if (!foreground_) {
    log_open(home_ + "/mom_logs/mom.log");
    daemonize_with_readiness();
  }
  std::string error;
  if (!setup(error)) daemon_failed("pbs_mom: " + error);
  write_file_atomic(mom_priv_dir(home_) + "/mom.lock", std::to_string(::getpid()) + "\n", 0644, error);
  log_line("pbs_mom started: node " + config_.node_name + ", server " + config_.server_host + ":" +
           std::to_string(config_.server_port) + ", " + std::to_string(jobs_.size()) + " jobs recovered");
  log_line("resource limits: " + node_cgroups().describe());
  {
    std::set<std::string> known;
    for (const auto& [id, job] : jobs_) known.insert(id);
    remove_stale_cgroups(node_cgroups(), cgroup_parent(home_), known);
  }
  for (const std::string& w : config_.warnings) log_line("warning: " + w);
  daemon_ready();
  loop();
  log_line("pbs_mom stopping; running jobs keep running under their supervisors");
  return 0;
}

bool Mom::setup(std::string& error) {
  if (::geteuid() != 0) {
    error = "must be run as root (jobs run as their owners)";
    return false;
  }
  std::string text;
  std::string cfg_path = mom_priv_dir(home_) + "/config";
  read_file(cfg_path, text);  // a missing config means all defaults
  if (!parse_mom_config(text, config_, error)) return false;
  health_.configure(health_check_config(config_, config_.warnings));
  health_.start(now_seconds());  // its first verdict goes with the registration when it is in by then
  jobs_dir_ = mom_priv_dir(home_) + "/jobs";
  ::mkdir(mom_priv_dir(home_).c_str(), 0751);
  ::mkdir(jobs_dir_.c_str(), 0751);
  ::mkdir((home_ + "/aux").c_str(), 0755);
  // Output a job's owner could not write where asked is kept here, made by the owner
  // (src/mom/job_output.h): like /tmp, anyone creates, nobody removes another's file.
  if (std::string ud = home_ + "/undelivered"; ::mkdir(ud.c_str(), 01777) == 0) ::chmod(ud.c_str(), 01777);
  // PBS_HOME/checkpoint holds one directory per job, made by root and given to the owner.
  // Nobody else may create entries in it: job ids are predictable, and an entry planted
  // under the next id would make that job's checkpoints fail (older homes had it 1777).
  std::string ck = home_ + "/checkpoint";
  ::mkdir(ck.c_str(), 0755);
  struct stat ck_st{};
  if (::lstat(ck.c_str(), &ck_st) == 0 && S_ISDIR(ck_st.st_mode) && ck_st.st_uid == 0 && (ck_st.st_mode & 022)) {
    ::chmod(ck.c_str(), 0755);
    log_line(ck + " was writable by others; it is now 0755");
  }

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  sig_fd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  itimerspec its{{1, 0}, {1, 0}};
  timerfd_settime(timer_fd_, 0, &its, nullptr);
  for (int fd : {sig_fd_, timer_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }

  // Recover jobs from a previous run.
  if (DIR* d = ::opendir(jobs_dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() < 4 || name.substr(name.size() - 3) != ".JB") continue;
      JobRecord r;
      if (!load_record(jobs_dir_ + "/" + name, r)) {
        log_line("ignoring unreadable job record " + name);
        continue;
      }
      jobs_[r.id] = r;
    }
    ::closedir(d);
  }
  for (auto& [id, job] : jobs_) {
    if (job.finished) continue;
    // A checkpoint may have completed (or may still be running) while no mom was there.
    recover_checkpoint(job, false);
    if (job.supervisor && process_start_time(job.supervisor) == job.supervisor_start) {
      watch(job);
    } else if (read_exit_file(jobs_dir_, job)) {
      finish(job, job.exit_status, "");
    } else {
      finish(job, -3, "job lost: its supervisor ended without recording an exit status");
    }
  }
  return true;
}

void Mom::watch(JobRecord& job) {
  int fd = pidfd_open(job.supervisor);
  if (fd < 0) {
    supervisor_exited(job.id);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  pidfds_[fd] = job.id;
}

void Mom::loop() {
  epoll_event events[64];
  try_connect();
  while (!stop_) {
    int n = epoll_wait(epfd_, events, 64, 1000);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == sig_fd_) {
        signalfd_siginfo si;
        while (::read(sig_fd_, &si, sizeof si) == sizeof si)
          if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) stop_ = true;
        // SIGCHLD: supervisors are reaped when their pidfd fires.
      } else if (fd == timer_fd_) {
        uint64_t ticks;
        ssize_t ignored = ::read(timer_fd_, &ticks, sizeof ticks);
        (void)ignored;
        tick();
      } else if (fd == server_fd_) {
        read_server();
      } else if (auto it = pidfds_.find(fd); it != pidfds_.end()) {
        std::string id = it->second;
        epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        pidfds_.erase(it);
        supervisor_exited(id);
      } else if (auto ck = checkpoint_pidfds_.find(fd); ck != checkpoint_pidfds_.end()) {
        checkpoint_ended(std::string(ck->second));
      }
    }
  }
  wait_for_checkpoints();
  // Jobs submitted with -c shutdown are checkpointed and stopped; they are
  // requeued, and restart from their images when they run again.
  shutdown_checkpoints();
}

std::map<std::string, std::string> Mom::node_status() const {
  std::vector<std::string> running;
  for (const auto& [id, job] : jobs_)
    if (!job.finished) running.push_back(id);
  auto status = read_node_status(running, home_);
  if (!health_.message().empty()) status["message"] = health_.message();
  if (health_.down()) status["state"] = "down";
  return status;
}

wire::JobReport Mom::report(const JobRecord& job) const {
  wire::JobReport r;
  r.set_id(job.id);
  r.set_finished(job.finished);
  r.set_exit_status(job.exit_status);
  r.set_session_id(job.session);
  for (const auto& [k, v] : job.used) (*r.mutable_attrs())[k] = v;
  // Which run of the job this is: the server ignores reports about an earlier run.
  if (!job.attr("start_count").empty()) (*r.mutable_attrs())["_start_count"] = job.attr("start_count");
  return r;
}

// Connects and asks for the server's challenge; the registration follows when the nonce
// arrives (read_server), so its credential is bound to this connection.
void Mom::try_connect() {
  next_connect_ = now_seconds() + 1;
  std::string error;
  int fd = connect_tcp(config_.server_host, config_.server_port, error);
  if (fd < 0) return;
  wire::Request challenge;
  challenge.set_version(kProtocolVersion);
  challenge.set_op("challenge");
  if (!send_message(fd, challenge, error)) {
    ::close(fd);
    return;
  }
  server_fd_ = fd;
  awaiting_challenge_ = true;
  connected_at_ = last_status_ = now_seconds();
  reader_ = FrameReader();
  set_nonblocking(fd);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  log_line("connected to server " + config_.server_host + ":" + std::to_string(config_.server_port));
}

void Mom::send_registration(const std::string& server_nonce) {
  std::string cred, error;
  my_nonce_ = fresh_nonce();
  Binding b = connection_binding(server_fd_, true, "mom", server_nonce, config_.node_name);
  if (my_nonce_.empty() || !munge_make_credential(binding_payload(b), cred, error)) {
    log_line("cannot register: " + (my_nonce_.empty() ? std::string("no randomness for a nonce") : error));
    disconnect("cannot register");
    return;
  }
  wire::Request reg;
  reg.set_version(kProtocolVersion);
  reg.set_op("mom_register");
  reg.set_credential(cred);
  reg.set_node(config_.node_name);
  reg.set_arg(my_nonce_);  // the server's proof must answer it
  for (const auto& [k, v] : node_status()) (*reg.mutable_status())[k] = v;
  for (auto& [id, job] : jobs_) {
    *reg.add_jobs() = report(job);
    if (job.finished) job.obit_sent = now_seconds();
  }
  send(reg);
}

bool Mom::server_credential_ok(const std::string& cred, std::string& why) const {
  MungeCheck m = munge_check(cred);
  if (!m.ok) {
    why = m.reason + " [munge: " + m.munge_error + "]";
    return false;
  }
  if (m.uid != 0) {
    why = "its credential is of uid " + std::to_string(m.uid) + ", not root";
    return false;
  }
  // Made on this connection for our nonce and our node: a proof the server gave someone
  // else (a fake mom on its own connection) names another nonce and other addresses.
  Binding got;
  std::string reason, detail;
  if (!binding_matches(m.payload, connection_binding(server_fd_, true, "server", my_nonce_, config_.node_name), got,
                       reason, detail)) {
    why = reason + " [binding: " + detail + "]";
    return false;
  }
  return true;
}

void Mom::disconnect(const std::string& why) {
  server_trusted_ = false;
  awaiting_challenge_ = false;
  my_nonce_.clear();
  untrusted_.clear();
  if (server_fd_ < 0) return;
  log_line("lost the server connection: " + why);
  epoll_ctl(epfd_, EPOLL_CTL_DEL, server_fd_, nullptr);
  ::close(server_fd_);
  server_fd_ = -1;
  next_connect_ = now_seconds() + 1;
}

void Mom::send(const wire::Request& req) {
  if (server_fd_ < 0) return;
  // Before the challenge is answered nothing else may go first; before the server has
  // proved itself it learns nothing more than the registration. What is dropped is said
  // again: obits are re-sent, checkpoints and sessions travel in the next registration.
  if (awaiting_challenge_ || (!server_trusted_ && req.op() != "mom_register")) return;
  std::string error;
  // The socket is non-blocking for reads; writes are small, so briefly block for them.
  int flags = fcntl(server_fd_, F_GETFL);
  fcntl(server_fd_, F_SETFL, flags & ~O_NONBLOCK);
  bool ok = send_message(server_fd_, req, error);
  fcntl(server_fd_, F_SETFL, flags);
  if (!ok) disconnect(error);
}

void Mom::read_server() {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(server_fd_, buf, sizeof buf);
    if (n > 0) {
      reader_.feed(buf, size_t(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    int saved = errno;
    // A refusal (a Response) arrives together with the close: log it before disconnecting.
    std::string frame, error;
    while (reader_.next(frame, error) == FrameReader::kFrame) {
      wire::Response resp;
      if (resp.ParseFromString(frame) && resp.code() != 0 && !resp.error().empty())
        log_line("server refused us: " + resp.error());
    }
    disconnect(n == 0 ? "server closed the connection" : std::strerror(saved));
    return;
  }
  std::string frame, error;
  for (;;) {
    auto r = reader_.next(frame, error);
    if (r == FrameReader::kNeedMore) break;
    if (r == FrameReader::kError) {
      disconnect(error);
      return;
    }
    if (awaiting_challenge_) {
      // The server's first answer is its challenge (or a refusal).
      wire::Response resp;
      if (!resp.ParseFromString(frame) || resp.code() != 0 || !valid_nonce(resp.text())) {
        log_line("server refused us: " + (resp.error().empty() ? "no valid challenge in its first answer" : resp.error()));
        disconnect("no challenge from the server");
        return;
      }
      awaiting_challenge_ = false;
      send_registration(resp.text());
      if (server_fd_ < 0) return;
      continue;
    }
    wire::MomCommand cmd;
    if (!cmd.ParseFromString(frame)) {
      // The server refuses a registration with a Response; it parses as garbage here.
      wire::Response resp;
      if (resp.ParseFromString(frame) && !resp.error().empty()) log_line("server refused us: " + resp.error());
      disconnect("unexpected message from server");
      return;
    }
    if (cmd.op().empty()) {
      wire::Response resp;
      if (resp.ParseFromString(frame) && !resp.error().empty()) log_line("server refused us: " + resp.error());
      continue;
    }
    if (!server_trusted_) {
      // Nothing is obeyed until the server has proved itself ("registered" with its credential).
      if (cmd.op() != "registered") {
        if (untrusted_.size() >= 10000) {
          disconnect("the server sent 10000 commands without proving itself");
          return;
        }
        untrusted_.push_back(cmd);
        continue;
      }
      std::string why;
      if (!server_credential_ok(cmd.arg(), why)) {
        log_line("refusing commands from " + config_.server_host + ":" + std::to_string(config_.server_port) +
                 ": " + why);
        disconnect("the server did not prove itself");
        return;
      }
      server_trusted_ = true;
      std::vector<wire::MomCommand> held;
      held.swap(untrusted_);
      handle(cmd);
      for (const auto& c : held)
        if (server_fd_ >= 0) handle(c);
      if (server_fd_ < 0) return;
      continue;
    }
    handle(cmd);
    if (server_fd_ < 0) return;
  }
}

void Mom::handle(const wire::MomCommand& cmd) {
  // Job ids become file names here (mom_priv/jobs/ID.JB, aux/ID, ID.CK): whoever sent it, an
  // id that is not SEQ[.INDEX].SERVER is refused before anything touches a path.
  if (cmd.op() != "registered" && !valid_job_id(cmd.id())) {
    log_line("ignoring '" + cmd.op() + "' for an invalid job id (" + std::to_string(cmd.id().size()) + " bytes)");
    return;
  }
  if (cmd.op() == "run") {
    start_job(cmd);
    return;
  }
  if (cmd.op() == "registered") {
    reconciled_ = true;
    return;
  }
  auto it = jobs_.find(cmd.id());
  if (cmd.op() == "ack_obit") {
    if (it != jobs_.end() && it->second.finished) {
      remove_record(jobs_dir_, cmd.id());
      ::unlink((home_ + "/aux/" + cmd.id()).c_str());
      jobs_.erase(it);
    }
    return;
  }
  if (it == jobs_.end()) {
    if (cmd.op() == "delete") {
      // The server thinks the job runs here but we have nothing: tell it the job is gone.
      JobRecord gone;
      gone.id = cmd.id();
      gone.finished = true;
      gone.exit_status = 271;
      wire::Request obit;
      obit.set_version(kProtocolVersion);
      obit.set_op("mom_obit");
      *obit.add_jobs() = report(gone);
      send(obit);
    }
    return;
  }
  JobRecord& job = it->second;
  if (job.finished) return;
  if (cmd.op() == "checkpoint") {
    // "requeue": qterm -t immediate|delay, checkpointed and stopped like at pbs_mom shutdown.
    checkpoint(job, cmd.arg() == "hold"      ? CheckpointReason::kHold
                    : cmd.arg() == "requeue" ? CheckpointReason::kShutdown
                                             : CheckpointReason::kRequest);
    return;
  }
  if (cmd.op() == "message") {
    auto stream = cmd.attrs().find("stream");
    std::string s = stream == cmd.attrs().end() ? "E" : stream->second;
    if (s.find('O') != std::string::npos) append_to_job_file(job, 'O', cmd.arg());
    // -O and -E with a joined file: one line, not two.
    bool joined = job.attr("Join_Path") == "oe" || job.attr("Join_Path") == "eo";
    if (s.find('E') != std::string::npos && !(joined && s.find('O') != std::string::npos))
      append_to_job_file(job, 'E', cmd.arg());
    return;
  }
  if (cmd.op() == "signal") {
    long sig = 0;
    if (parse_int(cmd.arg(), sig)) kill_session(job, int(sig));
  } else if (cmd.op() == "delete") {
    long delay = 2;
    parse_int(cmd.arg(), delay);
    abandon_checkpoint(job, "the job was deleted");
    kill_session(job, SIGTERM);
    job.kill_deadline = now_seconds() + std::max(0L, delay);
    if (delay <= 0) kill_session(job, SIGKILL);
    std::string error;
    save_record(jobs_dir_, job, error);
  }
}

void Mom::kill_session(const JobRecord& job, int sig) {
  if (job.session > 1) ::kill(-job.session, sig);
}

void Mom::start_job(const wire::MomCommand& cmd) {
  if (auto old = jobs_.find(cmd.id()); old != jobs_.end()) {
    auto count = cmd.attrs().find("start_count");
    bool rerun = count != cmd.attrs().end() && count->second != old->second.attr("start_count");
    if (!rerun || !old->second.finished) return;  // a duplicate after a reconnect
    // The end of an earlier run that the server no longer needs to hear about.
    remove_record(jobs_dir_, old->first);
    jobs_.erase(old);
  }
  JobRecord job;
  job.id = cmd.id();
  for (const auto& [k, v] : cmd.attrs()) job.attrs[k] = v;
  job.start_time = now_seconds();
  long wall = 0;
  if (parse_duration(job.attr("Resource_List.walltime"), wall)) job.walltime_limit = wall;
  std::string error;
  // Record and script are on disk before the job exists, so a crash cannot orphan it.
  if (!write_file_atomic(record_path(jobs_dir_, job.id, ".SC"), cmd.script(), 0600, error, false) ||
      !save_record(jobs_dir_, job, error)) {
    jobs_[job.id] = job;
    finish(jobs_[job.id], -1, "mom cannot store the job: " + error);
    return;
  }
  if (health_.enabled() && health_.config().at_job_start) {
    // $node_check_interval ...,jobstart: the job waits for the check, as in TORQUE.
    if (health_.run_now() && server_fd_ >= 0) send_status();
    if (health_.down()) {
      jobs_[job.id] = job;
      // Handed back like a job whose prologue failed: the server requeues it (mom_link.cpp),
      // and the status just sent keeps it off this node.
      jobs_[job.id].used["reprise_prologue"] = "requeue";
      finish(jobs_[job.id], -1, "Job requeued: node health check failed at job start: " + health_.message());
      return;
    }
  }
  if (!launch_job(home_, config_, job, error)) {
    log_line("job " + job.id + " failed to start: " + error);
    jobs_[job.id] = job;
    finish(jobs_[job.id], -1, "Job failed to start: " + error);
    return;
  }
  save_record(jobs_dir_, job, error);
  jobs_[job.id] = job;
  log_line("job " + job.id + " started as " + job.attr("euser") + ", session " + std::to_string(job.session));
  watch(jobs_[job.id]);
  wire::Request started;
  started.set_version(kProtocolVersion);
  started.set_op("mom_started");
  *started.add_jobs() = report(jobs_[job.id]);
  send(started);
}

void Mom::supervisor_exited(const std::string& id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.finished) return;
  JobRecord& job = it->second;
  // The end is reported after the checkpoint's result (a hold's image names the restart).
  if (defer_end_for_checkpoint(id)) return;
  ::waitpid(job.supervisor, nullptr, WNOHANG);  // ours unless we were restarted
  if (!read_exit_file(jobs_dir_, job)) {
    finish(job, -3, "job lost: its supervisor ended without recording an exit status");
    return;
  }
  std::string verdict, why;
  if (read_prologue_failure(jobs_dir_, job.id, verdict, why)) {
    // The prologue stopped the job before it started (prologue.h): the server requeues,
    // holds or ends it.
    log_line("job " + job.id + ": " + why + "; the job is " +
             (verdict == "abort" ? "aborted" : verdict == "hold" ? "held" : "requeued"));
    if (verdict != "abort") job.used["reprise_prologue"] = verdict;
    finish(job, job.exit_status,
           (verdict == "abort" ? "Job aborted: " : verdict == "hold" ? "Job held: " : "Job requeued: ") + why);
    return;
  }
  finish(job, job.exit_status, "");
}

void Mom::finish(JobRecord& job, int exit_status, const std::string& comment) {
  // A hold checkpoint started by an earlier mom stops the job once its image is durable.
  if (checkpoints_in_flight_.count(job.id)) recover_checkpoint(job, false, true);
  job.finished = true;
  job.exit_status = exit_status;
  release_cgroup(job);
  long elapsed = job.start_time ? now_seconds() - job.start_time : 0;
  job.used["resources_used.walltime"] = format_duration(elapsed);
  if (!comment.empty()) job.used["comment"] = comment;
  std::string error;
  save_record(jobs_dir_, job, error);
  ::unlink(record_path(jobs_dir_, job.id, ".EX").c_str());
  ::unlink(record_path(jobs_dir_, job.id, ".PF").c_str());
  ::unlink(record_path(jobs_dir_, job.id, ".UD").c_str());
  if (std::string tmpdir = job_tmpdir(config_, job.id); !tmpdir.empty()) {
    Owner owner;
    if (resolve_owner(job, owner, error)) remove_job_tmpdir(tmpdir, owner);
  }
  log_line("job " + job.id + " ended, exit status " + std::to_string(exit_status));
  send_obit(job);
  if (health_.config().at_job_end) health_.start(now_seconds());
}

void Mom::send_obit(JobRecord& job) {
  job.obit_sent = now_seconds();
  wire::Request obit;
  obit.set_version(kProtocolVersion);
  obit.set_op("mom_obit");
  *obit.add_jobs() = report(job);
  send(obit);
}

void Mom::tick() {
  long now = now_seconds();
  if (server_fd_ < 0 && now >= next_connect_) try_connect();
  // Whoever accepted our connection and never proves to be the server does not keep us.
  if (server_fd_ >= 0 && !server_trusted_ && now - connected_at_ > 30) disconnect("the server did not prove itself within 30 s");
  // Not before the server has said which of our jobs are still ours: a stale copy of a
  // job that moved elsewhere must not write images next to the current run's.
  if (reconciled_) periodic_checkpoints(now);
  checkpoint_deadlines(now);
  for (const std::string& id : std::vector<std::string>(checkpoints_in_flight_.begin(), checkpoints_in_flight_.end())) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.finished) checkpoints_in_flight_.erase(id);
    else recover_checkpoint(it->second, true);
  }
  long interval = 45;  // TORQUE's default $status_update_time
  if (auto it = config_.values.find("status_update_time"); it != config_.values.end())
    parse_int(trim(it->second), interval);
  if (now - last_status_ >= std::max(1L, interval)) {
    // Periodic node status (load, memory), as TORQUE moms send it; the server takes a
    // node whose mom stays silent for node_check_rate seconds as down.
    last_status_ = now;
    ++status_intervals_;
    if (server_fd_ >= 0) send_status();
  }
  health_tick(now);
  for (auto& [id, job] : jobs_) {
    if (job.finished) {
      // Unacknowledged end of job: say it again (the server may have missed it).
      if (server_fd_ >= 0 && now - job.obit_sent >= 5) send_obit(job);
      continue;
    }
    if (job.walltime_limit > 0 && !job.kill_deadline && now - job.start_time > job.walltime_limit) {
      tell_job(job, "=>> PBS: job killed: walltime " + std::to_string(now - job.start_time) +
                        " exceeded limit " + std::to_string(job.walltime_limit));
      log_line("job " + id + " exceeded its walltime; killing it");
      abandon_checkpoint(job, "the job exceeded its walltime");
      kill_session(job, SIGTERM);
      job.kill_deadline = now + 2;
      std::string error;
      save_record(jobs_dir_, job, error);
    } else if (job.kill_deadline && now >= job.kill_deadline) {
      kill_session(job, SIGKILL);
      job_cgroup(home_, id).kill_all(SIGKILL);
    }
    if (!job.finished) update_usage(job, now);
  }
}

void Mom::send_status() {
  wire::Request status;
  status.set_version(kProtocolVersion);
  status.set_op("mom_status");
  for (const auto& [k, v] : node_status()) (*status.mutable_status())[k] = v;
  // With it, what each running job has used so far (resources_used.*).
  for (const auto& [id, job] : jobs_)
    if (!job.finished) *status.add_jobs() = report(job);
  send(status);
}

void Mom::health_tick(long now) {
  if (!health_.enabled()) return;
  long every = health_.config().every;
  if (every > 0 && status_intervals_ >= every) {
    status_intervals_ = 0;
    health_.start(now);
  }
  if (health_.poll(now) && server_fd_ >= 0) send_status();
}

void Mom::recover_checkpoint(JobRecord& job, bool report, bool now) {
  if (!parse_checkpoint_policy(job.attr("Checkpoint")).enabled) return;
  long pid = 0;
  if (parse_int(job.attr("_checkpoint_pid"), pid) && pid > 0) {
    unsigned long long start = std::strtoull(job.attr("_checkpoint_pid_start").c_str(), nullptr, 10);
    if (!now && start && process_start_time(pid_t(pid)) == start) {
      if (checkpoints_in_flight_.insert(job.id).second)
        log_line("job " + job.id + ": a checkpoint started before the mom restarted is still running (pid " +
                 std::to_string(pid) + "); waiting for it");
      return;
    }
  } else if (!now) {
    return;  // no checkpoint was running when the mom went away
  }
  checkpoints_in_flight_.erase(job.id);
  job.attrs.erase("_checkpoint_pid");
  job.attrs.erase("_checkpoint_pid_start");
  std::string error;
  Owner owner;
  std::string name;
  long mtime = 0;
  bool found = resolve_owner(job, owner, error) &&
               newest_image(owner, image_dir(home_, job), job.id, job.start_time, name, mtime);
  std::string current = job.attr("checkpoint_name");
  if (found && !current.empty() && name != current) {
    std::vector<std::string> both{current, name};
    sort_image_names(both, job.id);
    found = both.back() == name;
  }
  if (!found || name == current) {
    // The interrupted checkpoint left no image: a hold or shutdown it was for did not happen.
    if (!job.finished && !job.kill_deadline) {
      job.used.erase("reprise_held");
      job.used.erase("reprise_requeue");
    }
    save_record(jobs_dir_, job, error);
    return;
  }
  job.attrs["checkpoint_name"] = name;
  job.used["checkpoint_name"] = name;
  job.used["checkpoint_time"] = std::to_string(mtime);
  save_record(jobs_dir_, job, error);
  log_line("job " + job.id + ": image " + name + " was completed while no mom was watching; it is the job's checkpoint");
  if (!report) return;
  wire::Request msg;
  msg.set_version(kProtocolVersion);
  msg.set_op("mom_checkpointed");
  *msg.add_jobs() = this->report(job);
  send(msg);
}

void Mom::periodic_checkpoints(long now) {
  long default_minutes = 10;
  if (auto it = config_.values.find("checkpoint_interval"); it != config_.values.end())
    parse_int(trim(it->second), default_minutes);
  // $checkpoint_interval_unit: seconds per interval "minute" (60; tests shorten it).
  long unit = 60;
  if (auto it = config_.values.find("checkpoint_interval_unit"); it != config_.values.end())
    parse_int(trim(it->second), unit);
  for (auto& [id, job] : jobs_) {
    if (job.finished || job.kill_deadline) continue;
    CheckpointPolicy policy = parse_checkpoint_policy(job.attr("Checkpoint"));
    if (!policy.periodic) continue;
    long minutes = policy.interval_minutes > 0 ? policy.interval_minutes : default_minutes;
    long last = job.start_time;
    parse_int(job.attr("_last_checkpoint"), last);
    if (minutes > 0 && now - std::max(last, job.start_time) >= minutes * std::max(1L, unit))
      checkpoint(job, CheckpointReason::kPeriodic);
  }
}

}  // namespace reprise::mom
