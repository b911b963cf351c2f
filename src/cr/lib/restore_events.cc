#include "lib/restore_events.h"

#include <fcntl.h>
#include <linux/ioctl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "lib/owner_file_access.h"
#include "lib/restart_child.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

namespace reprise::cr {
namespace {

std::string Where(const ProcessImage& p, const FileEntry& f, const char* kind) {
  return std::string(kind) + " of pid " + std::to_string(p.process.pid) + " fd " + std::to_string(f.record.fd);
}

[[noreturn]] void Fail(int e, const std::string& what) { throw RestartError{e, what + ": " + strerror(e)}; }

timespec Ts(uint64_t ns) { return {static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)}; }

}  // namespace

int RestoredEvents::Source(const ProcessImage& p, const FileEntry& f) {
  if (static_cast<FileKind>(f.record.kind) == FileKind::kPidfd) return -1;
  const EventEntry* e = EventFor(p, f.record.fd);
  if (!e) throw RestartError{EINVAL, Where(p, f, "event object") + " lacks its state in the image"};
  if (f.share_group) {
    auto it = by_group_.find(f.share_group);
    if (it != by_group_.end()) return it->second;
  }
  int fd = Create(p, f, *e);
  if (f.share_group) by_group_[f.share_group] = fd;
  return fd;
}

int RestoredEvents::Create(const ProcessImage& p, const FileEntry& f, const EventEntry& e) {
  const EventRecord& r = e.record;
  int fd = -1;
  switch (static_cast<FileKind>(r.kind)) {
    case FileKind::kEventfd: {
      fd = eventfd(0, EFD_CLOEXEC | ((r.flags & kEventfdSemaphore) ? EFD_SEMAPHORE : 0));
      if (fd < 0) Fail(errno, "cannot recreate the " + Where(p, f, "eventfd"));
      if (r.value && write(fd, &r.value, sizeof r.value) != sizeof r.value)
        Fail(errno, "cannot set the counter of the " + Where(p, f, "eventfd"));
      break;
    }
    case FileKind::kSignalfd: {
      uint64_t mask = r.value;
      fd = static_cast<int>(syscall(SYS_signalfd4, -1, &mask, sizeof mask, O_CLOEXEC | (static_cast<int>(f.record.flags) & O_NONBLOCK)));
      if (fd < 0) Fail(errno, "cannot recreate the " + Where(p, f, "signalfd"));
      break;
    }
    case FileKind::kTimerfd: {
      fd = timerfd_create(static_cast<clockid_t>(r.value), TFD_CLOEXEC);
      if (fd < 0)
        Fail(errno, "cannot recreate the " + Where(p, f, "timerfd") + " on clock " + std::to_string(r.value) +
                        ((r.value == CLOCK_REALTIME_ALARM || r.value == CLOCK_BOOTTIME_ALARM)
                             ? " (alarm clocks need CAP_WAKE_ALARM)" : ""));
      int mine = fcntl(fd, F_DUPFD_CLOEXEC, 3);
      if (mine < 0) Fail(errno, "cannot keep the " + Where(p, f, "timerfd"));
      timers_.push_back({mine, r});
      break;
    }
    case FileKind::kEpoll:
      fd = epoll_create1(EPOLL_CLOEXEC);
      if (fd < 0) Fail(errno, "cannot recreate the " + Where(p, f, "epoll"));
      break;
    case FileKind::kInotify:
      fd = inotify_init1(IN_CLOEXEC);
      if (fd < 0) Fail(errno, "cannot recreate the " + Where(p, f, "inotify instance"));
      AddWatches(fd, p, f, e);
      break;
    default:
      throw RestartError{EINVAL, "unknown event object for fd " + std::to_string(f.record.fd)};
  }
  if (fcntl(fd, F_SETFL, static_cast<int>(f.record.flags) & O_NONBLOCK) != 0)
    Fail(errno, "cannot set the flags of " + Where(p, f, "event object"));
  return keep_(fd);
}

// Watch descriptors come from a counter that only goes up: add each watch
// and, while the number it gets is below the saved one, remove and add again.
// The IN_IGNORED events that leaves are drained (events queued at checkpoint
// time and during the downtime are lost anyway; see docs).
void RestoredEvents::AddWatches(int fd, const ProcessImage& p, const FileEntry& f, const EventEntry& e) {
  auto watches = e.watches;
  std::sort(watches.begin(), watches.end(), [](auto& a, auto& b) { return a.first.wd < b.first.wd; });
  // Root restarting someone's image must not watch what that user could not.
  std::optional<OwnerFileAccess> as_owner(std::in_place, uid_, gid_);
  std::set<int> placed;
  std::string failure;
  int failure_errno = 0;
  for (auto& [w, path] : watches) {
    for (int attempts = 0;; ++attempts) {
      int wd = inotify_add_watch(fd, path.c_str(), w.mask);
      if (wd < 0) {
        failure_errno = errno;
        failure = "cannot watch '" + path + "' again for the " + Where(p, f, "inotify instance");
        break;
      }
      if (wd == w.wd) {
        placed.insert(wd);
        break;
      }
      if (wd > w.wd || placed.count(wd) || attempts > (1 << 20)) {
        failure_errno = EINVAL;
        failure = "cannot give the watch on '" + path + "' its descriptor " + std::to_string(w.wd) + " back (" +
                  Where(p, f, "inotify instance") + ")";
        break;
      }
      inotify_rm_watch(fd, wd);
    }
    if (!failure.empty()) break;
  }
  as_owner.reset();
  if (!failure.empty()) Fail(failure_errno, failure);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  char buf[4096];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

void RestoredEvents::ArmTimers(const ClockOffsets& offsets) {
  for (auto& [fd, r] : timers_) {
    // An absolute deadline is kept as it was on the timer's clock, in the
    // restored tree's time.
    itimerspec spec{};
    spec.it_interval = Ts(r.interval_ns);
    bool absolute = (r.flags & TFD_TIMER_ABSTIME) && r.deadline_ns;
    spec.it_value = Ts(absolute ? static_cast<uint64_t>(HostDeadline(static_cast<clockid_t>(r.value),
                                                                     static_cast<int64_t>(r.deadline_ns), offsets))
                                : r.remaining_ns);
    if ((spec.it_value.tv_sec || spec.it_value.tv_nsec) &&
        timerfd_settime(fd, absolute ? static_cast<int>(r.flags & (TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) : 0,
                        &spec, nullptr) != 0)
      Fail(errno, "cannot arm a restored timerfd");
    uint64_t ticks = r.ticks;
    if (ticks && ioctl(fd, TFD_IOC_SET_TICKS, &ticks) != 0)
      Fail(errno, "cannot give a restored timerfd its " + std::to_string(ticks) + " unread expirations");
  }
  Close();
}

void RestoredEvents::Close() {
  for (auto& [fd, r] : timers_) close(fd);
  timers_.clear();
}

int RestoreEventsInProcess(const ProcessImage& p, bool pids_restored, std::string* message) {
  for (const FileEntry& f : p.files) {
    if (static_cast<FileKind>(f.record.kind) != FileKind::kPidfd) continue;
    const EventEntry* e = EventFor(p, f.record.fd);
    pid_t target = static_cast<pid_t>(e->record.value);
    if (!pids_restored) {
      *message = Where(p, f, "pidfd") + " needs the saved pids: restart without --no-restore-pid";
      return EINVAL;
    }
    // Processes are created parents first; a sibling may not exist yet.
    int fd = -1;
    for (int tries = 0; tries < 500; ++tries) {
      fd = static_cast<int>(syscall(SYS_pidfd_open, target, (f.record.flags & O_NONBLOCK) ? O_NONBLOCK : 0));
      if (fd >= 0 || errno != ESRCH) break;
      usleep(10000);
    }
    if (fd < 0) {
      int err = errno;
      *message = "cannot reopen the " + Where(p, f, "pidfd") + " of pid " + std::to_string(target) + ": " + strerror(err);
      return err;
    }
    if (fd != f.record.fd) {
      if (dup2(fd, f.record.fd) < 0) {
        int err = errno;
        *message = "cannot place the " + Where(p, f, "pidfd") + ": " + strerror(err);
        return err;
      }
      close(fd);
    }
    fcntl(f.record.fd, F_SETFD, 0);  // pidfd_open sets FD_CLOEXEC; the restorer sets it again if saved
  }
  for (const EventEntry& e : p.events) {
    if (static_cast<FileKind>(e.record.kind) != FileKind::kEpoll) continue;
    for (const EpollItemRecord& item : e.epoll_items) {
      epoll_event ev{};
      ev.events = item.events;
      ev.data.u64 = item.data;
      // A shared epoll may already hold it, registered by another process.
      if (epoll_ctl(e.record.fd, EPOLL_CTL_ADD, item.tfd, &ev) != 0 && errno != EEXIST) {
        int err = errno;
        *message = "cannot register fd " + std::to_string(item.tfd) + " again with the epoll of pid " +
                   std::to_string(p.process.pid) + " fd " + std::to_string(e.record.fd) + ": " + strerror(err);
        return err;
      }
    }
  }
  return 0;
}

}  // namespace reprise::cr
