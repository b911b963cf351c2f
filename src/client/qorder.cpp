// qorder JOB_ID JOB_ID: two queued jobs swap their places in the scheduling order.
#include "client/client.h"

using namespace reprise;
using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  if (argc != 3) return fail("usage: qorder job_identifier job_identifier", 2);
  Connection conn;
  std::string error;
  if (!conn.open(error)) return fail(error);
  wire::Request req;
  req.set_op("order");
  req.add_ids(argv[1]);
  req.add_ids(argv[2]);
  wire::Response resp;
  int code = 0;
  request(conn, req, resp, code);
  return code;
}
