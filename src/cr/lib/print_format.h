// Number formats cr_info shares across its printers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace reprise::cr {

// "0x1f"
inline std::string HexText(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// "0.250 s"
inline std::string SecondsText(int64_t ns) {
  char b[32];
  snprintf(b, sizeof b, "%.3f s", static_cast<double>(ns) / 1e9);
  return b;
}

}  // namespace reprise::cr
