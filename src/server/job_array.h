// Job arrays on the server (qsub -t): one parent job per array plus one sub-job per index.
// Sub-jobs are real jobs (they run, hold, checkpoint and complete on their own); their rows
// in the database hold only what differs from the parent (no script), all written in the
// submit's one transaction. docs/batch-system.md, "Job arrays".
#pragma once
#include <set>
#include <string>

#include "server/state.h"

namespace reprise::server {

// Is this the parent (SEQ[]) of an array?
inline bool is_array_parent(const Job& job) { return job.attrs.count("_array") != 0; }

// The class a sub-job counts as in its ArrayInfo: Q, H, R (R or E), K (done, exit 0), F.
char array_class_of(const Job& sub);

// A sub-job's stored row: what differs from its parent, plus "_array_unset" naming the
// parent's attributes it does not have.
Attrs subjob_delta(const Attrs& parent, const Attrs& sub);
// The inverse: the sub-job's attributes from its parent's and its row.
Attrs subjob_attrs(const Attrs& parent, const Attrs& delta);

// One scheduler pass over the queue: a sub-job is skipped when its array has its slot limit
// of running sub-jobs, or when an earlier sub-job of the same array did not fit in this pass
// (they all ask for the same resources). So a pass costs one placement try per array, not
// one per queued sub-job.
// Arrays larger than this need max_job_array_size set on the server.
constexpr long kDefaultMaxArraySize = 100000;

class ArraySchedulePass {
 public:
  explicit ArraySchedulePass(const ServerState& st) : st_(st) {}
  bool skip(const Job& job) const;
  void did_not_fit(const Job& job) {
    if (is_subjob_key(job.seq)) blocked_.insert(base_seq(job.seq));
  }

 private:
  const ServerState& st_;
  std::set<long> blocked_;
};

}  // namespace reprise::server
