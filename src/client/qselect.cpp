// qselect [-a [op]DATE] [-A ACCOUNT] [-c [op]INTERVAL] [-h HOLDS] [-l RES.op.VALUE,...] [-N NAME]
//         [-p [op]PRIORITY] [-q DEST] [-r y|n] [-s STATES] [-u USERS] [-t]
// The ids of the jobs the user may see that meet every criterion, one per line.
#include <getopt.h>

#include <iostream>

#include "client/client.h"
#include "client/qselect_filter.h"

using namespace reprise;
using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  SelectCriteria criteria;
  bool subjobs = false;
  std::string error;
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, ":a:A:c:h:l:N:p:q:r:s:u:t")) != -1) {
    if (c == 't') subjobs = true;  // sub-jobs of arrays are selected on their own
    else if (c == ':') return fail(std::string("option -") + char(optopt) + " requires an argument", 2);
    else if (c == '?') return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
    else if (!add_select_option(char(c), optarg, criteria, error)) return fail(error, 2);
  }
  if (optind < argc) return fail("unexpected argument '" + std::string(argv[optind]) + "'", 2);
  Connection conn;
  if (!conn.open(error)) return fail(error);
  wire::Request req;
  req.set_op("status_job");
  req.set_arg(criteria.queue);  // the server lists only that queue's jobs
  req.set_expand_arrays(subjobs);
  wire::Response resp;
  int code = 0;
  if (!request(conn, req, resp, code)) return code;
  for (const auto& o : resp.objects()) {
    std::map<std::string, std::string> attrs(o.attrs().begin(), o.attrs().end());
    if (job_selected(criteria, attrs)) std::cout << o.name() << "\n";
  }
  return 0;
}
