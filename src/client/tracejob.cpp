// tracejob [-n DAYS] [-q] JOB_ID: the history of a job from the server's accounting records
// and its logs (server_logs/server.log, mom_logs/mom.log in the same PBS_HOME), in time order.
// It reads the files directly, as TORQUE's tracejob does: run it on the server host as a user
// who may read them.
#include <getopt.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "client/client.h"
#include "client/tracejob_scan.h"
#include "common/pbs_home.h"
#include "common/text_util.h"

using namespace reprise;
using namespace reprise::client;

static bool slurp(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

int main(int argc, char** argv) {
  set_program(argv[0]);
  long days = 1;
  bool quiet = false;
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, ":n:qvlmsaz")) != -1) {
    switch (c) {
      case 'n':
        if (!parse_int(optarg, days) || days < 1 || days > 3660) return fail("-n needs a number of days (1 or more)", 2);
        break;
      case 'q': quiet = true; break;
      case 'v': case 'l': case 'm': case 's': case 'a': case 'z': break;  // TORQUE's filters: accepted
      case ':': return fail(std::string("option -") + char(optopt) + " needs a value", 2);
      default: return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
    }
  }
  if (optind + 1 != argc) return fail("usage: tracejob [-n days] [-q] job_id", 2);
  std::string home = resolve_pbs_home("");
  std::string server_name;
  slurp(home + "/server_name", server_name);
  std::string id = full_job_id(argv[optind], trim(server_name));

  std::vector<TraceLine> lines;
  int readable = 0;
  time_t now = time(nullptr);
  for (long d = days - 1; d >= 0; --d) {
    time_t t = now - d * 86400;
    tm tmv{};
    localtime_r(&t, &tmv);
    char name[16];
    std::strftime(name, sizeof name, "%Y%m%d", &tmv);
    std::string text;
    if (!slurp(home + "/server_priv/accounting/" + name, text)) continue;
    ++readable;
    auto found = trace_accounting(text, id);
    lines.insert(lines.end(), found.begin(), found.end());
  }
  for (auto [path, source] : {std::pair<std::string, char>{home + "/server_logs/server.log", 'S'},
                              std::pair<std::string, char>{home + "/mom_logs/mom.log", 'M'}}) {
    std::string text;
    if (!slurp(path, text)) continue;
    ++readable;
    auto found = trace_log(text, id, source);
    lines.insert(lines.end(), found.begin(), found.end());
  }
  if (readable == 0)
    return fail("cannot read the accounting files or logs under " + home +
                " (run tracejob on the server host as root, or set PBS_HOME)");
  if (lines.empty()) {
    std::fprintf(stderr, "tracejob: no records of job %s in the last %ld day(s)\n", id.c_str(), days);
    return 1;
  }
  sort_trace(lines);
  if (!quiet) std::printf("\nJob: %s\n\n", id.c_str());
  for (const auto& l : lines) std::printf("%s  %c    %s\n", l.stamp.c_str(), l.source, l.text.c_str());
  return 0;
}
