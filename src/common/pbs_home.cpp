#include "common/pbs_home.h"

#include <cstdlib>
#include <set>
#include <sstream>

#include "common/mom_config_directives.h"
#include "common/net.h"
#include "common/text_util.h"

namespace reprise {

std::string resolve_pbs_home(const std::string& from_option) {
  if (!from_option.empty()) return from_option;
  if (const char* env = std::getenv("PBS_HOME"); env && *env) return env;
  return "/var/spool/torque";
}

std::string server_socket_path(const std::string& home) { return home + "/pbs_server.sock"; }
std::string server_priv_dir(const std::string& home) { return home + "/server_priv"; }
std::string mom_priv_dir(const std::string& home) { return home + "/mom_priv"; }

bool parse_mom_config(const std::string& text, MomConfig& config, std::string& error) {
  config.node_name = local_hostname();
  config.server_host = local_hostname();
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t[0] != '$') {
      // TORQUE treats such lines as static resources ("name value"); keep them.
      continue;
    }
    auto space = t.find_first_of(" \t");
    std::string key = t.substr(1, space == std::string::npos ? std::string::npos : space - 1);
    std::string value = space == std::string::npos ? "" : trim(t.substr(space));
    DirectiveUse use = mom_directive_use(key);
    if (use == DirectiveUse::kUnknown) {
      config.warnings.push_back("mom config line " + std::to_string(lineno) + ": unknown directive $" + key +
                                " ignored (not a TORQUE pbs_mom directive; see pbs_mom_config(5))");
      continue;
    }
    if (key == "checkpoint_clock" && value != "continue" && value != "host") {
      error = "mom config line " + std::to_string(lineno) + ": $checkpoint_clock must be 'continue' or 'host', not '" +
              value + "'";
      return false;
    }
    if (key == "checkpoint_external_sockets" && value != "refuse" && value != "closed") {
      error = "mom config line " + std::to_string(lineno) + ": $checkpoint_external_sockets must be 'refuse' or 'closed', not '" +
              value + "'";
      return false;
    }
    if (use == DirectiveUse::kNoEffect)
      config.warnings.push_back("mom config line " + std::to_string(lineno) + ": $" + key +
                                " accepted; it has no effect in Reprise");
    if (key == "pbsserver" || key == "clienthost") {
      if (!split_host_port(value, config.server_host, config.server_port, kDefaultServerPort)) {
        error = "mom config line " + std::to_string(lineno) + ": bad $pbsserver '" + value + "'";
        return false;
      }
    } else if (key == "mom_host") {
      config.node_name = value;
    } else if (key == "loglevel") {
      long l;
      if (!parse_int(value, l)) {
        error = "mom config line " + std::to_string(lineno) + ": bad $loglevel";
        return false;
      }
      config.loglevel = int(l);
    }
    // $usecp may be given many times: keep every mapping, one a line.
    if (key == "usecp" && config.values.count(key)) config.values[key] += "\n" + value;
    else config.values[key] = value;
  }
  return true;
}

}  // namespace reprise
