// What the site's configuration allows: queue and server ACLs (users, groups, hosts),
// disallowed_types, resources_min/max/default, the queuable limits checked at submit, and the
// run limits and priorities the scheduler obeys. TORQUE's semantics and messages
// (docs/batch-system.md, "Policy").
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "server/state.h"

namespace reprise::server {

// TORQUE 4+ error numbers of the policy refusals (the client exits with code % 256).
enum : int {
  kErrBadHost = 15010,       // PBSE_BADHOST: host ACL
  kErrExceedsLimits = 15038, // PBSE_EXCQRESC: resources_max/min
  kErrMaxQueued = 15048,     // PBSE_MAXQUED: max_queuable
  kErrMaxUserQueued = 15076, // PBSE_MAXUSERQUED: max_user_queuable
  kErrNoBatch = 15079,       // PBSE_NOBATCH, and the other disallowed_types after it
  kErrNoRerunable = 15080,
  kErrNoNonRerunable = 15081,
  kErrNoFaultTolerant = 15087,
  kErrNoFaultIntolerant = 15088,
  kErrNoJobArrays = 15089,
};

struct Submitter {
  std::string user;                 // who the kernel or MUNGE says submits
  std::string host;                 // the host the connection comes from
  std::vector<std::string> groups;  // every group of the user in the system's group database
};

// The groups `user` belongs to (primary and supplementary), from getgrouplist.
std::vector<std::string> groups_of(const std::string& user);

// Checks a new job against the server's and its queue's ACLs, disallowed_types, resource
// limits and queuable limits, and fills missing resources from resources_default (queue,
// then server). On refusal: false with TORQUE's code and message naming the limit.
bool admit_job(const ServerState& st, const Queue& q, const Submitter& who, Job& job, int& code,
               std::string& message);

// Running jobs counted against max_running and max_user_run, kept up to date by the
// scheduler as it starts jobs within one pass.
struct RunCounts {
  long server = 0;
  std::map<std::string, long> queue;                             // queue -> running
  std::map<std::string, long> user;                              // euser -> running
  std::map<std::pair<std::string, std::string>, long> queue_user;  // (queue, euser) -> running
  void add(const Job& job);
  static RunCounts of(const ServerState& st);
};

// "" when no run limit stops `job` now; else the comment it gets ("Not Running: ...").
std::string run_limit_reached(const ServerState& st, const Job& job, const RunCounts& counts);

// A job's place among jobs of equal priority: its queue_rank (set by qorder), else its
// submission number.
long job_queue_rank(const Job& job);

// Queued jobs in the order the scheduler considers them: higher queue priority first, then
// higher job Priority (-p), then queue_rank (submission order unless qorder swapped jobs).
std::vector<long> scheduling_order(const ServerState& st);

}  // namespace reprise::server
