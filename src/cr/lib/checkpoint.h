// cr_checkpoint's work: stop every process of the scope inside its agent,
// have each write its part of the image, and commit the image atomically.
#pragma once

#include <sys/types.h>

#include <string>

#include "format/control_protocol.h"
#include "format/image_format.h"

namespace reprise::cr {

struct CheckpointRequest {
  pid_t id = 0;
  ScopeKind scope = kScopeTree;
  std::string file;          // empty: context.<id> in the current directory
  int signal_after = 0;      // sent to the processes after the image is durable
  bool stop_before_resume = false;  // --stop: they stay stopped
  int hello_timeout_ms = 30000;
  bool external_sockets_closed = false;  // --external-sockets=closed
  int32_t rewritten_policy = kRewrittenSave;  // --rewritten-files
  uint64_t rewritten_limit = 0;  // --rewritten-limit (0: kDefaultRewrittenFileBytes)
};

struct CheckpointOutcome {
  int exit_code = 0;         // 0, or an errno value (BLCR convention)
  std::string message;       // one line, for stderr, when exit_code != 0
  std::string path;          // the image written
  uint64_t bytes = 0;
  int processes = 0;
  // Where the time went (cr_checkpoint -v): stopping the processes, writing
  // the image, and making it durable.
  double stop_seconds = 0, write_seconds = 0, sync_seconds = 0;
};

CheckpointOutcome Checkpoint(const CheckpointRequest& request);

}  // namespace reprise::cr
