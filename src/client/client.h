// What every client command shares: finding and talking to the server, printing errors.
#pragma once
#include <string>

#include "reprise.pb.h"

namespace reprise::client {

// One connection to the server: the Unix socket in PBS_HOME when present, else TCP to
// $PBS_SERVER (host[:port]) or HOME/server_name with a MUNGE credential.
class Connection {
 public:
  ~Connection();
  bool open(std::string& error);
  // Sends one request and waits for its reply. False on transport errors only.
  bool call(wire::Request& req, wire::Response& resp, std::string& error);

 private:
  int fd_ = -1;
  bool tcp_ = false;
  bool sent_credential_ = false;
};

// Program name for messages ("qstat").
void set_program(const char* argv0);
const std::string& program();

// "qstat: message" on stderr; returns the exit code to use.
int fail(const std::string& message, int code = 1);

// Connects, sends, and on a server error prints "PROG: error" and returns false.
bool request(Connection& conn, wire::Request& req, wire::Response& resp, int& exit_code);

std::string this_host();

}  // namespace reprise::client
