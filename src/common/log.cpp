#include "common/log.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace reprise {

namespace {
int log_fd = 2;
int ready_fd = -1;
}  // namespace

void log_open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) log_fd = fd;
}

void log_line(const std::string& message) {
  char stamp[32];
  time_t t = time(nullptr);
  tm tmv{};
  localtime_r(&t, &tmv);
  std::strftime(stamp, sizeof stamp, "%m/%d/%Y %H:%M:%S", &tmv);
  std::string line = std::string(stamp) + ";" + message + "\n";
  ssize_t ignored = ::write(log_fd, line.data(), line.size());
  (void)ignored;
}

void daemonize_with_readiness() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return;
  pid_t pid = ::fork();
  if (pid < 0) return;
  if (pid > 0) {
    ::close(p[1]);
    std::string msg;
    char buf[512];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) msg.append(buf, size_t(n));
    if (msg == "ok") std::_Exit(0);
    if (msg.empty()) msg = "daemon exited during startup\n";
    std::fputs(msg.c_str(), stderr);
    std::_Exit(1);
  }
  ::close(p[0]);
  ready_fd = p[1];
  ::setsid();
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);  // the log has its own descriptor; keep no caller's pipe open
    if (devnull > 2) ::close(devnull);
  }
}

void daemon_ready() {
  if (ready_fd < 0) return;
  ssize_t ignored = ::write(ready_fd, "ok", 2);
  (void)ignored;
  ::close(ready_fd);
  ready_fd = -1;
}

void daemon_failed(const std::string& message) {
  log_line(message);
  std::string line = message + "\n";
  if (ready_fd >= 0) {
    ssize_t ignored = ::write(ready_fd, line.data(), line.size());
    (void)ignored;
  } else {
    std::fputs(line.c_str(), stderr);
  }
  std::exit(1);
}

}  // namespace reprise
