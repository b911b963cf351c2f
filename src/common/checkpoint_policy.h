// What a job's Checkpoint attribute (qsub -c) asks for. Shared by pbs_server
// (is the job checkpointable? where do its images go?) and pbs_mom.
#pragma once

#include <string>

namespace reprise {

// New and old (n, s, c, c=MIN) forms of -c values.
struct CheckpointPolicy {
  bool enabled = false;   // may be checkpointed at all (qhold, qchkpt)
  bool shutdown = false;  // checkpoint when pbs_mom shuts down
  bool periodic = false;
  long interval_minutes = 0;  // 0: the mom's $checkpoint_interval
  long depth = 0;             // keep this many newest images (0: all)
  std::string dir;            // dir=PATH
};
CheckpointPolicy parse_checkpoint_policy(const std::string& value);

// A -c value the server accepts: none, enabled, shutdown, periodic, interval=N, depth=N,
// dir=PATH (an absolute path without "." or ".." parts), or the old n, s, c, c=MIN, u forms;
// comma-separated. The client checks with it before sending, the server again on receipt.
bool valid_checkpoint_value(const std::string& value);

}  // namespace reprise
