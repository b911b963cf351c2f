// Memory shared between processes of the tree that only the kernel held: a
// MAP_SHARED|MAP_ANONYMOUS region inherited across fork, a memfd mapping, a
// POSIX shm file or semaphore unlinked after mapping. Each such object
// (identified by the dev/ino of its mappings) becomes one memfd in cr_restart,
// filled once from the image and mapped MAP_SHARED, at the saved offset, by
// every process that had it, so a write by one is seen by the others again.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lib/image_reader.h"
#include "lib/restore_files.h"

namespace reprise::cr {

// A mapping whose contents are in the image and that another mapping may share.
inline bool IsSharedObjectVma(const VmaRecord& r) { return (r.flags & kVmaShared) && (r.flags & kVmaAnon); }

// A mapping of a file that is still there at restart (re-mapped from it).
inline bool IsFileVma(const VmaEntry& v) { return !(v.record.flags & kVmaAnon) && !v.path.empty(); }

// A shared mapping of a POSIX shm file still in /dev/shm (no subdirectory):
// its pages are in the image and go back into the file before it is mapped.
inline bool IsShmFileVma(const VmaEntry& v) {
  return IsFileVma(v) && (v.record.flags & kVmaShared) && v.path.rfind("/dev/shm/", 0) == 0 &&
         v.path.find('/', 9) == std::string::npos;
}

// An fd of a memfd or of a file deleted while open: its bytes are in the image.
bool IsObjectFile(const FileEntry& f);

class SharedMemoryObjects {
 public:
  using Key = std::pair<uint64_t, uint64_t>;  // dev, ino

  // Creates and fills one memfd per object (mappings and deleted-file fds
  // alike); fds are kept by `files`, whose floor must be set.
  // Throws RestartError.
  void Create(const Image& img, int image_fd, RestoredFiles& files);

  size_t count() const { return fds_.size(); }

  // Gives the objects fd numbers first, first + 1, ... in every process.
  void Number(int first);

  int NumberOf(const VmaRecord& r) const { return numbers_.at({r.dev, r.ino}); }

  // The memfd (held here) standing in for the object of a deleted-file fd.
  int FdOf(const FileRecord& r) const;

  // {fd held here, number it must have} for the objects process p maps.
  std::vector<std::pair<int, int>> PlacementsFor(const ProcessImage& p) const;

 private:
  std::map<Key, int> fds_;
  std::map<Key, int> numbers_;
};

}  // namespace reprise::cr
