// qrerun [-f] JOB_ID...: requeue running or completed jobs (operators and managers).
#include <getopt.h>

#include "client/client.h"
#include "client/job_request.h"

using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, "f")) != -1)
    if (c == '?') return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
  return for_each_job("rerun", std::vector<std::string>(argv + optind, argv + argc), "");
}
