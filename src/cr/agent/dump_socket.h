// Describes one socket fd for the image: family, type, names, options,
// state (sock_diag for AF_UNIX peers and backlogs) and the bytes waiting in
// its receive queue, copied with MSG_PEEK so the program keeps them.
#pragma once

#include <cstddef>

#include "agent_state.h"

namespace reprise::cr::agent {

// Most bytes one socket's saved state may take in the image.
inline constexpr size_t kSocketDataCapacity = 16u << 20;

// Sets rec.kind to kUnixSocket or kInetSocket, or refuses (one line in err
// naming the fd and the kind) what cannot be restored.
bool ClassifySocket(int fd, FileRecord& rec, DumpError& err);

// Writes SocketRecord, pending inodes and queued messages to dst (at most
// cap bytes); returns the bytes written, or -1 with err set.
ssize_t DumpSocket(int fd, const FileRecord& rec, char* dst, size_t cap, DumpError& err);

// Set once a process's FILES section held a socket (cr_checkpoint then
// checks that every peer is inside the image).
extern bool g_dumped_socket;

}  // namespace reprise::cr::agent
