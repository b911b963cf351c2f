#include "client/queue_state.h"

#include "client/client.h"

namespace reprise::client {

int set_queue_state(const std::string& attr, bool value, const std::vector<std::string>& destinations) {
  if (destinations.empty()) return fail("usage: " + program() + " destination...", 2);
  Connection conn;
  std::string error;
  if (!conn.open(error)) return fail(error);
  int exit_code = 0;
  for (const std::string& d : destinations) {
    std::string queue = d.substr(0, d.find('@'));
    if (queue.empty()) {
      exit_code = fail("no queue in destination '" + d + "'", 2);
      continue;
    }
    wire::Request req;
    req.set_op("queue_state");
    req.add_ids(queue);
    (*req.mutable_attrs())[attr] = value ? "True" : "False";
    wire::Response resp;
    int code = 0;
    if (!request(conn, req, resp, code)) exit_code = code;
  }
  return exit_code;
}

}  // namespace reprise::client
