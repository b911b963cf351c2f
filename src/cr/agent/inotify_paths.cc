// The kernel tells a checkpoint only the inode each inotify watch is on, not
// the path it was added by, so the agent wraps inotify_add_watch() and keeps
// (wd, path) pairs. The table lives in the process's memory, so it is in
// every image and is still right after a restart (which re-adds the watches
// by these paths). At checkpoint time a watch's path is the most recent one
// recorded for its wd that still names its inode.
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>

#include "dump_events.h"

namespace reprise::cr::agent {
namespace {

struct WatchPath {
  int32_t wd;
  uint32_t flags;  // IN_DONT_FOLLOW / IN_ONLYDIR / IN_EXCL_UNLINK as added
  char path[4088];
};
static_assert(sizeof(WatchPath) == 4096);
constexpr uint32_t kMaxWatchPaths = 16384;  // 64 MiB reserved, touched as used

WatchPath* g_table;                  // mmap'd on first use
std::atomic<uint32_t> g_published;   // entries complete and visible to a dump
std::atomic_flag g_writer = ATOMIC_FLAG_INIT;

bool Reserve() {
  if (g_table) return true;
  void* p = mmap(nullptr, sizeof(WatchPath) * kMaxWatchPaths, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  g_table = static_cast<WatchPath*>(p);
  return true;
}

// Absolute form of `path` (relative paths are taken against the cwd now).
bool Absolute(const char* path, char* out, size_t cap) {
  size_t n = strlen(path);
  if (path[0] == '/') {
    if (n + 1 > cap) return false;
    memcpy(out, path, n + 1);
    return true;
  }
  if (!getcwd(out, cap)) return false;
  size_t c = strlen(out);
  if (c + 1 + n + 1 > cap) return false;
  out[c] = '/';
  memcpy(out + c + 1, path, n + 1);
  return true;
}

void Remember(int wd, const char* path, uint32_t mask) {
  while (g_writer.test_and_set(std::memory_order_acquire)) {
  }
  uint32_t at = g_published.load(std::memory_order_relaxed);
  if (Reserve() && at < kMaxWatchPaths) {
    WatchPath& e = g_table[at];
    e.wd = wd;
    e.flags = mask & (IN_DONT_FOLLOW | IN_ONLYDIR | IN_EXCL_UNLINK);
    if (Absolute(path, e.path, sizeof e.path)) g_published.store(at + 1, std::memory_order_release);
  }
  g_writer.clear(std::memory_order_release);
}

}  // namespace

const char* InotifyWatchPath(int32_t wd, uint64_t sdev, uint64_t ino, uint32_t* add_flags) {
  uint32_t n = g_published.load(std::memory_order_acquire);
  for (uint32_t i = n; i-- > 0;) {
    const WatchPath& e = g_table[i];
    if (e.wd != wd) continue;
    struct stat st {};
    int r = (e.flags & IN_DONT_FOLLOW) ? lstat(e.path, &st) : stat(e.path, &st);
    if (r == 0 && st.st_ino == ino && (sdev >> 20) == major(st.st_dev) && (sdev & 0xfffff) == minor(st.st_dev)) {
      *add_flags = e.flags;
      return e.path;
    }
  }
  return nullptr;
}

}  // namespace reprise::cr::agent

extern "C" __attribute__((visibility("default"))) int inotify_add_watch(int fd, const char* path, uint32_t mask) {
  long wd = syscall(SYS_inotify_add_watch, fd, path, mask);
  if (wd < 0) return -1;  // errno set by syscall()
  int saved = errno;
  reprise::cr::agent::Remember(static_cast<int>(wd), path, mask);
  errno = saved;
  return static_cast<int>(wd);
}
