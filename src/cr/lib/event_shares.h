// Which event descriptors (eventfd, timerfd, signalfd, epoll, inotify,
// pidfd) of a checkpointed tree are one open file: all of them are anonymous
// inodes, so only kcmp(KCMP_FILE) can tell. cr_checkpoint asks while the
// processes are still stopped, and checks that pidfds point into the tree.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "format/image_format.h"

namespace reprise::cr {

struct EventShareScan {
  std::vector<EventShare> shares;  // members of groups of two or more
  std::string refusal;             // non-empty: the checkpoint must fail with it
  int code = 0;
};

// host_pids[i] is process i of the image; only processes with
// may_hold[i] are looked at.
EventShareScan ScanEventShares(const std::vector<pid_t>& host_pids, const std::vector<bool>& may_hold);

}  // namespace reprise::cr
