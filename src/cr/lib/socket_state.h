// A socket's saved state as read from the image (the data of its
// FileRecord, see SocketRecord in format/image_format.h), and the
// image-wide view of which sockets talk to which.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lib/image_reader.h"

namespace reprise::cr {

struct SavedMessage {
  std::string bytes;
  std::string sender;  // raw sockaddr of the sender (unconnected datagram sockets), may be empty
};

struct SavedSocket {
  SocketRecord rec{};
  std::vector<uint64_t> pending;  // listening: inodes of connections not accepted yet
  std::vector<SavedMessage> messages;
  std::string local() const { return {reinterpret_cast<const char*>(rec.local), rec.local_len}; }
  std::string peer() const { return {reinterpret_cast<const char*>(rec.peer), rec.peer_len}; }
};

// Throws ImageError (EINVAL) if the data does not hold a well-formed socket.
SavedSocket ParseSocket(const FileEntry& f);

bool IsSocket(const FileEntry& f);

// "@name", "/path", "unnamed", "127.0.0.1:5000", "[::1]:5000".
std::string AddressText(const std::string& sockaddr_bytes);
// "UNIX stream socket", "TCP socket", ...
std::string SocketKindText(const SocketRecord& r);

// Where a socket of the image is: process index, fd, pid.
struct SocketUse {
  size_t process;
  int fd;
  int pid;
  uint32_t flags;  // F_GETFL of the first fd (O_NONBLOCK)
};

// All sockets of an image by inode, each with its first use.
struct ImageSockets {
  std::map<uint64_t, SavedSocket> by_ino;
  std::map<uint64_t, SocketUse> first_use;
  // UNIX clients whose connection waits in a listener's backlog -> that
  // listener. Such a connection has no inode yet, so a client is one whose
  // peer is unknown, not shut down, named as the listener.
  std::map<uint64_t, uint64_t> pending_client;
};
ImageSockets CollectSockets(const Image& img);

// A socket bound to `bound` receives what is sent to `to` (same address,
// or a wildcard address with the same port).
bool AddressAccepts(const std::string& bound, const std::string& to);

// Why socket `ino` cannot be restored exactly (one line naming pid, fd and
// what to do), or "" when it can.
std::string Unrestorable(const ImageSockets& all, uint64_t ino);

// The peer of an inet socket inside the image (addresses swapped), or 0.
uint64_t InetPeerInImage(const ImageSockets& all, uint64_t ino);

// True when socket `ino`'s connection leads outside the image. `why` gets
// one line naming both addresses.
bool LeadsOutside(const ImageSockets& all, uint64_t ino, std::string* why);

}  // namespace reprise::cr
