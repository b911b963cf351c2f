// Per-process and per-thread state: ids, credentials, limits, timers, signal
// actions, the memory layout the kernel keeps in mm_struct, and open files.
#include <asm/prctl.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/futex.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <dirent.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent_state.h"
#include "dump_events.h"
#include "dump_socket.h"
#include "section_writer.h"

namespace reprise::cr::agent {
namespace {

// Fields 26..28 and 45..51 of /proc/self/stat hold the mm layout that
// prctl(PR_SET_MM_MAP) needs. Field 2 (comm) may contain spaces: skip past ')'.
bool ReadMmLayout(ProcessRecord& p) {
  char* text;
  if (ReadWholeFile("/proc/self/stat", g_agent.arena, &text) < 0) return false;
  const char* s = text;
  for (const char* q = text; *q; ++q)
    if (*q == ')') s = q + 1;
  uint64_t field[64] = {};
  int index = 3;  // s points just before field 3
  while (*s && index < 64) {
    while (*s == ' ') ++s;
    if (*s >= '0' && *s <= '9') field[index] = ParseDec(s);
    while (*s && *s != ' ') ++s;
    ++index;
  }
  p.start_code = field[26];
  p.end_code = field[27];
  p.start_stack = field[28];
  p.start_data = field[45];
  p.end_data = field[46];
  p.start_brk = field[47];
  p.arg_start = field[48];
  p.arg_end = field[49];
  p.env_start = field[50];
  p.env_end = field[51];
  p.brk = static_cast<uint64_t>(syscall(SYS_brk, 0));
  return true;
}

bool ReadAuxv(ProcessRecord& p) {
  char* raw;
  ssize_t n = ReadWholeFile("/proc/self/auxv", g_agent.arena, &raw);
  if (n < 0) return false;
  size_t words = static_cast<size_t>(n) / 8;
  if (words > 64) words = 64;
  memcpy(p.auxv, raw, words * 8);
  p.auxv_words = static_cast<uint32_t>(words);
  return true;
}

uint32_t ReadUmask() {
  char* text;
  if (ReadWholeFile("/proc/self/status", g_agent.arena, &text) < 0) return 022;
  const char* line = strstr(text, "\nUmask:");
  if (!line) return 022;
  line += 7;
  while (*line == ' ' || *line == '\t') ++line;
  uint32_t v = 0;
  for (; *line >= '0' && *line <= '7'; ++line) v = v * 8 + static_cast<uint32_t>(*line - '0');
  return v;
}

void ReadLink(const char* path, char* out, size_t cap) {
  ssize_t n = readlink(path, out, cap - 1);
  out[n < 0 ? 0 : n] = '\0';
}

// glibc caches each thread's tid in struct pthread; find where, so a restart
// into a different pid (--no-restore-pid) can patch it.
uint32_t FindCachedTidOffset() {
  auto* self = reinterpret_cast<const int32_t*>(pthread_self());
  int32_t tid = static_cast<int32_t>(syscall(SYS_gettid));
  if (self[720 / 4] == tid) return 720;
  for (uint32_t i = 0; i < 1024; ++i)
    if (self[i] == tid) return i * 4;
  return 0;
}

void FillProcess(ProcessRecord& p) {
  p.pid = getpid();
  p.ppid = getppid();
  p.pgid = getpgid(0);
  p.sid = getsid(0);
  p.uid = getuid();
  p.gid = getgid();
  p.euid = geteuid();
  p.egid = getegid();
  p.umask = ReadUmask();
  p.thread_count = g_agent.thread_slots;
  p.personality = static_cast<uint32_t>(personality(0xffffffff));
  for (int r = 0; r < 16; ++r) {
    struct rlimit lim {};
    if (getrlimit(static_cast<__rlimit_resource>(r), &lim) == 0) {
      p.rlimits[r][0] = lim.rlim_cur;
      p.rlimits[r][1] = lim.rlim_max;
    }
  }
  for (int t = 0; t < 3; ++t) {
    struct itimerval v {};
    getitimer(static_cast<__itimer_which>(t), &v);
    p.itimers[t][0] = static_cast<uint64_t>(v.it_interval.tv_sec);
    p.itimers[t][1] = static_cast<uint64_t>(v.it_interval.tv_usec);
    p.itimers[t][2] = static_cast<uint64_t>(v.it_value.tv_sec);
    p.itimers[t][3] = static_cast<uint64_t>(v.it_value.tv_usec);
  }
  p.rseq_offset = __rseq_size > 0 ? static_cast<int32_t>(__rseq_offset) : 0;
  p.tid_offset = FindCachedTidOffset();
  prctl(PR_GET_NAME, p.comm);
  ReadLink("/proc/self/cwd", p.cwd, sizeof p.cwd);
  ReadLink("/proc/self/exe", p.exe, sizeof p.exe);
}

}  // namespace

void FillThread(ThreadRecord& t, const ucontext_t* uc) {
  t.tid = static_cast<int32_t>(syscall(SYS_gettid));
  syscall(SYS_arch_prctl, ARCH_GET_FS, &t.fs_base);
  prctl(PR_GET_TID_ADDRESS, &t.clear_child_tid);
  syscall(SYS_get_robust_list, 0, &t.robust_list_head, &t.robust_list_len);
  memcpy(&t.sigmask, &uc->uc_sigmask, sizeof t.sigmask);
  prctl(PR_GET_NAME, t.name);
  t.flags = 0;
  if (__rseq_size > 0) {
    auto* area = reinterpret_cast<const struct rseq*>(static_cast<const char*>(__builtin_thread_pointer()) +
                                                      __rseq_offset);
    if (static_cast<int32_t>(area->cpu_id) >= 0) t.flags |= kThreadRseqRegistered;
  }
}

namespace {

void FillSigactions(SigactionRecord* out) {
  for (int sig = 1; sig <= 64; ++sig) {
    struct {
      uint64_t handler, flags, restorer, mask;
    } k{};
    syscall(SYS_rt_sigaction, sig, nullptr, &k, 8);
    out[sig - 1] = {k.handler, k.flags, k.restorer, k.mask};
  }
}

bool IsReopenableDevice(const char* path) {
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/full"})
    if (strcmp(path, dev) == 0) return true;
  return false;
}

bool IsTerminal(const struct stat& st) {
  unsigned maj = major(st.st_rdev);
  return maj == 136 || maj == 4 || maj == 5;  // pts, tty, console
}

bool EndsWith(const char* s, const char* suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

// A file the program may change anywhere, not just extend: open read-write, or
// write-only with its offset short of the end (output only ever appended sits
// at its end and keeps the truncate rule). O_APPEND writes can only extend.
bool IsRewrittenInPlace(const FileRecord& rec) {
  uint32_t mode = rec.flags & O_ACCMODE;
  if (mode == O_RDONLY || (rec.flags & O_APPEND)) return false;
  return mode == O_RDWR || rec.offset < rec.size;
}

// "fd N: file 'PATH' rewritten in place " with the path cut to leave `tail` room.
char* RewrittenFileText(char* text, size_t cap, const FileRecord& rec, const char* path, size_t tail) {
  char* p = AppendStr(text, "fd ");
  p = AppendDec(p, static_cast<uint64_t>(rec.fd));
  p = AppendStr(p, ": file '");
  size_t room = static_cast<size_t>(text + cap - tail - p);
  size_t len = strlen(path) < room ? strlen(path) : room;
  memcpy(p, path, len);
  return AppendStr(p + len, "' rewritten in place ");
}

void RefuseBigRewrittenFile(const FileRecord& rec, const char* path, DumpError& err) {
  char text[sizeof err.text];
  char* p = RewrittenFileText(text, sizeof text, rec, path, 140);
  p = AppendStr(p, "holds ");
  p = AppendDec(p, rec.size);
  p = AppendStr(p, " bytes, over the ");
  p = AppendDec(p, g_agent.rewritten_limit >> 20);
  AppendStr(p, " MiB an image keeps of one; raise --rewritten-limit, or open it O_APPEND or read-only");
  err.Set(EFBIG, text);
}

void RefuseRewrittenFile(const FileRecord& rec, const char* path, DumpError& err) {
  char text[sizeof err.text];
  char* p = RewrittenFileText(text, sizeof text, rec, path, 110);
  AppendStr(p, "is refused by the job's policy (--rewritten-files=refuse; 'save' keeps its contents)");
  err.Set(ENOTSUP, text);
}

// A read end whose writers have all closed (POLLHUP: what is buffered, then
// EOF), or a write end whose readers have (POLLERR: EPIPE). Typically the
// command substitution of a shell whose child has just exited (a zombie now).
bool PipeOtherEndGone(int fd, uint32_t flags) {
  uint32_t mode = flags & O_ACCMODE;
  if (mode == O_RDWR) return false;
  pollfd p{fd, static_cast<short>(mode == O_RDONLY ? POLLIN : POLLOUT), 0};
  if (poll(&p, 1, 0) < 0) return false;
  return mode == O_RDONLY ? (p.revents & POLLHUP) != 0 : (p.revents & POLLERR) != 0;
}

// Describes one fd, or explains why it cannot be restored.
bool DescribeFd(int fd, FileRecord& rec, char* path, size_t cap, DumpError& err) {
  char link[64];
  AppendDec(AppendStr(link, "/proc/self/fd/"), static_cast<uint64_t>(fd));
  ReadLink(link, path, cap);
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    err.Set(errno, "cannot inspect fd ", link + 14);
    return false;
  }
  rec.fd = fd;
  rec.flags = static_cast<uint32_t>(fcntl(fd, F_GETFL));
  rec.fd_flags = static_cast<uint32_t>(fcntl(fd, F_GETFD));
  rec.dev = st.st_dev;
  rec.ino = st.st_ino;
  rec.mode = st.st_mode;
  rec.size = static_cast<uint64_t>(st.st_size);
  rec.mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<uint64_t>(st.st_mtim.tv_nsec);
  off_t off = lseek(fd, 0, SEEK_CUR);
  rec.offset = off < 0 ? 0 : static_cast<uint64_t>(off);
  char num[24];
  AppendDec(num, static_cast<uint64_t>(fd));
  if (path[0] == 'a' && ClassifyEventFd(fd, path, rec)) return true;  // anon_inode:[eventfd]...
  if (S_ISREG(st.st_mode) && EndsWith(path, " (deleted)")) {
    if (rec.size > kMaxDeletedFileBytes) {
      err.Set(EFBIG, "fd ", num, ": deleted file or memfd holds more than the 64 MiB an image keeps of one; "
              "write it to a real file instead");
      return false;
    }
    rec.kind = static_cast<uint32_t>(FileKind::kDeletedFile);
    int seals = fcntl(fd, F_GET_SEALS);
    rec.reserved = seals > 0 ? static_cast<uint32_t>(seals) : 0;
  } else if (S_ISREG(st.st_mode)) {
    if (path[0] != '/') {
      err.Set(ENOTSUP, "fd ", num, ": open file has no path; it cannot be reopened");
      return false;
    }
    rec.kind = static_cast<uint32_t>(FileKind::kRegular);
    if (IsRewrittenInPlace(rec)) {
      if (g_agent.rewritten_policy == kRewrittenRefuse) {
        RefuseRewrittenFile(rec, path, err);
        return false;
      }
      bool keep = g_agent.rewritten_policy == kRewrittenKeepCurrent;
      rec.kind = static_cast<uint32_t>(keep ? FileKind::kRewrittenKept : FileKind::kRewrittenFile);
      if (!keep && rec.size > g_agent.rewritten_limit) {
        RefuseBigRewrittenFile(rec, path, err);
        return false;
      }
    }
  } else if (S_ISDIR(st.st_mode)) {
    rec.kind = static_cast<uint32_t>(FileKind::kDirectory);
  } else if (S_ISCHR(st.st_mode) && IsReopenableDevice(path)) {
    rec.kind = static_cast<uint32_t>(FileKind::kDevice);
  } else if (S_ISCHR(st.st_mode) && IsTerminal(st)) {
    rec.kind = static_cast<uint32_t>(FileKind::kTerminal);
  } else if (S_ISFIFO(st.st_mode) && strncmp(path, "pipe:", 5) == 0) {
    rec.kind = static_cast<uint32_t>(FileKind::kPipe);
    if (PipeOtherEndGone(fd, rec.flags)) rec.reserved = kPipeOtherEndGone;
  } else if (S_ISFIFO(st.st_mode)) {
    err.Set(ENOTSUP, "fd ", num, ": named FIFOs cannot be checkpointed yet");
    return false;
  } else if (S_ISSOCK(st.st_mode)) {
    return ClassifySocket(fd, rec, err);
  } else {
    err.Set(ENOTSUP, "fd ", num, ": unsupported kind of file cannot be checkpointed");
    return false;
  }
  return true;
}

// Copies the bytes waiting in a pipe without consuming them: tee() into a
// scratch pipe, then read that. Returns the count, or -1 if they do not fit.
ssize_t PeekPipe(int fd, int scratch[2], char* dst, size_t cap) {
  int waiting = 0;
  if (ioctl(fd, FIONREAD, &waiting) != 0 || waiting <= 0) return 0;
  if (static_cast<size_t>(waiting) > cap) return -1;
  ssize_t copied = tee(fd, scratch[1], static_cast<size_t>(waiting), SPLICE_F_NONBLOCK);
  if (copied != waiting) return -1;
  size_t got = 0;
  while (got < static_cast<size_t>(copied)) {
    ssize_t n = read(scratch[0], dst + got, static_cast<size_t>(copied) - got);
    if (n <= 0) return -1;
    got += static_cast<size_t>(n);
  }
  return copied;
}

// Copies the bytes of a deleted file or memfd (the restart has nowhere else
// to find them), unless an earlier fd of this process holds the same one.
bool SaveDeletedFile(int fd, FileRecord& rec, const char* records, size_t records_size, char* dst, DumpError& err) {
  for (size_t at = 0; at < records_size;) {
    FileRecord prev;
    memcpy(&prev, records + at, sizeof prev);
    if (prev.kind == rec.kind && prev.dev == rec.dev && prev.ino == rec.ino && prev.data_len == prev.size)
      return true;  // data_len 0: the restart takes the bytes from that record
    at += sizeof prev + AlignUp(prev.path_len, 8) + AlignUp(prev.data_len, 8);
  }
  int reader = fd;
  if ((rec.flags & O_ACCMODE) == O_WRONLY) {  // pread needs read access: a second description
    char link[64];
    AppendDec(AppendStr(link, "/proc/self/fd/"), static_cast<uint64_t>(fd));
    reader = open(link, O_RDONLY | O_CLOEXEC);
  }
  size_t got = 0;
  while (reader >= 0 && got < rec.size) {
    ssize_t n = pread(reader, dst + got, rec.size - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (reader != fd && reader >= 0) close(reader);
  if (got != rec.size) {
    char num[24];
    AppendDec(num, static_cast<uint64_t>(fd));
    err.Set(EIO, "fd ", num, ": cannot read the contents of the deleted file or memfd");
    return false;
  }
  rec.data_len = static_cast<uint32_t>(got);
  return true;
}

bool DumpFiles(int fd, uint32_t owner, DumpError& err) {
  constexpr size_t kPipeCapacity = 1 << 20;
  int scratch[2] = {-1, -1};
  if (pipe2(scratch, O_CLOEXEC | O_NONBLOCK) == 0) fcntl(scratch[1], F_SETPIPE_SZ, kPipeCapacity);
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    err.Set(errno, "cannot list open files");
    return false;
  }
  ResetEventFds();
  size_t start = g_agent.arena.used();
  char* out = static_cast<char*>(g_agent.arena.Alloc(0, 8));
  size_t size = 0;
  char buf[4096];
  bool ok = true;
  for (;;) {
    long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n && ok; off += reinterpret_cast<struct dirent64*>(buf + off)->d_reclen) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      if (d->d_name[0] == '.') continue;
      const char* s = d->d_name;
      int num = static_cast<int>(ParseDec(s));
      if (num == dir || num == g_agent.listen_fd || num == g_agent.conn_fd || num == g_agent.image_fd ||
          num == scratch[0] || num == scratch[1])
        continue;
      FileRecord rec{};
      char path[4096];
      if (!DescribeFd(num, rec, path, sizeof path, err)) {
        ok = false;
        break;
      }
      rec.path_len = static_cast<uint32_t>(strlen(path));
      size_t head = sizeof rec + AlignUp(rec.path_len, 8);
      bool deleted = rec.kind == static_cast<uint32_t>(FileKind::kDeletedFile) ||
                     rec.kind == static_cast<uint32_t>(FileKind::kRewrittenFile);  // both: contents saved
      bool is_socket = rec.kind == static_cast<uint32_t>(FileKind::kUnixSocket) ||
                       rec.kind == static_cast<uint32_t>(FileKind::kInetSocket);
      size_t room = is_socket ? kSocketDataCapacity
                    : deleted && AlignUp(rec.size, 8) > kPipeCapacity ? AlignUp(rec.size, 8) : kPipeCapacity;
      char* dst = static_cast<char*>(g_agent.arena.Alloc(head + room, 8));
      if (!dst) {
        err.Set(ENOMEM, "too many open files to describe");
        ok = false;
        break;
      }
      memset(dst, 0, head);
      if (rec.kind == static_cast<uint32_t>(FileKind::kPipe) && (rec.flags & O_ACCMODE) != O_WRONLY) {
        ssize_t n = scratch[0] < 0 ? -1 : PeekPipe(num, scratch, dst + head, kPipeCapacity);
        if (n < 0) {
          char numtext[24];
          AppendDec(numtext, static_cast<uint64_t>(num));
          err.Set(ENOTSUP, "fd ", numtext, ": cannot copy the bytes waiting in the pipe");
          ok = false;
          break;
        }
        rec.data_len = static_cast<uint32_t>(n);
      } else if (is_socket) {
        ssize_t n = DumpSocket(num, rec, dst + head, kSocketDataCapacity, err);
        if (n < 0) {
          ok = false;
          break;
        }
        rec.data_len = static_cast<uint32_t>(n);
      }
      if (deleted && !SaveDeletedFile(num, rec, out, size, dst + head, err)) {
        ok = false;
        break;
      }
      size_t bytes = head + AlignUp(rec.data_len, 8);
      memset(dst + head + rec.data_len, 0, bytes - head - rec.data_len);
      memcpy(dst, &rec, sizeof rec);
      memcpy(dst + sizeof rec, path, rec.path_len);
      g_agent.arena.Reset(static_cast<size_t>(dst + bytes - reinterpret_cast<char*>(g_agent.arena.begin())));
      size += bytes;
    }
    if (!ok) break;
  }
  close(dir);
  if (scratch[0] >= 0) {
    close(scratch[0]);
    close(scratch[1]);
  }
  if (ok) {
    if (int e = AppendSection(fd, owner, SectionType::kFiles, out, size)) {
      err.Set(e, "writing the image: ", strerror(e));
      ok = false;
    }
  }
  g_agent.arena.Reset(start);
  return ok;
}

}  // namespace

bool CollectProcessState(DumpError& err) {
  ProcessRecord& p = g_agent.process;
  memset(&p, 0, sizeof p);
  FillProcess(p);
  if (!ReadMmLayout(p) || !ReadAuxv(p)) {
    err.Set(errno ? errno : EIO, "cannot read the memory layout from /proc/self");
    return false;
  }
  g_agent.tid_offset = p.tid_offset;
  FillSigactions(g_agent.sigactions);
  return true;
}

bool WriteProcessState(int fd, uint32_t owner, DumpError& err) {
  const ProcessRecord& p = g_agent.process;
  int e = AppendSection(fd, owner, SectionType::kProcess, &p, sizeof p);
  if (!e) e = AppendSection(fd, owner, SectionType::kThreads, g_agent.threads, g_agent.thread_slots * sizeof(ThreadRecord));
  if (!e) e = AppendSection(fd, owner, SectionType::kSigactions, g_agent.sigactions, sizeof g_agent.sigactions);
  if (e) {
    err.Set(e, "writing the image: ", strerror(e));
    return false;
  }
  return DumpFiles(fd, owner, err) && WriteEvents(fd, owner, &g_agent.extra_sections, err) &&
         WriteSignalsAndTimers(fd, owner, &g_agent.extra_sections, err) &&
         WriteFileLocks(fd, owner, &g_agent.extra_sections, err);
}

void RestoreProcessState() {
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    const SigactionRecord& s = g_agent.sigactions[sig - 1];
    syscall(SYS_rt_sigaction, sig, &s, nullptr, 8);
  }
  const ProcessRecord& p = g_agent.process;
  for (int t = 0; t < 3; ++t) {
    struct itimerval v {};
    v.it_interval.tv_sec = static_cast<time_t>(p.itimers[t][0]);
    v.it_interval.tv_usec = static_cast<suseconds_t>(p.itimers[t][1]);
    v.it_value.tv_sec = static_cast<time_t>(p.itimers[t][2]);
    v.it_value.tv_usec = static_cast<suseconds_t>(p.itimers[t][3]);
    // An expired periodic timer whose signal was still pending (we block all
    // signals while dumping) reads as value 0; the kernel re-arms it only when
    // the signal is taken. Fire it at once instead, standing in for that signal.
    if (!v.it_value.tv_sec && !v.it_value.tv_usec && (v.it_interval.tv_sec || v.it_interval.tv_usec))
      v.it_value.tv_usec = 1;
    if (v.it_value.tv_sec || v.it_value.tv_usec) setitimer(static_cast<__itimer_which>(t), &v, nullptr);
  }
  RestoreProcessSignalsAndTimers();
  g_agent.conn_fd = -1;
  g_agent.image_fd = -1;
  OpenControlSocket();
}

}  // namespace reprise::cr::agent
