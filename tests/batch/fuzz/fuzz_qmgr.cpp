// libFuzzer target: qmgr command lines.
#include <cstddef>
#include <cstdint>
#include <string>

#include "client/qmgr_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reprise::client::QmgrCommand cmd;
  std::string error;
  reprise::client::parse_qmgr(std::string(reinterpret_cast<const char*>(data), size), cmd, error);
  return 0;
}
