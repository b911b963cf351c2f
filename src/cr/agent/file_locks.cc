// File locks a process holds (issue 11 item 6): /proc/self/fdinfo/N lists
// the flock, POSIX and OFD locks taken through fd N, one "lock:" line each:
//   lock:  1: POSIX  ADVISORY  WRITE 3188 fe:00:10952798 10 29
//   lock:  1: FLOCK  ADVISORY  WRITE 3188 fe:00:10952797 0 EOF
//   lock:  1: OFDLCK ADVISORY  READ  -1 fe:00:10952799 0 EOF
// (POSIX/OFD ranges are inclusive). A lease cannot be taken back: refused.
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent_state.h"
#include "section_writer.h"

namespace reprise::cr::agent {
namespace {

const char* SkipSpaces(const char* p) {
  while (*p == ' ' || *p == '\t') ++p;
  return p;
}

const char* SkipWord(const char* p) {
  while (*p && *p != ' ' && *p != '\t' && *p != '\n') ++p;
  return SkipSpaces(p);
}

bool StartsWith(const char* p, const char* word) { return strncmp(p, word, strlen(word)) == 0; }

// Parses one "lock:" line (p just past "lock:"). Returns false for a lease.
bool ParseLock(const char* p, int fd, FileLockRecord& r) {
  p = SkipWord(SkipSpaces(p));  // the "N:" counter
  r = FileLockRecord{};
  r.fd = fd;
  if (StartsWith(p, "FLOCK")) r.kind = kLockFlock;
  else if (StartsWith(p, "OFDLCK")) r.kind = kLockOfd;
  else if (StartsWith(p, "POSIX")) r.kind = kLockPosix;
  else return false;  // LEASE, DELEG, BREAKING...
  p = SkipWord(SkipWord(p));  // kind, ADVISORY
  r.write = StartsWith(p, "WRITE") ? 1 : 0;
  p = SkipWord(SkipWord(SkipWord(p)));  // type, pid, dev:ino
  r.start = static_cast<int64_t>(ParseDec(p));
  p = SkipSpaces(p);
  if (StartsWith(p, "EOF")) r.len = 0;
  else r.len = static_cast<int64_t>(ParseDec(p)) - r.start + 1;
  if (r.kind == kLockFlock) r.start = r.len = 0;
  return true;
}

}  // namespace

bool WriteFileLocks(int image_fd, uint32_t owner, uint32_t* sections, DumpError& err) {
  int dir = open("/proc/self/fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    err.Set(errno, "cannot list open files");
    return false;
  }
  size_t mark = g_agent.arena.used();
  auto* locks = g_agent.arena.AllocArray<FileLockRecord>(kMaxFileLocks);
  uint32_t count = 0;
  bool ok = locks != nullptr;
  if (!ok) err.Set(ENOMEM, "no memory for the file locks");
  char buf[4096];
  for (long n; ok && (n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0;) {
    for (long off = 0; off < n && ok; off += reinterpret_cast<struct dirent64*>(buf + off)->d_reclen) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      if (d->d_name[0] == '.') continue;
      const char* s = d->d_name;
      int num = static_cast<int>(ParseDec(s));
      if (num == dir || num == g_agent.listen_fd || num == g_agent.conn_fd || num == image_fd) continue;
      char path[64];
      AppendDec(AppendStr(path, "/proc/self/fdinfo/"), static_cast<uint64_t>(num));
      char* text = nullptr;
      size_t before = g_agent.arena.used();
      if (ReadWholeFile(path, g_agent.arena, &text) <= 0) continue;  // closed meanwhile
      for (const char* p = text; ok && (p = strstr(p, "\nlock:"));) {
        p += strlen("\nlock:");
        char fdtext[24];
        AppendDec(fdtext, static_cast<uint64_t>(num));
        if (count == kMaxFileLocks) {
          err.Set(ENOTSUP, "more than 4096 file locks in one process");
          ok = false;
        } else if (!ParseLock(p, num, locks[count])) {
          err.Set(ENOTSUP, "fd ", fdtext, " holds a file lease or delegation (F_SETLEASE), which cannot be"
                                         " restored; release it before the checkpoint");
          ok = false;
        } else {
          ++count;
        }
      }
      g_agent.arena.Reset(before);
    }
  }
  close(dir);
  if (ok && count) {
    if (int e = AppendSection(image_fd, owner, SectionType::kFileLocks, locks, count * sizeof(FileLockRecord))) {
      err.Set(e, "writing the image: ", strerror(e));
      ok = false;
    } else {
      ++*sections;
    }
  }
  g_agent.arena.Reset(mark);
  return ok;
}

}  // namespace reprise::cr::agent
