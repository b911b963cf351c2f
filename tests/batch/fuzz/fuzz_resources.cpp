// libFuzzer target: -l resource lists, node specs, durations and sizes.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/resources.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> out;
  std::string error;
  reprise::parse_resource_list(text, out, error);
  std::vector<reprise::NodeSpecPart> parts;
  reprise::parse_node_spec(text, parts, error);
  long s;
  reprise::parse_duration(text, s);
  uint64_t b;
  reprise::parse_size(text, b);
  return 0;
}
