#include "lib/pid_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace reprise::cr {
namespace {

constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH};

volatile pid_t g_forward_target = -1;

void ForwardHandler(int sig) {
  if (g_forward_target > 0) kill(g_forward_target, sig);
}

bool WriteFile(const char* path, const std::string& text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// A user namespace where we keep our own uid/gid, for callers who are not root.
bool EnterUserNamespace(std::string* error) {
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER) != 0) {
    *error = std::string("cannot create a user namespace: ") + strerror(errno);
    return false;
  }
  WriteFile("/proc/self/setgroups", "deny");
  if (!WriteFile("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1\n") ||
      !WriteFile("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1\n")) {
    *error = std::string("cannot map ids in the user namespace: ") + strerror(errno);
    return false;
  }
  return true;
}

[[noreturn]] void InitMain(const std::function<pid_t()>& start_root, int status_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  prctl(PR_SET_NAME, "reprise-init");
  // Our own /proc, so the program's pids match what it sees in /proc.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  pid_t root = start_root();
  if (root < 0) _exit(127);
  ForwardSignals(root);
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, __WALL);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) _exit(0);
    if (pid == root) {
      ssize_t ignored = write(status_fd, &status, sizeof status);
      (void)ignored;
      _exit(0);  // the kernel ends what is left in the namespace
    }
  }
}

}  // namespace

bool PidNamespaceRun::Start(const std::function<pid_t()>& start_root, std::string* error,
                            const std::function<bool(std::string*)>& prepare) {
  if (geteuid() != 0 && !EnterUserNamespace(error)) return false;
  if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) {
    *error = std::string("cannot create a pid namespace: ") + strerror(errno);
    return false;
  }
  if (prepare && !prepare(error)) return false;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + strerror(errno);
    return false;
  }
  init_pid_ = fork();
  if (init_pid_ < 0) {
    *error = std::string("fork: ") + strerror(errno);
    return false;
  }
  if (init_pid_ == 0) {
    close(fds[0]);
    InitMain(start_root, fds[1]);
  }
  close(fds[1]);
  status_read_fd_ = fds[0];
  return true;
}

int PidNamespaceRun::Wait() {
  ForwardSignals(init_pid_);
  int init_status = WaitFor(init_pid_);
  int root_status = 0;
  ssize_t n = read(status_read_fd_, &root_status, sizeof root_status);
  close(status_read_fd_);
  return n == sizeof root_status ? root_status : init_status;
}

void ForwardSignals(pid_t target) {
  g_forward_target = target;
  struct sigaction sa {};
  sa.sa_handler = ForwardHandler;
  sa.sa_flags = SA_RESTART;
  for (int sig : kForwarded) sigaction(sig, &sa, nullptr);
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, __WALL) < 0) {
    if (errno != EINTR) return W_EXITCODE(127, 0);
  }
  return status;
}

void ExitLike(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    struct rlimit no_core {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(sig);
    _exit(128 + sig);
  }
  _exit(WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 1);
}

}  // namespace reprise::cr
