// State the agent keeps inside a checkpointable process. It lives in the
// process's own memory, so it is part of every image: after a restart the
// agent finds the signal actions, timers and thread records it saved.
#pragma once

#include <csignal>
#include <cstdint>
#include <initializer_list>

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
struct AgentState {
  int checkpoint_signal;
  int listen_fd;                // the control socket's fd number
  int conn_fd;                  // connection of the running checkpoint
  int image_fd;                 // image fd received with kDump
  bool rseq_registered;
  uint32_t tid_offset;          // glibc's cached tid in struct pthread
  ProcessRecord process;        // filled at each checkpoint
  ThreadRecord thread;          // the (single) checkpointing thread
  SigactionRecord sigactions[64];
  Arena arena;
};

extern AgentState g_agent;

// Creates (or re-creates after fork/restart) the listening control socket.
bool OpenControlSocket();

// Fills g_agent.process (except the vDSO fields), .thread, .sigactions.
bool CollectProcessState(const ucontext_t* uc, DumpError& err);

// Writes PROCESS, THREADS, SIGACTIONS and FILES sections. Returns false with
// err set on a refusal (an fd that cannot be restored) or a write error.
bool WriteProcessState(int fd, uint32_t owner, DumpError& err);

// Reads the address space (and fills the [vvar]/[vdso] fields of
// g_agent.process); refuses what cannot be restored, before anything is written.
bool SurveyMemory(DumpError& err);

// Writes VMAS, RUNS and PAGES sections from the survey.
bool WriteMemory(int fd, uint32_t owner, DumpError& err);

// Re-applies what the kernel forgot across exec of the restorer.
void RestoreProcessState(const restore_info* info);

}  // namespace reprise::cr::agent
