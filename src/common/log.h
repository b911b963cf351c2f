// Daemon log: one timestamped line per event, to a file (or stderr until one is opened).
#pragma once
#include <string>

namespace reprise {

void log_open(const std::string& path);
void log_line(const std::string& message);

// Forks into the background (setsid, stdio to /dev/null). Returns in the child; the parent
// waits until the child calls daemon_ready() (exit 0) or daemon_failed() (prints, exit 1).
void daemonize_with_readiness();
void daemon_ready();
void daemon_failed(const std::string& message);

}  // namespace reprise
