// The sockets of an image, recreated once in cr_restart (like pipes) so the
// restored processes inherit them: UNIX socketpairs and named sockets, TCP
// and UDP over loopback, with their names, listening backlogs, options,
// half-closed state and the bytes that were waiting in their queues.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "lib/image_reader.h"
#include "lib/socket_state.h"

namespace reprise::cr {

class RestoredSockets {
 public:
  // `keep` moves an fd to cr_restart's reserved range and owns it.
  // external_closed: connections to outside the job come back closed
  // (reads see EOF, TCP ones ECONNRESET) instead of failing the restart.
  // Throws RestartError.
  void Create(const Image& img, bool external_closed, const std::function<int(int)>& keep);

  int FdFor(uint64_t ino) const;

 private:
  int NewSocket(const SavedSocket& s);
  void Bind(int fd, uint64_t ino, const std::string& addr, bool temporary);
  void Listen(int fd, uint64_t ino, int backlog);
  void BuildListener(uint64_t ino);
  void BuildUnconnected(uint64_t ino);
  void BuildPair(uint64_t a, uint64_t b);
  void BuildClosed(uint64_t ino);
  void ConnectTo(uint64_t ino, const std::string& addr);
  void BuildBacklog(uint64_t listener);
  void Refill(uint64_t ino);
  void Finish(uint64_t ino);
  std::string Where(uint64_t ino) const;
  size_t ProcessOf(uint64_t ino) const;

  const Image* img_ = nullptr;
  ImageSockets all_;
  std::function<int(int)> keep_;
  bool external_closed_ = false;
  std::map<uint64_t, int> fds_;
  std::map<uint64_t, int> refill_from_;  // a socket's sender for its saved bytes
  std::map<uint64_t, int> closing_;      // other ends of closed connections, shut after refilling
};

}  // namespace reprise::cr
