// Event objects at restart. cr_restart creates each eventfd, timerfd,
// signalfd, epoll and inotify instance once (fds that shared one open file
// share one again) and re-adds inotify watches by path with their old watch
// descriptors; timers are armed just before the processes resume. What needs
// the process's own fd numbers or pids - epoll registrations and pidfds - is
// done in each restarted process before it execs the restorer.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "lib/image_reader.h"
#include "lib/time_namespace.h"

namespace reprise::cr {

class RestoredEvents {
 public:
  RestoredEvents() = default;
  ~RestoredEvents() { Close(); }
  RestoredEvents(const RestoredEvents&) = delete;
  RestoredEvents& operator=(const RestoredEvents&) = delete;

  // keep moves a new fd above the restorer's numbers and owns it.
  void Init(std::function<int(int)> keep, uid_t owner_uid, gid_t owner_gid) {
    keep_ = std::move(keep);
    uid_ = owner_uid;
    gid_ = owner_gid;
  }

  // The fd (held here) that process p's event fd f must become, or -1 if the
  // restarted process opens it itself (pidfds). Throws RestartError.
  int Source(const ProcessImage& p, const FileEntry& f);

  // Arms every timerfd with its saved remaining time (or absolute deadline),
  // interval and unread expirations. Call right before the processes resume;
  // `offsets` are those of the restored tree's time namespace (absolute
  // deadlines are in its time, and this process is in the host's).
  void ArmTimers(const ClockOffsets& offsets);

  void Close();

 private:
  int Create(const ProcessImage& p, const FileEntry& f, const EventEntry& e);
  void AddWatches(int fd, const ProcessImage& p, const FileEntry& f, const EventEntry& e);

  std::function<int(int)> keep_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  std::map<uint32_t, int> by_group_;                   // share group -> fd
  std::vector<std::pair<int, EventRecord>> timers_;  // our own dups, armed later
};

// In a restarted process, after its fds are in place: opens its pidfds and
// makes its epoll registrations. Returns an errno value and sets *message on
// failure.
int RestoreEventsInProcess(const ProcessImage& p, bool pids_restored, std::string* message);

}  // namespace reprise::cr
