// SysV semaphores and message queues: the kernel keeps them outside any fd or
// mapping, so nothing in /proc/self tells the agent a process uses them. The
// agent interposes the libc calls that create or use them and remembers that
// it saw one, so a checkpoint refuses instead of restoring a program that
// silently lost its semaphores. (SysV shared memory shows in the maps and is
// refused there.)
#include <dlfcn.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/types.h>

#include <cerrno>

#include "agent_state.h"

namespace reprise::cr::agent {
namespace {

// Bits: 1 = semaphores, 2 = message queues. Set once, never cleared (the
// program may still hold a set another process of the tree created).
uint32_t g_sysv_used;

template <typename Fn>
Fn Real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

void Saw(uint32_t what) { __atomic_fetch_or(&g_sysv_used, what, __ATOMIC_RELAXED); }

}  // namespace

bool RefuseSysvIpc(DumpError& err) {
  uint32_t used = __atomic_load_n(&g_sysv_used, __ATOMIC_RELAXED);
  if (used & 1) {
    err.Set(ENOTSUP, "SysV semaphores (semget/semop) cannot be checkpointed; use POSIX semaphores "
                     "(sem_open, or sem_init in shared memory) instead");
    return false;
  }
  if (used & 2) {
    err.Set(ENOTSUP, "SysV message queues (msgget/msgsnd) cannot be checkpointed; use a pipe instead");
    return false;
  }
  return true;
}

}  // namespace reprise::cr::agent

#define REPRISE_EXPORT __attribute__((visibility("default")))
using reprise::cr::agent::Real;
using reprise::cr::agent::Saw;

extern "C" {

REPRISE_EXPORT int semget(key_t key, int nsems, int flags) {
  static auto real = Real<int (*)(key_t, int, int)>("semget");
  int id = real(key, nsems, flags);
  if (id >= 0) Saw(1);
  return id;
}

REPRISE_EXPORT int semop(int id, struct sembuf* ops, size_t n) {
  static auto real = Real<int (*)(int, struct sembuf*, size_t)>("semop");
  Saw(1);
  return real(id, ops, n);
}

REPRISE_EXPORT int semtimedop(int id, struct sembuf* ops, size_t n, const struct timespec* timeout) {
  static auto real = Real<int (*)(int, struct sembuf*, size_t, const struct timespec*)>("semtimedop");
  Saw(1);
  return real(id, ops, n, timeout);
}

REPRISE_EXPORT int msgget(key_t key, int flags) {
  static auto real = Real<int (*)(key_t, int)>("msgget");
  int id = real(key, flags);
  if (id >= 0) Saw(2);
  return id;
}

REPRISE_EXPORT int msgsnd(int id, const void* msg, size_t size, int flags) {
  static auto real = Real<int (*)(int, const void*, size_t, int)>("msgsnd");
  Saw(2);
  return real(id, msg, size, flags);
}

REPRISE_EXPORT ssize_t msgrcv(int id, void* msg, size_t size, long type, int flags) {
  static auto real = Real<ssize_t (*)(int, void*, size_t, long, int)>("msgrcv");
  Saw(2);
  return real(id, msg, size, type, flags);
}

}  // extern "C"
