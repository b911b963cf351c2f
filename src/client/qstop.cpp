// qstop DESTINATION...: sets each queue's started attribute to False (operators and managers).
#include "client/client.h"
#include "client/queue_state.h"

using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  return set_queue_state("started", false, std::vector<std::string>(argv + 1, argv + argc));
}
