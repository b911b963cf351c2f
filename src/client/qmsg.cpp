// qmsg [-E] [-O] MESSAGE JOB_ID...: a line appended to running jobs' error (-E, the default)
// and/or output (-O) files.
#include <getopt.h>

#include "client/client.h"
#include "client/job_request.h"

using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  bool out = false, err = false;
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, "EO")) != -1) {
    if (c == 'E') err = true;
    else if (c == 'O') out = true;
    else return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
  }
  if (argc - optind < 2) return fail("usage: qmsg [-E] [-O] message_string job_identifier...", 2);
  std::string message = argv[optind];
  if (message.find('\n') != std::string::npos) return fail("the message must be one line", 2);
  std::string stream = std::string(out ? "O" : "") + (err || !out ? "E" : "");
  return for_each_job("message", std::vector<std::string>(argv + optind + 1, argv + argc), message,
                      {{"stream", stream}});
}
