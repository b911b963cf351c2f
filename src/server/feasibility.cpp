#include "server/feasibility.h"

#include <algorithm>
#include <functional>
#include <set>
#include <vector>

#include "common/resources.h"
#include "common/text_util.h"
#include "server/server.h"  // attr_or

namespace reprise::server {

bool nodes_could_fit(const ServerState& st, const Job& job) {
  std::vector<NodeSpecPart> parts;
  std::string error;
  if (!parse_node_spec(attr_or(job.attrs, "Resource_List.nodes", "1"), parts, error)) return true;
  long total = 0;
  for (const auto& p : parts) total += p.count;
  if (total > long(st.nodes.size())) return false;  // each node serves one part of a spec
  uint64_t mem = 0;
  parse_size(job.attr("Resource_List.mem"), mem);
  uint64_t mem_per_node = total ? mem / uint64_t(total) : mem;  // as the scheduler places it
  auto fits = [&](const Node& n, int ppn) {
    long np = 1;
    parse_int(attr_or(n.attrs, "np", "1"), np);
    uint64_t phys = 0;
    bool known = parse_size(attr_or(n.mom_status, "physmem", ""), phys) && phys;
    return std::max(1L, np) >= ppn && !(mem_per_node && known && phys < mem_per_node);
  };
  // Named hosts first; then the others, largest ppn first: the k-th largest request needs
  // k nodes that fit it (nested sets, so this greedy choice is exact).
  std::set<std::string> taken;
  std::vector<int> any;
  for (const auto& p : parts) {
    if (p.host.empty()) {
      any.insert(any.end(), size_t(p.count), p.ppn);
      continue;
    }
    auto it = st.nodes.find(p.host);
    if (it == st.nodes.end() || !taken.insert(p.host).second || !fits(it->second, p.ppn)) return false;
  }
  std::sort(any.begin(), any.end(), std::greater<>());
  for (size_t k = 0; k < any.size(); ++k) {
    size_t fitting = 0;
    for (const auto& [name, n] : st.nodes)
      if (!taken.count(name) && fits(n, any[k])) ++fitting;
    if (fitting < k + 1) return false;
  }
  return true;
}

}  // namespace reprise::server
