// Socket helpers: Unix and TCP listeners and connections.
#pragma once
#include <string>
#include <sys/types.h>

namespace reprise {

// Each returns a file descriptor or -1 with `error` set.
int listen_unix(const std::string& path, std::string& error);
int connect_unix(const std::string& path, std::string& error);
int listen_tcp(const std::string& host, int port, std::string& error);
int connect_tcp(const std::string& host, int port, std::string& error);
bool set_nonblocking(int fd);

// Identity of the process on the other end of a Unix socket (SO_PEERCRED).
bool peer_credentials(int fd, uid_t& uid, gid_t& gid, pid_t& pid);

// Splits "host:port"; keeps default_port when no port is given. False on a bad port.
bool split_host_port(const std::string& spec, std::string& host, int& port, int default_port);

std::string local_hostname();

// "ip:port" of this end (local_address) or the other end (peer_address) of a TCP socket, as
// both ends write it: an IPv4-mapped IPv6 address as plain IPv4, IPv6 as "[ip]:port".
// "unknown peer" when the socket has no such address.
std::string local_address(int fd);
std::string peer_address(int fd);
// The peer's host as the network says it: the name of its address (reverse lookup, which
// must succeed, NI_NAMEREQD), else the numeric address.
std::string peer_host_name(int fd);

}  // namespace reprise
