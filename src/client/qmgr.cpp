// qmgr [-c COMMAND]: manage the server, queues and nodes. Without -c, reads commands from
// stdin (prompting "Qmgr: " on a terminal).
#include <unistd.h>

#include <iostream>
#include <map>
#include <set>

#include "client/client.h"
#include "client/qmgr_parse.h"
#include "common/text_util.h"

using namespace reprise;
using namespace reprise::client;

namespace {

// Attributes the server computes; print leaves them out because they cannot be set.
bool read_only(const std::string& n) {
  static const std::set<std::string> ro = {"state_count", "total_jobs", "server_state", "pbs_version",
                                           "next_job_number", "state", "jobs", "status", "ntype"};
  return ro.count(n) > 0;
}

std::string title(const std::string& type) {
  return type == "server" ? "Server" : type == "queue" ? "Queue" : "Node";
}

void print_list(const QmgrCommand& cmd, const wire::Response& resp) {
  for (const auto& o : resp.objects()) {
    std::cout << title(cmd.objtype) << " " << o.name() << "\n";
    std::map<std::string, std::string> attrs(o.attrs().begin(), o.attrs().end());
    // The server names the attributes it stores without acting on them (TORQUE's, from a dump).
    std::set<std::string> no_effect;
    for (const std::string& n : split(attrs["_no_effect"], ',')) no_effect.insert(n);
    attrs.erase("_no_effect");
    for (const auto& [k, v] : attrs) {
      if (!cmd.attrs.empty()) {
        bool wanted = false;
        for (const auto& a : cmd.attrs) wanted = wanted || a.name == k;
        if (!wanted) continue;
      }
      std::cout << "\t" << k << " = " << v << (no_effect.count(k) ? "  (no effect in Reprise)" : "") << "\n";
    }
    std::cout << "\n";
  }
}

void print_commands(const QmgrCommand& cmd, const wire::Response& resp) {
  for (const auto& o : resp.objects()) {
    std::map<std::string, std::string> attrs(o.attrs().begin(), o.attrs().end());
    attrs.erase("_no_effect");
    if (cmd.objtype == "queue") {
      std::cout << "#\n# Create and define queue " << o.name() << "\n#\ncreate queue " << o.name() << "\n";
      if (attrs.count("queue_type"))
        std::cout << "set queue " << o.name() << " queue_type = " << attrs["queue_type"] << "\n";
      for (const auto& [k, v] : attrs)
        if (!read_only(k) && k != "queue_type") std::cout << "set queue " << o.name() << " " << k << " = " << v << "\n";
    } else if (cmd.objtype == "node") {
      std::cout << "create node " << o.name() << "\n";
      for (const auto& [k, v] : attrs)
        if (!read_only(k)) std::cout << "set node " << o.name() << " " << k << " = " << v << "\n";
    } else {
      std::cout << "#\n# Set server attributes.\n#\n";
      for (const auto& [k, v] : attrs)
        if (!read_only(k) && !v.empty()) std::cout << "set server " << k << " = " << v << "\n";
    }
  }
}

// Runs one command line; returns 0 or an exit code.
int run_command(Connection& conn, const std::string& line) {
  QmgrCommand cmd;
  std::string error;
  if (!parse_qmgr(line, cmd, error)) {
    std::cerr << "qmgr: " << error << "\n";
    return 1;
  }
  // "print server" in TORQUE prints queues too.
  if (cmd.command == "print" && cmd.objtype == "server") {
    QmgrCommand queues{"print", "queue", "", {}};
    wire::Request req;
    req.set_op("manage");
    req.set_command("print");
    req.set_objtype("queue");
    wire::Response resp;
    if (conn.call(req, resp, error) && resp.code() == 0) print_commands(queues, resp);
  }
  wire::Request req;
  req.set_op("manage");
  req.set_command(cmd.command);
  req.set_objtype(cmd.objtype);
  req.set_objname(cmd.name);
  if (cmd.command != "list" && cmd.command != "print")
    for (const auto& a : cmd.attrs) {
      auto* op = req.add_ops();
      op->set_name(a.name);
      op->set_value(a.value);
      op->set_op(a.op);
    }
  wire::Response resp;
  if (!conn.call(req, resp, error)) {
    std::cerr << "qmgr: cannot talk to the server: " << error << "\n";
    return 1;
  }
  if (resp.code() != 0) {
    std::cerr << "qmgr obj=" << (cmd.name.empty() ? cmd.objtype : cmd.name) << " svr=default: " << resp.error() << "\n";
    return resp.code() % 256 ? resp.code() % 256 : 1;
  }
  if (cmd.command == "list") print_list(cmd, resp);
  if (cmd.command == "print") print_commands(cmd, resp);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  set_program(argv[0]);
  std::vector<std::string> commands;
  bool from_stdin = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-c") {
      if (i + 1 >= argc) return fail("option -c requires an argument", 2);
      commands.push_back(argv[++i]);
      from_stdin = false;
    } else if (a == "-a" || a == "-e" || a == "-n" || a == "-z") {
      // accepted for compatibility (abort/echo/no-execute/quiet); ignored
    } else if (!a.empty() && a[0] == '-') {
      return fail("invalid option -- '" + a.substr(1) + "'", 2);
    }
    // A trailing server name operand is accepted and ignored: we talk to the one server.
  }
  Connection conn;
  std::string error;
  if (!conn.open(error)) return fail(error);
  int exit_code = 0;
  for (const auto& c : commands)
    if (int rc = run_command(conn, c)) exit_code = rc;
  if (!from_stdin) return exit_code;
  bool tty = ::isatty(0);
  std::string line;
  for (;;) {
    if (tty) std::cout << "Qmgr: " << std::flush;
    if (!std::getline(std::cin, line)) break;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t == "quit" || t == "exit" || t == "q") break;
    if (int rc = run_command(conn, t)) exit_code = rc;
  }
  return exit_code;
}
