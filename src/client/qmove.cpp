// qmove DESTINATION JOB_ID...: jobs that have not started go to another queue.
#include "client/client.h"
#include "client/job_request.h"

using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  if (argc < 3) return fail("usage: qmove destination job_identifier...", 2);
  return for_each_job("move", std::vector<std::string>(argv + 2, argv + argc), argv[1]);
}
