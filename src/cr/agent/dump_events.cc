#include "dump_events.h"

#include <linux/kcmp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "section_writer.h"

namespace reprise::cr::agent {
namespace {

struct NotedFd {
  int32_t fd;
  uint32_t kind;
};
constexpr uint32_t kMaxEventFds = 1024;
NotedFd g_noted[kMaxEventFds];
uint32_t g_noted_count;
bool g_noted_overflow;

bool StartsWith(const char* s, const char* prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

// Value after "key" in fdinfo text (skipping blanks), or null.
const char* Field(const char* text, const char* key) {
  const char* at = strstr(text, key);
  if (!at) return nullptr;
  at += strlen(key);
  while (*at == ' ' || *at == '\t') ++at;
  return at;
}

uint64_t ParseOct(const char*& p) {
  uint64_t v = 0;
  while (*p >= '0' && *p <= '7') v = v * 8 + static_cast<uint64_t>(*p++ - '0');
  return v;
}

// Reads /proc/self/fdinfo/FD into the arena.
const char* FdInfo(int fd) {
  char path[48];
  AppendDec(AppendStr(path, "/proc/self/fdinfo/"), static_cast<uint64_t>(fd));
  char* text;
  return ReadWholeFile(path, g_agent.arena, &text) < 0 ? nullptr : text;
}

class Refusal {
 public:
  Refusal(DumpError& err, int fd) : err_(err) { AppendDec(num_, static_cast<uint64_t>(fd)); }
  bool operator()(const char* a, const char* b = "", const char* c = "") {
    char text[200];
    char* p = AppendStr(AppendStr(AppendStr(text, "fd "), num_), ": ");
    p = AppendStr(p, a);
    CopyStr(p, b, text + sizeof text - p);
    err_.Set(ENOTSUP, text, c);
    return false;
  }

 private:
  DumpError& err_;
  char num_[24] = {};
};

bool DescribeTimerfd(int fd, const char* info, EventRecord& ev) {
  // timerfd_gettime first: it accounts expirations of a periodic timer that
  // nobody read yet (fdinfo alone shows them only after a read).
  struct itimerspec now {};
  syscall(SYS_timerfd_gettime, fd, &now);
  const char* p = Field(info, "clockid:");
  ev.value = p ? ParseDec(p) : 0;
  p = Field(info, "ticks:");
  ev.ticks = p ? ParseDec(p) : 0;
  p = Field(info, "settime flags:");
  ev.flags = p ? static_cast<uint32_t>(ParseOct(p)) : 0;
  ev.remaining_ns = static_cast<uint64_t>(now.it_value.tv_sec) * 1000000000ull + static_cast<uint64_t>(now.it_value.tv_nsec);
  ev.interval_ns =
      static_cast<uint64_t>(now.it_interval.tv_sec) * 1000000000ull + static_cast<uint64_t>(now.it_interval.tv_nsec);
  if ((ev.flags & 1 /* TFD_TIMER_ABSTIME */) && ev.remaining_ns) {
    clockid_t clock = static_cast<clockid_t>(ev.value);
    if (clock == CLOCK_REALTIME_ALARM) clock = CLOCK_REALTIME;
    if (clock == CLOCK_BOOTTIME_ALARM) clock = CLOCK_BOOTTIME;
    struct timespec t {};
    clock_gettime(clock, &t);
    ev.deadline_ns = static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec) + ev.remaining_ns;
  }
  return true;
}

// Appends the epoll's registrations after `ev`; each must still be open at
// the fd number it was registered with, or it could not be registered again.
bool DescribeEpoll(int fd, const char* info, EventRecord& ev, Refusal& refuse) {
  for (const char* line = strstr(info, "tfd:"); line; line = strstr(line + 1, "\ntfd:")) {
    const char* p = Field(line, "tfd:");
    int32_t tfd = static_cast<int32_t>(ParseDec(p));
    p = Field(p, "events:");
    uint32_t events = p ? static_cast<uint32_t>(ParseHex(p)) : 0;
    p = p ? Field(p, "data:") : nullptr;
    uint64_t data = p ? ParseHex(p) : 0;
    struct kcmp_epoll_slot slot {static_cast<uint32_t>(fd), static_cast<uint32_t>(tfd), 0};
    pid_t self = getpid();
    if (syscall(SYS_kcmp, self, self, KCMP_EPOLL_TFD, tfd, &slot) != 0) {
      char t[24];
      AppendDec(t, static_cast<uint64_t>(tfd));
      return refuse("epoll watches fd ", t,
                    ", which was closed or replaced after it was registered (the kernel keeps such a"
                    " registration, it cannot be made again); EPOLL_CTL_DEL it before closing the fd");
    }
    auto* item = static_cast<EpollItemRecord*>(g_agent.arena.Alloc(sizeof(EpollItemRecord), 8));
    if (!item) return refuse("too many epoll registrations to save");
    *item = {tfd, events, data};
    ++ev.item_count;
  }
  return true;
}

bool DescribeInotify(const char* info, EventRecord& ev, Refusal& refuse) {
  for (const char* line = strstr(info, "inotify wd:"); line; line = strstr(line + 1, "inotify wd:")) {
    const char* p = line + 11;
    int32_t wd = static_cast<int32_t>(ParseHex(p));
    p = Field(p, "ino:");
    uint64_t ino = p ? ParseHex(p) : 0;
    p = p ? Field(p, "sdev:") : nullptr;
    uint64_t sdev = p ? ParseHex(p) : 0;
    p = p ? Field(p, "mask:") : nullptr;
    uint32_t mask = p ? static_cast<uint32_t>(ParseHex(p)) : 0;
    char wdtext[24];
    AppendDec(wdtext, static_cast<uint64_t>(wd));
    uint32_t add_flags = 0;
    const char* path = InotifyWatchPath(wd, sdev, ino, &add_flags);
    if (!path)
      return refuse("inotify watch ", wdtext,
                    ": its path is unknown (added by a raw syscall, or the watched file was renamed or deleted"
                    " since); only watches added with inotify_add_watch() on paths that still exist can be restored");
    uint32_t len = static_cast<uint32_t>(strlen(path));
    auto* rec = static_cast<InotifyWatchRecord*>(g_agent.arena.Alloc(sizeof(InotifyWatchRecord) + AlignUp(len, 8), 8));
    if (!rec) return refuse("too many inotify watches to save");
    memset(rec, 0, sizeof *rec + AlignUp(len, 8));
    *rec = {wd, mask | add_flags, len, 0};
    memcpy(rec + 1, path, len);
    ++ev.item_count;
  }
  return true;
}

bool DescribePidfd(const char* info, EventRecord& ev, Refusal& refuse) {
  // NSpid lists the pid in every namespace down to the target's own; the
  // last one is the pid inside the tree's namespace.
  const char* p = Field(info, "NSpid:");
  const char* pid_field = Field(info, "Pid:");
  if (!pid_field || *pid_field == '-' || (*pid_field == '0' && pid_field[1] < '0'))
    return refuse("pidfd of a process that has exited and was reaped (or is not visible here);"
                  " close the pidfd before checkpointing");
  uint64_t pid = 0;
  while (p && *p >= '0' && *p <= '9') {
    pid = ParseDec(p);
    while (*p == ' ' || *p == '\t') ++p;
  }
  ev.value = pid;
  return true;
}

}  // namespace

bool ClassifyEventFd(int fd, const char* link, FileRecord& rec) {
  FileKind kind;
  if (!StartsWith(link, "anon_inode:")) return false;
  const char* name = link + 11;
  if (strcmp(name, "[eventfd]") == 0) kind = FileKind::kEventfd;
  else if (strcmp(name, "[timerfd]") == 0) kind = FileKind::kTimerfd;
  else if (strcmp(name, "[signalfd]") == 0) kind = FileKind::kSignalfd;
  else if (strcmp(name, "[eventpoll]") == 0) kind = FileKind::kEpoll;
  else if (strcmp(name, "inotify") == 0) kind = FileKind::kInotify;
  else if (strcmp(name, "[pidfd]") == 0) kind = FileKind::kPidfd;
  else return false;
  rec.kind = static_cast<uint32_t>(kind);
  if (g_noted_count < kMaxEventFds) g_noted[g_noted_count++] = {fd, rec.kind};
  else g_noted_overflow = true;
  return true;
}

void ResetEventFds() {
  g_noted_count = 0;
  g_noted_overflow = false;
}

bool WriteEvents(int image_fd, uint32_t owner, uint32_t* sections, DumpError& err) {
  if (g_noted_count == 0) return true;
  if (g_noted_overflow) {
    err.Set(ENOTSUP, "more than 1024 event descriptors (eventfd, timerfd, epoll...) cannot be checkpointed");
    return false;
  }
  size_t start = g_agent.arena.used();
  char* out = static_cast<char*>(g_agent.arena.Alloc(0, 8));
  bool ok = true;
  for (uint32_t i = 0; i < g_noted_count && ok; ++i) {
    int fd = g_noted[i].fd;
    Refusal refuse(err, fd);
    auto* ev = static_cast<EventRecord*>(g_agent.arena.Alloc(sizeof(EventRecord), 8));
    size_t info_mark = g_agent.arena.used();
    if (!ev) {
      ok = refuse("too many event descriptors to save");
      break;
    }
    memset(ev, 0, sizeof *ev);
    ev->fd = fd;
    ev->kind = g_noted[i].kind;
    // The fdinfo text lands at info_mark; items are appended after it and
    // then moved down right behind *ev.
    const char* info = FdInfo(fd);
    if (!info) {
      ok = refuse("cannot read its /proc/self/fdinfo");
      break;
    }
    size_t items_start = g_agent.arena.used();
    switch (static_cast<FileKind>(ev->kind)) {
      case FileKind::kEventfd: {
        const char* p = Field(info, "eventfd-count:");
        ev->value = p ? ParseHex(p) : 0;
        p = Field(info, "eventfd-semaphore:");
        if (p && *p == '1') ev->flags |= kEventfdSemaphore;
        break;
      }
      case FileKind::kTimerfd:
        ok = DescribeTimerfd(fd, info, *ev);
        break;
      case FileKind::kSignalfd: {
        const char* p = Field(info, "sigmask:");
        ev->value = p ? ParseHex(p) : 0;
        break;
      }
      case FileKind::kEpoll:
        ok = DescribeEpoll(fd, info, *ev, refuse);
        break;
      case FileKind::kInotify: {
        // Queued events cannot be saved (reading them would take them from
        // the program): EAGAIN makes cr_checkpoint try again in a moment.
        int queued = 0;
        if (ioctl(fd, FIONREAD, &queued) == 0 && queued > 0) {
          char num[24];
          AppendDec(num, static_cast<uint64_t>(fd));
          err.Set(EAGAIN, "fd ", num, ": inotify has unread events, which cannot be saved; try again");
          ok = false;
          break;
        }
        ok = DescribeInotify(info, *ev, refuse);
        break;
      }
      case FileKind::kPidfd:
        ok = DescribePidfd(info, *ev, refuse);
        break;
      default:
        break;
    }
    if (!ok) break;
    // Close the gap left by the fdinfo text.
    size_t items = g_agent.arena.used() - items_start;
    memmove(reinterpret_cast<char*>(g_agent.arena.begin()) + info_mark,
            reinterpret_cast<char*>(g_agent.arena.begin()) + items_start, items);
    g_agent.arena.Reset(info_mark + items);
  }
  if (ok) {
    size_t size = g_agent.arena.used() - static_cast<size_t>(out - reinterpret_cast<char*>(g_agent.arena.begin()));
    if (int e = AppendSection(image_fd, owner, SectionType::kEvents, out, size)) {
      err.Set(e, "writing the image: ", strerror(e));
      ok = false;
    } else {
      ++*sections;
    }
  }
  g_agent.arena.Reset(start);
  return ok;
}

}  // namespace reprise::cr::agent
