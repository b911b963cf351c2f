// Files the job changes in place (open read-write, or mapped shared and
// writable): the image holds their contents, and a restart writes them back
// into the same inode, so hard links and other open handles see them too.
#pragma once

#include <sys/types.h>

#include <string>

#include "lib/image_reader.h"

namespace reprise::cr {

// While alive, the filesystem identity of cr_restart is the image's owner (when
// running as root), so opens of the user's paths are checked as that user.
class AsImageOwner {
 public:
  AsImageOwner(uid_t uid, gid_t gid);
  ~AsImageOwner();
  AsImageOwner(const AsImageOwner&) = delete;
  AsImageOwner& operator=(const AsImageOwner&) = delete;

 private:
  bool switched_ = false;
};

// Opens a user's file read-write for writing back (O_NOFOLLOW, as the owner),
// creating it with `create_mode` if it is gone and create_mode != 0.
int OpenForWriteBack(const Image& img, const std::string& path, mode_t create_mode);

// Writes back the saved contents of every rewritten file (FileKind::kRewrittenFile),
// cuts it to its checkpoint size and puts its mtime back; removes an SQLite
// rollback journal (PATH-journal) the image did not have open, which a
// transaction after the checkpoint left behind. Throws RestartError.
void WriteBackRewrittenFiles(const Image& img);

}  // namespace reprise::cr
