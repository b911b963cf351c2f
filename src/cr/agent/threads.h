// Thread coordination around a checkpoint (see threads.cc).
#pragma once

#include <csignal>

#include "agent_state.h"

namespace reprise::cr::agent {

// Coordinator: makes every other thread park in its handler. False (with
// err set) if one does not stop in time.
bool StopOtherThreads(DumpError& err);

// Coordinator: lets the parked threads return to the program.
void ResumeOtherThreads();

// A non-coordinator thread's part of a checkpoint: record, park, wait.
void ParkThisThread(const ucontext_t* uc);

// True when another thread of this process is coordinating a checkpoint.
bool CheckpointInProgressElsewhere();

// Re-applies per-process state the kernel forgot across exec of the restorer.
void RestoreProcessState();

}  // namespace reprise::cr::agent
