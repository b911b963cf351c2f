#include "mom/health_check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <strings.h>

#include "common/log.h"
#include "common/text_util.h"
#include "mom/prologue.h"

namespace reprise::mom {

namespace {

std::string value_of(const MomConfig& config, const char* key) {
  auto it = config.values.find(key);
  return it == config.values.end() ? std::string() : trim(it->second);
}

constexpr size_t kMaxOutput = 64 * 1024;  // what a check may print; the rest is ignored

}  // namespace

HealthCheckConfig health_check_config(const MomConfig& config, std::vector<std::string>& warnings) {
  HealthCheckConfig c;
  c.script = value_of(config, "node_check_script");
  if (!c.script.empty() && c.script[0] != '/') {
    warnings.push_back("$node_check_script " + c.script + " is not an absolute path; no health check runs");
    c.script.clear();
  }
  std::string interval = value_of(config, "node_check_interval");
  if (!interval.empty()) {
    for (const std::string& raw : split(interval, ',')) {
      std::string part = trim(raw);
      long n = 0;
      if (part == "jobstart") c.at_job_start = true;
      else if (part == "jobend") c.at_job_end = true;
      else if (parse_int(part, n) && n >= 0) c.every = n;  // 0: only at job start/end
      else
        warnings.push_back("$node_check_interval " + interval + ": '" + part +
                           "' is neither a count nor jobstart/jobend (using " + std::to_string(c.every) + ")");
    }
  }
  if (std::string t = value_of(config, "node_check_timeout"); !t.empty()) {
    long n = 0;
    if (parse_int(t, n) && n > 0) c.timeout = n;
    else warnings.push_back("$node_check_timeout " + t + " is not a positive number of seconds (using 60)");
  }
  if (std::string d = value_of(config, "down_on_error"); !d.empty()) {
    bool b = true;
    if (parse_bool(d, b)) c.down_on_error = b;
    else warnings.push_back("$down_on_error " + d + " is not a boolean (using true)");
  }
  return c;
}

std::string health_verdict(const std::string& output) {
  for (const std::string& raw : split(output, '\n')) {
    std::string line = trim(raw);
    if (line.size() >= 5 && ::strncasecmp(line.c_str(), "ERROR", 5) == 0) {
      std::replace(line.begin(), line.end(), ',', ' ');
      return line;
    }
  }
  return "";
}

void HealthCheck::start(long now) {
  if (!enabled() || pid_ > 0) return;
  if (std::string refusal = pelog_refusal(config_.script, Pelog::kPrologue); !refusal.empty()) {
    conclude("ERROR node_check_script refused: " + refusal + " (make it root-owned  mode 755 or stricter)");
    return;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    conclude(std::string("ERROR node_check_script cannot run: pipe: ") + std::strerror(errno));
    return;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    conclude(std::string("ERROR node_check_script cannot run: fork: ") + std::strerror(errno));
    return;
  }
  if (pid == 0) {
    ::setsid();  // its own process group: a timeout kills everything it started
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);  // the mom blocks signals for its signalfd
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(fds[1], 1);
    ::dup2(null, 2);
    if (::chdir("/") != 0) _exit(126);
    const char* env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/",
                         "USER=root", nullptr};
    const char* argv[] = {config_.script.c_str(), nullptr};
    ::execve(config_.script.c_str(), const_cast<char* const*>(argv), const_cast<char* const*>(env));
    _exit(127);
  }
  ::close(fds[1]);
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  pid_ = pid;
  out_fd_ = fds[0];
  started_ = now;
  output_.clear();
}

bool HealthCheck::poll(long now) {
  if (pid_ <= 0) return false;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n > 0) {
      if (output_.size() < kMaxOutput) output_.append(buf, size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EAGAIN (still running) or end of output
  }
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) {
    if (now - started_ < config_.timeout) return false;
    kill_running();
    return conclude("ERROR node_check_script timed out after " + std::to_string(config_.timeout) +
                    " s ($node_check_timeout)");
  }
  // Ended: what it wrote before exiting is in the pipe (or already read).
  for (ssize_t n; (n = ::read(out_fd_, buf, sizeof buf)) > 0;)
    if (output_.size() < kMaxOutput) output_.append(buf, size_t(n));
  ::close(out_fd_);
  out_fd_ = -1;
  pid_ = -1;
  if (r > 0 && WIFEXITED(status) && (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127))
    return conclude("ERROR node_check_script could not be executed (exit " + std::to_string(WEXITSTATUS(status)) +
                    ")");
  // TORQUE judges the output only: the exit status of a script that ran does not matter.
  return conclude(health_verdict(output_));
}

bool HealthCheck::run_now() {
  if (!enabled()) return false;
  bool changed = false;
  if (pid_ <= 0) start(now_seconds());
  while (pid_ > 0) {
    changed = poll(now_seconds()) || changed;
    if (pid_ > 0) ::usleep(20 * 1000);
  }
  return changed;
}

bool HealthCheck::conclude(const std::string& verdict) {
  if (verdict == message_) return false;
  log_line(verdict.empty() ? "node health check: healthy again (was: " + message_ + ")"
                           : "node health check: " + verdict + (config_.down_on_error ? "; the node is down" : ""));
  message_ = verdict;
  return true;
}

void HealthCheck::kill_running() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  if (out_fd_ >= 0) ::close(out_fd_);
  out_fd_ = -1;
  pid_ = -1;
}

HealthCheck::~HealthCheck() { kill_running(); }

}  // namespace reprise::mom
