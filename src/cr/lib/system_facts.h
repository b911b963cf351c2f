// Facts about this machine and this program that images record and check.
#pragma once

#include <cstdint>
#include <string>

namespace reprise::cr {

struct VdsoFacts {
  uint64_t hash = 0;
  uint64_t size = 0;
};

// Hash and size of the running kernel's [vdso] as mapped in this process.
VdsoFacts CurrentVdso();
// XCR0: which XSAVE state components the OS enabled (0 without XSAVE).
uint64_t CurrentXcr0();
// Bytes of the XSAVE area for the enabled components.
uint32_t CurrentXsaveSize();
std::string Hostname();
std::string KernelRelease();
// Directory holding the running executable (where sibling tools live).
std::string ExecutableDir();
// The errno description, e.g. "No such file or directory".
std::string ErrnoText(int err);

}  // namespace reprise::cr
