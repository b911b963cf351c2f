// libFuzzer target: bytes from a socket through the frame reader and message parsers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/wire.h"
#include "reprise.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reprise::FrameReader reader;
  // Feed in two pieces so partial frames are exercised too.
  size_t half = size / 2;
  reader.feed(reinterpret_cast<const char*>(data), half);
  std::string frame, error;
  for (int round = 0; round < 2; ++round) {
    for (;;) {
      auto r = reader.next(frame, error);
      if (r != reprise::FrameReader::kFrame) break;
      reprise::wire::Request req;
      req.ParseFromString(frame);
      reprise::wire::MomCommand cmd;
      cmd.ParseFromString(frame);
    }
    if (round == 0) reader.feed(reinterpret_cast<const char*>(data) + half, size - half);
  }
  return 0;
}
