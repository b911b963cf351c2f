#include "client/job_request.h"

#include "client/client.h"
#include "common/array_range.h"

namespace reprise::client {

int for_each_job(const std::string& op, const std::vector<std::string>& ids, const std::string& arg,
                 const std::map<std::string, std::string>& attrs, const std::string& array_range) {
  if (ids.empty()) return fail("no job id given", 2);
  Connection conn;
  std::string error;
  if (!conn.open(error)) return fail(error);
  int exit_code = 0;
  for (const std::string& id : ids) {
    wire::Request req;
    req.set_op(op);
    req.add_ids(array_range.empty() ? id : array_id(id));
    req.set_array_range(array_range);
    req.set_arg(arg);
    for (const auto& [k, v] : attrs) (*req.mutable_attrs())[k] = v;
    wire::Response resp;
    int code = 0;
    if (!request(conn, req, resp, code)) exit_code = code;
  }
  return exit_code;
}

bool valid_array_range_option(const std::string& range, std::string& error) {
  std::vector<long> indices;
  if (parse_array_range(range, indices, error)) return true;
  error = "illegal -t value: " + error;
  return false;
}

std::string array_id(const std::string& id) {
  if (id.find('[') != std::string::npos) return id;
  size_t digits = id.find_first_not_of("0123456789");
  if (digits == 0) return id;
  return digits == std::string::npos ? id + "[]" : id.substr(0, digits) + "[]" + id.substr(digits);
}

}  // namespace reprise::client
