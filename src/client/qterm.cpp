// qterm [-t quick|immediate|delay]: shuts pbs_server down (managers only).
#include <getopt.h>

#include "client/client.h"

using namespace reprise;
using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  std::string how = "quick";
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, ":t:")) != -1) {
    if (c == 't') how = optarg;
    else if (c == ':') return fail("option -t requires an argument", 2);
    else return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
  }
  if (how != "quick" && how != "immediate" && how != "delay")
    return fail("illegal -t value '" + how + "' (use quick, immediate or delay)", 2);
  // Server names (qterm SERVER): only the server this client talks to.
  Connection conn;
  std::string error;
  if (!conn.open(error)) return fail(error);
  wire::Request req;
  req.set_op("shutdown");
  req.set_arg(how);
  wire::Response resp;
  int code = 0;
  request(conn, req, resp, code);
  return code;
}
