// Files the job changes in place (open read-write, or mapped shared and
// writable): the image holds their contents, and a restart writes them back
// into the same inode, so hard links and other open handles see them too.
#pragma once

#include <sys/types.h>

#include <string>

#include "lib/image_reader.h"

namespace reprise::cr {

// Opens a user's file read-write for writing back (O_NOFOLLOW, as the owner),
// creating it with `create_mode` if it is gone and create_mode != 0.
int OpenForWriteBack(const Image& img, const std::string& path, mode_t create_mode);

// Writes back the saved contents of every rewritten file (FileKind::kRewrittenFile),
// cuts it to its checkpoint size and puts its mtime back; removes an SQLite
// rollback journal (PATH-journal) the image did not have open, which a
// transaction after the checkpoint left behind. Throws RestartError.
void WriteBackRewrittenFiles(const Image& img);

}  // namespace reprise::cr
