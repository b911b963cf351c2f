#include "common/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace reprise {

static bool fill_unix_addr(const std::string& path, sockaddr_un& addr, std::string& error) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    error = "socket path too long: " + path;
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

int listen_unix(const std::string& path, std::string& error) {
  sockaddr_un addr;
  if (!fill_unix_addr(path, addr, error)) return -1;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 512) != 0) {
    error = "cannot listen on " + path + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

int connect_unix(const std::string& path, std::string& error) {
  sockaddr_un addr;
  if (!fill_unix_addr(path, addr, error)) return -1;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = "cannot connect to server socket " + path + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

static addrinfo* resolve(const std::string& host, int port, bool passive, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return nullptr;
  }
  return res;
}

int listen_tcp(const std::string& host, int port, std::string& error) {
  addrinfo* res = resolve(host, port, true, error);
  if (!res) return -1;
  int fd = -1;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 512) == 0) break;
    error = "cannot listen on port " + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

int connect_tcp(const std::string& host, int port, std::string& error) {
  addrinfo* res = resolve(host, port, false, error);
  if (!res) return -1;
  int fd = -1;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      break;
    }
    error = "cannot connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

bool set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

bool peer_credentials(int fd, uid_t& uid, gid_t& gid, pid_t& pid) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  uid = cred.uid;
  gid = cred.gid;
  pid = cred.pid;
  return true;
}

bool split_host_port(const std::string& spec, std::string& host, int& port, int default_port) {
  auto colon = spec.rfind(':');
  port = default_port;
  if (colon == std::string::npos) {
    host = spec;
    return !host.empty();
  }
  host = spec.substr(0, colon);
  std::string p = spec.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  port = std::stoi(p);
  return port > 0 && port < 65536 && !host.empty();
}

std::string local_hostname() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// sockaddr of either end, with an IPv4-mapped IPv6 address turned into IPv4: a server on a
// dual-stack "::" socket sees ::ffff:10.0.0.1 where its client sees 10.0.0.1.
static bool end_address(int fd, bool peer, sockaddr_storage& ss, socklen_t& len) {
  len = sizeof ss;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if ((peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len)) != 0) return false;
  if (ss.ss_family == AF_INET6) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
      sockaddr_in a4{};
      a4.sin_family = AF_INET;
      a4.sin_port = a6->sin6_port;
      std::memcpy(&a4.sin_addr, &a6->sin6_addr.s6_addr[12], 4);
      std::memcpy(&ss, &a4, sizeof a4);
      len = sizeof a4;
    }
  }
  return ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
}

static std::string end_text(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len;
  if (!end_address(fd, peer, ss, len)) return "unknown peer";
  char host[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
  return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
}

std::string local_address(int fd) { return end_text(fd, false); }
std::string peer_address(int fd) { return end_text(fd, true); }

std::string peer_host_name(int fd) {
  sockaddr_storage ss{};
  socklen_t len;
  if (!end_address(fd, true, ss, len)) return "unknown";
  char name[NI_MAXHOST];
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if (::getnameinfo(sa, len, name, sizeof name, nullptr, 0, NI_NAMEREQD) == 0) return name;
  if (::getnameinfo(sa, len, name, sizeof name, nullptr, 0, NI_NUMERICHOST) == 0) return name;
  return "unknown";
}

}  // namespace reprise
