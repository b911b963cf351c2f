// PBS_HOME layout and the mom's config file.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace reprise {

constexpr int kDefaultServerPort = 15001;
constexpr int kDefaultMomPort = 15002;

// -d DIR if given, else $PBS_HOME, else /var/spool/torque.
std::string resolve_pbs_home(const std::string& from_option);
std::string server_socket_path(const std::string& home);  // HOME/pbs_server.sock
std::string server_priv_dir(const std::string& home);
std::string mom_priv_dir(const std::string& home);

// mom_priv/config: "$name value" lines; '#' comments. Known keys are checked.
struct MomConfig {
  std::string server_host;  // from $pbsserver (default: local host)
  int server_port = kDefaultServerPort;
  std::string node_name;    // $mom_host, default local hostname
  int loglevel = 0;
  std::map<std::string, std::string> values;  // every $key as written (checkpoint keys etc.)
  // Lines the mom logs at startup: unknown directives, and TORQUE's that have no effect here.
  std::vector<std::string> warnings;
};
bool parse_mom_config(const std::string& text, MomConfig& config, std::string& error);

}  // namespace reprise
