// Messages between cr_checkpoint and the agent inside a checkpointed process.
// They travel over a SOCK_SEQPACKET abstract Unix socket that the agent
// listens on; the image file descriptor rides along with kDump (SCM_RIGHTS).
#pragma once

#include <cstdint>

namespace reprise::cr {

// The default checkpoint signal; REPRISE_CR_SIGNAL overrides it in both the
// agent and cr_checkpoint. Real-time, and far from SIGRTMIN where programs
// put their own; not SIGRTMAX-2 (62), which the JVM takes to interrupt
// threads blocked in I/O (sun.nio.ch.NativeThread), nor SIGRTMAX.
inline constexpr int kDefaultCheckpointSignal = 63;

enum class ControlOp : uint32_t {
  kHello = 1,     // agent -> checkpointer, on accepting a connection
  kDump = 2,      // checkpointer -> agent, with the image fd
  kDumpDone = 3,  // agent -> checkpointer: status and message
  kResume = 4,    // checkpointer -> agent: let the program continue
  kRequest = 5,   // checkpointer -> agent, right after connecting: a
                  // connection without it is stale (left by a failed attempt)
};

// What to do with files the job rewrites in place (see docs/checkpoint-engine.md).
enum RewrittenFilePolicy : int32_t {
  kRewrittenSave = 0,         // contents saved in the image, up to the limit (default)
  kRewrittenRefuse = 1,       // the checkpoint is refused
  kRewrittenKeepCurrent = 2,  // not saved: the restart uses the file as it then is
};

struct ControlMessage {
  uint32_t op;        // ControlOp
  uint32_t owner;     // process index in the image (kDump)
  int32_t status;     // 0 or an errno value (kDumpDone); kDump: RewrittenFilePolicy
  int32_t pid;        // the agent's pid inside its namespace (kHello)
  uint64_t bytes;     // bytes written (kDumpDone); kDump: most bytes of one rewritten file
  uint32_t flags;     // kDump: kDumpInPidNamespace; kDumpDone: kDoneHadSockets
  uint32_t reserved;  // kDumpDone: optional sections written besides the fixed ones
  char text[232];     // error message (kDumpDone)
};
static_assert(sizeof(ControlMessage) == 264);

// kDumpDone flag: the process's FILES section holds sockets, so
// cr_checkpoint checks that their peers are inside the image.
inline constexpr uint32_t kDoneHadSockets = 1;

// Abstract socket name: "\0reprise-cr.<pid namespace inode>.<pid in it>".
inline constexpr char kControlSocketPrefix[] = "reprise-cr.";

}  // namespace reprise::cr
