#include "lib/system_facts.h"

#include <cpuid.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "format/hash.h"

namespace reprise::cr {

VdsoFacts CurrentVdso() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() < 6 || line.compare(line.size() - 6, 6, "[vdso]") != 0) continue;
    uint64_t start = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
    uint64_t end = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
    return {reprise_hash(reinterpret_cast<const void*>(start), end - start), end - start};
  }
  return {};
}

uint64_t CurrentXcr0() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

uint32_t CurrentXsaveSize() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d)) return 0;
  return b;
}

std::string Hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string KernelRelease() {
  utsname u{};
  uname(&u);
  return u.release;
}

std::string ExecutableDir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

std::string EngineFile(const std::string& name, std::string& tried) {
  const std::string dir = ExecutableDir();
  tried.clear();
  for (const char* rel : {"/../lib/reprise/", "/../lib/", "/"}) {
    std::string path = dir + rel + name;
    if (access(path.c_str(), R_OK) == 0) {
      // Without "..": this path is what LD_PRELOAD and the restorer's exec name.
      char real[PATH_MAX];
      return realpath(path.c_str(), real) ? std::string(real) : path;
    }
    tried += (tried.empty() ? "" : ", ") + path;
  }
  return "";
}

std::string ErrnoText(int err) { return strerror(err); }

}  // namespace reprise::cr
