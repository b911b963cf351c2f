#include "lib/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <set>
#include <string>

#include "lib/restart_child.h"

namespace reprise::cr {
namespace {

void PreadAll(int fd, char* dst, uint64_t len, uint64_t off) {
  while (len) {
    ssize_t n = pread(fd, dst, len, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw RestartError{n < 0 ? errno : EIO, "cannot read shared memory pages from the image"};
    dst += n;
    off += static_cast<uint64_t>(n);
    len -= static_cast<uint64_t>(n);
  }
}

void PwriteAll(int fd, const char* src, uint64_t len, uint64_t off) {
  while (len) {
    ssize_t n = pwrite(fd, src, len, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      throw RestartError{e, std::string("cannot fill a shared memory object: ") + strerror(e)};
    }
    src += n;
    off += static_cast<uint64_t>(n);
    len -= static_cast<uint64_t>(n);
  }
}

// The memfd's name: the memfd's own ("/memfd:NAME (deleted)"), or the base
// name of the deleted file, so /proc/PID/fd and maps still say what it was.
std::string ObjectName(const std::string& path) {
  std::string name = path;
  const std::string deleted = " (deleted)";
  if (name.size() >= deleted.size() && name.compare(name.size() - deleted.size(), deleted.size(), deleted) == 0)
    name.resize(name.size() - deleted.size());
  if (name.rfind("/memfd:", 0) == 0) name = name.substr(7);
  else if (size_t slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  if (name.empty() || name == "zero") name = "reprise-shared";  // "/dev/zero (deleted)": MAP_SHARED|MAP_ANONYMOUS
  return name.substr(0, 200);
}

}  // namespace

static void RefillShmFiles(const Image& img, int image_fd);

bool IsObjectFile(const FileEntry& f) { return static_cast<FileKind>(f.record.kind) == FileKind::kDeletedFile; }

void SharedMemoryObjects::Create(const Image& img, int image_fd, RestoredFiles& files) {
  struct Plan {
    uint64_t size = 0;
    bool exact = false;  // size is a file's st_size, not a page multiple from mappings
    uint32_t seals = 0;
    std::string name;
  };
  std::map<Key, Plan> plans;
  // The size: a file's own size if an fd had it, else the end of the last
  // saved page any process had (pages past it were past the object's end at
  // checkpoint time, and stay so).
  for (const ProcessImage& p : img.processes) {
    for (const FileEntry& f : p.files) {
      if (!IsObjectFile(f)) continue;
      Plan& plan = plans[{f.record.dev, f.record.ino}];
      plan.size = f.record.size;
      plan.exact = true;
      plan.seals = f.record.reserved;
      if (plan.name.empty()) plan.name = ObjectName(f.path);
    }
    for (const VmaEntry& v : p.vmas) {
      if (!IsSharedObjectVma(v.record)) continue;
      Plan& plan = plans[{v.record.dev, v.record.ino}];
      if (plan.name.empty()) plan.name = ObjectName(v.path);
      if (plan.exact) continue;
      for (uint32_t r = 0; r < v.record.run_count; ++r) {
        const PageRun& run = p.runs[v.record.first_run + r];
        plan.size = std::max(plan.size, v.record.file_offset + (run.start - v.record.start) + run.pages * kPageSize);
      }
    }
  }
  std::map<Key, std::set<uint64_t>> filled;  // object page indexes already written
  for (auto& [key, plan] : plans) {
    int fd = memfd_create(plan.name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) throw RestartError{errno, std::string("memfd_create: ") + strerror(errno)};
    fd = files.Keep(fd);
    fds_[key] = fd;
  }
  // A file's bytes come with its first fd record; the pages of mappings fill
  // in the rest. Every process saved the pages it maps (all were stopped, so
  // the copies agree); each page is written once, from its first copy.
  for (const ProcessImage& p : img.processes)
    for (const FileEntry& f : p.files) {
      if (!IsObjectFile(f) || f.data.size() != f.record.size) continue;
      Key key{f.record.dev, f.record.ino};
      std::set<uint64_t>& done = filled[key];
      if (!done.empty() || f.data.empty()) continue;
      PwriteAll(fds_.at(key), f.data.data(), f.data.size(), 0);
      for (uint64_t page = 0; page * kPageSize < f.data.size(); ++page) done.insert(page);
    }
  std::vector<char> buf;
  for (const ProcessImage& p : img.processes)
    for (const VmaEntry& v : p.vmas) {
      if (!IsSharedObjectVma(v.record)) continue;
      Key key{v.record.dev, v.record.ino};
      std::set<uint64_t>& done = filled[key];
      for (uint32_t r = 0; r < v.record.run_count; ++r) {
        const PageRun& run = p.runs[v.record.first_run + r];
        uint64_t first_page = (v.record.file_offset + (run.start - v.record.start)) / kPageSize;
        // Contiguous stretches of pages not written yet, 16 MiB at most at a time.
        for (uint64_t i = 0; i < run.pages;) {
          if (done.count(first_page + i)) {
            ++i;
            continue;
          }
          uint64_t j = i;
          while (j < run.pages && j - i < 4096 && !done.count(first_page + j)) done.insert(first_page + j++);
          uint64_t len = (j - i) * kPageSize;
          buf.resize(len);
          PreadAll(image_fd, buf.data(), len, run.data_offset + i * kPageSize);
          PwriteAll(fds_.at(key), buf.data(), len, (first_page + i) * kPageSize);
          i = j;
        }
      }
    }
  for (auto& [key, plan] : plans) {
    int fd = fds_.at(key);
    if (ftruncate(fd, static_cast<off_t>(plan.size)) != 0)
      throw RestartError{errno, std::string("cannot size a shared memory object: ") + strerror(errno)};
    if (plan.seals && fcntl(fd, F_ADD_SEALS, static_cast<int>(plan.seals)) != 0)
      throw RestartError{errno, "cannot seal the memfd '" + plan.name + "' again: " + strerror(errno)};
  }
  RefillShmFiles(img, image_fd);
}

// POSIX shm files get their checkpoint contents and size back. Root works on
// the user's name only through an O_NOFOLLOW descriptor in /dev/shm, and only
// on a file the image's owner owns (or one it creates for them).
static void RefillShmFiles(const Image& img, int image_fd) {
  std::map<std::string, std::set<uint64_t>> filled;
  std::map<std::string, int> fds;
  std::vector<char> buf;
  for (const ProcessImage& p : img.processes)
    for (const VmaEntry& v : p.vmas) {
      if (!IsShmFileVma(v)) continue;
      int& fd = fds[v.path];
      if (!fd) {
        fd = open(v.path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        bool created = false;
        if (fd < 0 && errno == ENOENT) {  // unlinked after the checkpoint: recreate it
          fd = open(v.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
          created = fd >= 0;
        }
        if (fd < 0) throw RestartError{errno, "cannot open '" + v.path + "' to restore it: " + strerror(errno)};
        struct stat st {};
        fstat(fd, &st);
        if (created && geteuid() == 0 && fchown(fd, img.info.uid, img.info.gid) != 0)
          throw RestartError{errno, "cannot give '" + v.path + "' to the image's owner: " + strerror(errno)};
        if (!created && geteuid() == 0 && st.st_uid != img.info.uid)
          throw RestartError{EPERM, "'" + v.path + "' belongs to uid " + std::to_string(st.st_uid) +
                                        ", not to the image's owner; remove it and restart again"};
      }
      std::set<uint64_t>& done = filled[v.path];
      for (uint32_t r = 0; r < v.record.run_count; ++r) {
        const PageRun& run = p.runs[v.record.first_run + r];
        uint64_t first_page = (v.record.file_offset + (run.start - v.record.start)) / kPageSize;
        for (uint64_t i = 0; i < run.pages; ++i) {
          if (!done.insert(first_page + i).second) continue;
          buf.resize(kPageSize);
          PreadAll(image_fd, buf.data(), kPageSize, run.data_offset + i * kPageSize);
          PwriteAll(fd, buf.data(), kPageSize, (first_page + i) * kPageSize);
        }
      }
      if (ftruncate(fd, static_cast<off_t>(v.record.file_size)) != 0)
        throw RestartError{errno, "cannot restore the size of '" + v.path + "': " + strerror(errno)};
    }
  for (auto& [path, fd] : fds) close(fd);
}

int SharedMemoryObjects::FdOf(const FileRecord& r) const { return fds_.at({r.dev, r.ino}); }

void SharedMemoryObjects::Number(int first) {
  for (auto& [key, fd] : fds_) numbers_[key] = first++;
}

std::vector<std::pair<int, int>> SharedMemoryObjects::PlacementsFor(const ProcessImage& p) const {
  std::set<Key> used;
  for (const VmaEntry& v : p.vmas)
    if (IsSharedObjectVma(v.record)) used.insert({v.record.dev, v.record.ino});
  std::vector<std::pair<int, int>> out;
  for (const Key& k : used) out.push_back({fds_.at(k), numbers_.at(k)});
  return out;
}

}  // namespace reprise::cr
