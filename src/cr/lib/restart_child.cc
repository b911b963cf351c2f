#include "lib/restart_child.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <set>

#include "lib/restore_events.h"
#include "restorer/restore_plan.h"

namespace reprise::cr {
namespace {

class Child {
 public:
  explicit Child(const ChildSetup& s) : s_(s), status_fd_(s.status_fd_inherited) {}

  [[noreturn]] void Fail(int code, const std::string& message) { ReportChildFailure(status_fd_, code, message); }

  void BecomeOwner() {
    if (geteuid() != 0 || s_.uid == 0) return;
    if (const passwd* pw = getpwuid(s_.uid)) initgroups(pw->pw_name, s_.gid);
    else setgroups(0, nullptr);
    if (setgid(s_.gid) != 0 || setuid(s_.uid) != 0)
      Fail(errno, std::string("cannot become the image's owner: ") + strerror(errno));
  }

  // Sources are all numbered above every target, so no dup2 clobbers a
  // source that is still to be placed. dup2 also clears FD_CLOEXEC; the
  // restorer sets it again where the program had it.
  void PlaceFds() {
    for (auto [from, to] : s_.placements) {
      if (dup2(from, to) < 0) Fail(errno, std::string("cannot arrange file descriptors: ") + strerror(errno));
      fcntl(to, F_SETFD, 0);
    }
    status_fd_ = s_.status_fd_number;
  }

  void CloseEverythingElse() {
    std::set<int> keep;
    for (auto [from, to] : s_.placements) keep.insert(to);
    std::set<int> close_these;
    if (DIR* d = opendir("/proc/self/fd")) {
      int dir_fd = dirfd(d);
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd != dir_fd && !keep.count(fd)) close_these.insert(fd);
      }
      closedir(d);
    }
    for (int fd : close_these) close(fd);
  }

  void RestoreLimitsAndCwd() {
    const ProcessRecord& p = s_.process->process;
    if (chdir(p.cwd) != 0) Fail(errno, std::string("cannot enter '") + p.cwd + "': " + strerror(errno));
    umask(static_cast<mode_t>(p.umask));
    for (int r = 0; r < 16; ++r) {
      struct rlimit lim {p.rlimits[r][0], p.rlimits[r][1]};
      if (setrlimit(static_cast<__rlimit_resource>(r), &lim) != 0) {
        // An unprivileged restart cannot raise a hard limit: keep the soft one.
        struct rlimit cur {};
        getrlimit(static_cast<__rlimit_resource>(r), &cur);
        lim.rlim_max = cur.rlim_max;
        if (lim.rlim_cur > lim.rlim_max) lim.rlim_cur = lim.rlim_max;
        setrlimit(static_cast<__rlimit_resource>(r), &lim);
      }
    }
  }

  // Needs the fds in place: epoll registrations name them by number.
  void RestoreEvents() {
    std::string message;
    if (int e = RestoreEventsInProcess(*s_.process, s_.pids_restored, &message)) Fail(e, message);
  }

  [[noreturn]] void ExecRestorer() {
    std::string plan_arg = std::to_string(s_.plan_fd_number);
    char* argv[] = {const_cast<char*>("cr_restorer"), plan_arg.data(), nullptr};
    char* envp[] = {nullptr};
    execve(s_.restorer.c_str(), argv, envp);
    Fail(errno, "cannot run the restorer '" + s_.restorer + "': " + strerror(errno));
  }

 private:
  const ChildSetup& s_;
  int status_fd_;
};

}  // namespace

void ReportChildFailure(int status_fd, int code, const std::string& message) {
  plan_status st{};
  st.code = code ? code : EIO;
  strncpy(st.message, message.c_str(), sizeof st.message - 1);
  ssize_t ignored = write(status_fd, &st, sizeof st);
  (void)ignored;
  _exit(code ? code : 1);
}

void RunRestartChild(const ChildSetup& setup) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  Child child(setup);
  child.BecomeOwner();
  child.PlaceFds();
  child.CloseEverythingElse();
  child.RestoreLimitsAndCwd();
  child.RestoreEvents();
  child.ExecRestorer();
}

}  // namespace reprise::cr
