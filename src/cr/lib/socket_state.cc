#include "lib/socket_state.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace reprise::cr {
namespace {

[[noreturn]] void Bad(const FileEntry& f, const std::string& what) {
  throw ImageError(EINVAL, "image is corrupt: socket fd " + std::to_string(f.record.fd) + ": " + what);
}

uint16_t PortOf(const std::string& a) {
  if (a.size() >= sizeof(sockaddr_in) && reinterpret_cast<const sockaddr*>(a.data())->sa_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(a.data())->sin_port);
  if (a.size() >= sizeof(sockaddr_in6) && reinterpret_cast<const sockaddr*>(a.data())->sa_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(a.data())->sin6_port);
  return 0;
}

bool IsWildcard(const std::string& a) {
  if (a.size() >= sizeof(sockaddr_in) && reinterpret_cast<const sockaddr*>(a.data())->sa_family == AF_INET)
    return reinterpret_cast<const sockaddr_in*>(a.data())->sin_addr.s_addr == htonl(INADDR_ANY);
  if (a.size() >= sizeof(sockaddr_in6) && reinterpret_cast<const sockaddr*>(a.data())->sa_family == AF_INET6)
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(a.data())->sin6_addr);
  return false;
}

// A listener on `listen_addr` accepts connections to `to`.
bool ListenerTakes(const std::string& listen_addr, const std::string& to) {
  return listen_addr == to || (IsWildcard(listen_addr) && PortOf(listen_addr) == PortOf(to) && PortOf(to) != 0);
}

}  // namespace

bool AddressAccepts(const std::string& bound, const std::string& to) { return ListenerTakes(bound, to); }

bool IsSocket(const FileEntry& f) {
  auto k = static_cast<FileKind>(f.record.kind);
  return k == FileKind::kUnixSocket || k == FileKind::kInetSocket;
}

SavedSocket ParseSocket(const FileEntry& f) {
  SavedSocket s;
  const std::string& d = f.data;
  if (d.size() < sizeof(SocketRecord)) Bad(f, "short socket record");
  memcpy(&s.rec, d.data(), sizeof s.rec);
  if (s.rec.local_len > sizeof s.rec.local || s.rec.peer_len > sizeof s.rec.peer) Bad(f, "bad address length");
  size_t at = sizeof(SocketRecord);
  if (s.rec.pending_count > (d.size() - at) / 8) Bad(f, "bad backlog list");
  for (uint32_t i = 0; i < s.rec.pending_count; ++i, at += 8) {
    uint64_t ino;
    memcpy(&ino, d.data() + at, 8);
    s.pending.push_back(ino);
  }
  uint64_t total = 0;
  for (uint32_t i = 0; i < s.rec.message_count; ++i) {
    SocketMessage m;
    if (d.size() - at < sizeof m) Bad(f, "short queued message");
    memcpy(&m, d.data() + at, sizeof m);
    at += sizeof m;
    if (m.sender_len > sizeof m.sender || d.size() - at < AlignUp(m.len, 8)) Bad(f, "bad queued message");
    SavedMessage saved;
    saved.bytes.assign(d.data() + at, m.len);
    saved.sender.assign(reinterpret_cast<const char*>(m.sender), m.sender_len);
    at += AlignUp(m.len, 8);
    total += m.len;
    s.messages.push_back(std::move(saved));
  }
  if (total != s.rec.queued_bytes || at != d.size()) Bad(f, "queued bytes do not add up");
  return s;
}

std::string AddressText(const std::string& a) {
  if (a.size() < sizeof(sa_family_t)) return "unnamed";
  int family = reinterpret_cast<const sockaddr*>(a.data())->sa_family;
  if (family == AF_UNIX) {
    size_t off = offsetof(sockaddr_un, sun_path);
    if (a.size() <= off) return "unnamed";
    std::string path = a.substr(off);
    if (path[0] == '\0') {
      std::string name = "@" + path.substr(1);
      for (char& c : name)
        if (c == '\0') c = '@';
      return name;
    }
    return std::string(path.c_str());
  }
  char host[INET6_ADDRSTRLEN] = "?";
  if (family == AF_INET && a.size() >= sizeof(sockaddr_in)) {
    auto* in = reinterpret_cast<const sockaddr_in*>(a.data());
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (family == AF_INET6 && a.size() >= sizeof(sockaddr_in6)) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(a.data());
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "unnamed";
}

std::string SocketKindText(const SocketRecord& r) {
  if (r.family == AF_UNIX)
    return r.type == SOCK_STREAM ? "UNIX stream socket" : r.type == SOCK_DGRAM ? "UNIX datagram socket" : "UNIX seqpacket socket";
  std::string v = r.family == AF_INET6 ? "IPv6" : "IPv4";
  return (r.type == SOCK_STREAM ? "TCP/" : "UDP/") + v + " socket";
}

ImageSockets CollectSockets(const Image& img) {
  ImageSockets all;
  for (size_t i = 0; i < img.processes.size(); ++i)
    for (const FileEntry& f : img.processes[i].files) {
      if (!IsSocket(f) || all.by_ino.count(f.record.ino)) continue;
      all.by_ino[f.record.ino] = ParseSocket(f);
      all.first_use[f.record.ino] = {i, f.record.fd, img.processes[i].process.pid, f.record.flags};
    }
  for (auto& [ino, l] : all.by_ino) {
    if (l.rec.family != AF_UNIX || l.rec.state != kSockListening) continue;
    size_t assigned = 0;
    for (auto& [c, s] : all.by_ino)
      if (assigned < l.pending.size() && s.rec.family == AF_UNIX && s.rec.type == l.rec.type &&
          s.rec.state == kSockConnected && s.rec.peer_ino == 0 && s.rec.shutdown == 0 && s.peer() == l.local() &&
          !all.pending_client.count(c)) {
        all.pending_client[c] = ino;
        ++assigned;
      }
  }
  return all;
}

uint64_t InetPeerInImage(const ImageSockets& all, uint64_t ino) {
  const SavedSocket& s = all.by_ino.at(ino);
  for (auto& [other, o] : all.by_ino)
    if (other != ino && o.rec.family == s.rec.family && o.rec.type == s.rec.type &&
        o.rec.state == kSockConnected && o.local() == s.peer() && o.peer() == s.local())
      return other;
  return 0;
}


// A TCP connection not accepted yet: an image listener takes connections to our peer address.
static uint64_t InetListenerFor(const ImageSockets& all, const SavedSocket& s) {
  for (auto& [other, o] : all.by_ino)
    if (o.rec.state == kSockListening && o.rec.family == s.rec.family && ListenerTakes(o.local(), s.peer()))
      return other;
  return 0;
}

std::string Unrestorable(const ImageSockets& all, uint64_t ino) {
  const SavedSocket& s = all.by_ino.at(ino);
  const SocketUse& use = all.first_use.at(ino);
  if (s.rec.family == AF_UNIX && all.pending_client.count(ino) && s.rec.unsent_bytes)
    return "pid " + std::to_string(use.pid) + " fd " + std::to_string(use.fd) + ": " + SocketKindText(s.rec) +
           " has sent bytes to " + AddressText(s.peer()) + " on a connection not accepted yet; accept it before checkpointing";
  if (s.rec.family == AF_UNIX || s.rec.type != SOCK_STREAM || s.rec.state != kSockConnected) return "";
  std::string head = "pid " + std::to_string(use.pid) + " fd " + std::to_string(use.fd) + ": " + SocketKindText(s.rec) +
                     " from " + AddressText(s.local()) + " to " + AddressText(s.peer());
  // Bytes still in the send queue are beyond MSG_PEEK's reach (only
  // TCP_REPAIR, which needs CAP_NET_ADMIN, reads them).
  if (s.rec.unsent_bytes)
    return head + " has " + std::to_string(s.rec.unsent_bytes) +
           " bytes its peer has not acknowledged (its receive buffer is full), which only TCP_REPAIR could save;"
           " checkpoint when the reader has caught up";
  if (!InetPeerInImage(all, ino) && InetListenerFor(all, s) && s.rec.bytes_acked > 1)
    return head + " has sent bytes on a connection not accepted yet; accept it before checkpointing";
  return "";
}

bool LeadsOutside(const ImageSockets& all, uint64_t ino, std::string* why) {
  const SavedSocket& s = all.by_ino.at(ino);
  const SocketUse& use = all.first_use.at(ino);
  std::string head = "pid " + std::to_string(use.pid) + " fd " + std::to_string(use.fd) + ": " + SocketKindText(s.rec);
  if (s.rec.family == AF_UNIX) {
    if (s.rec.state == kSockListening) {
      size_t inside = 0;
      for (auto& [c, l] : all.pending_client) inside += l == ino;
      if (inside < s.pending.size()) {
        *why = head + " " + AddressText(s.local()) + " has a connection waiting to be accepted from a process outside the job";
        return true;
      }
      return false;
    }
    if (s.rec.state != kSockConnected || all.pending_client.count(ino)) return false;
    if (s.rec.peer_ino == 0 && s.rec.shutdown != 0) return false;  // its peer closed
    if (s.rec.peer_ino && all.by_ino.count(s.rec.peer_ino)) return false;
    *why = head + " " + AddressText(s.local()) + " is connected to " +
           (s.rec.peer_len > sizeof(sa_family_t) ? AddressText(s.peer()) : std::string("an unnamed socket")) +
           ", outside the job";
    return true;
  }
  if (s.rec.state != kSockConnected && s.rec.state != kSockClosed) return false;
  if (s.rec.state == kSockClosed) return false;
  if (InetPeerInImage(all, ino) || (s.rec.type == SOCK_STREAM && InetListenerFor(all, s))) return false;
  if (s.rec.type == SOCK_DGRAM) {
    for (auto& [other, o] : all.by_ino)
      if (other != ino && o.rec.type == SOCK_DGRAM && ListenerTakes(o.local(), s.peer())) return false;
  }
  *why = head + " from " + AddressText(s.local()) + " to " + AddressText(s.peer()) + ", outside the job";
  return true;
}

}  // namespace reprise::cr
