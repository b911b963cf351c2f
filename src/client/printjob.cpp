// printjob [-a] [-s] JOB_ID... | FILE.JB...: an administrator's view of a job's whole record:
// the server's (JOB_ID, from its store, its own _attributes too) or a mom's
// (PBS_HOME/mom_priv/jobs/ID.JB). Root only. -a: no attributes; -s: the job script too.
#include <getopt.h>
#include <unistd.h>

#include <iostream>
#include <map>

#include "client/client.h"
#include "common/text_util.h"
#include "mom/job_record.h"

using namespace reprise;
using namespace reprise::client;

namespace {

const char* state_name(char s) {
  switch (s) {
    case 'Q': return "queued";
    case 'H': return "held";
    case 'W': return "waiting";
    case 'R': return "running";
    case 'E': return "exiting";
    case 'C': return "completed";
  }
  return "unknown";
}

std::string when(const std::map<std::string, std::string>& a, const std::string& name) {
  auto it = a.find(name);
  long t = 0;
  return it != a.end() && parse_int(it->second, t) && t > 0 ? format_ctime(t) : "-";
}

void header(const std::string& id) {
  std::cout << "---------------------------------------------------\n"
            << "jobid:\t" << id << "\n"
            << "---------------------------------------------------\n";
}

void attributes(const std::map<std::string, std::string>& attrs, const std::string& title) {
  std::cout << "--" << title << "--\n";
  for (const auto& [k, v] : attrs) std::cout << k << " = " << v << "\n";
}

int print_server_record(Connection& conn, const std::string& id, bool attrs, bool script) {
  wire::Request req;
  req.set_op("print_job");
  req.add_ids(id);
  wire::Response resp;
  int code = 0;
  if (!request(conn, req, resp, code)) return code;
  if (resp.objects_size() != 1) return fail("the server sent no record for " + id);
  const auto& o = resp.objects(0);
  std::map<std::string, std::string> a(o.attrs().begin(), o.attrs().end());
  std::string state = a.count("job_state") ? a["job_state"] : "?";
  header(o.name());
  std::cout << "state:\t\t" << state << " (" << state_name(state.empty() ? '?' : state[0]) << ")\n"
            << "queue:\t\t" << a["queue"] << "\n"
            << "record:\t\tpbs_server store, key " << a["_key"] << "\n"
            << "queued:\t\t" << when(a, "qtime") << "\n"
            << "start time:\t" << when(a, "start_time") << "\n"
            << "exec_host:\t" << (a["exec_host"].empty() ? "-" : a["exec_host"]) << "\n";
  a.erase("_key");
  if (attrs) attributes(a, "attributes");
  if (script) std::cout << "--script--\n" << resp.text();
  return 0;
}

int print_mom_record(const std::string& path, bool attrs, bool script) {
  mom::JobRecord r;
  if (!mom::load_record(path, r)) return fail("cannot read a job record from " + path);
  header(r.id);
  std::cout << "state:\t\t" << (r.finished ? "finished, exit status " + std::to_string(r.exit_status) : "running") << "\n"
            << "record:\t\t" << path << "\n"
            << "supervisor:\t" << r.supervisor << "\n"
            << "session:\t" << r.session << "\n"
            << "start time:\t" << (r.start_time ? format_ctime(r.start_time) : "-") << "\n"
            << "walltime limit:\t" << r.walltime_limit << "\n"
            << "kill deadline:\t" << (r.kill_deadline ? format_ctime(r.kill_deadline) : "-") << "\n"
            << "obit sent:\t" << (r.obit_sent ? format_ctime(r.obit_sent) : "-") << "\n";
  if (attrs) {
    attributes(r.attrs, "attributes");
    attributes(r.used, "used");
  }
  if (script) {
    std::string text, sc = path.size() > 3 ? path.substr(0, path.size() - 3) + ".SC" : path;
    if (!read_file(sc, text)) return fail("cannot read the job script " + sc);
    std::cout << "--script--\n" << text;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  set_program(argv[0]);
  bool attrs = true, script = false;
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, "as")) != -1) {
    if (c == 'a') attrs = false;
    else if (c == 's') script = true;
    else return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
  }
  if (optind >= argc) return fail("usage: printjob [-a] [-s] job_identifier|file.JB...", 2);
  if (::geteuid() != 0) return fail("must be run as root", 1);
  Connection conn;
  bool connected = false;
  int exit_code = 0;
  for (int i = optind; i < argc; ++i) {
    std::string arg = argv[i];
    int code;
    if (arg.find('/') != std::string::npos || arg.ends_with(".JB")) {
      code = print_mom_record(arg, attrs, script);
    } else {
      std::string error;
      if (!connected && !(connected = conn.open(error))) return fail(error);
      code = print_server_record(conn, arg, attrs, script);
    }
    if (code != 0) exit_code = code;
  }
  return exit_code;
}
