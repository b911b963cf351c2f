// libFuzzer target: a job script's #PBS directives, then qsub's option parser on them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "client/submit_options.h"
#include "common/directives.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string script(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> words{"qsub"};
  std::string error;
  if (!reprise::parse_pbs_directives(script, "#PBS", words, error)) return 0;
  reprise::client::Submission sub;
  reprise::client::apply_submit_options(words, "/work", sub, error);
  return 0;
}
