// CLOCK_MONOTONIC and CLOCK_BOOTTIME across a checkpoint: what the tree's
// clocks read when it was stopped, and a time namespace (Linux 5.6) whose
// offsets make them go on from there after a restart, so watchdogs and
// deadline loops do not see the downtime.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <string>
#include <vector>

#include "format/image_format.h"
#include "lib/process_tree.h"

namespace reprise::cr {

// The tree's CLOCK_MONOTONIC and CLOCK_BOOTTIME now: the host's clocks plus
// the offsets of the time namespace `pid` lives in (from an earlier restart).
ClockRecord TreeClocksNow(pid_t pid);

// "" if every process of the scope is in the same time namespace as the
// first; else a refusal naming the process.
std::string CheckOneTimeNamespace(const std::vector<ProcInfo>& scope);

// How far a time namespace's clocks are ahead of the host's (0: the host's).
struct ClockOffsets {
  int64_t monotonic_ns = 0;
  int64_t boottime_ns = 0;
};

// Creates a time namespace for this process's future children whose clocks
// read `saved` now, and sets *offsets to its offsets. Must run before any
// child is created in it. Needs CAP_SYS_ADMIN in the current user
// namespace; false with *error otherwise.
bool EnterTimeNamespace(const ClockRecord& saved, ClockOffsets* offsets, std::string* error);

// An absolute deadline on `clock` in the namespace's time, in the host's.
int64_t HostDeadline(clockid_t clock, int64_t deadline_ns, const ClockOffsets& offsets);

}  // namespace reprise::cr
