// The attribute helpers every handler file shares (server.h), apart from the loop so that
// what uses them (policy, route queues) links without the daemon.
#include "common/text_util.h"
#include "server/server.h"

namespace reprise::server {

wire::Response error_response(int code, const std::string& message) {
  wire::Response r;
  r.set_code(code);
  r.set_error(message);
  return r;
}

std::string attr_or(const Attrs& a, const std::string& name, const std::string& fallback) {
  auto it = a.find(name);
  return it == a.end() || it->second.empty() ? fallback : it->second;
}

bool is_true(const std::string& value) {
  bool b = false;
  return parse_bool(value, b) && b;
}

}  // namespace reprise::server
