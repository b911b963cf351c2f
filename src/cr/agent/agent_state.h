// State the agent keeps inside a checkpointable process. It lives in the
// process's own memory, so it is part of every image: after a restart the
// agent finds the signal actions, timers and thread records it saved.
#pragma once

#include <csignal>
#include <cstdint>
#include <initializer_list>

#include "format/control_protocol.h"
#include "format/image_format.h"
#include "restorer/restore_plan.h"
#include "signal_safe.h"

extern "C" void* reprise_park(reprise::cr::ParkContext* ctx) __attribute__((returns_twice));

namespace reprise::cr::agent {

struct DumpError {
  int code = 0;
  char text[232] = {};
  void Set(int c, const char* a, const char* b = "", const char* c2 = "") {
    code = c;
    char* p = text;
    char* end = text + sizeof text - 1;
    for (const char* s : {a, b, c2})
      while (*s && p < end) *p++ = *s++;
    *p = '\0';
  }
};

// No member initialisers: g_agent must be zero-initialised statically, not by
// a C++ constructor that could run after the agent's own constructor.
// AgentInit() sets the fds to -1 first thing.
inline constexpr uint32_t kMaxThreads = 4096;

struct AgentState {
  int checkpoint_signal;
  int listen_fd;                // the control socket's fd number
  int conn_fd;                  // connection of the running checkpoint
  int image_fd;                 // image fd received with kDump
  uint32_t tid_offset;          // glibc's cached tid in struct pthread
  ProcessRecord process;        // filled at each checkpoint
  // threads[0] is the coordinator (the thread that took cr_checkpoint's
  // signal); the others park in their own handlers in slots 1..
  ThreadRecord threads[kMaxThreads];
  uint32_t thread_slots;        // used slots of threads[]
  int32_t coordinator_tid;      // 0 when no checkpoint is in progress
  uint32_t parked;              // threads parked so far (futex word)
  uint32_t checkpoint_epoch;    // bumped at each checkpoint
  uint32_t resume_epoch;        // set to checkpoint_epoch to release threads (futex word)
  SigactionRecord sigactions[64];
  Arena arena;
  uint32_t extra_sections;      // optional per-process sections written by this dump (EVENTS...)
  int32_t rewritten_policy;     // RewrittenFilePolicy of this dump
  uint64_t rewritten_limit;     // most bytes of one rewritten file in this dump
  // Signals dequeued at the checkpoint (every thread adds its own), queued
  // again at resume and after a restart; and the process's POSIX timers.
  PendingSignalRecord pending[kMaxPendingSignals];
  uint32_t pending_count;       // atomic: threads append concurrently
  uint32_t pending_overflow;    // a thread had more than fit
  PosixTimerRecord timers[kMaxPosixTimers];
  uint32_t timer_count;
};

extern AgentState g_agent;

// Lets the checkpoint signal in: the exec wrappers (exec_guard.cc) block it
// over an exec, and the new program's agent unblocks it once its handler is in.
void UnblockCheckpointSignal();
// Looks up libc's exec functions for those wrappers; at load, before any fork.
void ResolveExecFunctions();

// Creates (or re-creates after fork/restart) the listening control socket.
bool OpenControlSocket();

// Fills g_agent.process (except the vDSO fields) and .sigactions.
bool CollectProcessState(DumpError& err);

// Writes PROCESS, THREADS, SIGACTIONS and FILES sections. Returns false with
// err set on a refusal (an fd that cannot be restored) or a write error.
bool WriteProcessState(int fd, uint32_t owner, DumpError& err);

// Reads the address space (and fills the [vvar]/[vdso] fields of
// g_agent.process); refuses what cannot be restored, before anything is written.
bool SurveyMemory(DumpError& err);

// Refuses a process that used SysV semaphores or message queues (sysv_ipc.cc).
bool RefuseSysvIpc(DumpError& err);

// Writes VMAS, RUNS and PAGES sections from the survey.
bool WriteMemory(int fd, uint32_t owner, DumpError& err);

// Fills a ThreadRecord for the calling thread.
void FillThread(ThreadRecord& t, const ucontext_t* uc);

// Pending signals and POSIX timers (sigtime.cc). Each thread, in its
// checkpoint handler, moves the signals pending for it alone into
// g_agent.pending; the coordinator then takes the process-wide ones and
// reads the timers. Requeue puts them back after a live checkpoint.
void SaveThreadSignals();
bool SaveProcessSignalsAndTimers(DumpError& err);
void RequeueSignals();
bool WriteSignalsAndTimers(int fd, uint32_t owner, uint32_t* sections, DumpError& err);
// After a restart: each thread queues its own (by its saved tid); the
// coordinator the process-wide ones and the timers.
void RestoreThreadSignals(int32_t saved_tid);
// Writes the FILE_LOCKS section of the locks held through each fd, if any
// (file_locks.cc); refuses leases.
bool WriteFileLocks(int image_fd, uint32_t owner, uint32_t* sections, DumpError& err);
void RestoreProcessSignalsAndTimers();

// Runs in every thread after a restart, once the restorer has jumped back to
// its park point. The coordinator also restores per-process state, and the
// last one out unmaps the restorer's hole.
void RestoreThread(restore_info* info, const ThreadRecord& record, bool coordinator);

}  // namespace reprise::cr::agent
