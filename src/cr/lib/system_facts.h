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
// Where the engine's private files live, relative to the running executable
// (never from the environment: root runs these tools). An installed tree has
// them in PREFIX/lib/reprise/ beside PREFIX/bin/; the build tree has the agent
// in build/lib/ and the restorer in build/bin/. Returns the first candidate
// that exists; if none does, `tried` lists them all and the result is "".
std::string EngineFile(const std::string& name, std::string& tried);
// The errno description, e.g. "No such file or directory".
std::string ErrnoText(int err);

}  // namespace reprise::cr
