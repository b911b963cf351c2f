// qsig [-s SIGNAL] JOB_ID...: signal running jobs (default SIGTERM).
#include <getopt.h>

#include "client/client.h"
#include "client/job_request.h"

using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  std::string sig = "SIGTERM";
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, ":s:")) != -1) {
    if (c == 's') sig = optarg;
    else if (c == ':') return fail(std::string("option -") + char(optopt) + " requires an argument", 2);
    else return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
  }
  return for_each_job("signal", std::vector<std::string>(argv + optind, argv + argc), sig);
}
