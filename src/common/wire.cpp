#include "common/wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace reprise {

std::string encode_frame(const google::protobuf::MessageLite& msg) {
  // Serialized in place after the length (no second copy of a big reply).
  size_t size = msg.ByteSizeLong();
  uint32_t n = static_cast<uint32_t>(size);
  std::string out(4 + size, '\0');
  out[0] = static_cast<char>(n >> 24);
  out[1] = static_cast<char>(n >> 16);
  out[2] = static_cast<char>(n >> 8);
  out[3] = static_cast<char>(n);
  if (size > 0) msg.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + 4));
  return out;
}

size_t FrameReader::next_size() const {
  if (buffered() < 4) return 4;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + consumed_);
  uint32_t n = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
  return n > kMaxFrameBytes ? 4 : 4 + size_t(n);
}

namespace {
constexpr size_t kMaxIdleBufferBytes = 256u << 10;
}  // namespace

FrameReader::Result FrameReader::next(std::string& frame, std::string& error) {
  size_t avail = buffer_.size() - consumed_;
  if (avail < 4) return kNeedMore;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + consumed_);
  uint32_t n = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
  if (n > kMaxFrameBytes) {
    error = "message of " + std::to_string(n) + " bytes exceeds the limit of " +
            std::to_string(kMaxFrameBytes) + " bytes";
    return kError;
  }
  if (avail < 4 + size_t(n)) return kNeedMore;
  frame.assign(buffer_, consumed_ + 4, n);
  consumed_ += 4 + n;
  // Compact once the consumed prefix dominates, so the buffer does not grow forever.
  if (consumed_ > 65536 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  } else if (consumed_ == buffer_.size()) {
    // An idle connection keeps no big buffer: a 16 MiB frame's capacity is given back.
    if (buffer_.capacity() > kMaxIdleBufferBytes) std::string().swap(buffer_);
    else buffer_.clear();
    consumed_ = 0;
  }
  return kFrame;
}

static bool write_all(int fd, const char* data, size_t len, std::string& error) {
  while (len > 0) {
    // send(MSG_NOSIGNAL): a peer that hung up is an error to report, not a SIGPIPE that kills
    // the client before it can read the server's reason.
    ssize_t w = ::send(fd, data, len, MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK) w = ::write(fd, data, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      error = std::string("write: ") + std::strerror(errno);
      return false;
    }
    data += w;
    len -= size_t(w);
  }
  return true;
}

static bool read_all(int fd, char* data, size_t len, std::string& error, int timeout_ms) {
  while (len > 0) {
    if (timeout_ms >= 0) {
      pollfd pfd{fd, POLLIN, 0};
      int r = ::poll(&pfd, 1, timeout_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) {
        error = "timed out waiting for the server";
        return false;
      }
    }
    ssize_t r = ::read(fd, data, len);
    if (r < 0) {
      if (errno == EINTR) continue;
      error = std::string("read: ") + std::strerror(errno);
      return false;
    }
    if (r == 0) {
      error = "connection closed by peer";
      return false;
    }
    data += r;
    len -= size_t(r);
  }
  return true;
}

bool send_message(int fd, const google::protobuf::MessageLite& msg, std::string& error) {
  std::string frame = encode_frame(msg);
  if (frame.size() - 4 > kMaxFrameBytes) {
    error = "message too large to send";
    return false;
  }
  return write_all(fd, frame.data(), frame.size(), error);
}

bool recv_message(int fd, google::protobuf::MessageLite& msg, std::string& error,
                  int timeout_ms) {
  unsigned char hdr[4];
  if (!read_all(fd, reinterpret_cast<char*>(hdr), 4, error, timeout_ms)) return false;
  uint32_t n = (uint32_t(hdr[0]) << 24) | (uint32_t(hdr[1]) << 16) | (uint32_t(hdr[2]) << 8) | hdr[3];
  if (n > kMaxFrameBytes) {
    error = "reply exceeds the frame size limit";
    return false;
  }
  std::string payload(n, '\0');
  if (!read_all(fd, payload.data(), n, error, timeout_ms)) return false;
  if (!msg.ParseFromString(payload)) {
    error = "malformed message";
    return false;
  }
  return true;
}

}  // namespace reprise
