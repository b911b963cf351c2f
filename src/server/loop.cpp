// Event loop, connections and group commit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <google/protobuf/arena.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/auth_binding.h"
#include "common/log.h"
#include "common/munge_auth.h"
#include "common/names.h"
#include "common/net.h"
#include "common/pbs_home.h"
#include "common/text_util.h"
#include "server/limits.h"
#include "server/nodes_file.h"
#include "server/server.h"

namespace reprise::server {

// The address part of "ip:port" / "[ip6]:port", for the per-address limit.
static std::string address_of(const std::string& peer) {
  size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

static std::string user_name(uid_t uid) {
  passwd pw{}, *res = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) return pw.pw_name;
  return "#" + std::to_string(uid);
}

// server_priv/nodes at every start (nodes_file.h).
bool Server::apply_nodes_file(std::string& error) {
  std::string text;
  if (!read_file(server_priv_dir(opts_.home) + "/nodes", text)) return true;
  std::vector<std::string> warnings;
  bool changed = false;
  for (const NodesFileEntry& e : parse_nodes_file(text, warnings)) {
    Node& n = st_.nodes[e.name];
    bool fresh = n.name.empty();
    n.name = e.name;
    Attrs before = n.attrs;
    for (const auto& [k, v] : e.attrs) n.attrs[k] = v;
    if (!e.attrs.count("properties")) n.attrs.erase("properties");
    if (fresh || n.attrs != before) {
      store_.save_node(n);
      changed = true;
      log_line(std::string(fresh ? "node " : "node ") + e.name + (fresh ? " created" : " updated") +
               " from server_priv/nodes (np=" + n.attrs["np"] + ")");
    }
  }
  for (const std::string& w : warnings) log_line("warning: " + w);
  return !changed || store_.commit(error);
}

bool Server::setup(std::string& error) {
  std::string priv = server_priv_dir(opts_.home);
  if (opts_.create && !create_home(error)) return false;
  if (!store_.open(priv + "/serverdb.sqlite", opts_.create, error)) return false;
  if (opts_.create) {
    // Defaults as TORQUE's torque.setup leaves them.
    st_.attrs = {{"scheduling", "True"}, {"default_queue", "batch"}, {"keep_completed", "300"},
                 {"query_other_jobs", "False"}, {"managers", "root@*"}, {"operators", ""},
                 {"kill_delay", "2"}, {"node_check_rate", "150"},
                 {"node_fail_requeue", "310"}};
    store_.save_server(st_);
    Queue batch{"batch", {{"queue_type", "Execution"}, {"enabled", "True"}, {"started", "True"},
                          {"resources_default.walltime", "01:00:00"},
                          {"resources_default.nodes", "1"}}};
    store_.save_queue(batch);
    if (!store_.commit(error)) return false;
  }
  if (!store_.load(st_, error)) return false;
  if (!apply_nodes_file(error)) return false;
  rebuild_arrays();
  // A node's failure clock starts now: its mom has node_fail_requeue seconds to reconnect.
  for (auto& [name, n] : st_.nodes) n.down_since = now_seconds();
  std::string name;
  st_.name = read_file(priv + "/server_name", name) && !trim(name).empty() ? trim(name)
                                                                            : local_hostname();
  // The name ends every job id, and job ids become file names on the moms.
  if (!valid_host_name(st_.name)) {
    error = "server name '" + st_.name + "' (" + priv + "/server_name) is not a host name (letters, digits, '-', '_', '.')";
    return false;
  }

  setup_limits();
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  unix_fd_ = listen_unix(server_socket_path(opts_.home), error);
  if (unix_fd_ < 0) return false;
  ::chmod(server_socket_path(opts_.home).c_str(), 0666);  // anyone may talk; SO_PEERCRED says who
  tcp_fd_ = listen_tcp(opts_.listen_addr, opts_.port, error);
  if (tcp_fd_ < 0) return false;
  set_nonblocking(unix_fd_);
  set_nonblocking(tcp_fd_);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  sig_fd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  for (int fd : {unix_fd_, tcp_fd_, sig_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }
  return true;
}

int Server::run() {
  std::string error;
  // With -t create the home may not exist yet; make it now so the log opens (create_home
  // completes the layout).
  if (opts_.create) ::mkdir(opts_.home.c_str(), 0755);
  ::mkdir((opts_.home + "/server_logs").c_str(), 0750);
  if (!opts_.foreground) {
    log_open(opts_.home + "/server_logs/server.log");
    daemonize_with_readiness();
  }
  if (!setup(error)) daemon_failed("pbs_server: " + error);
  std::string lock = server_priv_dir(opts_.home) + "/server.lock";
  std::string ignored;
  write_file_atomic(lock, std::to_string(::getpid()) + "\n", 0644, ignored);
  log_line("pbs_server started: home " + opts_.home + ", port " + std::to_string(opts_.port) +
           ", " + std::to_string(st_.jobs.size()) + " jobs loaded");
  daemon_ready();
  loop();
  log_line("pbs_server stopping");
  ::unlink(server_socket_path(opts_.home).c_str());
  return 0;
}

void Server::loop() {
  std::vector<epoll_event> events(256);
  while (!stop_) {
    // Connections with requests left over from the last pass (kFramesPerPass) go first.
    std::vector<int> carried(ready_.begin(), ready_.end());
    ready_.clear();
    int n = epoll_wait(epfd_, events.data(), int(events.size()), carried.empty() ? 1000 : 0);
    if (n < 0 && errno != EINTR) break;
    for (int fd : carried)
      if (auto it = conns_.find(fd); it != conns_.end() && !it->second.paused) process_frames(it->second);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == unix_fd_) accept_on(fd, true);
      else if (fd == tcp_fd_) accept_on(fd, false);
      else if (fd == sig_fd_) stop_ = true;
      else if (auto it = conns_.find(fd); it != conns_.end()) {
        // A paused peer that hung up cannot read what it is owed: drop it.
        if (it->second.paused && (events[i].events & (EPOLLHUP | EPOLLERR))) close_conn(fd);
        else if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_from(it->second);
        if (auto again = conns_.find(fd); again != conns_.end() && (events[i].events & EPOLLOUT))
          flush(again->second);
      }
    }
    if (now_seconds() != last_housekeeping_) housekeeping();
    end_of_pass();
  }
}

void Server::accept_on(int listen_fd, bool local) {
  for (int k = 0; k < kAcceptsPerPass; ++k) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EMFILE && errno != ENFILE) return;
      accept_failed(listen_fd);
      if (listeners_paused_until_) return;
      continue;
    }
    Conn c;
    c.fd = fd;
    c.local = local;
    c.since = c.last_progress = now_seconds();
    if (local) {
      gid_t gid;
      pid_t pid;
      if (!peer_credentials(fd, c.uid, gid, pid)) {
        ::close(fd);
        continue;
      }
      c.authed = true;
      c.user = user_name(c.uid);
      c.host = st_.name;
    } else {
      c.peer = peer_address(fd);
      c.ip = address_of(c.peer);
    }
    if (!admit_at_accept(c)) continue;
    epoll_event ev{};
    ev.events = c.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    conns_[fd] = std::move(c);
  }
}

void Server::read_from(Conn& c) {
  // Read only up to the next complete frame plus kReadAhead: what is not read stays in the
  // socket, so a client that sends faster than it is served is slowed down by its own kernel.
  char buf[kReadAhead];
  while (c.reader.buffered() < std::max(c.reader.next_size(), kReadAhead)) {
    if (!c.reader.has_frame() && input_over_limit(c)) {
      // Its user's (or the unauthenticated connections') partial frames fill their budget:
      // read no more until frames complete or connections close (check_idle resumes it).
      c.in_paused = true;
      set_events(c);
      break;
    }
    ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n > 0) {
      c.reader.feed(buf, size_t(n));
      c.last_progress = now_seconds();
      account_input(c);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    close_conn(c.fd);  // EOF or error
    return;
  }
  process_frames(c);
}

void Server::process_frames(Conn& c) {
  std::string frame, error;
  int fd = c.fd;
  for (int k = 0; !c.close_after_flush; ++k) {
    if (over_output_limit(c)) {
      // Backpressure: nothing more is read or handled until its output is sent (flush).
      c.paused = true;
      set_events(c);
      return;
    }
    if (k == kFramesPerPass) {
      if (c.reader.has_frame()) ready_.insert(fd);
      return;
    }
    size_t before = replies_.size();
    auto r = c.reader.next(frame, error);
    if (r == FrameReader::kNeedMore) break;
    if (r == FrameReader::kError) {
      log_line("rejecting connection: " + error);
      wire::Response resp = error_response(kErrProtocol, "Protocol error: " + error);
      replies_.push_back({fd, encode_frame(resp), false, "protocol"});
      c.close_after_flush = true;
      set_events(c);  // read nothing more from it
      break;
    }
    handle_frame(c, frame);
    if (!conns_.count(fd)) return;
    account_input(c);
    for (size_t i = before; i < replies_.size(); ++i)
      if (replies_[i].fd == fd) {
        c.pending_out += replies_[i].frame.size();
        account(c, long(replies_[i].frame.size()));
      }
  }
}

// Refuses an unauthenticated TCP connection: one log line, one reply, then we close it and
// ignore anything pipelined behind.
void Server::refuse_unauthenticated(Conn& c, const std::string& log_text, const std::string& reply) {
  log_line("refused connection from " + c.peer + " " + log_text);
  replies_.push_back({c.fd, encode_frame(error_response(kErrPermission, "Unauthorized Request (" + reply + ")")), false, "auth"});
  c.close_after_flush = true;
  set_events(c);  // read nothing more from it
}

// TCP: the one request accepted before authentication, once per connection. The nonce it
// returns must be in the credential of the next request: a credential made for another
// connection (captured by a fake server, relayed or replayed) names another nonce.
void Server::challenge(Conn& c) {
  std::string why = c.nonce.empty() ? "" : "one challenge per connection";
  if (why.empty() && (c.nonce = fresh_nonce()).empty()) why = "no randomness for a nonce (getrandom failed)";
  if (!why.empty()) {
    refuse_unauthenticated(c, "(op challenge): " + why, why);
    return;
  }
  wire::Response r;
  r.set_text(c.nonce);
  replies_.push_back({c.fd, encode_frame(r), false, "challenge"});
}

// TCP: the first request after the challenge must carry a MUNGE credential bound to this
// connection (auth_binding.h); otherwise the log says who (peer address, claimed node/user)
// and why, and the peer gets one error.
bool Server::authenticate(Conn& c, const wire::Request& req) {
  // Decoded first, so munged's replay cache takes even a credential refused below.
  MungeCheck m = munge_check(req.credential());
  std::string reason = m.reason, source = "munge", detail = m.munge_error;
  Binding got;
  if (m.ok) {
    Binding expected = connection_binding(c.fd, false, req.op() == "mom_register" ? "mom" : "user", c.nonce);
    if (!binding_matches(m.payload, expected, got, reason, detail)) {
      m.ok = false;
      source = "binding";
    }
  }
  if (!m.ok) {
    std::string claimed;
    if (!req.node().empty()) claimed += ", node " + req.node();
    if (m.claims) claimed += ", user " + user_name(m.uid);
    refuse_unauthenticated(c, "(op " + (req.op().empty() ? "?" : req.op()) + claimed + "): " + reason + " [" + source + ": " + detail + "]",
                           reason + ": " + detail);
    return false;
  }
  c.authed = true;
  c.nonce.clear();
  c.uid = m.uid;
  c.user = user_name(m.uid);
  // The host is what the network says the peer is, never what the client wrote; a mom's
  // node is what its (root, bound) credential names.
  c.host = host_name_of(c);
  c.claimed_node = got.node;
  return true;
}

// The reverse lookup of a peer address runs in the event loop: remembered for a minute per
// address, so a flood of logins from one host costs one lookup, not one each.
std::string Server::host_name_of(const Conn& c) {
  long now = now_seconds();
  auto it = host_names_.find(c.ip);
  if (it != host_names_.end() && now - it->second.second < 60) return it->second.first;
  if (host_names_.size() >= 4096) host_names_.clear();
  std::string name = peer_host_name(c.fd);
  host_names_[c.ip] = {name, now};
  return name;
}

void Server::handle_frame(Conn& c, const std::string& frame) {
  if (c.close_after_flush) return;  // refused: frames the peer pipelined behind are ignored
  wire::Request req;
  if (!req.ParseFromString(frame)) {
    replies_.push_back({c.fd, encode_frame(error_response(kErrProtocol, "Protocol error: malformed message")), false, "protocol"});
    c.close_after_flush = true;
    return;
  }
  if (req.version() != kProtocolVersion) {
    replies_.push_back({c.fd, encode_frame(error_response(kErrProtocol, "Protocol error: version " + std::to_string(req.version()) + " not supported (server speaks " + std::to_string(kProtocolVersion) + ")")), false, "protocol"});
    c.close_after_flush = true;
    return;
  }
  if (!c.authed && req.op() == "challenge") {
    challenge(c);
    return;
  }
  if (!c.authed && !authenticate(c, req)) return;
  if (!c.user_counted && !admitted(c)) return;  // limits.cpp: connections per user
  if (c.is_mom || starts_with(req.op(), "mom_")) {
    mom_message(c, req);
    return;
  }
  if (req.op() == "status_job" && req.positional()) {
    // qstat's table: read-only, 10,000 jobs are 50,000-60,000 small strings; built on an arena,
    // encoded, and freed in one go. (Full listings stay on the heap: an arena's big blocks
    // for `qstat -f` of every job would stay in the server's RSS after being freed.)
    google::protobuf::Arena arena;
    auto* resp = google::protobuf::Arena::CreateMessage<wire::Response>(&arena);
    status_jobs(who(c), req, *resp);
    replies_.push_back({c.fd, encode_frame(*resp), false, req.op()});
    return;
  }
  long before = store_.writes();
  wire::Response resp = dispatch(c, req);
  bool mutated = store_.writes() != before;
  if (mutated) sched_wanted_ = true;
  replies_.push_back({c.fd, encode_frame(resp), mutated, req.op()});
}

void Server::close_conn(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  if (it->second.is_mom) {
    auto n = st_.nodes.find(it->second.node);
    if (n != st_.nodes.end() && n->second.mom_fd == fd) {
      n->second.mom_fd = -1;
      n->second.down_since = now_seconds();
      log_line("node " + n->first + " is down (mom disconnected)");
    }
  }
  forget_limits(it->second);
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  conns_.erase(it);
}

void Server::flush(Conn& c) {
  while (!c.out.empty()) {
    ssize_t w = ::write(c.fd, c.out.data(), c.out.size());
    if (w < 0) {
      if (errno == EAGAIN) break;
      if (errno == EINTR) continue;
      close_conn(c.fd);
      return;
    }
    c.out.erase(0, size_t(w));
    c.last_progress = now_seconds();
    account(c, -long(w));
  }
  if (c.out.empty() && c.close_after_flush) {
    close_conn(c.fd);
    return;
  }
  resume(c);
  set_events(c);
}

void Server::end_of_pass() {
  if (sched_wanted_ && is_true(attr_or(st_.attrs, "scheduling", "True"))) schedule();
  std::string error;
  if (!store_.commit(error)) {
    // Nothing of this pass is durable: reload the last committed state and tell every client
    // whose request changed something that it did not happen.
    log_line("database commit failed: " + error + "; changes of this pass discarded");
    std::map<std::string, Node> live = st_.nodes;  // connections and health are not stored
    std::string load_error;
    if (!store_.load(st_, load_error)) log_line("reload failed: " + load_error);
    rebuild_arrays();
    for (auto& [name, l] : live)
      if (auto n = st_.nodes.find(name); n != st_.nodes.end()) {
        n->second.mom_fd = l.mom_fd;
        n->second.mom_status = l.mom_status;
        n->second.last_heard = l.last_heard;
        n->second.down_since = l.down_since;
      }
    for (auto& r : replies_)
      if (r.mutated)
        r.frame = encode_frame(error_response(kErrSystem, "System error: cannot store the change (" + error + "); nothing was changed"));
    mom_cmds_.clear();
  }
  for (auto& r : replies_) {
    auto it = conns_.find(r.fd);
    if (it == conns_.end()) continue;
    Conn& c = it->second;
    // Counted as pending when made; a failed commit may have replaced it by a shorter one.
    size_t counted = std::min(c.pending_out, r.frame.size());
    c.pending_out -= counted;
    account(c, long(r.frame.size()) - long(counted));
    if (c.out.empty()) c.out = std::move(r.frame);  // a big reply is not copied
    else c.out += r.frame;
  }
  for (auto& m : mom_cmds_) {
    auto n = st_.nodes.find(m.node);
    if (n == st_.nodes.end() || n->second.mom_fd < 0) continue;
    auto it = conns_.find(n->second.mom_fd);
    if (it != conns_.end()) it->second.out += m.frame;
  }
  replies_.clear();
  mom_cmds_.clear();
  std::vector<int> fds;
  for (auto& [fd, c] : conns_) {
    if (c.pending_out) account(c, -long(std::exchange(c.pending_out, 0)));
    if (!c.out.empty() || c.close_after_flush) fds.push_back(fd);
  }
  for (int fd : fds)
    if (auto it = conns_.find(fd); it != conns_.end()) flush(it->second);
}

void Server::housekeeping() {
  last_housekeeping_ = now_seconds();
  check_nodes();
  check_shutdown();
  check_idle();
  route_waiting_jobs();
  long keep = 0;
  parse_int(attr_or(st_.attrs, "keep_completed", "0"), keep);
  std::vector<long> purge;
  for (auto& [seq, j] : st_.jobs) {
    if (j.state() == 'W' && unheld_state(j) == 'Q') {  // qsub -a: its time has come
      set_state(j, 'Q');
      save(j);
      sched_wanted_ = true;
    }
    if (j.state() != 'C' || is_subjob_key(seq)) continue;  // sub-jobs go with their array
    long done = 0;
    parse_int(j.attr("comp_time"), done);
    if (done + keep <= last_housekeeping_) purge.push_back(seq);
  }
  for (long seq : purge) {
    purge_array(seq);
    store_.delete_job(seq);
    st_.jobs.erase(seq);
    st_.queued.erase(seq);
    st_.running.erase(seq);
    st_.waiting.erase(seq);
  }
}

void Server::send_to_mom(const std::string& node, const wire::MomCommand& cmd) {
  mom_cmds_.push_back({node, encode_frame(cmd)});
}

}  // namespace reprise::server
