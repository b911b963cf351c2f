// Reads and validates a checkpoint image. Every byte outside page data is
// checked here (magic, version, hashes, section order, bounds, zero padding);
// page data is checked here too with verify_pages, or by the restorer while
// it reads pages into place.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "format/image_format.h"

namespace reprise::cr {

// An image that cannot be used; what() is one line for the user, code() an
// errno value (EINVAL for a bad image, ENOENT for a missing one...).
class ImageError : public std::runtime_error {
 public:
  ImageError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

struct FileEntry {
  FileRecord record;
  std::string path;
  std::string data;  // pipes: the bytes that were waiting in them
  uint32_t share_group = 0;  // event objects: fds with the same non-zero group are one open file
};

// An event object's state from the EVENTS section (see image_format.h).
struct EventEntry {
  EventRecord record{};
  std::vector<EpollItemRecord> epoll_items;
  std::vector<std::pair<InotifyWatchRecord, std::string>> watches;  // with their paths
};

struct VmaEntry {
  VmaRecord record;
  std::string path;  // empty for anonymous memory
};

struct ProcessImage {
  ProcessRecord process{};
  std::vector<ThreadRecord> threads;
  std::vector<SigactionRecord> sigactions;
  std::vector<FileEntry> files;
  std::vector<VmaEntry> vmas;
  std::vector<PageRun> runs;
  std::vector<EventEntry> events;  // one per event-kind file, if any
  std::vector<PendingSignalRecord> pending_signals;  // queued again at restart, in this order
  std::vector<PosixTimerRecord> posix_timers;
  std::vector<FileLockRecord> file_locks;  // taken again through the same fds
  uint64_t pages_offset = 0, pages_size = 0, pages_hash = 0;
  bool pages_verified = false;
};

struct Image {
  std::string path;
  FileHeader header{};
  ImageInfo info{};
  std::string cmdline;
  std::vector<ProcessImage> processes;
  std::vector<ZombieRecord> zombies;  // exited children not reaped yet by their (imaged) parent
  std::optional<ClockRecord> clocks;  // absent in version 1 images
  uint64_t file_size = 0;
  uint64_t section_count = 0;
};

// The EVENTS entry of fd in p, or null.
const EventEntry* EventFor(const ProcessImage& p, int fd);

// A regular file reopened by path: plain, rewritten in place, or kept as found.
inline bool IsRegularFileKind(uint32_t kind) {
  auto k = static_cast<FileKind>(kind);
  return k == FileKind::kRegular || k == FileKind::kRewrittenFile || k == FileKind::kRewrittenKept;
}

// True for the FileKinds whose state is in the EVENTS section.
bool IsEventKind(uint32_t kind);

// Throws ImageError. The file stays open only during the call.
Image ReadImage(const std::string& path, bool verify_pages);

}  // namespace reprise::cr
