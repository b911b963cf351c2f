// Event objects in the agent: eventfd, timerfd, signalfd, epoll, inotify and
// pidfd descriptors are recognised by their /proc/self/fd link while the
// files are described, and their kernel state (from /proc/self/fdinfo and a
// few syscalls) goes into an EVENTS section, written only by a process that
// holds some.
#pragma once

#include <cstdint>

#include "agent_state.h"

namespace reprise::cr::agent {

// If `link` (the /proc/self/fd target) names an event object, sets rec.kind,
// remembers the fd for WriteEvents and returns true. No syscalls.
bool ClassifyEventFd(int fd, const char* link, FileRecord& rec);

// Forgets the fds noted by ClassifyEventFd (start of each dump).
void ResetEventFds();

// Writes the EVENTS section if this process holds event fds; refuses (false
// with err set) what cannot be restored. *sections is incremented per section.
bool WriteEvents(int image_fd, uint32_t owner, uint32_t* sections, DumpError& err);

// Path recorded when the program added inotify watch `wd` on the inode
// (kernel dev encoding `sdev`, `ino`); null if unknown. See inotify_paths.cc.
const char* InotifyWatchPath(int32_t wd, uint64_t sdev, uint64_t ino, uint32_t* add_flags);

}  // namespace reprise::cr::agent
