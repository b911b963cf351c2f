// qalter [qsub-like options] [-h HOLD_LIST] JOB_ID...
#include <unistd.h>

#include "client/client.h"
#include "client/job_request.h"
#include "client/submit_options.h"

using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  // qalter's -h takes a hold list (qsub's does not): take it out before the shared parser.
  std::vector<std::string> args{"qalter"};
  std::string hold;
  bool clear_depend = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    // qalter -W depend= (empty) removes the job's dependencies; qsub refuses an empty list.
    if ((a == "-W" && i + 1 < argc && std::string(argv[i + 1]) == "depend=") || a == "-Wdepend=") {
      clear_depend = true;
      i += a == "-W" ? 1 : 0;
    } else if (a == "-h") {
      if (i + 1 >= argc) return fail("option -h requires an argument", 2);
      hold = argv[++i];
      if (hold.empty() || hold.find_first_not_of("uosn") != std::string::npos)
        return fail("illegal -h value '" + hold + "'", 2);
    } else {
      args.push_back(a);
    }
  }
  char cwdbuf[4096];
  std::string cwd = ::getcwd(cwdbuf, sizeof cwdbuf) ? cwdbuf : "/";
  Submission sub;
  std::string error;
  if (!apply_submit_options(args, cwd, sub, error)) return fail(error, 2);
  std::map<std::string, std::string> attrs = sub.attrs;
  // qalter's -t names sub-jobs of the array (qsub's makes an array).
  std::string range = attrs.count("job_array_request") ? attrs["job_array_request"] : "";
  attrs.erase("job_array_request");
  if (!range.empty() && !valid_array_range_option(range, error)) return fail(error, 2);
  for (const auto& [k, v] : sub.resources) attrs["Resource_List." + k] = v;
  if (!hold.empty()) attrs["Hold_Types"] = hold;
  if (clear_depend) attrs["depend"] = "";
  if (attrs.empty()) return fail("nothing to alter", 2);
  return for_each_job("alter", sub.operands, "", attrs, range);
}
