// qmgr's command language: "create|delete|set|unset|list|print server|queue|node [NAME] [ATTR OP VALUE, ...]".
#pragma once
#include <string>
#include <vector>

namespace reprise::client {

struct QmgrAttr {
  std::string name, value;
  int op = 0;  // 0 '=', 1 '+=', 2 '-=', 3 unset
};

struct QmgrCommand {
  std::string command;  // full word: create, delete, set, unset, list, print
  std::string objtype;  // server, queue, node
  std::string name;
  std::vector<QmgrAttr> attrs;
};

// False with a one-line error on anything malformed.
bool parse_qmgr(const std::string& line, QmgrCommand& cmd, std::string& error);

}  // namespace reprise::client
