// Binding a MUNGE credential to one TCP connection (issue 10, finding 3). MUNGE vouches for
// a uid, not for where a credential is used: whoever listens where a mom or client dials (a
// fake server) could use what it receives on a connection of its own. So a credential's
// payload names a nonce the receiving side chose on this very connection and both ends'
// addresses as each end reads them from its socket; the receiver accepts it only if all three
// are its own. A relayed credential names the relay's address, a replayed one another nonce.
#pragma once
#include <string>

namespace reprise {

// A fresh random nonce: 128 bits from getrandom, as 32 hex digits; "" if the kernel has none.
std::string fresh_nonce();
// 32 to 128 lowercase hex digits (a nonce the other side sent goes into our payload verbatim).
bool valid_nonce(const std::string& nonce);

// What a bound credential says:
//   reprise/1 role=ROLE nonce=N client=IP:PORT server=IP:PORT [node=NAME]
// role: "user" (client commands), "mom" (a mom registering; node: its node), "server"
// (pbs_server's proof to a registering mom; node: that mom's node). client is the connecting
// end, server the accepting end; nonce is the one the receiver of the credential chose.
struct Binding {
  std::string role, nonce, client, server, node;
};
std::string binding_payload(const Binding& b);

// The binding of the TCP connection `fd` (its local and peer addresses), from the side that
// connected (`connecting`) or the side that accepted.
Binding connection_binding(int fd, bool connecting, const std::string& role, const std::string& nonce,
                           const std::string& node = "");

// Checks that `payload` is exactly the binding `expected` (node is compared only when
// `expected.node` is set) and fills `got` with what it says. On failure: a short reason for the peer and the log ("credential
// not bound to a connection", "credential bound to another connection", "credential made for
// a ROLE") and the details (which field differs and how).
bool binding_matches(const std::string& payload, const Binding& expected, Binding& got,
                     std::string& reason, std::string& detail);

// Parses a payload; false if it is not exactly a binding (unknown or repeated keys, a bad nonce).
bool parse_binding(const std::string& payload, Binding& b);

}  // namespace reprise
