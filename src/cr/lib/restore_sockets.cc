#include "lib/restore_sockets.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "lib/owner_file_access.h"
#include "lib/restart_child.h"

namespace reprise::cr {
namespace {

using Failure = RestartError;

bool HasName(const std::string& addr, int family) {
  if (family == AF_UNIX) return addr.size() > offsetof(sockaddr_un, sun_path);
  return !addr.empty();
}

// The filesystem path of a UNIX address, or "" for abstract/unnamed.
std::string UnixPath(const std::string& addr) {
  size_t off = offsetof(sockaddr_un, sun_path);
  if (addr.size() <= off || addr[off] == '\0') return "";
  return std::string(addr.c_str() + off);
}

void SetInt(int fd, int level, int name, int value) { setsockopt(fd, level, name, &value, sizeof value); }

int GetInt(int fd, int level, int name) {
  int v = 0;
  socklen_t l = sizeof v;
  getsockopt(fd, level, name, &v, &l);
  return v;
}

// Path operations (bind, unlink) run as OwnerFileAccess: a restart as root
// cannot be steered into root's files.

void SendAll(int from, const std::string& bytes, const std::string& to_addr, const std::string& where) {
  size_t done = 0;
  bool raised = false;
  do {
    ssize_t n = to_addr.empty()
                    ? send(from, bytes.data() + done, bytes.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL)
                    : sendto(from, bytes.data() + done, bytes.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(to_addr.data()), static_cast<socklen_t>(to_addr.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == ENOBUFS) && !raised) {
      // The saved bytes fitted before; a sender charged differently
      // (one write instead of many) may need a larger send buffer.
      int want = static_cast<int>(bytes.size() * 2 + 65536);
      if (setsockopt(from, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) != 0)
        setsockopt(from, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
      raised = true;
      continue;
    }
    if (n < 0)
      throw Failure{errno, where + ": cannot put back its " + std::to_string(bytes.size()) +
                               " bytes in flight: " + strerror(errno)};
    done += static_cast<size_t>(n);
  } while (done < bytes.size());
}

}  // namespace

std::string RestoredSockets::Where(uint64_t ino) const {
  const SocketUse& u = all_.first_use.at(ino);
  const SavedSocket& s = all_.by_ino.at(ino);
  std::string name = HasName(s.local(), static_cast<int>(s.rec.family)) ? " " + AddressText(s.local()) : "";
  return "pid " + std::to_string(u.pid) + " fd " + std::to_string(u.fd) + " (" + SocketKindText(s.rec) + name + ")";
}

size_t RestoredSockets::ProcessOf(uint64_t ino) const { return all_.first_use.at(ino).process; }

int RestoredSockets::FdFor(uint64_t ino) const {
  auto it = fds_.find(ino);
  if (it == fds_.end()) throw Failure{EINVAL, "a socket of the image (inode " + std::to_string(ino) + ") was not rebuilt"};
  return it->second;
}

int RestoredSockets::NewSocket(const SavedSocket& s) {
  int proto = s.rec.family == AF_UNIX ? 0 : static_cast<int>(s.rec.protocol);
  int fd = socket(static_cast<int>(s.rec.family), static_cast<int>(s.rec.type) | SOCK_CLOEXEC, proto);
  if (fd < 0) throw Failure{errno, std::string("socket: ") + strerror(errno)};
  fd = keep_(fd);
  if (s.rec.family == AF_INET6) SetInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, (s.rec.options & kSockOptV6Only) ? 1 : 0);
  return fd;
}

// Binds to the saved name. A UNIX path left by the killed program (a socket
// file nobody listens on any more) is replaced; relative paths are bound from
// the process's working directory so getsockname reads as before.
// A connection's end whose port the killed tree left in TIME_WAIT (when the
// socket had no SO_REUSEADDR, nothing else may bind it for a minute): bind
// in TCP repair mode, which takes the port regardless (root, CAP_NET_ADMIN).
// The connect that follows reuses the TIME_WAIT tuple (tcp_tw_reuse covers
// loopback). Not for listeners: a live listener elsewhere must still fail.
static bool BindOverTimeWait(int fd, const SavedSocket& s, const std::string& addr) {
  if (s.rec.family == AF_UNIX || s.rec.type != SOCK_STREAM || s.rec.state == kSockListening) return false;
  int on = 1, off = 0;
  if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof on) != 0) return false;
  bool ok = bind(fd, reinterpret_cast<const sockaddr*>(addr.data()), static_cast<socklen_t>(addr.size())) == 0;
  setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof off);
  return ok;
}

void RestoredSockets::Bind(int fd, uint64_t ino, const std::string& addr, bool temporary) {
  const SavedSocket& s = all_.by_ino.at(ino);
  int family = static_cast<int>(s.rec.family);
  std::string path = family == AF_UNIX ? UnixPath(addr) : "";
  OwnerFileAccess owner(img_->info.uid, img_->info.gid);
  int cwd = -1;
  if (!path.empty() && path[0] != '/') {
    cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (chdir(img_->processes[ProcessOf(ino)].process.cwd) != 0)
      throw Failure{errno, Where(ino) + ": cannot enter its working directory to bind: " + strerror(errno)};
  }
  struct stat st {};
  if (!path.empty() && lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      throw Failure{EEXIST, Where(ino) + ": '" + path + "' exists and is not a socket; move it away and restart"};
    // A socket file nobody listens on is stale (the killed program's):
    // replace it. One somebody answers on is taken.
    // A tree killed just before this restart may still be exiting: give
    // its sockets up to 2 s to go away before calling the name taken.
    bool live = true;
    for (int tries = 0; live && tries < 40; ++tries) {
      if (tries) usleep(50000);
      int probe = socket(AF_UNIX, static_cast<int>(s.rec.type) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      live = probe >= 0 &&
             (connect(probe, reinterpret_cast<const sockaddr*>(addr.data()), static_cast<socklen_t>(addr.size())) == 0 ||
              errno == EAGAIN);
      if (probe >= 0) close(probe);
    }
    if (cwd >= 0 && live && fchdir(cwd) == 0) close(cwd), cwd = -1;
    if (live)
      throw Failure{EADDRINUSE, Where(ino) + ": " + AddressText(addr) + " is taken by another process; free it and restart"};
    unlink(path.c_str());
  }
  int reuse = GetInt(fd, SOL_SOCKET, SO_REUSEADDR);
  if (family != AF_UNIX) SetInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);  // TIME_WAIT left by the killed tree
  int r, e;
  for (int tries = 0;; ++tries) {  // same grace for a port a dying tree still holds
    r = bind(fd, reinterpret_cast<const sockaddr*>(addr.data()), static_cast<socklen_t>(addr.size()));
    e = errno;
    if (r != 0 && e == EADDRINUSE && tries == 0 && BindOverTimeWait(fd, s, addr)) r = 0;
    if (r == 0 || e != EADDRINUSE || tries == 40) break;
    usleep(50000);
  }
  if (family != AF_UNIX) SetInt(fd, SOL_SOCKET, SO_REUSEADDR, reuse);
  if (cwd >= 0) {
    if (fchdir(cwd) != 0) e = errno, r = -1;
    close(cwd);
  }
  if (r != 0) {
    if (e == EADDRINUSE)
      throw Failure{EADDRINUSE, Where(ino) + ": " + AddressText(addr) + (temporary ? " (to rebuild a connection)" : "") +
                                    " is taken by another process; free it and restart"};
    throw Failure{e, Where(ino) + ": cannot bind to " + AddressText(addr) + ": " + strerror(e)};
  }
}

// listen() checks the port again, so the TIME_WAIT connections the killed
// tree left on it need SO_REUSEADDR here too (Finish sets the program's own).
void RestoredSockets::Listen(int fd, uint64_t ino, int backlog) {
  if (all_.by_ino.at(ino).rec.family != AF_UNIX) SetInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (listen(fd, backlog) != 0) throw Failure{errno, Where(ino) + ": listen: " + strerror(errno)};
}

void RestoredSockets::BuildListener(uint64_t ino) {
  const SavedSocket& s = all_.by_ino.at(ino);
  int fd = NewSocket(s);
  if (s.rec.options & kSockOptReusePort) SetInt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
  Bind(fd, ino, s.local(), false);
  Listen(fd, ino, static_cast<int>(s.rec.backlog));
  fds_[ino] = fd;
}

void RestoredSockets::BuildUnconnected(uint64_t ino) {
  const SavedSocket& s = all_.by_ino.at(ino);
  int fd = NewSocket(s);
  if (s.rec.options & kSockOptReusePort) SetInt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
  bool named = s.rec.family == AF_UNIX ? HasName(s.local(), AF_UNIX) : s.rec.local_len && [&] {
    // An inet socket is bound when it has a port (an unbound one reports port 0).
    const auto* in = reinterpret_cast<const sockaddr_in*>(s.rec.local);
    return in->sin_port != 0;
  }();
  if (named) Bind(fd, ino, s.local(), false);
  fds_[ino] = fd;
}

// A connection with both ends in the image. UNIX pairs without names are
// socketpairs; otherwise the end whose name a listener has (or had) is the
// accepted one: connect the other to that name and accept.
void RestoredSockets::BuildPair(uint64_t a, uint64_t b) {
  const SavedSocket& sa = all_.by_ino.at(a);
  const SavedSocket& sb = all_.by_ino.at(b);
  int family = static_cast<int>(sa.rec.family);
  bool a_named = HasName(sa.local(), family), b_named = HasName(sb.local(), family);
  if (family == AF_UNIX && !a_named && !b_named) {
    int sv[2];
    if (socketpair(AF_UNIX, static_cast<int>(sa.rec.type) | SOCK_CLOEXEC, 0, sv) != 0)
      throw Failure{errno, Where(a) + ": socketpair: " + strerror(errno)};
    fds_[a] = keep_(sv[0]);
    fds_[b] = keep_(sv[1]);
    refill_from_[a] = fds_[b];
    refill_from_[b] = fds_[a];
    return;
  }
  // Which end was accepted: its name is a listener's (now or then).
  auto listener_of = [&](const SavedSocket& s) -> uint64_t {
    for (auto& [ino, o] : all_.by_ino)
      if (o.rec.state == kSockListening && o.rec.family == s.rec.family && o.local() == s.local()) return ino;
    return 0;
  };
  uint64_t server = a, client = b;
  if (listener_of(sb) || (!listener_of(sa) && (family == AF_UNIX ? !a_named : false))) std::swap(server, client);
  if (family != AF_UNIX && !listener_of(all_.by_ino.at(server))) {
    // No listener left: the accepted end has the well-known port, i.e. the
    // one the other end connected to; pick the end with the lower port.
    auto port = [](const SavedSocket& s) { return ntohs(reinterpret_cast<const sockaddr_in*>(s.rec.local)->sin_port); };
    if (port(all_.by_ino.at(client)) < port(all_.by_ino.at(server))) std::swap(server, client);
  }
  const SavedSocket& ss = all_.by_ino.at(server);
  const SavedSocket& sc = all_.by_ino.at(client);
  uint64_t listener = listener_of(ss);
  int lfd;
  std::string temp_path;
  bool temp_existed = false;
  if (listener) {
    lfd = fds_.at(listener);
  } else {
    lfd = NewSocket(ss);
    temp_path = family == AF_UNIX ? UnixPath(ss.local()) : "";
    struct stat st {};
    temp_existed = !temp_path.empty() && lstat(temp_path.c_str(), &st) == 0;
    Bind(lfd, server, ss.local(), true);
    Listen(lfd, server, 1);
  }
  int cfd = NewSocket(sc);
  if (HasName(sc.local(), family)) Bind(cfd, client, sc.local(), false);
  fds_[client] = cfd;
  ConnectTo(client, ss.local());
  int sfd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  if (sfd < 0) throw Failure{errno, Where(server) + ": accept: " + strerror(errno)};
  fds_[server] = keep_(sfd);
  fds_[client] = cfd;
  refill_from_[server] = cfd;
  refill_from_[client] = fds_[server];
  if (!listener) {
    if (!temp_path.empty() && !temp_existed) {
      OwnerFileAccess owner(img_->info.uid, img_->info.gid);
      unlink(temp_path.c_str());
    }
  }
}

// A connection whose peer is gone (closed, or outside the job with
// --external-sockets=closed): the saved bytes, then EOF. A TCP one is reset
// by its peer, so the program sees ECONNRESET and can reconnect.
void RestoredSockets::BuildClosed(uint64_t ino) {
  const SavedSocket& s = all_.by_ino.at(ino);
  if (s.rec.family == AF_UNIX) {
    int sv[2];
    if (socketpair(AF_UNIX, static_cast<int>(s.rec.type) | SOCK_CLOEXEC, 0, sv) != 0)
      throw Failure{errno, Where(ino) + ": socketpair: " + strerror(errno)};
    fds_[ino] = keep_(sv[0]);
    int other = keep_(sv[1]);
    refill_from_[ino] = other;
    closing_[ino] = other;
    return;
  }
  if (s.rec.type == SOCK_DGRAM) {  // an unconnected datagram socket
    fds_[ino] = NewSocket(s);
    return;
  }
  // TCP: a loopback connection whose far end resets it.
  int l = socket(static_cast<int>(s.rec.family), SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage any{};
  any.ss_family = static_cast<sa_family_t>(s.rec.family);
  socklen_t len = s.rec.family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (s.rec.family == AF_INET) reinterpret_cast<sockaddr_in*>(&any)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  else reinterpret_cast<sockaddr_in6*>(&any)->sin6_addr = in6addr_loopback;
  if (l < 0 || bind(l, reinterpret_cast<sockaddr*>(&any), len) != 0 || listen(l, 1) != 0 ||
      getsockname(l, reinterpret_cast<sockaddr*>(&any), &len) != 0)
    throw Failure{errno, Where(ino) + ": cannot build a closed connection: " + strerror(errno)};
  l = keep_(l);
  int c = NewSocket(s);
  if (connect(c, reinterpret_cast<sockaddr*>(&any), len) != 0)
    throw Failure{errno, Where(ino) + ": cannot build a closed connection: " + strerror(errno)};
  int far = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
  if (far < 0) throw Failure{errno, Where(ino) + ": accept: " + strerror(errno)};
  far = keep_(far);
  fds_[ino] = c;
  refill_from_[ino] = far;
  linger lg{1, 0};  // close with RST
  setsockopt(far, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  closing_[ino] = far;
}

// Connects socket `ino` (already created) to addr; a relative UNIX path is
// resolved in the process's working directory, as the program did.
void RestoredSockets::ConnectTo(uint64_t ino, const std::string& addr) {
  std::string path = all_.by_ino.at(ino).rec.family == AF_UNIX ? UnixPath(addr) : "";
  int cwd = -1;
  if (!path.empty() && path[0] != '/') {
    cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (chdir(img_->processes[ProcessOf(ino)].process.cwd) != 0)
      throw Failure{errno, Where(ino) + ": cannot enter its working directory to reconnect: " + strerror(errno)};
  }
  int r;
  {
    OwnerFileAccess owner(img_->info.uid, img_->info.gid);
    r = connect(fds_.at(ino), reinterpret_cast<const sockaddr*>(addr.data()), static_cast<socklen_t>(addr.size()));
  }
  int e = errno;
  if (cwd >= 0) {
    if (fchdir(cwd) != 0) e = errno, r = -1;
    close(cwd);
  }
  if (r != 0 && !(e == EINPROGRESS))
    throw Failure{e, Where(ino) + ": cannot reconnect to " + AddressText(addr) + ": " + strerror(e)};
}

// Connections that were waiting in a UNIX listener's backlog: connected
// again in the same order and left for the program to accept.
void RestoredSockets::BuildBacklog(uint64_t listener) {
  const SavedSocket& l = all_.by_ino.at(listener);
  size_t rebuilt = 0;
  for (auto& [client, of] : all_.pending_client) {
    if (of != listener) continue;
    const SavedSocket& c = all_.by_ino.at(client);
    fds_[client] = NewSocket(c);
    if (HasName(c.local(), AF_UNIX)) Bind(fds_[client], client, c.local(), false);
    ConnectTo(client, l.local());
    ++rebuilt;
  }
  // Clients outside the job (allowed with --external-sockets=closed): a
  // connection cr_restart closes once the children hold their fds, so
  // accept() gives one that reads EOF.
  for (; rebuilt < l.pending.size(); ++rebuilt) {
    int keep_listener_fd = fds_.at(listener);
    fds_[listener] = NewSocket(l);  // ConnectTo connects fds_[ino]: borrow the slot
    try {
      ConnectTo(listener, l.local());
    } catch (...) {
      fds_[listener] = keep_listener_fd;
      throw;
    }
    fds_[listener] = keep_listener_fd;
  }
}

void RestoredSockets::Refill(uint64_t ino) {
  const SavedSocket& s = all_.by_ino.at(ino);
  if (s.messages.empty()) return;
  for (const SavedMessage& m : s.messages) {
    auto it = refill_from_.find(ino);
    if (it != refill_from_.end()) {
      SendAll(it->second, m.bytes, "", Where(ino));
      continue;
    }
    // A datagram to an unconnected socket: from the socket of the image with
    // the sender's name, else from a fresh socket with that name.
    uint64_t sender = 0;
    for (auto& [other, o] : all_.by_ino)
      if (HasName(m.sender, static_cast<int>(s.rec.family)) && o.rec.type == s.rec.type &&
          o.rec.state != kSockListening && AddressAccepts(o.local(), m.sender))
        sender = other;
    int from;
    if (sender && fds_.count(sender)) {
      from = fds_.at(sender);
    } else {
      from = NewSocket(s);
      if (HasName(m.sender, static_cast<int>(s.rec.family))) {
        OwnerFileAccess owner(img_->info.uid, img_->info.gid);
        if (bind(from, reinterpret_cast<const sockaddr*>(m.sender.data()), static_cast<socklen_t>(m.sender.size())) != 0)
          throw Failure{errno, Where(ino) + ": cannot put back a datagram from " + AddressText(m.sender) +
                                   ", which is outside the job and taken: " + strerror(errno)};
        std::string p = s.rec.family == AF_UNIX ? UnixPath(m.sender) : "";
        if (!p.empty()) unlink(p.c_str());
      }
    }
    SendAll(from, m.bytes, s.local(), Where(ino));
  }
}

// Options, half-closed state and O_NONBLOCK, once the bytes are back.
void RestoredSockets::Finish(uint64_t ino) {
  const SavedSocket& s = all_.by_ino.at(ino);
  int fd = fds_.at(ino);
  const SocketRecord& r = s.rec;
  SetInt(fd, SOL_SOCKET, SO_REUSEADDR, (r.options & kSockOptReuseAddr) ? 1 : 0);
  if (r.options & kSockOptPassCred) SetInt(fd, SOL_SOCKET, SO_PASSCRED, 1);
  if (r.family != AF_UNIX && r.type == SOCK_STREAM) {
    SetInt(fd, SOL_SOCKET, SO_KEEPALIVE, (r.options & kSockOptKeepAlive) ? 1 : 0);
    SetInt(fd, IPPROTO_TCP, TCP_NODELAY, (r.options & kSockOptNoDelay) ? 1 : 0);
    if (r.keepidle > 0) SetInt(fd, IPPROTO_TCP, TCP_KEEPIDLE, r.keepidle);
    if (r.keepintvl > 0) SetInt(fd, IPPROTO_TCP, TCP_KEEPINTVL, r.keepintvl);
    if (r.keepcnt > 0) SetInt(fd, IPPROTO_TCP, TCP_KEEPCNT, r.keepcnt);
  } else if (r.options & kSockOptKeepAlive) {
    SetInt(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  }
  // Buffer sizes only where the program (or autotuning) changed them: an
  // explicit size switches TCP autotuning off.
  if (GetInt(fd, SOL_SOCKET, SO_SNDBUF) != r.sndbuf && r.sndbuf > 0) {
    int half = r.sndbuf / 2;  // the kernel doubles what it is given
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &half, sizeof half) != 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &half, sizeof half);
  }
  if (GetInt(fd, SOL_SOCKET, SO_RCVBUF) != r.rcvbuf && r.rcvbuf > 0) {
    int half = r.rcvbuf / 2;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &half, sizeof half) != 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &half, sizeof half);
  }
  if (r.shutdown & kSockShutWrite) shutdown(fd, SHUT_WR);
  if ((r.shutdown & kSockShutRead) && r.family == AF_UNIX) shutdown(fd, SHUT_RD);
}

void RestoredSockets::Create(const Image& img, bool external_closed, const std::function<int(int)>& keep) {
  img_ = &img;
  keep_ = keep;
  external_closed_ = external_closed;
  all_ = CollectSockets(img);
  if (all_.by_ino.empty()) return;
  std::set<uint64_t> outside;
  for (auto& [ino, s] : all_.by_ino) {
    std::string why;
    if (!LeadsOutside(all_, ino, &why)) continue;
    if (!external_closed)
      throw Failure{ENOTSUP, why + "; restart with --external-sockets=closed to restore it as a closed connection"};
    outside.insert(ino);
  }
  // 1. listeners, 2. sockets without a connection, 3. connections, 4. UNIX
  // backlogs, 5. TCP backlogs and datagram connects, 6. bytes in flight,
  // 7. options and half-closed state.
  for (auto& [ino, s] : all_.by_ino)
    if (s.rec.state == kSockListening) BuildListener(ino);
  for (auto& [ino, s] : all_.by_ino) {
    if (s.rec.state == kSockListening) continue;
    // Datagram sockets are bound now and connected in step 5, except
    // unnamed UNIX pairs (socketpair) in step 3.
    bool unix_pair_dgram = s.rec.family == AF_UNIX && s.rec.type == SOCK_DGRAM && s.rec.peer_ino &&
                           all_.by_ino.count(s.rec.peer_ino) && all_.by_ino.at(s.rec.peer_ino).rec.peer_ino == ino &&
                           !HasName(s.local(), AF_UNIX) && !HasName(all_.by_ino.at(s.rec.peer_ino).local(), AF_UNIX);
    if ((s.rec.type == SOCK_DGRAM && !unix_pair_dgram) || s.rec.state == kSockUnconnected) BuildUnconnected(ino);
  }
  for (auto& [ino, s] : all_.by_ino) {
    if (fds_.count(ino) || s.rec.state == kSockListening) continue;
    if (outside.count(ino) || s.rec.state == kSockClosed) {
      BuildClosed(ino);
      continue;
    }
    if (s.rec.family == AF_UNIX) {
      if (all_.pending_client.count(ino)) continue;  // step 4
      if (s.rec.peer_ino == 0 || !all_.by_ino.count(s.rec.peer_ino)) {
        BuildClosed(ino);  // its peer closed
        continue;
      }
      BuildPair(ino, s.rec.peer_ino);
      continue;
    }
    uint64_t peer = InetPeerInImage(all_, ino);
    if (peer) BuildPair(ino, peer);
  }
  for (auto& [ino, s] : all_.by_ino)
    if (s.rec.state == kSockListening && s.rec.family == AF_UNIX) BuildBacklog(ino);
  // Inet connections waiting to be accepted, and connected datagram sockets.
  for (auto& [ino, s] : all_.by_ino) {
    if (s.rec.state != kSockConnected || outside.count(ino)) continue;
    if (s.rec.family != AF_UNIX && s.rec.type == SOCK_STREAM && !fds_.count(ino)) {
      fds_[ino] = NewSocket(s);
      Bind(fds_[ino], ino, s.local(), false);
      ConnectTo(ino, s.peer());
    } else if (s.rec.type == SOCK_DGRAM && !refill_from_.count(ino) && HasName(s.peer(), static_cast<int>(s.rec.family))) {
      ConnectTo(ino, s.peer());
    }
  }
  for (auto& [ino, s] : all_.by_ino)
    if (fds_.count(ino)) Refill(ino);
  // The far ends of closed connections: shut now, closed with the rest of
  // cr_restart's descriptors once the children hold theirs.
  for (auto& [ino, fd] : closing_) shutdown(fd, SHUT_RDWR);
  for (auto& [ino, s] : all_.by_ino) {
    Finish(ino);
    int fl = fcntl(fds_.at(ino), F_GETFL);
    fcntl(fds_.at(ino), F_SETFL, (fl & ~O_NONBLOCK) | (static_cast<int>(all_.first_use.at(ino).flags) & O_NONBLOCK));
  }
}

}  // namespace reprise::cr
