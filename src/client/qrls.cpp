// qrls [-h u|o|s...] JOB_ID...
#include <getopt.h>

#include "client/client.h"
#include "client/job_request.h"

using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  std::string types = "u", range;
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, ":h:t:")) != -1) {
    if (c == 'h') types = optarg;
    else if (c == 't') range = optarg;
    else if (c == ':') return fail(std::string("option -") + char(optopt) + " requires an argument", 2);
    else return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
  }
  if (types.empty() || types.find_first_not_of("uos") != std::string::npos)
    return fail("illegal -h value '" + types + "' (use u, o and/or s)", 2);
  std::string error;
  if (!range.empty() && !valid_array_range_option(range, error)) return fail(error, 2);
  return for_each_job("release", std::vector<std::string>(argv + optind, argv + argc), types, {}, range);
}
