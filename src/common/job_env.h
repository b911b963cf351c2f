// The environment a batch job sees, built from its attributes (TORQUE's PBS_* variables).
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace reprise {

using VarList = std::vector<std::pair<std::string, std::string>>;

// Variable_List is "NAME=value,NAME=value" with ',' and '\' in values escaped by '\'.
std::string encode_variable_list(const VarList& vars);
VarList decode_variable_list(const std::string& text);

// What only the executing node knows.
struct JobExecContext {
  std::string job_id;
  std::string user, home, shell;
  std::string nodefile;
  std::string server_name;
  int num_nodes = 1, ppn = 1;
  long walltime_seconds = 0;  // 0 = no limit
};

// NAME=value strings for execve: the job's Variable_List, then the PBS_* variables.
std::vector<std::string> build_job_environment(const std::map<std::string, std::string>& attrs,
                                               const JobExecContext& ctx);

}  // namespace reprise
