// Stopping and resuming the other threads of a process around a checkpoint,
// and bringing every thread back after a restart.
//
// The coordinator (the thread that took cr_checkpoint's signal) sends the
// checkpoint signal to each other thread; their handlers see a checkpoint in
// progress, record their state and park on a futex. After the dump the
// coordinator bumps resume_epoch and they return from their handlers.
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <pthread.h>

#include "agent_state.h"
#include "threads.h"

namespace reprise::cr::agent {
namespace {

long FutexWait(uint32_t* word, uint32_t expected, int timeout_ms) {
  timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  return syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, timeout_ms >= 0 ? &ts : nullptr, nullptr, 0);
}

void FutexWakeAll(uint32_t* word) { syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0); }

uint32_t Load(const uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

// Calls fn(tid) for every thread of the process but the caller.
template <typename Fn>
bool ForEachOtherThread(int32_t self, Fn fn) {
  int dir = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  char buf[4096];
  for (;;) {
    long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      off += d->d_reclen;
      if (d->d_name[0] == '.') continue;
      const char* s = d->d_name;
      int32_t tid = static_cast<int32_t>(ParseDec(s));
      if (tid != self) fn(tid);
    }
  }
  close(dir);
  return true;
}

}  // namespace

bool StopOtherThreads(DumpError& err) {
  int32_t self = static_cast<int32_t>(syscall(SYS_gettid));
  g_agent.coordinator_tid = self;
  g_agent.thread_slots = 1;
  __atomic_store_n(&g_agent.parked, 0, __ATOMIC_RELEASE);
  g_agent.checkpoint_epoch++;
  // Threads can start while we signal: repeat until a pass finds no new one.
  int32_t* signaled = g_agent.arena.AllocArray<int32_t>(kMaxThreads);
  uint32_t count = 0;
  for (bool found = true; found;) {
    found = false;
    bool ok = ForEachOtherThread(self, [&](int32_t tid) {
      for (uint32_t i = 0; i < count; ++i)
        if (signaled[i] == tid) return;
      if (count == kMaxThreads) return;
      if (syscall(SYS_tgkill, getpid(), tid, g_agent.checkpoint_signal) == 0) {
        signaled[count++] = tid;
        found = true;
      }
    });
    if (!ok || count == kMaxThreads) {
      err.Set(ENOTSUP, count == kMaxThreads ? "too many threads" : "cannot list the process's threads");
      return false;
    }
    // A signaled thread that exits instead of parking is waited out by the timeout.
    for (int waited_ms = 0; Load(&g_agent.parked) < count;) {
      uint32_t seen = Load(&g_agent.parked);
      if (seen >= count) break;
      FutexWait(&g_agent.parked, seen, 100);
      if ((waited_ms += 100) > 10000) {
        err.Set(ETIMEDOUT, "a thread did not stop for the checkpoint (is it blocking the checkpoint signal?)");
        return false;
      }
    }
  }
  return true;
}

void ResumeOtherThreads() {
  g_agent.coordinator_tid = 0;
  __atomic_store_n(&g_agent.resume_epoch, g_agent.checkpoint_epoch, __ATOMIC_RELEASE);
  FutexWakeAll(&g_agent.resume_epoch);
}

void ParkThisThread(const ucontext_t* uc) {
  SaveThreadSignals();  // before we count as parked: the coordinator takes the process-wide ones after
  uint32_t slot = __atomic_fetch_add(&g_agent.thread_slots, 1, __ATOMIC_ACQ_REL);
  uint32_t epoch = g_agent.checkpoint_epoch;
  // Past kMaxThreads the coordinator fails the checkpoint ("too many threads").
  static ThreadRecord overflow;
  ThreadRecord* const record = slot < kMaxThreads ? &g_agent.threads[slot] : &overflow;
  FillThread(*record, uc);
  void* restored = reprise_park(&record->park);
  if (restored) {
    RestoreThread(static_cast<restore_info*>(restored), *record, /*coordinator=*/false);
    return;
  }
  __atomic_add_fetch(&g_agent.parked, 1, __ATOMIC_ACQ_REL);
  FutexWakeAll(&g_agent.parked);
  for (uint32_t seen; (seen = Load(&g_agent.resume_epoch)) != epoch;) FutexWait(&g_agent.resume_epoch, seen, -1);
}

bool CheckpointInProgressElsewhere() {
  int32_t coordinator = __atomic_load_n(&g_agent.coordinator_tid, __ATOMIC_ACQUIRE);
  return coordinator != 0 && coordinator != static_cast<int32_t>(syscall(SYS_gettid));
}

void RestoreThread(restore_info* info, const ThreadRecord& record, bool coordinator) {
  if (record.flags & kThreadRseqRegistered) {
    void* area = static_cast<char*>(__builtin_thread_pointer()) + __rseq_offset;
    syscall(SYS_rseq, area, 32, 0, 0x53053053);
  }
  // With --no-restore-pid the kernel gave us a new tid: glibc must agree.
  int32_t tid = static_cast<int32_t>(syscall(SYS_gettid));
  if (g_agent.tid_offset && tid != record.tid)
    reinterpret_cast<int32_t*>(pthread_self())[g_agent.tid_offset / 4] = tid;
  prctl(PR_SET_NAME, record.name);
  RestoreThreadSignals(record.tid);  // blocked until the handler returns into the program
  __atomic_add_fetch(&info->threads_arrived, 1, __ATOMIC_ACQ_REL);
  FutexWakeAll(&info->threads_arrived);
  if (!coordinator) {
    for (uint32_t seen; (seen = Load(&info->go)) == 0;) FutexWait(&info->go, seen, -1);
    __atomic_add_fetch(&info->departed, 1, __ATOMIC_ACQ_REL);  // last touch of the hole
    FutexWakeAll(&info->departed);
    return;
  }
  for (uint32_t seen; (seen = Load(&info->threads_arrived)) < info->thread_count;)
    FutexWait(&info->threads_arrived, seen, -1);
  RestoreProcessState();
  g_agent.coordinator_tid = 0;
  __atomic_store_n(&info->go, 1, __ATOMIC_RELEASE);
  FutexWakeAll(&info->go);
  for (uint32_t seen; (seen = Load(&info->departed)) + 1 < info->thread_count;)
    FutexWait(&info->departed, seen, -1);
  // The restorer's hole (its code, stacks and plan) is ours to remove now.
  munmap(reinterpret_cast<void*>(info->hole_start), info->hole_len);
}

}  // namespace reprise::cr::agent
