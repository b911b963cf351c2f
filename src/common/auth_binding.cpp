#include "common/auth_binding.h"

#include <sys/random.h>

#include <map>

#include "common/net.h"
#include "common/text_util.h"

namespace reprise {

static constexpr const char* kVersion = "reprise/1";

std::string fresh_nonce() {
  unsigned char bytes[16];
  if (::getrandom(bytes, sizeof bytes, 0) != ssize_t(sizeof bytes)) return "";
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

bool valid_nonce(const std::string& nonce) {
  return nonce.size() >= 32 && nonce.size() <= 128 && nonce.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string binding_payload(const Binding& b) {
  return std::string(kVersion) + " role=" + b.role + " nonce=" + b.nonce + " client=" + b.client + " server=" + b.server +
         (b.node.empty() ? "" : " node=" + b.node);
}

Binding connection_binding(int fd, bool connecting, const std::string& role, const std::string& nonce,
                           const std::string& node) {
  Binding b{role, nonce, connecting ? local_address(fd) : peer_address(fd),
            connecting ? peer_address(fd) : local_address(fd), node};
  return b;
}

bool parse_binding(const std::string& payload, Binding& b) {
  auto words = split(payload, ' ');
  if (words.empty() || words[0] != kVersion) return false;
  std::map<std::string, std::string*> fields{{"role", &b.role}, {"nonce", &b.nonce}, {"client", &b.client},
                                             {"server", &b.server}, {"node", &b.node}};
  b = Binding{};
  for (size_t i = 1; i < words.size(); ++i) {
    auto eq = words[i].find('=');
    auto f = eq == std::string::npos ? fields.end() : fields.find(words[i].substr(0, eq));
    if (f == fields.end() || !f->second) return false;  // unknown or repeated
    *f->second = words[i].substr(eq + 1);
    if (f->second->empty()) return false;
    f->second = nullptr;
  }
  return !b.role.empty() && valid_nonce(b.nonce) && !b.client.empty() && !b.server.empty();
}

bool binding_matches(const std::string& payload, const Binding& expected, Binding& got,
                     std::string& reason, std::string& detail) {
  if (!parse_binding(payload, got)) {
    reason = "credential not bound to a connection";
    detail = "its payload is not a " + std::string(kVersion) + " binding (role, nonce, client and server)";
    return false;
  }
  if (got.role != expected.role) {
    reason = "credential made for a " + got.role;
    detail = "this needs role " + expected.role;
    return false;
  }
  reason = "credential bound to another connection";
  if (got.nonce != expected.nonce) {
    detail = "it answers challenge " + got.nonce.substr(0, 8) + "..., not this connection's " +
             (expected.nonce.empty() ? std::string("(none issued)") : expected.nonce.substr(0, 8) + "...");
    return false;
  }
  if (got.client != expected.client || got.server != expected.server) {
    detail = "it names client " + got.client + " and server " + got.server + ", this connection is " +
             expected.client + " to " + expected.server;
    return false;
  }
  if (!expected.node.empty() && got.node != expected.node) {
    reason = "credential made for another node";
    detail = "it names node '" + got.node + "', not " + expected.node;
    return false;
  }
  return true;
}

}  // namespace reprise
