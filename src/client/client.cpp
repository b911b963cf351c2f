#include "client/client.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "common/auth_binding.h"
#include "common/munge_auth.h"
#include "common/net.h"
#include "common/pbs_home.h"
#include "common/text_util.h"
#include "common/wire.h"

namespace reprise::client {

namespace {
std::string g_program = "pbs";
}

void set_program(const char* argv0) {
  std::string a = argv0;
  g_program = a.substr(a.rfind('/') + 1);
}
const std::string& program() { return g_program; }

int fail(const std::string& message, int code) {
  std::fprintf(stderr, "%s: %s\n", g_program.c_str(), message.c_str());
  return code;
}

std::string this_host() { return local_hostname(); }

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool Connection::open(std::string& error) {
  std::string home = resolve_pbs_home("");
  std::string sock = server_socket_path(home);
  const char* remote = std::getenv("PBS_SERVER");
  struct stat st;
  if ((!remote || !*remote) && ::stat(sock.c_str(), &st) == 0) {
    fd_ = connect_unix(sock, error);
    if (fd_ < 0) error = "cannot connect to server (" + error + ")";
    return fd_ >= 0;
  }
  std::string spec = remote && *remote ? remote : "";
  if (spec.empty() && read_file(home + "/server_name", spec)) spec = trim(spec);
  if (spec.empty()) {
    error = "cannot find the server: no socket at " + sock + " and neither PBS_SERVER nor " + home + "/server_name is set";
    return false;
  }
  std::string host;
  int port;
  if (!split_host_port(spec, host, port, kDefaultServerPort)) {
    error = "bad server address '" + spec + "'";
    return false;
  }
  fd_ = connect_tcp(host, port, error);
  if (fd_ < 0) {
    error = "cannot connect to server " + host + " (" + error + ")";
    return false;
  }
  tcp_ = true;
  return true;
}

bool Connection::call(wire::Request& req, wire::Response& resp, std::string& error) {
  req.set_version(kProtocolVersion);
  if (tcp_ && !sent_credential_) {
    // The server's challenge first: our credential answers it and names both ends of this
    // connection, so whoever captures it (a fake server) cannot use it anywhere else.
    wire::Request challenge;
    challenge.set_version(kProtocolVersion);
    challenge.set_op("challenge");
    if (!send_message(fd_, challenge, error) || !recv_message(fd_, resp, error)) return false;
    if (resp.code() != 0) return true;  // the server's refusal is the answer
    if (!valid_nonce(resp.text())) {
      error = "the server sent no valid challenge";
      return false;
    }
    std::string cred;
    if (!munge_make_credential(binding_payload(connection_binding(fd_, true, "user", resp.text())), cred, error))
      return false;
    req.set_credential(cred);
    sent_credential_ = true;
    resp.Clear();
  }
  if (!send_message(fd_, req, error)) {
    // A server that refused the connection (too many connections) said why before closing.
    std::string ignored;
    return recv_message(fd_, resp, ignored, 1000);
  }
  return recv_message(fd_, resp, error);
}

bool request(Connection& conn, wire::Request& req, wire::Response& resp, int& exit_code) {
  std::string error;
  if (!conn.call(req, resp, error)) {
    exit_code = fail("cannot talk to the server: " + error);
    return false;
  }
  if (resp.code() != 0) {
    exit_code = fail(resp.error(), resp.code() > 255 ? resp.code() % 256 ? resp.code() % 256 : 1 : resp.code());
    return false;
  }
  exit_code = 0;
  return true;
}

}  // namespace reprise::client
