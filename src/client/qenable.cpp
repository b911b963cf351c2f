// qenable DESTINATION...: sets each queue's enabled attribute to True (operators and managers).
#include "client/client.h"
#include "client/queue_state.h"

using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  return set_queue_state("enabled", true, std::vector<std::string>(argv + 1, argv + argc));
}
