#include "server/nodes_file.h"

#include "common/names.h"
#include "common/text_util.h"

namespace reprise::server {

std::vector<NodesFileEntry> parse_nodes_file(const std::string& text, std::vector<std::string>& warnings) {
  std::vector<NodesFileEntry> out;
  int lineno = 0;
  for (const std::string& line : split(text, '\n')) {
    ++lineno;
    std::string t = trim(line.substr(0, line.find('#')));
    if (t.empty()) continue;
    std::vector<std::string> words;
    for (const std::string& w : split(t, ' '))
      for (const std::string& x : split(w, '\t'))
        if (!x.empty()) words.push_back(x);
    NodesFileEntry e;
    e.name = words[0];
    if (!valid_host_name(e.name)) {
      warnings.push_back("server_priv/nodes line " + std::to_string(lineno) + ": '" + e.name +
                         "' is not a node name; line skipped");
      continue;
    }
    e.attrs["np"] = "1";
    bool ok = true;
    for (size_t i = 1; i < words.size(); ++i) {
      auto eq = words[i].find('=');
      if (eq == std::string::npos) {
        e.attrs["properties"] += (e.attrs["properties"].empty() ? "" : ",") + words[i];
        continue;
      }
      std::string key = words[i].substr(0, eq), value = words[i].substr(eq + 1);
      long n;
      if ((key == "np" || key == "gpus" || key == "mics") && (!parse_int(value, n) || n < 0)) {
        warnings.push_back("server_priv/nodes line " + std::to_string(lineno) + ": bad " + key + " '" + value +
                           "'; line skipped");
        ok = false;
        break;
      }
      e.attrs[key] = value;
    }
    if (ok) out.push_back(e);
  }
  return out;
}

}  // namespace reprise::server
