#include "mom/job_launch.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/job_env.h"
#include "common/log.h"
#include "common/resources.h"
#include "common/text_util.h"
#include "mom/checkpoint.h"
#include "mom/job_limits.h"

namespace reprise::mom {

bool resolve_owner(const JobRecord& job, Owner& owner, std::string& error) {
  passwd pw{}, *res = nullptr;
  char buf[4096];
  std::string user = job.attr("euser");
  if (getpwnam_r(user.c_str(), &pw, buf, sizeof buf, &res) != 0 || !res) {
    error = "user " + user + " does not exist on this node";
    return false;
  }
  if (pw.pw_uid == 0) {
    error = "refusing to run a job as root";
    return false;
  }
  owner = {pw.pw_name, pw.pw_dir, pw.pw_shell && *pw.pw_shell ? pw.pw_shell : "/bin/sh", pw.pw_uid, pw.pw_gid};
  return true;
}

JobCommand job_command(const std::string& home, const JobRecord& job, const Owner& owner, const MomConfig& config) {
  std::string shell = job.attr("Shell_Path_List").empty() ? owner.shell : job.attr("Shell_Path_List");
  std::string login_name = "-" + shell.substr(shell.rfind('/') + 1);  // a login shell, as TORQUE starts jobs
  if (parse_checkpoint_policy(job.attr("Checkpoint")).enabled) {
    // A job with an image restarts from it; otherwise it starts under
    // $checkpoint_run_exe so that it can be checkpointed.
    std::vector<std::string> restart = restart_command(home, config, job, owner);
    if (!restart.empty()) return {restart, restart[0], true};
    std::vector<std::string> run = checkpointable_command(config, shell);
    return {run, run[0], false};
  }
  return {{shell}, login_name, false};
}

bool become_owner(const Owner& owner) {
  return ::initgroups(owner.name.c_str(), owner.gid) == 0 && ::setgid(owner.gid) == 0 && ::setuid(owner.uid) == 0 &&
         ::getuid() != 0 && ::geteuid() != 0;
}

std::string local_path(const std::string& host_path) {
  auto colon = host_path.find(':');
  if (colon != std::string::npos && host_path.find('/') > colon) return host_path.substr(colon + 1);
  return host_path;
}

namespace {

[[noreturn]] void fail(const std::string& message) {
  std::string line = "=>> PBS: " + message + "\n";
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
  _exit(254);
}

// In the job's process: become the owner and exec the shell. Never returns.
// What the job's process takes on before exec: its cgroup and rlimits (job_limits.h).
struct Confinement {
  std::vector<std::string> cgroup_procs;
  JobLimits limits;
  uint64_t rlimit_as = 0;
};

[[noreturn]] void exec_job(const std::string& script_path, const Owner& owner, const JobRecord& job,
                           const JobCommand& command, const std::vector<std::string>& env,
                           const Confinement& confine) {
  ::setsid();
  for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int script = ::open(script_path.c_str(), O_RDONLY);
  if (script < 0) _exit(254);
  ::dup2(script, 0);
  ::close(script);
  // Joined as root, before anything runs as the owner; every process of the job inherits it.
  if (!join_cgroup(confine.cgroup_procs)) _exit(254);
  if (!apply_rlimits(confine.limits, confine.rlimit_as)) _exit(254);
  if (!become_owner(owner)) _exit(254);
  std::string workdir = job.attr("init_work_dir");
  if (workdir.empty())
    for (const auto& [k, v] : decode_variable_list(job.attr("Variable_List")))
      if (k == "PBS_O_WORKDIR") workdir = v;
  // TORQUE starts batch jobs in the home directory; -d (init_work_dir) overrides it.
  std::string start_dir = job.attr("init_work_dir").empty() ? owner.home : workdir;
  if (::chdir(start_dir.c_str()) != 0 && ::chdir(owner.home.c_str()) != 0) ::chdir("/");
  ::umask(077);
  std::string join = job.attr("Join_Path");
  std::string out = local_path(job.attr("Output_Path"));
  std::string err = local_path(job.attr("Error_Path"));
  // A job restarting from an image continues its output files; cr_restart
  // cuts them back to their size at the checkpoint.
  int flags = O_WRONLY | O_CREAT | (command.restart ? O_APPEND : O_TRUNC);
  int ofd = -1, efd = -1;
  if (join == "oe") {
    ofd = efd = ::open(out.c_str(), flags, 0600);
  } else if (join == "eo") {
    ofd = efd = ::open(err.c_str(), flags, 0600);
  } else {
    ofd = ::open(out.c_str(), flags, 0600);
    efd = ::open(err.c_str(), flags, 0600);
  }
  if (ofd < 0 || efd < 0) _exit(254);
  ::dup2(ofd, 1);
  ::dup2(efd, 2);
  if (ofd > 2) ::close(ofd);
  if (efd > 2 && efd != ofd) ::close(efd);
  std::vector<std::string> args = command.argv;
  args[0] = command.argv0;
  for (std::string& a : args)
    if (a == "%SESSION%") a = std::to_string(::getpid());  // we are the session leader
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  exec_program(command.argv[0], args, envp.data());
  fail("cannot execute " + command.argv[0] + ": " + std::strerror(errno));
}

// The supervisor: waits for the job and records how it ended. Never returns.
[[noreturn]] void supervise(int report_fd, const std::string& jobs_dir, const std::string& script_path,
                            const Owner& owner, const JobRecord& job,
                            const JobCommand& command, const std::vector<std::string>& env,
                            const Confinement& confine) {
  ::setsid();
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2}) ::signal(s, SIG_IGN);
  ::signal(SIGCHLD, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(report_fd);
    exec_job(script_path, owner, job, command, env, confine);
  }
  ssize_t ignored = ::write(report_fd, &child, sizeof child);
  (void)ignored;
  ::close(report_fd);
  int status = 0;
  rusage ru{};
  while (::wait4(child, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 256 + WTERMSIG(status) : -1;
  long cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec;
  std::string text = std::to_string(code) + " " + std::to_string(cpu) + " " + std::to_string(ru.ru_maxrss) + "\n";
  std::string error;
  write_file_atomic(record_path(jobs_dir, job.id, ".EX"), text, 0600, error, false);
  _exit(0);
}

}  // namespace

bool launch_job(const std::string& home, const MomConfig& config, JobRecord& job, std::string& error) {
  Owner owner;
  if (!resolve_owner(job, owner, error)) return false;
  std::string jobs_dir = mom_priv_dir(home) + "/jobs";
  std::string script_path = record_path(jobs_dir, job.id, ".SC");
  // The script is the job's stdin; its owner must be able to open it again
  // when the job restarts from an image (as that user).
  if (::chown(script_path.c_str(), owner.uid, owner.gid) != 0 || ::chmod(script_path.c_str(), 0400) != 0) {
    error = "cannot give the job script to " + owner.name + ": " + std::strerror(errno);
    return false;
  }

  // PBS_NODEFILE: one line per slot of exec_host.
  std::string nodefile = home + "/aux/" + job.id;
  std::string nodes;
  int num_nodes = 0, slots = 0;
  std::string last;
  for (const std::string& slot : split(job.attr("exec_host"), '+')) {
    std::string host = slot.substr(0, slot.find('/'));
    if (host.empty()) continue;
    nodes += host + "\n";
    ++slots;
    if (host != last) ++num_nodes;
    last = host;
  }
  if (!write_file_atomic(nodefile, nodes, 0644, error, false)) return false;

  JobExecContext ctx;
  ctx.job_id = job.id;
  ctx.user = owner.name;
  ctx.home = owner.home;
  ctx.shell = owner.shell;
  ctx.nodefile = nodefile;
  ctx.server_name = job.attr("server_name");
  ctx.num_nodes = std::max(1, num_nodes);
  ctx.ppn = std::max(1, slots / ctx.num_nodes);
  ctx.walltime_seconds = job.walltime_limit;
  std::vector<std::string> env = build_job_environment(job.attrs, ctx);
  JobCommand command = job_command(home, job, owner, config);
  // The job's cgroup (memory, cpuset, accounting) exists before the job does.
  Confinement confine;
  JobCgroup cgroup;
  confine.limits = job_limits(job);
  if (!prepare_job_cgroup(home, config.node_name, job, cgroup, confine.rlimit_as, error)) {
    cgroup.remove();
    return false;
  }
  confine.cgroup_procs = cgroup.procs_files();
  if (command.restart) log_line("job " + job.id + " restarts from its image: " + join(command.argv, " "));

  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  pid_t sup = ::fork();
  if (sup < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    ::close(p[0]);
    ::close(p[1]);
    return false;
  }
  if (sup == 0) {
    // Keep only the report pipe (as fd 3): the supervisor must not hold the mom's sockets.
    ::dup2(p[1], 3);
    ::syscall(SYS_close_range, 4u, ~0u, 0u);
    supervise(3, jobs_dir, script_path, owner, job, command, env, confine);
  }
  ::close(p[1]);
  pid_t session = 0;
  ssize_t n;
  while ((n = ::read(p[0], &session, sizeof session)) < 0 && errno == EINTR) {
  }
  ::close(p[0]);
  job.supervisor = sup;
  job.supervisor_start = process_start_time(sup);
  job.session = n == sizeof session ? session : 0;
  return true;
}

}  // namespace reprise::mom
