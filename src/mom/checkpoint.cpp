#include "mom/checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "common/log.h"
#include "common/text_util.h"

namespace reprise::mom {
namespace {

constexpr long kCheckpointTimeoutSeconds = 600;

std::string config_value(const MomConfig& config, const std::string& key) {
  auto it = config.values.find(key);
  return it == config.values.end() ? std::string() : trim(it->second);
}

}  // namespace

void exec_program(const std::string& path, const std::vector<std::string>& argv, char* const* envp) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execve(path.c_str(), args.data(), envp);
  if (errno != EACCES) return;
  int saved = errno;
  std::string first_line;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[256];
    if (std::fgets(buf, sizeof buf, f)) first_line = buf;
    std::fclose(f);
  }
  if (!starts_with(first_line, "#!")) {
    errno = saved;
    return;
  }
  std::vector<std::string> words = split(trim(first_line.substr(2)), ' ');
  std::vector<std::string> full;
  for (const auto& w : words)
    if (!w.empty()) full.push_back(w);
  if (full.empty()) {
    errno = saved;
    return;
  }
  full.push_back(path);
  full.insert(full.end(), argv.begin() + 1, argv.end());
  std::vector<char*> interp;
  for (const auto& a : full) interp.push_back(const_cast<char*>(a.c_str()));
  interp.push_back(nullptr);
  ::execve(interp[0], interp.data(), envp);
  errno = saved;
}

namespace {

// Runs argv as the job's owner in `dir`; returns its exit status (or -1) and
// the last line it printed, for the job's comment when it fails.
int run_as_owner(const Owner& owner, const std::string& dir, const std::vector<std::string>& argv,
                 std::string& output) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    output = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    output = std::string("fork: ") + std::strerror(errno);
    ::close(p[0]);
    ::close(p[1]);
    return -1;
  }
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::dup2(p[1], 2);
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!become_owner(owner)) _exit(126);
    if (::chdir(dir.c_str()) != 0) _exit(126);
    exec_program(argv[0], argv, environ);
    std::string msg = "cannot execute " + argv[0] + ": " + std::strerror(errno) + "\n";
    ssize_t ignored = ::write(2, msg.data(), msg.size());
    (void)ignored;
    _exit(127);
  }
  ::close(p[1]);
  long deadline = now_seconds() + kCheckpointTimeoutSeconds;
  char buf[4096];
  for (;;) {
    pollfd pf{p[0], POLLIN, 0};
    int r = ::poll(&pf, 1, 1000);
    if (r > 0) {
      ssize_t n = ::read(p[0], buf, sizeof buf);
      if (n <= 0) break;
      output.append(buf, size_t(n));
      if (output.size() > 65536) output.erase(0, output.size() - 65536);
    } else if (r < 0 && errno != EINTR) {
      break;
    }
    if (now_seconds() > deadline) {
      ::kill(pid, SIGKILL);
      output += "timed out";
      break;
    }
  }
  ::close(p[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  if (size_t nl = output.rfind('\n'); nl != std::string::npos) output = output.substr(nl + 1);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The job's image directory, made (owned by the job's owner, 0700) if needed.
bool make_image_dir(const std::string& dir, const Owner& owner, std::string& error) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    error = "cannot create checkpoint directory " + dir + ": " + std::strerror(errno);
    return false;
  }
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    error = "checkpoint directory " + dir + " is not a directory";
    return false;
  }
  if (st.st_uid != owner.uid && (::chown(dir.c_str(), owner.uid, owner.gid) != 0 || ::chmod(dir.c_str(), 0700) != 0)) {
    error = "cannot give checkpoint directory " + dir + " to " + owner.name + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

std::vector<std::string> image_names(const std::string& dir, const std::string& job_id) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    std::string prefix = "ckpt." + job_id + ".";
    while (dirent* e = ::readdir(d))
      if (starts_with(e->d_name, prefix)) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  // ckpt.JOBID.UNIXTIME.N: order by the number after the job id.
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return std::strtoll(a.c_str() + 5 + job_id.size() + 1, nullptr, 10) <
           std::strtoll(b.c_str() + 5 + job_id.size() + 1, nullptr, 10);
  });
  return names;
}

}  // namespace

std::string program_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, size_t(n));
  return path.substr(0, path.rfind('/'));
}

std::string image_dir(const std::string& home, const JobRecord& job) {
  std::string base = job.attr("checkpoint_dir");
  if (base.empty()) base = parse_checkpoint_policy(job.attr("Checkpoint")).dir;
  if (base.empty()) base = home + "/checkpoint";
  return base + "/" + job.id + ".CK";
}

void prune_images(const std::string& dir, const std::string& job_id, long depth) {
  if (depth <= 0) return;
  std::vector<std::string> names = image_names(dir, job_id);
  for (size_t i = 0; i + size_t(depth) < names.size(); ++i) ::unlink((dir + "/" + names[i]).c_str());
}

CheckpointResult checkpoint_job(const std::string& home, const MomConfig& config, const JobRecord& job,
                                CheckpointReason reason) {
  CheckpointResult r;
  Owner owner;
  if (!resolve_owner(job, owner, r.error)) return r;
  r.dir = image_dir(home, job);
  if (!make_image_dir(r.dir, owner, r.error)) return r;
  r.time = now_seconds();
  // ckpt.JOBID.TIME, with a counter if two land in the same second.
  r.name = "ckpt." + job.id + "." + std::to_string(r.time);
  for (int k = 1; ::access((r.dir + "/" + r.name).c_str(), F_OK) == 0; ++k)
    r.name = "ckpt." + job.id + "." + std::to_string(r.time) + std::to_string(k);
  bool stop = reason == CheckpointReason::kHold || reason == CheckpointReason::kShutdown;
  int signal_after = stop ? SIGKILL : 0;
  CheckpointPolicy policy = parse_checkpoint_policy(job.attr("Checkpoint"));
  std::vector<std::string> argv;
  std::string script = config_value(config, "checkpoint_script");
  if (!script.empty()) {
    // The seed's argument list: session id, job id, user id, checkpoint dir,
    // checkpoint name, signal, depth.
    argv = {script, std::to_string(job.session), job.id, owner.name, r.dir, r.name, std::to_string(signal_after),
            std::to_string(policy.depth)};
  } else {
    argv = {program_dir() + "/cr_checkpoint", "--tree", "--file", r.name};
    if (stop) argv.push_back("--kill");
    argv.push_back(std::to_string(job.session));
  }
  std::string output;
  int code = run_as_owner(owner, r.dir, argv, output);
  if (code != 0 || ::access((r.dir + "/" + r.name).c_str(), F_OK) != 0) {
    r.error = "checkpoint failed (" + std::string(script.empty() ? "cr_checkpoint" : script) + " exited " +
              std::to_string(code) + "): " + output;
    log_line("job " + job.id + ": " + r.error);
    return r;
  }
  prune_images(r.dir, job.id, policy.depth);
  r.ok = true;
  log_line("job " + job.id + " checkpointed to " + r.dir + "/" + r.name);
  return r;
}

std::vector<std::string> restart_command(const std::string& home, const MomConfig& config, const JobRecord& job) {
  std::string name = job.attr("checkpoint_name");
  if (name.empty() || !parse_checkpoint_policy(job.attr("Checkpoint")).enabled) return {};
  std::string dir = image_dir(home, job);
  if (::access((dir + "/" + name).c_str(), F_OK) != 0) {
    log_line("job " + job.id + ": image " + dir + "/" + name + " is missing; starting from the script");
    return {};
  }
  std::string script = config_value(config, "restart_script");
  // The seed's argument list: session id, job id, user id, checkpoint dir, restart name.
  if (!script.empty()) return {script, "%SESSION%", job.id, job.attr("euser"), dir, name};
  return {program_dir() + "/cr_restart", dir + "/" + name};
}

std::vector<std::string> checkpointable_command(const MomConfig& config, const std::string& shell) {
  std::string run_exe = config_value(config, "checkpoint_run_exe");
  if (run_exe.empty()) run_exe = program_dir() + "/cr_run";
  std::string base = shell.substr(shell.rfind('/') + 1);
  return {run_exe, "--argv0", "-" + base, shell};
}

}  // namespace reprise::mom
