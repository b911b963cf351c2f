// qenable, qdisable, qstart, qstop: set a queue's enabled or started attribute.
#pragma once
#include <string>
#include <vector>

namespace reprise::client {

// Destinations are QUEUE or QUEUE@SERVER; returns the exit code.
int set_queue_state(const std::string& attr, bool value, const std::vector<std::string>& destinations);

}  // namespace reprise::client
