// server_priv/nodes, TORQUE's node list: "NAME [np=N] [gpus=N] [PROPERTY...]" per line, '#'
// comments. The server reads it at every start (not only at -t create): a node listed there
// and unknown to the server is created, a known one takes the file's np and properties.
// Nodes created with qmgr and absent from the file are kept.
#pragma once
#include <string>
#include <vector>

#include "server/state.h"

namespace reprise::server {

struct NodesFileEntry {
  std::string name;
  Attrs attrs;  // np (default 1), properties (comma-joined) and any other key=value
};

// Parses the file's text; lines that do not parse go to `warnings` (with their number).
std::vector<NodesFileEntry> parse_nodes_file(const std::string& text, std::vector<std::string>& warnings);

}  // namespace reprise::server
