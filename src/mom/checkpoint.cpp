#include "mom/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "common/log.h"
#include "common/names.h"
#include "common/text_util.h"
#include "mom/image_dir.h"
#include "mom/owner_process.h"

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

std::string program_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, size_t(n));
  return path.substr(0, path.rfind('/'));
}

std::string engine_tool(const std::string& name) {
  std::string beside = program_dir() + "/" + name;
  if (::access(beside.c_str(), X_OK) == 0) return beside;
  return program_dir() + "/../bin/" + name;
}

// `$checkpoint_external_sockets closed`: connections of a job to outside it
// (license servers) are checkpointed and come back closed, so the program
// reconnects; anything else (default `refuse`) makes such a checkpoint fail.
std::vector<std::string> external_sockets_flags(const MomConfig& config) {
  std::string value = config_value(config, "checkpoint_external_sockets");
  if (value == "closed") return {"--external-sockets=closed"};
  if (!value.empty() && value != "refuse")
    log_line("$checkpoint_external_sockets '" + value + "' is neither 'refuse' nor 'closed'; using 'refuse'");
  return {};
}

std::vector<std::string> rewritten_files_flags(const CheckpointPolicy& policy) {
  std::vector<std::string> flags;
  if (!policy.rewritten_files.empty()) flags.push_back("--rewritten-files=" + policy.rewritten_files);
  if (policy.rewritten_limit) flags.push_back("--rewritten-limit=" + std::to_string(policy.rewritten_limit));
  return flags;
}

std::vector<std::string> restart_clock_flags(const MomConfig& config) {
  if (config_value(config, "checkpoint_clock") == "host") return {"--clock=host"};
  return {};
}

bool start_checkpoint(const std::string& home, const MomConfig& config, const JobRecord& job,
                      CheckpointReason reason, StartedCheckpoint& c, std::string& error) {
  c = StartedCheckpoint();
  c.reason = reason;
  if (!resolve_owner(job, c.owner, error)) return false;
  c.dir = image_dir(home, job);
  if (!prepare_image_dir(home, job, c.owner, error)) return false;
  c.time = now_seconds();
  if (!new_image_name(c.owner, c.dir, job.id, c.time, c.name, error)) return false;
  bool stop = reason == CheckpointReason::kHold || reason == CheckpointReason::kShutdown;
  int signal_after = stop ? SIGKILL : 0;
  CheckpointPolicy policy = parse_checkpoint_policy(job.attr("Checkpoint"));
  c.depth = policy.depth;
  std::vector<std::string> argv;
  std::string script = config_value(config, "checkpoint_script");
  c.program = script.empty() ? "cr_checkpoint" : script;
  if (!script.empty()) {
    // The seed's argument list: session id, job id, user id, checkpoint dir,
    // checkpoint name, signal, depth.
    argv = {script, std::to_string(job.session), job.id, c.owner.name, c.dir, c.name, std::to_string(signal_after),
            std::to_string(policy.depth)};
  } else {
    argv = {engine_tool("cr_checkpoint"), "--tree", "--file", c.name};
    if (stop) argv.push_back("--kill");
    for (const std::string& flag : external_sockets_flags(config)) argv.push_back(flag);
    for (const std::string& flag : rewritten_files_flags(policy)) argv.push_back(flag);
    argv.push_back(std::to_string(job.session));
  }
  // The command's output goes to a file of the mom's (mom_priv/jobs/ID.CO), not a pipe: if
  // the mom dies meanwhile the checkpoint still completes, and the restarted mom finds it.
  c.log_path = record_path(mom_priv_dir(home) + "/jobs", job.id, ".CO");
  c.log_fd = ::open(c.log_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (c.log_fd < 0) {
    error = "cannot create " + c.log_path + ": " + std::strerror(errno);
    return false;
  }
  c.pid = start_program_as_owner(c.owner, c.dir, argv, c.log_fd);
  if (c.pid < 0) {
    error = std::string("cannot start the checkpoint command: ") + std::strerror(errno);
    ::close(c.log_fd);
    ::unlink(c.log_path.c_str());
    c.log_fd = -1;
    return false;
  }
  c.deadline = now_seconds() + kCheckpointTimeoutSeconds;
  return true;
}

CheckpointResult finish_checkpoint(StartedCheckpoint& c, const std::string& job_id, int code) {
  CheckpointResult r;
  r.dir = c.dir;
  r.name = c.name;
  r.time = c.time;
  std::string output;
  char buf[4096];
  ssize_t n;
  ::lseek(c.log_fd, 0, SEEK_SET);
  while ((n = ::read(c.log_fd, buf, sizeof buf)) > 0 && output.size() < 65536) output.append(buf, size_t(n));
  ::close(c.log_fd);
  c.log_fd = -1;
  ::unlink(c.log_path.c_str());
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  if (size_t nl = output.rfind('\n'); nl != std::string::npos) output = output.substr(nl + 1);
  if (code != 0 || !image_exists(c.owner, r.dir, r.name)) {
    r.error = "checkpoint failed (" + c.program + " exited " + std::to_string(code) + "): " + output;
    log_line("job " + job_id + ": " + r.error);
    return r;
  }
  prune_images(c.owner, r.dir, job_id, c.depth);
  r.ok = true;
  log_line("job " + job_id + " checkpointed to " + r.dir + "/" + r.name);
  return r;
}

std::vector<std::string> restart_command(const std::string& home, const MomConfig& config, const JobRecord& job,
                                         const Owner& owner) {
  std::string name = job.attr("checkpoint_name");
  if (name.empty() || !parse_checkpoint_policy(job.attr("Checkpoint")).enabled) return {};
  std::string dir = image_dir(home, job);
  if (!valid_file_name(name) || !image_exists(owner, dir, name)) {
    log_line("job " + job.id + ": image " + dir + "/" + name + " is missing; starting from the script");
    return {};
  }
  std::string script = config_value(config, "restart_script");
  // The seed's argument list: session id, job id, user id, checkpoint dir, restart name.
  if (!script.empty()) return {script, "%SESSION%", job.id, job.attr("euser"), dir, name};
  std::vector<std::string> argv{engine_tool("cr_restart")};
  for (const std::string& flag : external_sockets_flags(config)) argv.push_back(flag);
  for (const std::string& flag : restart_clock_flags(config)) argv.push_back(flag);
  argv.push_back(dir + "/" + name);
  return argv;
}

std::vector<std::string> checkpointable_command(const MomConfig& config, const std::string& shell) {
  std::string run_exe = config_value(config, "checkpoint_run_exe");
  if (run_exe.empty()) run_exe = engine_tool("cr_run");
  std::string base = shell.substr(shell.rfind('/') + 1);
  return {run_exe, "--argv0", "-" + base, shell};
}

}  // namespace reprise::mom
