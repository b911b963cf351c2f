// Speaking the protocol as a fake server or a fake mom would (issue 10's attack tests): the
// challenge, bound credentials, accepting a mom's connection.
#pragma once
#include <string>

#include "reprise.pb.h"

namespace reprise::test {

// "ip:port" of one end of a TCP socket (IPv4).
std::string address(int fd, bool peer);
// The payload of a bound credential as the connecting side writes it (the format is in
// docs/batch-system.md, "Authentication on TCP").
std::string bound_payload(const std::string& role, const std::string& nonce, int fd, const std::string& node = "");
// A MUNGE credential with `payload` from $MUNGE_SOCKET's munged; "" on failure.
std::string make_credential(const std::string& payload);
int dial(int port);  // a TCP connection to 127.0.0.1:port, -1 on failure
// Opens a connection to the server and asks for its challenge. An attacker speaks whatever
// the server speaks: a server that issues no challenges (the unfixed one refused the request
// and hung up) gets a fresh connection and nonce "".
int open_session(int port, std::string& nonce);
// The `run` command a (fake) server sends a mom: job `id` as `user`, running `script`.
reprise::wire::MomCommand run_command(const std::string& id, const std::string& user, const std::string& script);

// Accepts the mom's (or client's) connection on a fake server and plays along with its
// challenge, answering with `nonce`; returns the first authenticated request.
bool accept_peer(int listener, const std::string& nonce, int& fd, reprise::wire::Request& first);

}  // namespace reprise::test
