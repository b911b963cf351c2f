// pbs_server: one epoll loop owning all state. Requests mutate memory and the open SQLite
// transaction; at the end of each loop pass the transaction commits and only then are the
// replies (and commands to moms) of that pass sent.
#pragma once
#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/wire.h"
#include "reprise.pb.h"
#include "server/state.h"
#include "server/store.h"

namespace reprise::server {

// Which job holds each slot of each node (node name -> one entry per slot, "" when free).
using SlotUsage = std::map<std::string, std::vector<std::string>>;

struct Conn {
  int fd = -1;
  bool local = false;    // Unix socket (identity from SO_PEERCRED)
  bool authed = false;   // identity known
  bool is_mom = false;
  uid_t uid = 0;
  std::string user;      // name of uid
  std::string host;      // client host for managers/operators (TCP: the peer address's name)
  std::string node;      // for moms
  std::string peer;      // TCP: the peer's ip:port (getpeername at accept), for the log
  // TCP authentication: the nonce of this connection's challenge (issued, not yet answered),
  // and the node a mom's credential names.
  std::string nonce;
  std::string claimed_node;
  FrameReader reader;
  std::string out;       // bytes ready to send (committed replies only)
  bool close_after_flush = false;
  // Limits (limits.cpp): what this connection holds, and when it last made progress.
  size_t pending_out = 0;        // bytes of this pass's replies, not yet moved to `out`
  bool paused = false;           // its (or its user's) unsent output is over the limit
  uint32_t events = 0;           // epoll mask registered for fd
  long since = 0;                // accept time: the first request is due within a limit
  long last_progress = 0;        // last time bytes moved either way (tcp_timeout)
  std::string ip;                // TCP peer address without the port
  bool unauth_counted = false;   // counted in unauth_by_ip_ (TCP, no request yet)
  bool user_counted = false;     // counted in users_[uid]
  // Input held in `reader`, counted in the pool of its user (or of unauthenticated
  // connections); `in_paused`: not read while that pool is over its limit.
  enum class InPool { kNone, kUnauth, kUser } in_pool = InPool::kNone;
  size_t in_counted = 0;
  bool in_paused = false;
};

// Identity of the requester as the permission checks see it.
struct Who {
  std::string user, host;
  uid_t uid = 0;
  bool manager = false, operator_ = false;
};

struct Options {
  std::string home;
  int port = 15001;
  std::string listen_addr;  // empty: all interfaces
  bool create = false;
  bool foreground = true;
};

class Server {
 public:
  explicit Server(Options opts) : opts_(std::move(opts)) {}
  int run();

  // Public for the request handlers (split across files by topic).
  ServerState st_;
  Store store_;

 private:
  friend class Handlers;
  bool setup(std::string& error);
  bool create_home(std::string& error);
  bool apply_nodes_file(std::string& error);
  void loop();
  void accept_on(int listen_fd, bool local);
  void read_from(Conn& c);
  void handle_frame(Conn& c, const std::string& frame);
  void challenge(Conn& c);
  void refuse_unauthenticated(Conn& c, const std::string& log_text, const std::string& reply);
  bool authenticate(Conn& c, const wire::Request& req);
  std::string host_name_of(const Conn& c);
  std::map<std::string, std::pair<std::string, long>> host_names_;  // peer ip -> (name, when looked up)
  void close_conn(int fd);
  void end_of_pass();
  void flush(Conn& c);
  void housekeeping();
  void process_frames(Conn& c);

  // Limits per connection and per user (limits.cpp; docs/batch-system.md, "Limits").
  void setup_limits();
  void accept_failed(int listen_fd);
  bool admit_at_accept(Conn& c);  // false: refused, fd closed
  bool admitted(Conn& c);         // once the uid is known; false: refused, closing
  void refuse_now(int fd, const std::string& why);
  void note_refusal(const std::string& line);
  void check_idle();
  bool over_output_limit(const Conn& c) const;
  void account(Conn& c, long delta);  // the user's queued output changed by delta bytes
  // Input budget: counts what c's reader holds in its pool; whether its pool is full.
  void account_input(Conn& c);
  std::string user_refusal(const Conn& c) const;
  void count_user(Conn& c);
  bool input_over_limit(const Conn& c) const;
  void forget_limits(Conn& c);        // c is closing
  void resume(Conn& c);
  void set_events(Conn& c);
  size_t client_cap() const;
  int user_cap() const;

  // Requests.
  wire::Response dispatch(Conn& c, const wire::Request& req);
  Who who(const Conn& c) const;
  wire::Response submit(const Who& w, const wire::Request& req);
  // Fills `r` (which may live on an arena: a listing of 10,000 jobs is 70,000 small strings).
  void status_jobs(const Who& w, const wire::Request& req, wire::Response& r);
  wire::Response job_op(const Who& w, const wire::Request& req);
  wire::Response status_queues(const wire::Request& req);
  wire::Response status_server();
  wire::Response status_nodes(const wire::Request& req);
  wire::Response node_state(const Who& w, const wire::Request& req);
  wire::Response manage(const Who& w, const wire::Request& req);
  wire::Response alter(const Who& w, Job& job, const wire::Request& req);
  // qmove, qorder, qmsg, qterm, qenable..., qdel all, printjob, qalter -q and -W depend=
  // (requests_queue_ops.cpp).
  bool resolve_depend(const std::string& depend, std::string& normalised, int& code, std::string& error);
  wire::Response check_depend(const Job& job, const std::string& depend, std::string& normalised, bool& met);
  void apply_depend(Job& job, const std::string& normalised, bool met);
  // before, beforeok, beforenotok, beforeany of a job just stored: each named job now waits for
  // it (after, afterok...), and counts towards that job's on:N (depend_before.cpp).
  void register_before(const Job& job);
  wire::Response move_job(const Who& w, Job& job, const std::string& destination);
  wire::Response move_request(const Who& w, const wire::Request& req);
  wire::Response order_jobs(const Who& w, const wire::Request& req);
  wire::Response message_job(const Who& w, const wire::Request& req);
  wire::Response queue_state(const Who& w, const wire::Request& req);
  wire::Response shutdown(const Who& w, const wire::Request& req);
  void check_shutdown();  // qterm -t immediate|delay: stops once no job is left to wait for
  wire::Response delete_all(const Who& w, const wire::Request& req);
  wire::Response print_job(const Who& w, const wire::Request& req);

  // Moms.
  wire::Response mom_register(Conn& c, const wire::Request& req);
  void mom_message(Conn& c, const wire::Request& req);
  void job_finished(Job& job, const wire::JobReport& rep);
  void send_to_mom(const std::string& node, const wire::MomCommand& cmd);
  // Asks the job's mom for a checkpoint; reason "hold" stops the job after it.
  void send_checkpoint(Job& job, const std::string& reason);
  void job_checkpointed(Job& job, const wire::JobReport& rep);

  // Node health (node_health.cpp): a node whose mom is silent for node_check_rate seconds
  // is down; its jobs are requeued or failed once it has been down node_fail_requeue seconds.
  void check_nodes();
  // A running job whose processes are gone (`why`: "node n1 failed"): it restarts from its
  // latest image, reruns, or fails.
  void job_lost(Job& job, const std::string& why);

  // Jobs waiting in route queues (route_queue.cpp): each is tried again when its time in
  // route_next_ (seq -> when; not stored: after a restart every one is tried at once) has come.
  void route_waiting_jobs();
  std::map<long, long> route_next_;

  // Job arrays (job_array.cpp; docs/batch-system.md, "Job arrays").
  std::string array_request_error(const Job& job);  // "" when job_array_request is fine or absent
  wire::Response submit_array(Job& proto, bool default_out, bool default_err, bool deps_ok);
  Job* find_array_job(const std::string& id);       // SEQ[INDEX] or SEQ[] (with or without .SERVER)
  const std::string& script_of(const Job& job);     // a sub-job runs its array's script
  void save_subjob(Job& sub);                       // counts it in its array, stores its delta row
  void refresh_array(Job& parent, const ArrayInfo& info, bool dependents_may_change);
  void rebuild_arrays();                            // after a load: sub-jobs' attributes and counts
  void purge_array(long seq);                       // the sub-jobs of a purged array
  std::vector<Job*> array_members(Job& parent, const std::string& range, std::string& error);
  wire::Response array_op(const Who& w, Job& parent, const wire::Request& req);
  void add_array_subjobs(const Who& w, Job& parent, const wire::Request& req, wire::Response& r);
  bool array_dependency(const std::string& type, const Job& parent, bool& met, bool& failed);

  // Jobs and scheduling.
  Job* find_job(const std::string& id);
  void set_state(Job& job, char state);
  void save(Job& job);
  void schedule();
  bool try_start(Job& job, const std::string& forced_host, std::string& why);
  void release_dependents(const Job& parent);
  // What a job no longer held goes to: W while its Execution_Time (qsub -a) is ahead, else Q.
  static char unheld_state(const Job& job);
  bool dependencies_met(const Job& job, bool& failed);
  void requeue(Job& job, const std::string& comment);
  void complete(Job& job, int exit_status, const std::string& comment);

  Options opts_;
  SlotUsage* sched_usage_ = nullptr;
  // Jobs queued since the scheduler last told queued jobs why they wait (their comment), so a
  // pass on a full cluster looks at these only, not at every queued job.
  std::set<long> untold_;
  int epfd_ = -1, unix_fd_ = -1, tcp_fd_ = -1, sig_fd_ = -1;
  bool stop_ = false;
  // qterm -t immediate|delay: no job starts; the server stops when the running jobs are gone.
  bool shutdown_pending_ = false;
  long shutdown_deadline_ = 0;
  static constexpr long kShutdownCheckpointSeconds = 120;  // checkpoints get this long
  bool sched_wanted_ = true;
  long last_housekeeping_ = 0;
  std::map<int, Conn> conns_;
  struct PendingReply {
    int fd;
    std::string frame;
    bool mutated;
    std::string op;
  };
  struct PendingMom {
    std::string node;
    std::string frame;
  };
  std::vector<PendingReply> replies_;
  std::vector<PendingMom> mom_cmds_;
  // Limits (limits.cpp).
  struct UserUse {
    int conns = 0;
    size_t queued = 0;  // unsent output of all its connections
    size_t in = 0;      // input buffered in incomplete frames of all its connections
  };
  size_t unauth_in_ = 0;  // the same for all unauthenticated connections together
  std::map<uid_t, UserUse> users_;
  int clients_ = 0;                         // connections counted in users_
  std::map<std::string, int> unauth_by_ip_;
  int unauth_ = 0;
  size_t fd_limit_ = 1024;
  int spare_fd_ = -1;                       // given up to drain the listener when out of fds
  long listeners_paused_until_ = 0;
  std::set<int> ready_;                     // complete frames left for the next pass
  long refusal_logged_ = 0, refusals_unlogged_ = 0;
  std::string last_refusal_;
};

// A route queue's route_retry_time (TORQUE's default 30 s).
long route_retry_seconds(const Queue& q);

// Helpers shared by the handler files.
wire::Response error_response(int code, const std::string& message);
std::string attr_or(const Attrs& a, const std::string& name, const std::string& fallback);
bool is_true(const std::string& value);
// One job of a status answer; `full`: the requester may see the job's private attributes.
void add_job_object(wire::Response& r, const Job& job, const wire::Request& req, bool full);

// TORQUE error numbers we use.
enum : int {
  kErrUnknownJob = 15001,
  kErrBadAttrValue = 15014,
  kErrPermission = 15007,
  kErrBadUser = 15005,   // PBSE_BADUSER: Bad UID for job execution
  kErrBadGroup = 15006,  // PBSE_BADGRP: Bad GID for job execution
  kErrBadState = 15018,
  kErrUnknownQueue = 15019,
  kErrQueueDisabled = 15022,
  kErrRouteRejected = 15041,  // TORQUE's PBSE_ROUTEREJ
  kErrBadRequest = 15004,
  kErrSystem = 15010,
  kErrUnknownNode = 15062,
  kErrExists = 15052,
  kErrNoResources = 15046,
  kErrProtocol = 15031,
};

}  // namespace reprise::server
