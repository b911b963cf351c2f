// Limits per connection and per user: admission (connections per uid, unauthenticated TCP
// connections per address), output backpressure, idle timeouts, and running out of
// descriptors without spinning.
#include "server/limits.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/log.h"
#include "common/text_util.h"
#include "server/server.h"

namespace reprise::server {

static size_t current_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1u << 20;
  return size_t(rl.rlim_cur);
}

void Server::setup_limits() {
  // Every descriptor the hard limit allows: the caps below are fractions of it.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? rlim_t(1u << 20) : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) log_line("cannot raise the descriptor limit to " + std::to_string(rl.rlim_cur));
  }
  fd_limit_ = current_fd_limit();
  spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

size_t Server::client_cap() const {
  size_t reserve = kFdReserve + st_.nodes.size();
  return fd_limit_ > 2 * reserve ? fd_limit_ - reserve : fd_limit_ / 2;
}

int Server::user_cap() const {
  return int(std::min<size_t>(kMaxConnsPerUser, std::max<size_t>(4, client_cap() / 4)));
}

void Server::accept_failed(int listen_fd) {
  // Out of descriptors: the pending connection keeps the listener readable, so epoll would
  // report it forever. Free the spare, take the connection off the queue and close it.
  if (spare_fd_ >= 0) {
    ::close(spare_fd_);
    spare_fd_ = -1;
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) ::close(fd);
    spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  if (spare_fd_ < 0) {
    // No spare to give: stop listening for a second rather than spin.
    listeners_paused_until_ = now_seconds() + 1;
    for (int fd : {unix_fd_, tcp_fd_}) {
      epoll_event ev{};
      ev.data.fd = fd;
      epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
    }
  }
  note_refusal("refused a connection: out of file descriptors (" + std::to_string(conns_.size()) +
               " connections open, limit " + std::to_string(fd_limit_) + ")");
}

void Server::refuse_now(int fd, const std::string& why) {
  // Best effort, never blocking: a new socket's buffer is empty, so this short write fits.
  std::string frame = encode_frame(error_response(kErrNoResources, "Resource temporarily unavailable (" + why + ")"));
  ssize_t ignored = ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
  ::close(fd);
}

void Server::note_refusal(const std::string& line) {
  long now = now_seconds();
  last_refusal_ = line;
  if (now - refusal_logged_ >= kRefusalLogSeconds) {
    log_line(line);
    refusal_logged_ = now;
  } else {
    ++refusals_unlogged_;
  }
}

// Why one more connection of c's user cannot be had ("" if it can).
std::string Server::user_refusal(const Conn& c) const {
  auto u = users_.find(c.uid);
  int have = u == users_.end() ? 0 : u->second.conns;
  if (have >= user_cap())
    return "user " + c.user + " has " + std::to_string(have) + " connections; the limit is " + std::to_string(user_cap());
  if (size_t(clients_) >= client_cap())
    return "the server has " + std::to_string(clients_) + " client connections; the limit is " + std::to_string(client_cap());
  return "";
}

void Server::count_user(Conn& c) {
  ++users_[c.uid].conns;
  ++clients_;
  c.user_counted = true;
}

bool Server::admit_at_accept(Conn& c) {
  if (c.local) {
    if (c.uid == 0) return true;  // root (moms, administrators) is trusted
    std::string why = user_refusal(c);
    if (!why.empty()) {
      note_refusal("refused a connection of " + c.user + ": " + why);
      refuse_now(c.fd, why);
      return false;
    }
    count_user(c);
    return true;
  }
  int have = unauth_by_ip_[c.ip];
  std::string why;
  if (have >= kMaxUnauthPerAddress)
    why = "address " + c.ip + " has " + std::to_string(have) + " connections that have not authenticated; the limit is " + std::to_string(kMaxUnauthPerAddress);
  else if (unauth_ >= kMaxUnauth)
    why = "the server has " + std::to_string(unauth_) + " connections that have not authenticated; the limit is " + std::to_string(kMaxUnauth);
  if (!why.empty()) {
    if (have == 0) unauth_by_ip_.erase(c.ip);
    note_refusal("refused a connection from " + c.peer + ": " + why);
    refuse_now(c.fd, why);
    return false;
  }
  ++unauth_by_ip_[c.ip];
  ++unauth_;
  c.unauth_counted = true;
  return true;
}

bool Server::admitted(Conn& c) {
  if (c.unauth_counted) {
    if (--unauth_by_ip_[c.ip] <= 0) unauth_by_ip_.erase(c.ip);
    --unauth_;
    c.unauth_counted = false;
  }
  if (c.user_counted || c.uid == 0) return true;
  std::string why = user_refusal(c);
  if (!why.empty()) {
    note_refusal("refused a connection of " + c.user + " from " + c.peer + ": " + why);
    replies_.push_back({c.fd, encode_frame(error_response(kErrNoResources, "Resource temporarily unavailable (" + why + ")")), false, "limit"});
    c.close_after_flush = true;
    set_events(c);
    return false;
  }
  count_user(c);
  users_[c.uid].queued += c.out.size() + c.pending_out;
  account_input(c);  // its input moves from the unauthenticated pool to its user's
  return true;
}

bool Server::over_output_limit(const Conn& c) const {
  if (c.is_mom) return false;
  if (c.out.size() + c.pending_out >= kConnOutLimit) return true;
  if (!c.user_counted) return false;
  auto u = users_.find(c.uid);
  return u != users_.end() && u->second.queued >= kUserOutLimit;
}

void Server::account(Conn& c, long delta) {
  if (!c.user_counted || delta == 0) return;
  UserUse& u = users_[c.uid];
  bool was_over = u.queued >= kUserOutLimit;
  u.queued = delta < 0 && size_t(-delta) > u.queued ? 0 : size_t(long(u.queued) + delta);
  if (!was_over || u.queued >= kUserOutLimit) return;
  // Under the user's limit again: its connections that waited for that go on.
  for (auto& [fd, other] : conns_)
    if (other.paused && other.user_counted && other.uid == c.uid && &other != &c) resume(other);
}

// The pool a connection's buffered input counts in: its user's once it is admitted (root and
// moms have none), the unauthenticated connections' before.
static Conn::InPool pool_of(const Conn& c) {
  if (c.is_mom) return Conn::InPool::kNone;
  if (!c.authed) return c.local ? Conn::InPool::kNone : Conn::InPool::kUnauth;
  return c.user_counted ? Conn::InPool::kUser : Conn::InPool::kNone;
}

void Server::account_input(Conn& c) {
  auto pool = [&](Conn::InPool p) -> size_t* {
    if (p == Conn::InPool::kUnauth) return &unauth_in_;
    if (p == Conn::InPool::kUser) {
      auto u = users_.find(c.uid);
      return u == users_.end() ? nullptr : &u->second.in;
    }
    return nullptr;
  };
  if (size_t* old = pool(c.in_pool)) *old -= std::min(*old, c.in_counted);
  c.in_pool = pool_of(c);
  c.in_counted = 0;
  if (size_t* now = pool(c.in_pool)) {
    c.in_counted = c.reader.buffered();
    *now += c.in_counted;
  }
}

bool Server::input_over_limit(const Conn& c) const {
  if (c.in_pool == Conn::InPool::kUnauth) return unauth_in_ >= kUnauthInLimit;
  if (c.in_pool != Conn::InPool::kUser) return false;
  auto u = users_.find(c.uid);
  return u != users_.end() && u->second.in >= kUserInLimit;
}

void Server::resume(Conn& c) {
  if (!c.paused || over_output_limit(c)) return;
  c.paused = false;
  if (c.reader.has_frame()) ready_.insert(c.fd);
  set_events(c);
}

void Server::forget_limits(Conn& c) {
  ready_.erase(c.fd);
  c.reader = FrameReader();
  account_input(c);  // gives back what its reader held (before users_ forgets the user)
  if (c.unauth_counted) {
    if (--unauth_by_ip_[c.ip] <= 0) unauth_by_ip_.erase(c.ip);
    --unauth_;
    c.unauth_counted = false;
  }
  if (c.user_counted) {
    account(c, -long(c.out.size() + c.pending_out));
    c.user_counted = false;  // after account(): it applies to counted connections only
    UserUse& u = users_[c.uid];
    --clients_;
    if (--u.conns <= 0) users_.erase(c.uid);
  }
}

void Server::set_events(Conn& c) {
  uint32_t want = (c.paused || c.in_paused || c.close_after_flush ? 0u : uint32_t(EPOLLIN)) | (c.out.empty() ? 0u : uint32_t(EPOLLOUT));
  if (want == c.events) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.fd = c.fd;
  if (epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev) != 0) epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev);
  c.events = want;
}

void Server::check_idle() {
  long now = now_seconds();
  fd_limit_ = current_fd_limit();  // an administrator may change it (prlimit)
  if (listeners_paused_until_ && now >= listeners_paused_until_) {
    listeners_paused_until_ = 0;
    for (int fd : {unix_fd_, tcp_fd_}) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
    }
  }
  // Connections that stopped being read because their input pool was full go on once it is not.
  for (auto& [fd, c] : conns_)
    if (c.in_paused && !input_over_limit(c)) {
      c.in_paused = false;
      set_events(c);
    }
  long tcp_timeout = kDefaultTcpTimeout;
  parse_int(attr_or(st_.attrs, "tcp_timeout", std::to_string(kDefaultTcpTimeout)), tcp_timeout);
  std::vector<int> idle;
  int silent = 0;
  for (auto& [fd, c] : conns_) {
    if (c.is_mom) continue;  // node health (node_check_rate) watches moms
    if (!c.authed && now - c.since >= kFirstRequestSeconds) {
      idle.push_back(fd);
      ++silent;
    } else if (c.authed && tcp_timeout > 0 && now - c.last_progress >= tcp_timeout) {
      idle.push_back(fd);
    }
  }
  if (silent) note_refusal("closed " + std::to_string(silent) + " connections that sent no request within " + std::to_string(kFirstRequestSeconds) + " s");
  if (idle.size() > size_t(silent)) log_line("closed " + std::to_string(idle.size() - size_t(silent)) + " client connections idle for tcp_timeout (" + std::to_string(tcp_timeout) + " s)");
  for (int fd : idle) close_conn(fd);
  if (refusals_unlogged_ && now - refusal_logged_ >= kRefusalLogSeconds) {
    log_line(std::to_string(refusals_unlogged_) + " more connections refused in the last " + std::to_string(now - refusal_logged_) + " s (last: " + last_refusal_ + ")");
    refusals_unlogged_ = 0;
    refusal_logged_ = now;
  }
}

}  // namespace reprise::server
