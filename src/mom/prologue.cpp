#include "mom/prologue.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/resources.h"
#include "common/text_util.h"

namespace reprise::mom {

const char* pelog_file_name(Pelog which) {
  switch (which) {
    case Pelog::kPrologue: return "prologue";
    case Pelog::kPrologueUser: return "prologue.user";
    case Pelog::kProloguePar: return "prologue.parallel";
    case Pelog::kEpilogue: return "epilogue";
    case Pelog::kEpilogueUser: return "epilogue.user";
    case Pelog::kEpiloguePar: return "epilogue.parallel";
  }
  return "?";
}

static bool is_user_script(Pelog which) { return which == Pelog::kPrologueUser || which == Pelog::kEpilogueUser; }
static bool is_epilogue(Pelog which) {
  return which == Pelog::kEpilogue || which == Pelog::kEpilogueUser || which == Pelog::kEpiloguePar;
}

PelogJob pelog_job(const JobRecord& job, const Owner& owner) {
  PelogJob p;
  p.id = job.id;
  p.user = owner.name;
  if (group* g = ::getgrgid(owner.gid)) p.group = g->gr_name;
  else p.group = std::to_string(owner.gid);
  p.name = job.attr("Job_Name");
  // TORQUE's "resource limits" argument: name=value,... of the job's Resource_List.
  std::string limits;
  for (const auto& [k, v] : job.attrs)
    if (starts_with(k, "Resource_List.")) limits += (limits.empty() ? "" : ",") + k.substr(14) + "=" + v;
  p.limits = limits;
  p.queue = job.attr("queue");
  p.account = job.attr("Account_Name");
  p.session = std::to_string(job.session);
  return p;
}

std::string pelog_refusal(const std::string& path, Pelog which) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return path + " is not a regular file";
  if (st.st_uid != 0) return path + " is not owned by root";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return path + " is writable by group or others";
  if (!(st.st_mode & S_IXUSR)) return path + " is not executable";
  if (is_user_script(which) && (st.st_mode & (S_IROTH | S_IXOTH)) != (S_IROTH | S_IXOTH))
    return path + " must be readable and executable by others (it runs as the job's owner)";
  return "";
}

long prolog_alarm(const MomConfig& config) {
  long s = 300;
  if (auto it = config.values.find("prologalarm"); it != config.values.end()) {
    long v;
    if (parse_int(it->second, v) && v > 0) s = v;
  }
  return s;
}

PelogOutcome run_pelog(const std::string& home, Pelog which, const PelogJob& job, const Owner& owner, int out_fd,
                       int err_fd, long alarm_seconds) {
  PelogOutcome o;
  std::string path = mom_priv_dir(home) + "/" + pelog_file_name(which);
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) return o;
  o.ran = true;
  if (std::string refusal = pelog_refusal(path, which); !refusal.empty()) {
    o.code = kPelogPermission;
    o.why = std::string(pelog_file_name(which)) + " refused: " + refusal +
            " (make it root-owned, mode 755 or stricter)";
    return o;
  }
  std::vector<std::string> args{path, job.id, job.user, job.group, job.name};
  if (is_epilogue(which)) {
    args.insert(args.end(), {job.session, job.limits, job.used, job.queue, job.account,
                             std::to_string(job.exit_status)});
  } else {
    args.insert(args.end(), {job.limits, job.queue, job.account});
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    o.code = kPelogCannotRun;
    o.why = std::string(pelog_file_name(which)) + ": fork: " + std::strerror(errno);
    return o;
  }
  if (pid == 0) {
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(out_fd >= 0 ? out_fd : null, 1);
    ::dup2(err_fd >= 0 ? err_fd : null, 2);
    if (null > 2) ::close(null);
    if (is_user_script(which) && !become_owner(owner)) _exit(126);
    if (::chdir(is_user_script(which) ? owner.home.c_str() : "/") != 0 && ::chdir("/") != 0) _exit(126);
    std::vector<std::string> env{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                 "PBS_JOBID=" + job.id, "PBS_HOME=" + home,
                                 "HOME=" + std::string(is_user_script(which) ? owner.home : "/"),
                                 "USER=" + std::string(is_user_script(which) ? owner.name : "root")};
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    ::execve(path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  // Wait with a deadline: poll every 50 ms (the supervisor has nothing else to do).
  timespec start{};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      o.code = kPelogCannotRun;
      o.why = std::string(pelog_file_name(which)) + ": wait: " + std::strerror(errno);
      return o;
    }
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= alarm_seconds) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      o.code = kPelogTimeout;
      o.why = std::string(pelog_file_name(which)) + " timed out after " + std::to_string(alarm_seconds) +
              " s ($prologalarm)";
      return o;
    }
    ::usleep(50 * 1000);
  }
  if (WIFEXITED(status)) o.code = WEXITSTATUS(status);
  else o.code = 128 + WTERMSIG(status);
  if (o.code == 127 || o.code == 126) {
    o.why = std::string(pelog_file_name(which)) + " could not be executed (exit " + std::to_string(o.code) + ")";
  } else if (o.code != 0) {
    o.why = std::string(pelog_file_name(which)) + " exited " + std::to_string(o.code);
  }
  return o;
}

PrologueVerdict prologue_verdict(const PelogOutcome& o) {
  if (!o.ran || o.code == 0) return PrologueVerdict::kRun;
  if (o.code == 1) return PrologueVerdict::kAbort;
  if (o.code == kPelogPermission || o.code == kPelogCannotRun || o.code == 126 || o.code == 127)
    return PrologueVerdict::kHold;
  return PrologueVerdict::kRequeue;
}

bool write_prologue_failure(const std::string& jobs_dir, const std::string& id, PrologueVerdict v,
                            const std::string& why) {
  const char* word = v == PrologueVerdict::kAbort ? "abort" : v == PrologueVerdict::kHold ? "hold" : "requeue";
  std::string error;
  return write_file_atomic(record_path(jobs_dir, id, ".PF"), std::string(word) + " " + why + "\n", 0600, error, false);
}

bool read_prologue_failure(const std::string& jobs_dir, const std::string& id, std::string& verdict,
                           std::string& why) {
  std::string text;
  if (!read_file(record_path(jobs_dir, id, ".PF"), text)) return false;
  text = trim(text);
  auto sp = text.find(' ');
  verdict = text.substr(0, sp);
  why = sp == std::string::npos ? "" : text.substr(sp + 1);
  return verdict == "abort" || verdict == "hold" || verdict == "requeue";
}

}  // namespace reprise::mom
