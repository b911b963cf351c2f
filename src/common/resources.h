// TORQUE resource strings: walltime, sizes, node specifications, -l lists.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace reprise {

// "[[[DD:]HH:]MM:]SS" or plain seconds (TORQUE's walltime=1:02:00:00 is 26 hours). False on
// anything else.
bool parse_duration(const std::string& text, long& seconds);
std::string format_duration(long seconds);  // HH:MM:SS

// "1024", "10kb", "512mb", "2gb", "1tb" (b/w suffixes, case-insensitive).
bool parse_size(const std::string& text, uint64_t& bytes);

// nodes=N[:ppn=M] or nodes=host[:ppn=M], parts joined by '+'.
struct NodeSpecPart {
  int count = 1;          // number of nodes of this part
  std::string host;       // a named host, or empty for "any"
  int ppn = 1;
};
bool parse_node_spec(const std::string& text, std::vector<NodeSpecPart>& parts, std::string& error);

// Parses "name=value,name=value" of qsub -l into `out` (merged), validating known resources.
bool parse_resource_list(const std::string& text, std::map<std::string, std::string>& out,
                         std::string& error);

// Checks one resource value (for qalter and qmgr too).
bool validate_resource(const std::string& name, const std::string& value, std::string& error);

}  // namespace reprise
