// The server's in-memory model. Every object is a bag of TORQUE attributes (name -> text) so
// new attributes (checkpoint_dir, checkpoint_name, ...) need no schema change.
#pragma once
#include <map>
#include <set>
#include <string>

namespace reprise::server {

using Attrs = std::map<std::string, std::string>;

// Job arrays (job_array.cpp). An array is one parent job (key SEQ, id SEQ[].SERVER) and one
// sub-job per index (id SEQ[INDEX].SERVER) whose key in ServerState::jobs is
// subjob_key(SEQ, position): above every plain key, so the next plain job still gets SEQ+1.
constexpr long kSubJobBit = 1L << 62;
constexpr long kSubJobPositions = 1L << 24;
inline long subjob_key(long seq, long position) { return kSubJobBit | (seq << 24) | position; }
inline bool is_subjob_key(long key) { return (key & kSubJobBit) != 0; }
// The submission number of a key: its own for plain jobs and arrays, the array's for sub-jobs.
inline long base_seq(long key) { return is_subjob_key(key) ? (key & ~kSubJobBit) >> 24 : key; }
// Submission (FIFO) order: a sub-job comes with its array, not after all later plain jobs.
struct FifoOrder {
  bool operator()(long a, long b) const {
    long sa = base_seq(a), sb = base_seq(b);
    return sa != sb ? sa < sb : a < b;
  }
};

struct Job {
  long seq = 0;
  std::string id;  // SEQ.SERVERNAME
  Attrs attrs;     // job_state, queue, Job_Owner, euser, Resource_List.*, ...
  std::string script;     // empty for sub-jobs: they run their array's script
  char array_class = 0;   // sub-jobs: the class counted in its ArrayInfo (not stored)
  std::string attr(const std::string& name) const {
    auto it = attrs.find(name);
    return it == attrs.end() ? std::string() : it->second;
  }
  // The node that runs the job's script: the first of exec_host ("n1/0+n2/0" -> "n1").
  std::string first_node() const {
    std::string host = attr("exec_host");
    return host.substr(0, host.find_first_of("/+"));
  }
  char state() const {
    auto it = attrs.find("job_state");
    return it == attrs.end() || it->second.empty() ? 'Q' : it->second[0];
  }
};

struct Queue {
  std::string name;
  Attrs attrs;  // queue_type, enabled, started, resources_default.*, ...
};

struct Node {
  std::string name;
  Attrs attrs;        // np, properties, state ("offline" when marked so), note
  int mom_fd = -1;    // connection of its mom, -1 when down (not stored)
  Attrs mom_status;   // last status the mom reported (not stored)
  long last_heard = 0;   // when its mom last sent anything (not stored)
  long down_since = 0;   // when it went down, or when the server started (not stored)
  // Jobs whose stale copy (left by a failure) the mom was told to kill and has not yet
  // reported dead; they are not started here again until it has (not stored).
  std::set<std::string> stale_jobs;
  // Its mom reports state=down: its $node_check_script found an ERROR (message= says which).
  bool mom_says_down() const {
    auto it = mom_status.find("state");
    return it != mom_status.end() && it->second == "down";
  }
};

// What the server keeps in memory about one array (rebuilt from the jobs at load).
struct ArrayInfo {
  std::map<long, long> subs;     // index -> key of the sub-job
  std::map<char, long> count;    // sub-jobs per class: Q, H, R (R or E), K (done, exit 0), F (done, failed)
  long slot_limit = 0;           // qsub -t ...%N: at most N sub-jobs running (0: no limit)
};

struct ServerState {
  std::string name;  // job id suffix
  Attrs attrs;       // scheduling, default_queue, managers, operators, ...
  long next_seq = 0;
  std::map<long, Job> jobs;
  std::map<std::string, Queue> queues;
  std::map<std::string, Node> nodes;
  std::map<long, ArrayInfo> arrays;  // by the array's seq
  std::set<long, FifoOrder> queued;  // keys of jobs in state Q, in FIFO order
  std::set<long> running;  // seqs of jobs in state R or E (they hold node slots)
  std::set<long> waiting;  // seqs of jobs waiting for dependencies
};

}  // namespace reprise::server
