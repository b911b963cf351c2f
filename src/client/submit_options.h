// qsub's options, from the command line and from #PBS directives, turned into job attributes.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace reprise::client {

struct Submission {
  std::map<std::string, std::string> attrs;  // job attributes for the server
  std::map<std::string, std::string> resources;
  std::vector<std::string> pass_vars;        // -v entries ("A" or "A=value")
  bool export_all = false;                   // -V
  bool quiet = false;                        // -z
  std::vector<std::string> operands;         // non-option words (the script file)
};

// Applies one option list (argv[0] is ignored). `cwd` resolves relative paths.
// False with a one-line `error` on a bad option or value.
bool apply_submit_options(const std::vector<std::string>& args, const std::string& cwd,
                          Submission& sub, std::string& error);

// Checks a -c value: none, enabled, shutdown, periodic, interval=N, depth=N, dir=PATH,
// or the old n, s, c, c=MIN forms; comma-separated.
bool valid_checkpoint_option(const std::string& value, std::string& error);

// A -m value: n (no mail), p (none at all), or some of a (abort), b (begin), e (end),
// f (end with a non-zero exit).
bool valid_mail_points(const std::string& value);

// A -F value: the job script's arguments, one line, quotes balanced.
bool valid_job_arguments(const std::string& value, std::string& error);

}  // namespace reprise::client
