#include "client/job_request.h"

#include "client/client.h"

namespace reprise::client {

int for_each_job(const std::string& op, const std::vector<std::string>& ids, const std::string& arg,
                 const std::map<std::string, std::string>& attrs) {
  if (ids.empty()) return fail("no job id given", 2);
  Connection conn;
  std::string error;
  if (!conn.open(error)) return fail(error);
  int exit_code = 0;
  for (const std::string& id : ids) {
    wire::Request req;
    req.set_op(op);
    req.add_ids(id);
    req.set_arg(arg);
    for (const auto& [k, v] : attrs) (*req.mutable_attrs())[k] = v;
    wire::Response resp;
    int code = 0;
    if (!request(conn, req, resp, code)) exit_code = code;
  }
  return exit_code;
}

}  // namespace reprise::client
