// Framing of protobuf messages on stream sockets: 4-byte big-endian length + payload.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include <google/protobuf/message_lite.h>

namespace reprise {

constexpr uint32_t kProtocolVersion = 1;
// Frames larger than this are refused without reading them: a peer cannot make us allocate more.
constexpr size_t kMaxFrameBytes = 16u << 20;

std::string encode_frame(const google::protobuf::MessageLite& msg);

// Splits a byte stream into frames. Feed bytes as they arrive, then call next() until it
// reports kNeedMore.
class FrameReader {
 public:
  enum Result { kNeedMore, kFrame, kError };
  void feed(const char* data, size_t len) { buffer_.append(data, len); }
  Result next(std::string& frame, std::string& error);
  size_t buffered() const { return buffer_.size() - consumed_; }
  // Bytes the next frame needs in all (4 while its length is unknown or over the limit, so a
  // caller reading "until the next frame is complete" never reads ahead for a refused frame).
  size_t next_size() const;
  bool has_frame() const { return buffered() >= 4 && buffered() >= next_size(); }

 private:
  std::string buffer_;
  size_t consumed_ = 0;
};

// Blocking helpers for clients and the mom. timeout_ms < 0 waits forever.
bool send_message(int fd, const google::protobuf::MessageLite& msg, std::string& error);
bool recv_message(int fd, google::protobuf::MessageLite& msg, std::string& error,
                  int timeout_ms = -1);

}  // namespace reprise
