#include "common/checkpoint_policy.h"

#include "common/names.h"
#include "common/resources.h"
#include "common/text_util.h"

namespace reprise {
namespace {

constexpr uint64_t kMaxRewrittenLimit = 200ull << 20;  // the engine's kMaxRewrittenFileBytes

bool valid_rewritten_files(const std::string& v) { return v == "save" || v == "refuse" || v == "keep-current"; }

bool valid_rewritten_limit(const std::string& v, uint64_t& bytes) {
  return parse_size(v, bytes) && bytes > 0 && bytes <= kMaxRewrittenLimit;
}

}  // namespace

CheckpointPolicy parse_checkpoint_policy(const std::string& value) {
  CheckpointPolicy p;
  for (const std::string& raw : split(value, ',')) {
    std::string v = trim(raw);
    long n = 0;
    if (v == "enabled" || v == "c") {
      p.enabled = true;
    } else if (v == "shutdown" || v == "s") {
      p.enabled = p.shutdown = true;
    } else if (v == "periodic") {
      p.enabled = p.periodic = true;
    } else if (starts_with(v, "interval=") && parse_int(v.substr(9), n)) {
      p.enabled = p.periodic = true;
      p.interval_minutes = n;
    } else if (starts_with(v, "c=") && parse_int(v.substr(2), n)) {
      p.enabled = p.periodic = true;
      p.interval_minutes = n;
    } else if (starts_with(v, "depth=") && parse_int(v.substr(6), n)) {
      p.depth = n;
    } else if (starts_with(v, "dir=")) {
      p.dir = v.substr(4);
    } else if (starts_with(v, "rewritten_files=") && valid_rewritten_files(v.substr(16))) {
      p.rewritten_files = v.substr(16);
    } else if (starts_with(v, "rewritten_limit=")) {
      uint64_t bytes = 0;
      if (valid_rewritten_limit(v.substr(16), bytes)) p.rewritten_limit = bytes;
    }
  }
  return p;
}

bool valid_checkpoint_value(const std::string& value) {
  if (value.empty()) return false;
  for (const std::string& item : split(value, ',')) {
    std::string v = trim(item);
    long n;
    if (v == "none" || v == "enabled" || v == "shutdown" || v == "periodic" || v == "n" || v == "s" || v == "c" || v == "u")
      continue;
    if ((starts_with(v, "interval=") && parse_int(v.substr(9), n) && n > 0) ||
        (starts_with(v, "depth=") && parse_int(v.substr(6), n) && n > 0) ||
        (starts_with(v, "c=") && parse_int(v.substr(2), n) && n > 0) ||
        (starts_with(v, "dir=") && valid_absolute_path(v.substr(4))) ||
        (starts_with(v, "rewritten_files=") && valid_rewritten_files(v.substr(16))))
      continue;
    uint64_t bytes;
    if (starts_with(v, "rewritten_limit=") && valid_rewritten_limit(v.substr(16), bytes)) continue;
    return false;
  }
  return true;
}

}  // namespace reprise
