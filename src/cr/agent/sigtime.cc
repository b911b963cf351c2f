// Pending signals and POSIX timers across a checkpoint (issue 11 item 6).
//
// Signals: the kernel has no call that reads a pending signal without taking
// it, so each thread takes its own in its checkpoint handler (all signals are
// blocked there) with rt_sigtimedwait, and they are queued back right after
// the dump (a live checkpoint) or after a restart, with the same siginfo, in
// the same order. rt_sigtimedwait takes a thread's private queue before the
// process-wide one, so a thread asks only for the signals /proc says are
// pending for it alone (SigPnd); once every thread has, the coordinator takes
// what is left: the process-wide queue.
//
// Timers: /proc/self/timers lists id, signal, sigev value, target and clock;
// timer_gettime the time left. A restart re-creates each with its own id
// (PR_TIMER_CREATE_RESTORE_IDS, Linux 6.16). Overrun counts are not kept.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "agent_state.h"
#include "section_writer.h"

namespace reprise::cr::agent {
namespace {

constexpr int kPrTimerCreateRestoreIds = 77;  // PR_TIMER_CREATE_RESTORE_IDS (Linux 6.16)
constexpr unsigned long kRestoreIdsOff = 0, kRestoreIdsOn = 1, kRestoreIdsGet = 2;

int32_t Tid() { return static_cast<int32_t>(syscall(SYS_gettid)); }

uint64_t Bit(int sig) { return 1ull << (sig - 1); }

// Every signal but those that cannot be pending for a program to take.
uint64_t SaveableMask() {
  return ~(Bit(SIGKILL) | Bit(SIGSTOP) | Bit(g_agent.checkpoint_signal));
}

// The signals pending for the calling thread alone: SigPnd in its status.
uint64_t ThreadPendingMask() {
  char path[64];
  AppendDec(AppendStr(path, "/proc/self/task/"), static_cast<uint64_t>(Tid()));
  AppendStr(path + strlen(path), "/status");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  ssize_t n;
  do n = read(fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = strstr(buf, "\nSigPnd:");
  if (!p) return 0;
  p += strlen("\nSigPnd:");
  while (*p == ' ' || *p == '\t') ++p;
  return ParseHex(p);
}

bool Take(uint64_t mask, siginfo_t* info) {
  timespec zero{0, 0};
  return syscall(SYS_rt_sigtimedwait, &mask, info, &zero, 8) > 0;
}

void Queue(int32_t tid, const siginfo_t& info) {
  if (tid) syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, info.si_signo, &info);
  else syscall(SYS_rt_sigqueueinfo, getpid(), info.si_signo, &info);
}

// Records one taken signal; when the table is full it goes straight back
// (and the checkpoint fails).
bool Keep(int32_t tid, const siginfo_t& info) {
  uint32_t slot = __atomic_fetch_add(&g_agent.pending_count, 1, __ATOMIC_ACQ_REL);
  if (slot >= kMaxPendingSignals) {
    __atomic_store_n(&g_agent.pending_overflow, 1, __ATOMIC_RELEASE);
    Queue(tid ? Tid() : 0, info);
    return false;
  }
  PendingSignalRecord& r = g_agent.pending[slot];
  r.tid = tid;
  r.reserved = 0;
  memcpy(r.info, &info, sizeof r.info);
  return true;
}

uint32_t KeptCount() {
  uint32_t n = __atomic_load_n(&g_agent.pending_count, __ATOMIC_ACQUIRE);
  return n < kMaxPendingSignals ? n : kMaxPendingSignals;
}

const siginfo_t& InfoOf(const PendingSignalRecord& r) { return *reinterpret_cast<const siginfo_t*>(r.info); }

// Skips to the value after `key` in the /proc/self/timers text, or null.
const char* After(const char* p, const char* key) {
  p = strstr(p, key);
  return p ? p + strlen(key) : nullptr;
}

int64_t Ns(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000LL + t.tv_nsec; }

timespec Ts(int64_t ns) { return {static_cast<time_t>(ns / 1000000000LL), static_cast<long>(ns % 1000000000LL)}; }

bool SaveTimers(DumpError& err) {
  g_agent.timer_count = 0;
  char* text = nullptr;
  size_t mark = g_agent.arena.used();
  ssize_t len = ReadWholeFile("/proc/self/timers", g_agent.arena, &text);
  if (len <= 0) {  // no timers (or no CONFIG_POSIX_TIMERS / CHECKPOINT_RESTORE)
    g_agent.arena.Reset(mark);
    return true;
  }
  if (syscall(SYS_prctl, kPrTimerCreateRestoreIds, kRestoreIdsGet, 0, 0, 0) < 0) {
    err.Set(ENOTSUP, "POSIX timers (timer_create) cannot be given their ids back on this kernel (needs Linux 6.16's"
                     " PR_TIMER_CREATE_RESTORE_IDS)");
    return false;
  }
  bool ok = true;
  for (const char* p = text; ok && (p = After(p, "ID: "));) {
    PosixTimerRecord t{};
    t.id = static_cast<int32_t>(ParseDec(p));
    const char* s = After(p, "signal: ");
    const char* n = s ? After(s, "notify: ") : nullptr;
    const char* c = n ? After(n, "ClockID: ") : nullptr;
    if (!c) {
      err.Set(EIO, "cannot read /proc/self/timers");
      ok = false;
      break;
    }
    t.signo = static_cast<int32_t>(ParseDec(s));
    if (*s == '/') ++s;
    t.sigev_value = ParseHex(s);
    t.notify = strncmp(n, "none", 4) == 0 ? SIGEV_NONE : SIGEV_SIGNAL;
    const char* target = After(n, "/");
    if (target && strncmp(target, "tid.", 4) == 0) {
      t.notify |= SIGEV_THREAD_ID;
      target += 4;
      t.target_tid = static_cast<int32_t>(ParseDec(target));
    }
    bool negative = *c == '-';
    if (negative) ++c;
    t.clock = static_cast<int32_t>(ParseDec(c));
    itimerspec now{};
    char id[24];
    AppendDec(id, static_cast<uint64_t>(t.id));
    if (negative || (t.clock == CLOCK_THREAD_CPUTIME_ID && g_agent.thread_slots > 1)) {
      err.Set(ENOTSUP, "POSIX timer ", id, " runs on the CPU-time clock of another process or of one thread, which"
                                          " cannot be restored; use CLOCK_MONOTONIC or CLOCK_PROCESS_CPUTIME_ID");
      ok = false;
    } else if (g_agent.timer_count == kMaxPosixTimers) {
      err.Set(ENOTSUP, "more than 512 POSIX timers in one process");
      ok = false;
    } else if (syscall(SYS_timer_gettime, t.id, &now) != 0) {
      err.Set(errno, "cannot read POSIX timer ", id);
      ok = false;
    } else {
      t.value_ns = Ns(now.it_value);
      t.interval_ns = Ns(now.it_interval);
      g_agent.timers[g_agent.timer_count++] = t;
    }
    p = c;
  }
  g_agent.arena.Reset(mark);
  return ok;
}

}  // namespace

void SaveThreadSignals() {
  int32_t tid = Tid();
  for (uint32_t taken = 0; taken < kMaxPendingSignals; ++taken) {
    uint64_t mask = ThreadPendingMask() & SaveableMask();
    siginfo_t info;
    if (!mask || !Take(mask, &info) || !Keep(tid, info)) return;
  }
}

bool SaveProcessSignalsAndTimers(DumpError& err) {
  SaveThreadSignals();  // the coordinator's own first: what is left is process-wide
  for (uint32_t taken = 0; taken < kMaxPendingSignals; ++taken) {
    siginfo_t info;
    if (!Take(SaveableMask(), &info) || !Keep(0, info)) break;
  }
  if (__atomic_load_n(&g_agent.pending_overflow, __ATOMIC_ACQUIRE)) {
    err.Set(ENOTSUP, "more than 1024 signals are pending (queued real-time signals); let the program take them,"
                     " then checkpoint again");
    return false;
  }
  return SaveTimers(err);
}

void RequeueSignals() {
  for (uint32_t i = 0; i < KeptCount(); ++i) Queue(g_agent.pending[i].tid, InfoOf(g_agent.pending[i]));
}

bool WriteSignalsAndTimers(int fd, uint32_t owner, uint32_t* sections, DumpError& err) {
  int e = 0;
  if (KeptCount()) {
    e = AppendSection(fd, owner, SectionType::kSignals, g_agent.pending, KeptCount() * sizeof(PendingSignalRecord));
    if (!e) ++*sections;
  }
  if (!e && g_agent.timer_count) {
    e = AppendSection(fd, owner, SectionType::kPosixTimers, g_agent.timers,
                      g_agent.timer_count * sizeof(PosixTimerRecord));
    if (!e) ++*sections;
  }
  if (e) err.Set(e, "writing the image: ", strerror(e));
  return !e;
}

void RestoreThreadSignals(int32_t saved_tid) {
  for (uint32_t i = 0; i < KeptCount(); ++i)
    if (g_agent.pending[i].tid == saved_tid) Queue(Tid(), InfoOf(g_agent.pending[i]));
}

void RestoreProcessSignalsAndTimers() {
  if (g_agent.timer_count) {
    syscall(SYS_prctl, kPrTimerCreateRestoreIds, kRestoreIdsOn, 0, 0, 0);
    for (uint32_t i = 0; i < g_agent.timer_count; ++i) {
      const PosixTimerRecord& t = g_agent.timers[i];
      sigevent sev{};
      sev.sigev_notify = t.notify;
      sev.sigev_signo = t.signo;
      sev.sigev_value.sival_ptr = reinterpret_cast<void*>(t.sigev_value);
      sev._sigev_un._tid = t.target_tid;
      int id = t.id;
      if (syscall(SYS_timer_create, t.clock, &sev, &id) != 0) continue;
      itimerspec spec{Ts(t.interval_ns), Ts(t.value_ns)};
      if (t.value_ns) syscall(SYS_timer_settime, id, 0, &spec, nullptr);
    }
    syscall(SYS_prctl, kPrTimerCreateRestoreIds, kRestoreIdsOff, 0, 0, 0);
  }
  for (uint32_t i = 0; i < KeptCount(); ++i)
    if (g_agent.pending[i].tid == 0) Queue(0, InfoOf(g_agent.pending[i]));
}

}  // namespace reprise::cr::agent
