// The open files of a whole image, recreated once in cr_restart so that the
// restored processes inherit them: descriptors that shared one open file
// (inherited across fork, dup'ed, 2>&1) share one again, and a pipe between
// two processes of the tree is one new pipe holding the bytes that were
// waiting in it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "lib/image_reader.h"
#include "lib/restore_events.h"
#include "lib/restore_sockets.h"

namespace reprise::cr {

class SharedMemoryObjects;

class RestoredFiles {
 public:
  RestoredFiles() = default;
  ~RestoredFiles() { CloseAll(); }
  RestoredFiles(const RestoredFiles&) = delete;
  RestoredFiles& operator=(const RestoredFiles&) = delete;

  // Truncates files that were being written back to their checkpoint size
  // (BLCR's rule), then opens or creates every description, numbered at or
  // above `floor`. Deleted files and memfds are reopened from `shared`'s
  // memfds. Throws RestartError.
  void Open(const Image& img, int floor, const SharedMemoryObjects& shared);

  // Sets the floor before Open, for what is kept earlier.
  void SetFloor(int floor) { floor_ = floor; }

  // Connections to outside the job come back closed instead of failing.
  void set_external_sockets_closed(bool closed) { external_sockets_closed_ = closed; }

  // Keeps fd (moved to a number >= floor); returns the new number.
  int Keep(int fd);
  void Release(int fd);  // closes one that Keep took

  // {fd held here, number it must have} for each saved fd of process i.
  const std::vector<std::pair<int, int>>& PlacementsFor(size_t i) const { return placements_[i]; }

  void CloseAll();

  // Arms the restored timerfds; right before the processes resume.
  void ArmTimers(const ClockOffsets& offsets) { events_.ArmTimers(offsets); }

 private:
  int OpenPath(const FileEntry& f);
  void CreatePipes(const Image& img);
  int SourceFor(const FileEntry& f, const SharedMemoryObjects& shared);
  int ReopenObject(const FileEntry& f, const SharedMemoryObjects& shared);

  int floor_ = 3;
  std::vector<int> owned_;
  int stdio_[3] = {-1, -1, -1};
  struct PipeEnds {
    int read = -1, write = -1;
    int both = -1;  // an O_RDWR descriptor of the same pipe (bash: exec 3<> <(:))
    bool seen_read = false, seen_write = false;
    bool other_end_gone = false;  // the image's ends say nobody had the other one
  };
  std::map<uint64_t, PipeEnds> pipes_;  // by pipe inode
  std::map<std::tuple<uint32_t, uint64_t, uint64_t, uint32_t, uint64_t, std::string>, int> opened_;
  std::vector<std::vector<std::pair<int, int>>> placements_;
  RestoredEvents events_;
  RestoredSockets sockets_;
  bool external_sockets_closed_ = false;
};

}  // namespace reprise::cr
