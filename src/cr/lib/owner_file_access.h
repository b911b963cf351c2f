// When root restarts another user's image, every path in the image is the
// owner's to choose (an image is checksummed, not signed). Opening those paths
// as root would hand the restored program files only root may open, or let a
// rewritten-file section overwrite them. While an OwnerFileAccess lives, the
// file system checks this process as the image's owner (fsuid, fsgid and the
// owner's groups), so cr_restart opens, creates and rewrites exactly what the
// owner could. It does nothing when cr_restart is not root, the owner is root,
// or an enclosing OwnerFileAccess already switched.
#pragma once

#include <sys/types.h>

#include <vector>

namespace reprise::cr {

class OwnerFileAccess {
 public:
  OwnerFileAccess(uid_t owner, gid_t group);  // throws RestartError if the switch fails
  ~OwnerFileAccess();
  OwnerFileAccess(const OwnerFileAccess&) = delete;
  OwnerFileAccess& operator=(const OwnerFileAccess&) = delete;

 private:
  void Restore();

  bool active_ = false;
  uid_t saved_fsuid_ = 0;
  gid_t saved_fsgid_ = 0;
  std::vector<gid_t> saved_groups_;
};

}  // namespace reprise::cr
