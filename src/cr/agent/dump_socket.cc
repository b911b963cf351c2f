// Sockets: what the kernel tells about one socket, and the bytes waiting in
// its receive queue. Runs in the checkpoint signal handler: no allocation
// beyond the arena, only syscalls.
//
// Bytes in flight are copied with MSG_PEEK at SO_PEEK_OFF offsets (then the
// program's own peek offset is put back), so a live checkpoint leaves every
// queue as it was. For AF_UNIX that is everything: a UNIX socket has no send
// queue, a sent byte sits in the receiver's queue until read. Every process
// of the tree is stopped while the agents dump, so nothing moves meanwhile.
#include "dump_socket.h"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <linux/tcp.h>  // tcp_info with tcpi_bytes_acked
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <cerrno>
#include <cstring>

namespace reprise::cr::agent {

bool g_dumped_socket;

// TCP states as tcp_info reports them (the kernel's net/tcp_states.h).
enum : uint8_t { kTcpEstablished = 1, kTcpFinWait1 = 4, kTcpFinWait2 = 5, kTcpClose = 7, kTcpCloseWait = 8 };

namespace {

struct UnixDiag {
  uint32_t state = 0;
  uint32_t peer = 0;
  uint32_t rqueue = 0, wqueue = 0;
  uint32_t shutdown = 0;
  const uint32_t* icons = nullptr;
  uint32_t icon_count = 0;
};

// One exact sock_diag lookup by inode. The reply lives in the arena.
int QueryUnixDiag(uint64_t ino, UnixDiag& out) {
  int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return errno;
  struct {
    nlmsghdr nlh;
    unix_diag_req req;
  } msg{};
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST;
  msg.req.sdiag_family = AF_UNIX;
  msg.req.udiag_states = ~0u;
  msg.req.udiag_ino = static_cast<uint32_t>(ino);
  msg.req.udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN;
  msg.req.udiag_cookie[0] = msg.req.udiag_cookie[1] = ~0u;
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  if (sendto(nl, &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
    int e = errno;
    close(nl);
    return e;
  }
  constexpr size_t kReply = 256 * 1024;
  char* buf = static_cast<char*>(g_agent.arena.Alloc(kReply, 8));
  if (!buf) {
    close(nl);
    return ENOMEM;
  }
  ssize_t n = recv(nl, buf, kReply, 0);
  int e = n < 0 ? errno : 0;
  close(nl);
  if (n < 0) return e;
  auto* h = reinterpret_cast<nlmsghdr*>(buf);
  if (!NLMSG_OK(h, static_cast<uint32_t>(n))) return EIO;
  if (h->nlmsg_type == NLMSG_ERROR) {
    auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
    return err->error ? -err->error : EIO;
  }
  auto* m = static_cast<unix_diag_msg*>(NLMSG_DATA(h));
  out.state = m->udiag_state;
  char* at = reinterpret_cast<char*>(m + 1);
  char* end = reinterpret_cast<char*>(h) + h->nlmsg_len;
  while (at + sizeof(nlattr) <= end) {
    auto* a = reinterpret_cast<nlattr*>(at);
    if (a->nla_len < sizeof(nlattr) || at + a->nla_len > end) break;
    const char* data = at + NLA_HDRLEN;
    size_t len = a->nla_len - NLA_HDRLEN;
    switch (a->nla_type & NLA_TYPE_MASK) {
      case UNIX_DIAG_PEER: if (len >= 4) memcpy(&out.peer, data, 4); break;
      case UNIX_DIAG_RQLEN:
        if (len >= sizeof(unix_diag_rqlen)) {
          unix_diag_rqlen q;
          memcpy(&q, data, sizeof q);
          out.rqueue = q.udiag_rqueue;
          out.wqueue = q.udiag_wqueue;
        }
        break;
      case UNIX_DIAG_SHUTDOWN: if (len >= 1) out.shutdown = static_cast<uint8_t>(*data); break;
      case UNIX_DIAG_ICONS:
        out.icons = reinterpret_cast<const uint32_t*>(data);
        out.icon_count = static_cast<uint32_t>(len / 4);
        break;
      default: break;
    }
    at += NLA_ALIGN(a->nla_len);
  }
  return 0;
}

int IntOpt(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) != 0) return 0;
  return v;
}

const char* FamilyName(int family, int type) {
  if (family == AF_UNIX)
    return type == SOCK_STREAM ? "UNIX stream socket" : type == SOCK_DGRAM ? "UNIX datagram socket" : "UNIX seqpacket socket";
  if (family == AF_INET || family == AF_INET6)
    return type == SOCK_STREAM ? "TCP socket" : type == SOCK_DGRAM ? "UDP socket" : "raw IP socket";
  if (family == AF_NETLINK) return "netlink socket";
  if (family == AF_PACKET) return "packet socket";
  return "socket of an unsupported family";
}

void SetFdError(DumpError& err, int code, int fd, const char* what, const char* why) {
  char num[24];
  AppendDec(num, static_cast<uint64_t>(fd));
  char text[160];
  char* p = AppendStr(text, ": ");
  p = AppendStr(p, what);
  AppendStr(p, " ");
  err.Set(code, "fd ", num, text);
  // DumpError::Set takes three pieces; append the reason by hand.
  size_t used = strlen(err.text);
  CopyStr(err.text + used, why, sizeof err.text - used);
}

// Copies the receive queue into dst as SocketMessages. Stream sockets give
// one message of all bytes, packet sockets one per packet.
ssize_t PeekQueue(int fd, const SocketRecord& s, char* dst, size_t cap, uint32_t* count, uint64_t* bytes,
                  DumpError& err) {
  int old_off = -1;
  socklen_t ol = sizeof old_off;
  if (getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &old_off, &ol) != 0) old_off = -1;
  int zero = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) != 0) {
    SetFdError(err, ENOTSUP, fd, FamilyName(static_cast<int>(s.family), static_cast<int>(s.type)),
               "does not allow peeking at its queued bytes (SO_PEEK_OFF); close it before checkpointing");
    return -1;
  }
  bool stream = s.type == SOCK_STREAM;
  size_t used = 0;
  SocketMessage* current = nullptr;
  ssize_t result = 0;
  for (uint32_t rounds = 0;; ++rounds) {
    if (rounds > 1000000 || cap - used < sizeof(SocketMessage) + 8) {
      SetFdError(err, ENOTSUP, fd, FamilyName(static_cast<int>(s.family), static_cast<int>(s.type)),
                 "has more bytes in flight than an image holds (16 MiB); let the reader catch up first");
      result = -1;
      break;
    }
    SocketMessage* m = current;
    char* data;
    if (!m) {
      m = reinterpret_cast<SocketMessage*>(dst + used);
      memset(m, 0, sizeof *m);
      data = reinterpret_cast<char*>(m + 1);
    } else {
      data = reinterpret_cast<char*>(m + 1) + m->len;
    }
    size_t room = cap - static_cast<size_t>(data - dst) - 8;
    iovec iov{data, room};
    alignas(cmsghdr) char control[512];
    msghdr mh{};
    mh.msg_name = m->sender;
    mh.msg_namelen = sizeof m->sender;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == ENOTCONN) break;
    if (n < 0) {
      SetFdError(err, errno, fd, FamilyName(static_cast<int>(s.family), static_cast<int>(s.type)),
                 "cannot be read for its bytes in flight");
      result = -1;
      break;
    }
    bool fds = false, creds = false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        fds = true;  // peeking installed copies of them here: drop those
        int* p = reinterpret_cast<int*>(CMSG_DATA(c));
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; ++i) close(p[i]);
      } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        creds = true;
      }
    }
    if (fds || (mh.msg_flags & MSG_CTRUNC)) {
      SetFdError(err, ENOTSUP, fd, FamilyName(static_cast<int>(s.family), static_cast<int>(s.type)),
                 "has file descriptors in flight (SCM_RIGHTS), which cannot be restored; let the receiver take them first");
      result = -1;
      break;
    }
    if (creds) {
      SetFdError(err, ENOTSUP, fd, FamilyName(static_cast<int>(s.family), static_cast<int>(s.type)),
                 "has messages with credentials in flight (SO_PASSCRED), which a restart cannot reproduce; read them first");
      result = -1;
      break;
    }
    if (mh.msg_flags & MSG_TRUNC) {
      SetFdError(err, ENOTSUP, fd, FamilyName(static_cast<int>(s.family), static_cast<int>(s.type)),
                 "has a queued message larger than an image holds");
      result = -1;
      break;
    }
    if (stream) {
      if (n == 0) break;  // end of stream: the peer shut down or closed
      if (!current) {
        current = m;
        ++*count;
      }
      m->len += static_cast<uint32_t>(n);
      *bytes += static_cast<uint64_t>(n);
      continue;
    }
    m->len = static_cast<uint32_t>(n);
    m->sender_len = mh.msg_namelen > sizeof m->sender ? 0 : mh.msg_namelen;
    if (m->sender_len == 0) memset(m->sender, 0, sizeof m->sender);
    ++*count;
    *bytes += static_cast<uint64_t>(n);
    size_t total = sizeof *m + AlignUp(m->len, 8);
    memset(data + n, 0, AlignUp(m->len, 8) - m->len);
    used += total;
  }
  if (current) {
    size_t total = sizeof *current + AlignUp(current->len, 8);
    memset(reinterpret_cast<char*>(current + 1) + current->len, 0, AlignUp(current->len, 8) - current->len);
    used += total;
  }
  setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &old_off, sizeof old_off);
  return result < 0 ? -1 : static_cast<ssize_t>(used);
}

}  // namespace

bool ClassifySocket(int fd, FileRecord& rec, DumpError& err) {
  int family = IntOpt(fd, SOL_SOCKET, SO_DOMAIN);
  int type = IntOpt(fd, SOL_SOCKET, SO_TYPE);
  bool unix_ok = family == AF_UNIX && (type == SOCK_STREAM || type == SOCK_DGRAM || type == SOCK_SEQPACKET);
  bool inet_ok = (family == AF_INET || family == AF_INET6) && (type == SOCK_STREAM || type == SOCK_DGRAM) &&
                 (IntOpt(fd, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP || IntOpt(fd, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_UDP);
  if (!unix_ok && !inet_ok) {
    SetFdError(err, ENOTSUP, fd, FamilyName(family, type), "cannot be checkpointed; close it before checkpointing");
    return false;
  }
  rec.kind = static_cast<uint32_t>(unix_ok ? FileKind::kUnixSocket : FileKind::kInetSocket);
  g_dumped_socket = true;
  return true;
}

ssize_t DumpSocket(int fd, const FileRecord& rec, char* dst, size_t cap, DumpError& err) {
  auto* s = reinterpret_cast<SocketRecord*>(dst);
  memset(s, 0, sizeof *s);
  s->family = static_cast<uint32_t>(IntOpt(fd, SOL_SOCKET, SO_DOMAIN));
  s->type = static_cast<uint32_t>(IntOpt(fd, SOL_SOCKET, SO_TYPE));
  s->protocol = static_cast<uint32_t>(IntOpt(fd, SOL_SOCKET, SO_PROTOCOL));
  s->sndbuf = IntOpt(fd, SOL_SOCKET, SO_SNDBUF);
  s->rcvbuf = IntOpt(fd, SOL_SOCKET, SO_RCVBUF);
  if (IntOpt(fd, SOL_SOCKET, SO_PASSCRED)) s->options |= kSockOptPassCred;
  if (IntOpt(fd, SOL_SOCKET, SO_REUSEADDR)) s->options |= kSockOptReuseAddr;
  if (IntOpt(fd, SOL_SOCKET, SO_REUSEPORT)) s->options |= kSockOptReusePort;
  if (IntOpt(fd, SOL_SOCKET, SO_KEEPALIVE)) s->options |= kSockOptKeepAlive;
  socklen_t len = sizeof s->local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(s->local), &len) == 0) s->local_len = len > sizeof s->local ? 0 : len;
  len = sizeof s->peer;
  bool has_peer = getpeername(fd, reinterpret_cast<sockaddr*>(s->peer), &len) == 0;
  if (has_peer) s->peer_len = len > sizeof s->peer ? 0 : len;
  bool listening = IntOpt(fd, SOL_SOCKET, SO_ACCEPTCONN) != 0;
  const char* kind = FamilyName(static_cast<int>(s->family), static_cast<int>(s->type));
  size_t used = sizeof *s;

  if (s->family == AF_UNIX) {
    UnixDiag d;
    size_t mark = g_agent.arena.used();
    int e = QueryUnixDiag(rec.ino, d);
    if (e) {
      g_agent.arena.Reset(mark);
      SetFdError(err, e, fd, kind, "cannot be inspected through sock_diag (is unix_diag loaded?)");
      return -1;
    }
    s->peer_ino = d.peer;
    s->shutdown = d.shutdown;
    if (listening) {
      s->state = kSockListening;
      s->backlog = d.wqueue;
      if (cap - used < d.icon_count * 8ull) {
        g_agent.arena.Reset(mark);
        SetFdError(err, ENOTSUP, fd, kind, "has too many connections waiting to be accepted");
        return -1;
      }
      // Connections waiting to be accepted have no inode yet (sock_diag
      // reports 0 for them): only their number is kept. Their clients are
      // found at restart by name (see socket_state.cc).
      uint32_t count = d.icon_count;
      for (uint32_t i = 0; i < count; ++i) {
        uint64_t ino = d.icons[i];
        memcpy(dst + used, &ino, 8);
        used += 8;
      }
      s->pending_count = count;
      g_agent.arena.Reset(mark);
      return static_cast<ssize_t>(used);
    }
    g_agent.arena.Reset(mark);
    // Bytes this socket sent that its peer has not read (they sit in the
    // peer's queue, which the peer's agent saves). For a connection not
    // accepted yet nobody can read them: cr_checkpoint refuses those.
    int outq = 0;
    if (s->type != SOCK_DGRAM && ioctl(fd, SIOCOUTQ, &outq) == 0 && outq > 0) s->unsent_bytes = static_cast<uint64_t>(outq);
    // A stream socket whose peer closed keeps its state as connected with no
    // peer: restored as a connection that reads EOF after the saved bytes.
    s->state = has_peer || d.peer || d.state == 1 /* TCP_ESTABLISHED */ ? kSockConnected : kSockUnconnected;
  } else {
    if (s->type == SOCK_STREAM) {
      if (IntOpt(fd, IPPROTO_TCP, TCP_NODELAY)) s->options |= kSockOptNoDelay;
      s->keepidle = IntOpt(fd, IPPROTO_TCP, TCP_KEEPIDLE);
      s->keepintvl = IntOpt(fd, IPPROTO_TCP, TCP_KEEPINTVL);
      s->keepcnt = IntOpt(fd, IPPROTO_TCP, TCP_KEEPCNT);
      tcp_info ti{};
      socklen_t tl = sizeof ti;
      getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl);
      if (listening) {
        s->state = kSockListening;
        s->backlog = ti.tcpi_sacked;        // sk_max_ack_backlog for a listener
        s->pending_count = 0;
        s->unsent_bytes = ti.tcpi_unacked;  // connections waiting to be accepted
        return static_cast<ssize_t>(used);
      }
      s->bytes_acked = ti.tcpi_bytes_acked;
      switch (ti.tcpi_state) {
        case kTcpEstablished: s->state = kSockConnected; break;
        case kTcpCloseWait: s->state = kSockConnected; s->shutdown = kSockShutRead; break;
        case kTcpFinWait1: case kTcpFinWait2: s->state = kSockConnected; s->shutdown = kSockShutWrite; break;
        case kTcpClose: s->state = has_peer ? kSockClosed : kSockUnconnected; break;
        default: s->state = kSockClosed; break;
      }
      // Bytes sent over loopback sit in the peer's receive queue (where its
      // agent peeks them) before the peer's kernel acknowledges them, maybe
      // only after a delayed-ACK timer: wait up to 1 s for every sent byte
      // to be acknowledged. What stays unacknowledged (the peer's window is
      // full) is not in any queue an agent can read: cr_checkpoint refuses.
      int outq = 0;
      for (int i = 0; i < 200; ++i) {
        if (ioctl(fd, SIOCOUTQ, &outq) != 0 || outq <= 0) break;
        timespec pause{0, 5000000};
        nanosleep(&pause, nullptr);
      }
      if (outq > 0) s->unsent_bytes = static_cast<uint64_t>(outq);
    } else {
      s->state = has_peer ? kSockConnected : kSockUnconnected;
    }
    if (s->family == AF_INET6 && IntOpt(fd, IPPROTO_IPV6, IPV6_V6ONLY)) s->options |= kSockOptV6Only;
  }
  if (s->state == kSockUnconnected && s->type != SOCK_DGRAM) return static_cast<ssize_t>(used);
  uint32_t count = 0;
  uint64_t bytes = 0;
  ssize_t q = PeekQueue(fd, *s, dst + used, cap - used, &count, &bytes, err);
  if (q < 0) return -1;
  s->message_count = count;
  s->queued_bytes = bytes;
  return static_cast<ssize_t>(used + static_cast<size_t>(q));
}

}  // namespace reprise::cr::agent
