#include "attack_peers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/munge_auth.h"
#include "common/net.h"
#include "common/wire.h"

namespace reprise::test {

namespace wire = reprise::wire;

// "ip:port" of one end of a TCP socket.
std::string address(int fd, bool peer) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if ((peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len)
            : getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len)) != 0)
    return "?";
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(a.sin_port));
}

// The payload of a bound credential as the connecting side writes it (the format is in
// docs/batch-system.md, "Authentication on TCP").
std::string bound_payload(const std::string& role, const std::string& nonce, int fd, const std::string& node) {
  return "reprise/1 role=" + role + " nonce=" + nonce + " client=" + address(fd, false) + " server=" +
         address(fd, true) + (node.empty() ? "" : " node=" + node);
}

std::string make_credential(const std::string& payload) {
  std::string cred, error;
  if (!reprise::munge_make_credential(payload, cred, error)) return "";
  return cred;
}

int dial(int port) {
  std::string error;
  return reprise::connect_tcp("127.0.0.1", port, error);
}

// Opens a connection to the server and asks for its challenge. An attacker speaks whatever
// the server speaks: a server that issues no challenges (the unfixed one refused the request
// and hung up) gets a fresh connection and nonce "".
int open_session(int port, std::string& nonce) {
  int fd = dial(port);
  if (fd < 0) return -1;
  wire::Request req;
  req.set_version(reprise::kProtocolVersion);
  req.set_op("challenge");
  wire::Response resp;
  std::string error;
  if (reprise::send_message(fd, req, error) && reprise::recv_message(fd, resp, error, 10000) && resp.code() == 0) {
    nonce = resp.text();
    return fd;
  }
  ::close(fd);
  nonce.clear();
  return dial(port);
}

// Accepts the mom's (or client's) connection on a fake server and plays along with its
// challenge, answering with `nonce`; returns the first authenticated request.
bool accept_peer(int listener, const std::string& nonce, int& fd, wire::Request& first) {
  pollfd pf{listener, POLLIN, 0};
  if (::poll(&pf, 1, 15000) != 1) return false;
  fd = ::accept(listener, nullptr, nullptr);
  std::string error;
  if (fd < 0 || !reprise::recv_message(fd, first, error, 10000)) return false;
  if (first.op() != "challenge") return true;  // the unfixed mom and clients ask for none
  wire::Response n;
  n.set_text(nonce);
  return reprise::send_message(fd, n, error) && reprise::recv_message(fd, first, error, 10000);
}

wire::MomCommand run_command(const std::string& id, const std::string& user, const std::string& script) {
  wire::MomCommand cmd;
  cmd.set_op("run");
  cmd.set_id(id);
  (*cmd.mutable_attrs())["euser"] = user;
  cmd.set_script(script);
  return cmd;
}

}  // namespace reprise::test
