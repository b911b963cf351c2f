// pbs_mom [-d HOME] [-D]
#include <cstdio>
#include <string>

#include "common/pbs_home.h"
#include "mom/mom.h"

int main(int argc, char** argv) {
  std::string home_opt;
  bool foreground = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-d" && i + 1 < argc) home_opt = argv[++i];
    else if (a == "-D") foreground = true;
    else {
      std::fprintf(stderr, "pbs_mom: unknown option %s\nusage: pbs_mom [-d HOME] [-D]\n", a.c_str());
      return 2;
    }
  }
  reprise::mom::Mom mom(reprise::resolve_pbs_home(home_opt), foreground);
  return mom.run();
}
