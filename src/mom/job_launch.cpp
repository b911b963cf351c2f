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
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/directives.h"
#include "common/job_env.h"
#include "common/log.h"
#include "common/resources.h"
#include "common/text_util.h"
#include "mom/checkpoint.h"
#include "mom/job_limits.h"
#include "mom/job_output.h"
#include "mom/mom_directives.h"
#include "mom/prologue.h"

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
  // -W group_list=G (the server set egroup): the job's group, if this node agrees that the
  // owner is a member of it.
  std::string wanted = job.attr("group_list").empty() ? "" : job.attr("egroup");
  if (!wanted.empty()) {
    struct group gr{}, *gres = nullptr;
    char gbuf[8192];
    if (getgrnam_r(wanted.c_str(), &gr, gbuf, sizeof gbuf, &gres) != 0 || !gres) {
      error = "group " + wanted + " does not exist on this node";
      return false;
    }
    int n = 256;
    std::vector<gid_t> gids(static_cast<size_t>(n));
    bool member = gres->gr_gid == pw.pw_gid;
    if (!member && getgrouplist(owner.name.c_str(), pw.pw_gid, gids.data(), &n) >= 0)
      member = std::find(gids.begin(), gids.begin() + n, gres->gr_gid) != gids.begin() + n;
    if (!member || gres->gr_gid == 0) {
      error = "user " + owner.name + " is not a member of group " + wanted + " on this node";
      return false;
    }
    owner.gid = gres->gr_gid;
  }
  return true;
}

namespace {

bool job_umask(const JobRecord& job, mode_t& mask) {
  const std::string v = job.attr("umask");
  if (v.empty() || v.size() > 4 || v.find_first_not_of("01234567") != std::string::npos) return false;
  mask = mode_t(std::stoul(v, nullptr, 8)) & 0777;
  return true;
}

// The job's output files: created with its -W umask, else the mom's setting.
mode_t job_output_umask(const JobRecord& job, mode_t fallback) {
  mode_t mask = fallback;
  job_umask(job, mask);
  return mask;
}

}  // namespace

JobCommand job_command(const std::string& home, const JobRecord& job, const Owner& owner, const MomConfig& config) {
  std::string shell = job.attr("Shell_Path_List").empty() ? owner.shell : job.attr("Shell_Path_List");
  std::string login_name = "-" + shell.substr(shell.rfind('/') + 1);  // a login shell, as TORQUE starts jobs
  // -F: the shell reads the script from stdin (-s) and gets the arguments as $1... ("--" first,
  // so that an argument such as -x is not taken as a shell option; csh has no "--").
  std::vector<std::string> args;
  std::string why;
  if (!job.attr("job_arguments").empty() && split_words(job.attr("job_arguments"), args, why) && !args.empty()) {
    bool csh = shell.ends_with("csh");
    args.insert(args.begin(), "-s");
    if (!csh) args.insert(args.begin() + 1, "--");
  }
  if (parse_checkpoint_policy(job.attr("Checkpoint")).enabled) {
    // A job with an image restarts from it; otherwise it starts under
    // $checkpoint_run_exe so that it can be checkpointed.
    std::vector<std::string> restart = restart_command(home, config, job, owner);
    if (!restart.empty()) return {restart, restart[0], true};
    std::vector<std::string> run = checkpointable_command(config, shell);
    run.insert(run.end(), args.begin(), args.end());
    return {run, run[0], false};
  }
  std::vector<std::string> argv{shell};
  argv.insert(argv.end(), args.begin(), args.end());
  return {argv, login_name, false};
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

// What the job's process takes on before exec: its cgroup and rlimits (job_limits.h).
struct Confinement {
  std::vector<std::string> cgroup_procs;
  JobLimits limits;
  uint64_t rlimit_as = 0;
};

// In the job's process: become the owner and exec the shell. Never returns.
[[noreturn]] void exec_job(const std::string& script_path, const Owner& owner, const JobRecord& job,
                           const JobCommand& command, const std::vector<std::string>& env, int go_fd, int ofd,
                           int efd, const Confinement& confine) {
  ::setsid();
  // Wait for the supervisor's go: the prologue runs first (prologue.h).
  char go = 0;
  while (::read(go_fd, &go, 1) < 0 && errno == EINTR) {
  }
  if (go != 'g') _exit(254);
  ::close(go_fd);
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
  mode_t mask = 077;
  job_umask(job, mask);  // -W umask=
  ::umask(mask);
  if (ofd < 0 || efd < 0) fail("cannot open the output files as " + owner.name);
  ::dup2(ofd, 1);
  ::dup2(efd, 2);
  if (ofd > 2) ::close(ofd);
  if (efd > 2 && efd != ofd) ::close(efd);
  (void)job;
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

// The supervisor: runs the prologues, lets the job go, waits for it, runs the epilogues and
// records how it ended. Never returns.
[[noreturn]] void supervise(int report_fd, const std::string& home, const std::string& jobs_dir,
                            const std::string& script_path, const Owner& owner, const JobRecord& job,
                            const JobCommand& command, const std::vector<std::string>& env,
                            const SupervisorSettings& settings, const Confinement& confine) {
  ::setsid();
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2}) ::signal(s, SIG_IGN);
  ::signal(SIGCHLD, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // The prologue's and epilogue's output land there too, around the job's. A job restarting
  // from an image continues its files (cr_restart cuts them back to their size at the checkpoint).
  JobOutputs outputs = open_job_outputs(home, owner, job, command.restart, settings.output_path, settings.error_path,
                                        job_output_umask(job, settings.output_umask));
  int ofd = outputs.out, efd = outputs.err;
  if (outputs.moved) {
    // Read by the mom once it has the job's pid (launch_job): the comment, the files used.
    std::string error;
    write_file_atomic(record_path(jobs_dir, job.id, ".UD"), encode_output_note(outputs), 0600, error, false);
  }
  int go[2];
  if (::pipe2(go, O_CLOEXEC) != 0) _exit(1);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(report_fd);
    ::close(go[1]);
    exec_job(script_path, owner, job, command, env, go[0], ofd, efd, confine);
  }
  ::close(go[0]);
  ssize_t ignored = ::write(report_fd, &child, sizeof child);
  (void)ignored;
  ::close(report_fd);

  // The site's prologues (not when the job restarts from an image: it already ran them).
  PelogJob pj = pelog_job(job, owner);
  PrologueVerdict verdict = PrologueVerdict::kRun;
  std::string why;
  if (!command.restart) {
    for (Pelog which : {Pelog::kPrologue, Pelog::kPrologueUser}) {
      PelogOutcome o = run_pelog(home, which, pj, owner, ofd, efd, settings.prolog_alarm);
      verdict = prologue_verdict(o);
      if (verdict != PrologueVerdict::kRun) {
        why = o.why;
        break;
      }
    }
  }
  if (verdict != PrologueVerdict::kRun) {
    ::close(go[1]);  // the job never starts
    ::kill(child, SIGKILL);
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    std::string error;
    write_prologue_failure(jobs_dir, job.id, verdict, why);
    write_file_atomic(record_path(jobs_dir, job.id, ".EX"), "-1 0 0\n", 0600, error, false);
    _exit(0);
  }
  ignored = ::write(go[1], "g", 1);
  ::close(go[1]);
  timespec started{};
  ::clock_gettime(CLOCK_MONOTONIC, &started);
  int status = 0;
  rusage ru{};
  while (::wait4(child, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 256 + WTERMSIG(status) : -1;
  long cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec;
  timespec ended{};
  ::clock_gettime(CLOCK_MONOTONIC, &ended);
  pj.exit_status = code;
  pj.session = std::to_string(child);
  pj.used = "cput=" + format_duration(cpu) + ",mem=" + std::to_string(ru.ru_maxrss) + "kb,vmem=" +
            std::to_string(ru.ru_maxrss) + "kb,walltime=" + format_duration(ended.tv_sec - started.tv_sec);
  // Epilogues: their failure is logged by TORQUE and changes nothing about the job.
  for (Pelog which : {Pelog::kEpilogueUser, Pelog::kEpilogue}) {
    PelogOutcome o = run_pelog(home, which, pj, owner, ofd, efd, settings.prolog_alarm);
    if (o.code != 0) {
      std::string line = "=>> PBS: " + o.why + "\n";
      if (efd >= 0) ignored = ::write(efd, line.data(), line.size());
    }
  }
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
  SupervisorSettings settings = supervisor_settings(config);
  settings.output_path = output_path_on_node(config, job.attr("Output_Path"));
  settings.error_path = output_path_on_node(config, job.attr("Error_Path"));
  // $tmpdir: a private TMPDIR per job, removed when the job ends (Mom::finish).
  std::string tmpdir = job_tmpdir(config, job.id);
  if (!tmpdir.empty()) {
    if (!create_job_tmpdir(tmpdir, owner, error)) return false;
    std::erase_if(env, [](const std::string& e) { return starts_with(e, "TMPDIR="); });
    env.push_back("TMPDIR=" + tmpdir);
  }
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

  ::unlink(record_path(jobs_dir, job.id, ".UD").c_str());  // from an earlier run
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
    supervise(3, home, jobs_dir, script_path, owner, job, command, env, settings, confine);
  }
  ::close(p[1]);
  pid_t session = 0;
  ssize_t n;
  while ((n = ::read(p[0], &session, sizeof session)) < 0 && errno == EINTR) {
  }
  ::close(p[0]);
  // Output the owner cannot write where asked is kept in PBS_HOME/undelivered: the comment says where.
  std::string note;
  if (read_file(record_path(jobs_dir, job.id, ".UD"), note)) {
    apply_output_note(note, job);
    if (job.used.count("comment")) log_line("job " + job.id + ": " + job.used.at("comment"));
  }
  job.supervisor = sup;
  job.supervisor_start = process_start_time(sup);
  job.session = n == sizeof session ? session : 0;
  return true;
}

}  // namespace reprise::mom
