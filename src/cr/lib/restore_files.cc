#include "lib/restore_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "lib/restart_child.h"
#include "lib/rewritten_files.h"
#include "lib/shared_memory.h"

namespace reprise::cr {
namespace {

bool IsReadEnd(const FileRecord& r) { return (r.flags & O_ACCMODE) != O_WRONLY; }

}  // namespace

int RestoredFiles::Keep(int fd) {
  if (fd < 0) throw RestartError{errno, std::string("cannot open a file: ") + strerror(errno)};
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, floor_);
  int e = errno;
  close(fd);
  if (moved < 0) throw RestartError{e, std::string("out of file descriptors: ") + strerror(e)};
  owned_.push_back(moved);
  return moved;
}

void RestoredFiles::Release(int fd) {
  std::erase(owned_, fd);
  close(fd);
}

void RestoredFiles::CloseAll() {
  for (int fd : owned_) close(fd);
  owned_.clear();
}

int RestoredFiles::OpenPath(const FileEntry& f) {
  const FileRecord& r = f.record;
  int flags = static_cast<int>(r.flags) & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
  int fd = open(f.path.c_str(), flags | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw RestartError{errno, "cannot reopen '" + f.path + "': " + strerror(errno)};
  bool regular = IsRegularFileKind(r.kind);
  if (static_cast<FileKind>(r.kind) != FileKind::kDevice && lseek(fd, static_cast<off_t>(r.offset), SEEK_SET) < 0 &&
      regular) {
    int e = errno;
    close(fd);
    throw RestartError{e, "cannot seek in '" + f.path + "': " + strerror(e)};
  }
  return Keep(fd);
}

// Writes a pipe's saved bytes back into it.
static void Refill(int write_end, const std::string& bytes) {
  if (bytes.size() > 65536) fcntl(write_end, F_SETPIPE_SZ, static_cast<int>(bytes.size()));
  int fl = fcntl(write_end, F_GETFL);
  fcntl(write_end, F_SETFL, fl | O_NONBLOCK);
  if (write(write_end, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
    throw RestartError{EIO, "cannot refill a pipe with its " + std::to_string(bytes.size()) + " saved bytes"};
  fcntl(write_end, F_SETFL, fl);
}

// A pipe whose both ends are in the image is created anew and refilled, and
// so is one whose other end nobody had any more (that end is closed again);
// a pipe with one end outside is replaced by cr_restart's stdin or stdout.
void RestoredFiles::CreatePipes(const Image& img) {
  std::map<uint64_t, const std::string*> data;
  for (const ProcessImage& p : img.processes)
    for (const FileEntry& f : p.files) {
      if (static_cast<FileKind>(f.record.kind) != FileKind::kPipe) continue;
      PipeEnds& ends = pipes_[f.record.ino];
      // An O_RDWR descriptor holds both ends: the pipe is wholly ours.
      if ((f.record.flags & O_ACCMODE) == O_RDWR) ends.seen_read = ends.seen_write = true;
      (IsReadEnd(f.record) ? ends.seen_read : ends.seen_write) = true;
      if (f.record.reserved & kPipeOtherEndGone) ends.other_end_gone = true;
      if (!f.data.empty() && !data.count(f.record.ino)) data[f.record.ino] = &f.data;
    }
  for (auto& [ino, ends] : pipes_) {
    bool whole = ends.seen_read && ends.seen_write;
    if (!whole && !ends.other_end_gone) continue;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw RestartError{errno, std::string("pipe: ") + strerror(errno)};
    ends.read = Keep(fds[0]);
    ends.write = Keep(fds[1]);
    auto it = data.find(ino);
    if (it != data.end()) Refill(ends.write, *it->second);
    if (whole) continue;
    int& gone = ends.seen_read ? ends.write : ends.read;  // nobody's: closed, as it was
    Release(gone);
    gone = -1;
  }
  // Restore O_NONBLOCK as the program had it on each end.
  for (const ProcessImage& p : img.processes)
    for (const FileEntry& f : p.files) {
      if (static_cast<FileKind>(f.record.kind) != FileKind::kPipe) continue;
      const PipeEnds& ends = pipes_[f.record.ino];
      int fd = IsReadEnd(f.record) ? ends.read : ends.write;
      if (fd >= 0) fcntl(fd, F_SETFL, static_cast<int>(f.record.flags) & O_NONBLOCK);
    }
}

// A deleted file or memfd: its own description of the object's memfd, with
// the saved flags and offset (reopening through /proc gives a new one).
int RestoredFiles::ReopenObject(const FileEntry& f, const SharedMemoryObjects& shared) {
  const FileRecord& r = f.record;
  auto key = std::make_tuple(r.kind, r.dev, r.ino, r.flags, r.offset, std::string());
  if (auto it = opened_.find(key); it != opened_.end()) return it->second;
  std::string link = "/proc/self/fd/" + std::to_string(shared.FdOf(r));
  // tmpfile() opens with O_TMPFILE, which F_GETFL reports and includes O_DIRECTORY;
  // mkstemp() with O_NOFOLLOW, which would refuse the /proc link.
  int flags = static_cast<int>(r.flags) & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_TMPFILE | O_DIRECTORY | O_NOFOLLOW);
  int fd = open(link.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw RestartError{errno, "cannot recreate '" + f.path + "': " + strerror(errno)};
  if (lseek(fd, static_cast<off_t>(r.offset), SEEK_SET) < 0) {
    int e = errno;
    close(fd);
    throw RestartError{e, "cannot seek in '" + f.path + "': " + strerror(e)};
  }
  return opened_[key] = Keep(fd);
}

int RestoredFiles::SourceFor(const FileEntry& f, const SharedMemoryObjects& shared) {
  const FileRecord& r = f.record;
  switch (static_cast<FileKind>(r.kind)) {
    case FileKind::kTerminal:
      return stdio_[r.fd <= 2 ? r.fd : 1];
    case FileKind::kPipe: {
      PipeEnds& ends = pipes_[r.ino];
      if (ends.read >= 0 && (r.flags & O_ACCMODE) == O_RDWR) {
        if (ends.both < 0)  // reopening a pipe through /proc gives a read-write descriptor
          ends.both = Keep(open(("/proc/self/fd/" + std::to_string(ends.read)).c_str(), O_RDWR | O_CLOEXEC));
        return ends.both;
      }
      if (ends.read >= 0 || ends.write >= 0) return IsReadEnd(r) ? ends.read : ends.write;  // recreated
      return IsReadEnd(r) ? stdio_[0] : stdio_[r.fd == 2 ? 2 : 1];
    }
    case FileKind::kDeletedFile:
      return ReopenObject(f, shared);
    case FileKind::kUnixSocket:
    case FileKind::kInetSocket:
      return sockets_.FdFor(r.ino);
    case FileKind::kRegular:
    case FileKind::kRewrittenFile:
    case FileKind::kRewrittenKept:
    case FileKind::kDirectory:
    case FileKind::kDevice: {  // (event kinds are handled by events_ in Open)
      // One open per description: same file, same flags, same offset.
      bool regular = IsRegularFileKind(r.kind);
      auto key = std::make_tuple(r.kind, r.dev, r.ino, r.flags, r.offset, regular ? std::string() : f.path);
      auto it = opened_.find(key);
      if (it != opened_.end()) return it->second;
      return opened_[key] = OpenPath(f);
    }
    default:
      break;
  }
  throw RestartError{EINVAL, "unknown kind of file for fd " + std::to_string(r.fd)};
}

void RestoredFiles::Open(const Image& img, int floor, const SharedMemoryObjects& shared) {
  floor_ = floor;
  // Files rewritten in place get their checkpoint contents back first.
  WriteBackRewrittenFiles(img);
  // BLCR's rule: a file the program was writing is cut back to its size at
  // checkpoint time, so output written after the checkpoint is not repeated.
  std::set<std::pair<uint64_t, uint64_t>> truncated;
  for (const ProcessImage& p : img.processes)
    for (const FileEntry& f : p.files) {
      const FileRecord& r = f.record;
      if (static_cast<FileKind>(r.kind) != FileKind::kRegular || (r.flags & O_ACCMODE) == O_RDONLY) continue;
      if (!truncated.insert({r.dev, r.ino}).second) continue;
      struct stat st {};
      if (stat(f.path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > r.size &&
          truncate(f.path.c_str(), static_cast<off_t>(r.size)) != 0)
        throw RestartError{errno, "cannot truncate '" + f.path + "' to its checkpoint size: " + strerror(errno)};
    }
  // cr_restart's own stdio stands in for terminals and pipes to the outside.
  for (int i = 0; i < 3; ++i) {
    int copy = fcntl(i, F_DUPFD_CLOEXEC, floor_);
    if (copy < 0) copy = open("/dev/null", O_RDWR | O_CLOEXEC);
    stdio_[i] = Keep(copy);
  }
  CreatePipes(img);
  events_.Init([this](int fd) { return Keep(fd); }, img.info.uid, img.info.gid);
  sockets_.Create(img, external_sockets_closed_, [this](int fd) { return Keep(fd); });
  placements_.assign(img.processes.size(), {});
  for (size_t i = 0; i < img.processes.size(); ++i)
    for (const FileEntry& f : img.processes[i].files) {
      if (IsEventKind(f.record.kind)) {
        int source = events_.Source(img.processes[i], f);
        if (source >= 0) placements_[i].push_back({source, f.record.fd});  // pidfds: opened by the process
        continue;
      }
      placements_[i].push_back({SourceFor(f, shared), f.record.fd});
    }
}

}  // namespace reprise::cr
