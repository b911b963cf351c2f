// qchkpt JOB_ID...: checkpoint running checkpointable jobs; they keep running.
#include <getopt.h>

#include "client/client.h"
#include "client/job_request.h"

using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, "")) != -1)
    if (c == '?') return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
  if (optind >= argc) return fail("usage: qchkpt JOB_ID...", 2);
  return for_each_job("checkpoint", std::vector<std::string>(argv + optind, argv + argc), "");
}
