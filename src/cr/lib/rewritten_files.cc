#include "lib/rewritten_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "lib/owner_file_access.h"
#include "lib/restart_child.h"

namespace reprise::cr {

int OpenForWriteBack(const Image& img, const std::string& path, mode_t create_mode) {
  OwnerFileAccess as_owner(img.info.uid, img.info.gid);
  int fd = open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create_mode)  // removed after the checkpoint: recreate it
    fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, create_mode);
  if (fd < 0) throw RestartError{errno, "cannot open '" + path + "' to write its checkpoint contents back: " + strerror(errno)};
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    throw RestartError{EINVAL, "'" + path + "' is no longer a regular file; the image cannot write its contents back"};
  }
  return fd;
}

namespace {

void WriteAll(int fd, const std::string& path, const char* src, uint64_t len) {
  for (uint64_t off = 0; off < len;) {
    ssize_t n = pwrite(fd, src + off, len - off, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      throw RestartError{e, "cannot write the checkpoint contents back into '" + path + "': " + strerror(e)};
    }
    off += static_cast<uint64_t>(n);
  }
}

}  // namespace

void WriteBackRewrittenFiles(const Image& img) {
  std::set<std::pair<uint64_t, uint64_t>> done;
  std::set<std::string> open_paths;
  for (const ProcessImage& p : img.processes)
    for (const FileEntry& f : p.files) open_paths.insert(f.path);
  for (const ProcessImage& p : img.processes)
    for (const FileEntry& f : p.files) {
      const FileRecord& r = f.record;
      // data_len short of size: the bytes came with an earlier fd of the process.
      if (static_cast<FileKind>(r.kind) != FileKind::kRewrittenFile || f.data.size() != r.size) continue;
      if (!done.insert({r.dev, r.ino}).second) continue;
      int fd = OpenForWriteBack(img, f.path, r.mode & 07777);
      try {
        WriteAll(fd, f.path, f.data.data(), f.data.size());
        if (ftruncate(fd, static_cast<off_t>(r.size)) != 0)
          throw RestartError{errno, "cannot cut '" + f.path + "' to its checkpoint size: " + strerror(errno)};
        if (fsync(fd) != 0)
          throw RestartError{errno, "cannot flush '" + f.path + "': " + strerror(errno)};
      } catch (...) {
        close(fd);
        throw;
      }
      // The same mtime again, so checks of mappings of this file pass (best effort:
      // only the file's owner may set it).
      struct timespec times[2] = {{0, UTIME_OMIT},
                                  {static_cast<time_t>(r.mtime_ns / 1000000000ull), static_cast<long>(r.mtime_ns % 1000000000ull)}};
      futimens(fd, times);
      close(fd);
      std::string journal = f.path + "-journal";
      if (!open_paths.count(journal)) {
        OwnerFileAccess as_owner(img.info.uid, img.info.gid);
        if (unlink(journal.c_str()) != 0 && errno != ENOENT)
          throw RestartError{errno, "cannot remove '" + journal + "', left by a transaction after the checkpoint: " +
                                        strerror(errno)};
      }
    }
}

}  // namespace reprise::cr
