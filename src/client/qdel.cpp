// qdel [-W DELAY] [-p] JOB_ID...
#include <getopt.h>

#include "client/client.h"
#include "client/job_request.h"

using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  int c;
  std::string range, error;
  opterr = 0;
  while ((c = getopt(argc, argv, ":W:pm:t:")) != -1) {
    if (c == 't') range = optarg;
    if (c == ':') return fail(std::string("option -") + char(optopt) + " requires an argument", 2);
    if (c == '?') return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
  }
  if (!range.empty() && !valid_array_range_option(range, error)) return fail(error, 2);
  return for_each_job("delete", std::vector<std::string>(argv + optind, argv + argc), "", {}, range);
}
