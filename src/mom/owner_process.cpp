#include "mom/owner_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/text_util.h"
#include "mom/checkpoint.h"

namespace reprise::mom {

namespace {

constexpr size_t kMaxOutput = 64 * 1024;

void reset_signals() {
  for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int as_owner(const Owner& owner, const std::function<int(std::string& out)>& fn, std::string& out) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return -1;
  }
  if (pid == 0) {
    ::close(p[0]);
    reset_signals();
    if (!become_owner(owner)) _exit(126);
    std::string result;
    int rc = fn(result);
    if (result.size() > kMaxOutput) result.resize(kMaxOutput);
    for (size_t done = 0; done < result.size();) {
      ssize_t w = ::write(p[1], result.data() + done, result.size() - done);
      if (w <= 0) break;
      done += size_t(w);
    }
    _exit(rc < 0 || rc > 125 ? 125 : rc);
  }
  ::close(p[1]);
  out.clear();
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < kMaxOutput) out.append(buf, size_t(n));
  }
  ::close(p[0]);
  return wait_status(pid);
}

pid_t start_program_as_owner(const Owner& owner, const std::string& dir, const std::vector<std::string>& argv,
                             int log_fd) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) ::dup2(null, 0);
    reset_signals();
    ::setsid();  // not in the mom's process group: a signal to the mom does not reach it
    if (!become_owner(owner)) _exit(126);
    if (::chdir(dir.c_str()) != 0) {
      std::string msg = "cannot enter " + dir + ": " + std::strerror(errno) + "\n";
      ssize_t ignored = ::write(2, msg.data(), msg.size());
      (void)ignored;
      _exit(126);
    }
    exec_program(argv[0], argv, environ);
    std::string msg = "cannot execute " + argv[0] + ": " + std::strerror(errno) + "\n";
    ssize_t ignored = ::write(2, msg.data(), msg.size());
    (void)ignored;
    _exit(127);
  }
  return pid;
}

int exit_code_of(pid_t pid) { return wait_status(pid); }

int run_program_as_owner(const Owner& owner, const std::string& dir, const std::vector<std::string>& argv,
                         int log_fd, long timeout_seconds, const std::function<void(pid_t)>& started) {
  pid_t pid = start_program_as_owner(owner, dir, argv, log_fd);
  if (pid < 0) return -1;
  if (started) started(pid);
  int pidfd = int(::syscall(SYS_pidfd_open, pid, 0));
  long deadline = now_seconds() + timeout_seconds;
  while (pidfd >= 0) {
    pollfd pf{pidfd, POLLIN, 0};
    int r = ::poll(&pf, 1, 1000);
    if (r > 0 || (r < 0 && errno != EINTR)) break;
    if (now_seconds() > deadline) {
      ::kill(pid, SIGKILL);
      break;
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  return wait_status(pid);
}

}  // namespace reprise::mom
