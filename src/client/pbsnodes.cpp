// pbsnodes [-a] [NODE...] | -l | -o NODE... | -c NODE... | -r NODE...   [-N NOTE]
#include <getopt.h>

#include <iostream>
#include <map>

#include "client/client.h"
#include "common/text_util.h"

using namespace reprise;
using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  char mode = 'a';
  std::string note;
  bool note_set = false, quiet = false;
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, ":aloclrN:qx")) != -1) {
    switch (c) {
      case 'a': break;
      case 'l': mode = 'l'; break;
      case 'o': mode = 'o'; break;
      case 'c':
      case 'r': mode = 'c'; break;
      case 'N': note = optarg; note_set = true; break;
      case 'q': quiet = true; break;
      case 'x': return fail("XML output (-x) is not supported; use qstat -f -F json for machine output", 2);
      case ':': return fail(std::string("option -") + char(optopt) + " requires an argument", 2);
      default: return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
    }
  }
  std::vector<std::string> names(argv + optind, argv + argc);
  Connection conn;
  std::string error;
  if (!conn.open(error)) return fail(error);
  int exit_code = 0;
  if (mode == 'o' || mode == 'c' || (note_set && mode == 'a')) {
    if (names.empty()) return fail("no node name given", 2);
    wire::Request req;
    req.set_op("node_state");
    req.set_arg(mode == 'o' ? "offline" : mode == 'c' ? "clear" : "keep");
    if (mode == 'a') req.set_arg("note");
    for (const auto& n : names) req.add_ids(n);
    if (note_set) (*req.mutable_attrs())["note"] = note;
    wire::Response resp;
    request(conn, req, resp, exit_code);
    return exit_code;
  }
  wire::Request req;
  req.set_op("status_node");
  for (const auto& n : names) req.add_ids(n);
  wire::Response resp;
  if (!request(conn, req, resp, exit_code)) return exit_code;
  for (const auto& o : resp.objects()) {
    std::map<std::string, std::string> a(o.attrs().begin(), o.attrs().end());
    if (mode == 'l') {
      std::string st = a["state"];
      if (st.find("down") != std::string::npos || st.find("offline") != std::string::npos) {
        std::printf("%-20s %s%s\n", o.name().c_str(), st.c_str(), a.count("note") ? ("  " + a["note"]).c_str() : "");
      }
      continue;
    }
    std::cout << o.name() << "\n";
    std::cout << "     state = " << a["state"] << "\n";
    std::cout << "     power_state = Running\n";
    std::cout << "     np = " << a["np"] << "\n";
    if (a.count("properties") && !a["properties"].empty()) std::cout << "     properties = " << a["properties"] << "\n";
    std::cout << "     ntype = " << a["ntype"] << "\n";
    if (a.count("jobs")) std::cout << "     jobs = " << a["jobs"] << "\n";
    if (a.count("status")) std::cout << "     status = " << a["status"] << "\n";
    if (a.count("note")) std::cout << "     note = " << a["note"] << "\n";
    std::cout << "     mom_service_port = 15002\n     mom_manager_port = 15003\n\n";
  }
  (void)quiet;
  return exit_code;
}
