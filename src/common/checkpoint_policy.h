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
  // Files the job rewrites in place: rewritten_files=save|refuse|keep-current
  // (cr_checkpoint --rewritten-files; "" leaves the default, save) and
  // rewritten_limit=SIZE (--rewritten-limit, at most 200mb; 0: default 64mb).
  std::string rewritten_files;
  uint64_t rewritten_limit = 0;
};
CheckpointPolicy parse_checkpoint_policy(const std::string& value);

// A -c value the server accepts: none, enabled, shutdown, periodic, interval=N, depth=N,
// dir=PATH (an absolute path without "." or ".." parts), rewritten_files=save|refuse|keep-current,
// rewritten_limit=SIZE (1b..200mb), or the old n, s, c, c=MIN, u forms;
// comma-separated. The client checks with it before sending, the server again on receipt.
bool valid_checkpoint_value(const std::string& value);

}  // namespace reprise
