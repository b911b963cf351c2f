// qrun [-H HOST] JOB_ID...: start jobs now (operators and managers).
#include <getopt.h>

#include "client/client.h"
#include "client/job_request.h"

using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  std::string host;
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, ":H:a")) != -1) {
    if (c == 'H') host = optarg;
    else if (c == ':') return fail(std::string("option -") + char(optopt) + " requires an argument", 2);
    else if (c == '?') return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
  }
  return for_each_job("run", std::vector<std::string>(argv + optind, argv + argc), host);
}
