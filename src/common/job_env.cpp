#include "common/job_env.h"

namespace reprise {

std::string encode_variable_list(const VarList& vars) {
  std::string out;
  for (const auto& [name, value] : vars) {
    if (!out.empty()) out += ',';
    out += name;
    out += '=';
    for (char c : value) {
      if (c == ',' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out;
}

VarList decode_variable_list(const std::string& text) {
  VarList out;
  std::string cur;
  auto flush = [&] {
    if (cur.empty()) return;
    auto eq = cur.find('=');
    if (eq == std::string::npos) out.emplace_back(cur, "");
    else out.emplace_back(cur.substr(0, eq), cur.substr(eq + 1));
    cur.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) cur += text[++i];
    else if (c == ',') flush();
    else cur += c;
  }
  flush();
  return out;
}

std::vector<std::string> build_job_environment(const std::map<std::string, std::string>& attrs,
                                               const JobExecContext& ctx) {
  std::map<std::string, std::string> env;
  auto attr = [&](const char* name) {
    auto it = attrs.find(name);
    return it == attrs.end() ? std::string() : it->second;
  };
  env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& [k, v] : decode_variable_list(attr("Variable_List"))) env[k] = v;
  env["HOME"] = ctx.home;
  env["LOGNAME"] = ctx.user;
  env["USER"] = ctx.user;
  env["SHELL"] = ctx.shell;
  env["PBS_JOBID"] = ctx.job_id;
  env["PBS_JOBNAME"] = attr("Job_Name");
  env["PBS_QUEUE"] = attr("queue");
  env["PBS_O_QUEUE"] = attr("queue");
  env["PBS_ENVIRONMENT"] = "PBS_BATCH";
  env["PBS_NODEFILE"] = ctx.nodefile;
  env["PBS_SERVER"] = ctx.server_name;
  env["PBS_NODENUM"] = "0";
  env["PBS_TASKNUM"] = "1";
  env["PBS_VNODENUM"] = "0";
  env["PBS_NUM_NODES"] = std::to_string(ctx.num_nodes);
  env["PBS_NUM_PPN"] = std::to_string(ctx.ppn);
  env["PBS_NP"] = std::to_string(ctx.num_nodes * ctx.ppn);
  env["PBS_JOBCOOKIE"] = ctx.job_id;
  // A sub-job of an array (qsub -t): its index, digits only (the server sets it).
  if (std::string index = attr("job_array_id"); !index.empty() && index.size() <= 9 &&
                                                 index.find_first_not_of("0123456789") == std::string::npos)
    env["PBS_ARRAYID"] = index;
  if (ctx.walltime_seconds > 0) env["PBS_WALLTIME"] = std::to_string(ctx.walltime_seconds);
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace reprise
