// The checkpoint signal across exec. Between the kernel's exec and the new
// program's agent installing its handler, the checkpoint signal has its
// default action, which kills the process; and cr_checkpoint may have
// connected to the old program's agent just before. So the exec family is
// wrapped: the signal is blocked over the exec (a blocked mask survives it),
// and the new program's agent unblocks it once its handler is in (see
// AgentInit); a signal that arrived meanwhile is then a stray one, and
// cr_checkpoint, whose connection the exec closed, tries again. Only the
// calls programs make through the dynamic linker are seen (glibc's execl*
// and posix_spawn call execve internally; a raw syscall is not seen).
#include <dlfcn.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "agent_state.h"

namespace reprise::cr::agent {
namespace {

// The kernel's sigset: one bit per signal.
uint64_t CheckpointSignalBit() { return 1ull << (g_agent.checkpoint_signal - 1); }

uint64_t BlockCheckpointSignal() {
  uint64_t add = CheckpointSignalBit(), old = 0;
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &add, &old, 8);
  return old;
}

void RestoreMask(uint64_t old) {
  int e = errno;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, 8);
  errno = e;
}

}  // namespace

// Resolved once at load (ResolveExecFunctions): a vfork child (Python's
// subprocess, for one) must not run dlsym, which may take locks and allocate
// in memory its parent shares.
using ExecveFn = int (*)(const char*, char* const[], char* const[]);
using ExecvFn = int (*)(const char*, char* const[]);
using FexecveFn = int (*)(int, char* const[], char* const[]);
ExecveFn g_execve, g_execvpe;
ExecvFn g_execv, g_execvp;
FexecveFn g_fexecve;

void ResolveExecFunctions() {
  g_execve = reinterpret_cast<ExecveFn>(dlsym(RTLD_NEXT, "execve"));
  g_execvpe = reinterpret_cast<ExecveFn>(dlsym(RTLD_NEXT, "execvpe"));
  g_execv = reinterpret_cast<ExecvFn>(dlsym(RTLD_NEXT, "execv"));
  g_execvp = reinterpret_cast<ExecvFn>(dlsym(RTLD_NEXT, "execvp"));
  g_fexecve = reinterpret_cast<FexecveFn>(dlsym(RTLD_NEXT, "fexecve"));
}

void UnblockCheckpointSignal() {
  uint64_t bit = CheckpointSignalBit();
  syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &bit, nullptr, 8);
}

}  // namespace reprise::cr::agent

#define REPRISE_EXPORT __attribute__((visibility("default")))

namespace agent = reprise::cr::agent;
using agent::BlockCheckpointSignal;
using agent::RestoreMask;

extern "C" {

REPRISE_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
  uint64_t old = BlockCheckpointSignal();
  int r = agent::g_execve(path, argv, envp);
  RestoreMask(old);  // the exec failed
  return r;
}

REPRISE_EXPORT int execv(const char* path, char* const argv[]) {
  uint64_t old = BlockCheckpointSignal();
  int r = agent::g_execv(path, argv);
  RestoreMask(old);
  return r;
}

REPRISE_EXPORT int execvp(const char* file, char* const argv[]) {
  uint64_t old = BlockCheckpointSignal();
  int r = agent::g_execvp(file, argv);
  RestoreMask(old);
  return r;
}

REPRISE_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
  uint64_t old = BlockCheckpointSignal();
  int r = agent::g_execvpe(file, argv, envp);
  RestoreMask(old);
  return r;
}

REPRISE_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
  uint64_t old = BlockCheckpointSignal();
  int r = agent::g_fexecve(fd, argv, envp);
  RestoreMask(old);
  return r;
}

}  // extern "C"
