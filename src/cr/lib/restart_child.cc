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
#include <algorithm>
#include <set>

#include "restorer/restore_plan.h"

namespace reprise::cr {
namespace {

void Fail(const ChildSetup& s, int code, const std::string& message) {
  ReportChildFailure(s.status_fd_now, code, message);
}

void BecomeOwner(const ChildSetup& s) {
  if (geteuid() != 0 || s.uid == 0) return;
  if (const passwd* pw = getpwuid(s.uid)) initgroups(pw->pw_name, s.gid);
  else setgroups(0, nullptr);
  if (setgid(s.gid) != 0 || setuid(s.uid) != 0)
    Fail(s, errno, std::string("cannot become the image's owner: ") + strerror(errno));
}

// Moves each helper fd to its fixed number, via a region above all of them
// so that no move clobbers another helper that is still to be moved.
void PlaceHelperFds(ChildSetup& s) {
  int top = 0;
  for (auto& [now, want] : s.helper_fds) top = std::max(top, std::max(now, want));
  for (auto& [now, want] : s.helper_fds) {
    int tmp = fcntl(now, F_DUPFD_CLOEXEC, top + 1);
    if (tmp < 0) Fail(s, errno, std::string("cannot arrange file descriptors: ") + strerror(errno));
    now = tmp;
    if (now > top) top = now;
  }
  for (auto& [now, want] : s.helper_fds) {
    if (dup2(now, want) < 0) Fail(s, errno, std::string("cannot arrange file descriptors: ") + strerror(errno));
    close(now);
    if (now == s.status_fd_now) s.status_fd_now = want;
    now = want;
  }
  s.status_fd_now = s.status_fd_number;
}

int OpenFile(const ChildSetup& s, const FileEntry& f) {
  const FileRecord& r = f.record;
  int flags = static_cast<int>(r.flags) & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
  int fd = open(f.path.c_str(), flags | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) Fail(s, errno, "cannot reopen '" + f.path + "': " + strerror(errno));
  if (static_cast<FileKind>(r.kind) != FileKind::kDevice && lseek(fd, static_cast<off_t>(r.offset), SEEK_SET) < 0 &&
      static_cast<FileKind>(r.kind) == FileKind::kRegular)
    Fail(s, errno, "cannot seek in '" + f.path + "': " + strerror(errno));
  return fd;
}

// BLCR's rule: a file the program was writing is cut back to its size at
// checkpoint time, so output written after the checkpoint is not repeated.
void TruncateWrittenFiles(const ChildSetup& s) {
  std::set<std::pair<uint64_t, uint64_t>> done;
  for (const FileEntry& f : s.process->files) {
    const FileRecord& r = f.record;
    if (static_cast<FileKind>(r.kind) != FileKind::kRegular || (r.flags & O_ACCMODE) == O_RDONLY) continue;
    if (!done.insert({r.dev, r.ino}).second) continue;
    struct stat st {};
    if (stat(f.path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > r.size &&
        truncate(f.path.c_str(), static_cast<off_t>(r.size)) != 0)
      Fail(s, errno, "cannot truncate '" + f.path + "' to its checkpoint size: " + strerror(errno));
  }
}

void RestoreFds(const ChildSetup& s) {
  // cr_restart's own stdio stands in for terminals and outside pipes.
  // Above every saved fd and helper, so placing saved fds cannot clobber them.
  int floor = 3;
  for (const FileEntry& f : s.process->files) floor = std::max(floor, f.record.fd + 1);
  for (auto& [now, want] : s.helper_fds) floor = std::max(floor, want + 1);
  int std_src[3];
  for (int i = 0; i < 3; ++i) std_src[i] = fcntl(i, F_DUPFD_CLOEXEC, floor);
  TruncateWrittenFiles(s);
  const auto& files = s.process->files;
  for (size_t i = 0; i < files.size(); ++i) {
    const FileRecord& r = files[i].record;
    int src = -1;
    bool owned = true;
    switch (static_cast<FileKind>(r.kind)) {
      case FileKind::kTerminal:
      case FileKind::kPipe:
        src = std_src[r.fd <= 2 ? r.fd : 1];
        owned = false;
        break;
      case FileKind::kRegular:
        // Descriptors that shared one open file (dup, 2>&1) share it again.
        for (size_t j = 0; j < i && src < 0; ++j) {
          const FileRecord& o = files[j].record;
          if (o.kind == r.kind && o.dev == r.dev && o.ino == r.ino && o.flags == r.flags && o.offset == r.offset) {
            src = o.fd;
            owned = false;
          }
        }
        if (src < 0) src = OpenFile(s, files[i]);
        break;
      case FileKind::kDirectory:
      case FileKind::kDevice:
        src = OpenFile(s, files[i]);
        break;
    }
    if (src < 0) Fail(s, EBADF, "no source for fd " + std::to_string(r.fd));
    if (src != r.fd) {
      if (dup2(src, r.fd) < 0) Fail(s, errno, std::string("cannot place fd: ") + strerror(errno));
      if (owned) close(src);
    }
    // dup2 clears FD_CLOEXEC; the restorer sets it again where it was set.
    fcntl(r.fd, F_SETFD, 0);
  }
  for (int i = 0; i < 3; ++i) {
    bool used = false;
    for (const FileEntry& f : files) used |= f.record.fd == std_src[i];
    if (!used) close(std_src[i]);
  }
}

void CloseEverythingElse(const ChildSetup& s) {
  std::set<int> keep;
  for (const FileEntry& f : s.process->files) keep.insert(f.record.fd);
  for (auto& [now, want] : s.helper_fds) keep.insert(want);
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

void RestoreLimitsAndCwd(const ChildSetup& s) {
  const ProcessRecord& p = s.process->process;
  if (chdir(p.cwd) != 0) Fail(s, errno, std::string("cannot enter '") + p.cwd + "': " + strerror(errno));
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
  ChildSetup s = setup;
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  BecomeOwner(s);
  PlaceHelperFds(s);
  RestoreFds(s);
  CloseEverythingElse(s);
  RestoreLimitsAndCwd(s);
  std::string plan_arg = std::to_string(s.plan_fd_number);
  char* argv[] = {const_cast<char*>("cr_restorer"), plan_arg.data(), nullptr};
  char* envp[] = {nullptr};
  execve(s.restorer.c_str(), argv, envp);
  Fail(s, errno, "cannot run the restorer '" + s.restorer + "': " + strerror(errno));
  _exit(1);
}

}  // namespace reprise::cr
