// Small helpers the agent can call from its signal handler: no allocation,
// no stdio, no locks. Everything here is a thin layer over syscalls.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

namespace reprise::cr::agent {

// Bump allocator over one private mapping; the whole arena is left out of the
// image and unmapped when the checkpoint is over.
class Arena {
 public:
  bool Map(size_t capacity) {
    void* p = mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return false;
    base_ = static_cast<char*>(p);
    capacity_ = capacity;
    used_ = 0;
    return true;
  }
  void Unmap() {
    if (base_) munmap(base_, capacity_);
    base_ = nullptr;
  }
  void* Alloc(size_t bytes, size_t align = 16) {
    size_t at = (used_ + align - 1) & ~(align - 1);
    if (at + bytes > capacity_) return nullptr;
    used_ = at + bytes;
    return base_ + at;
  }
  template <typename T>
  T* AllocArray(size_t n) { return static_cast<T*>(Alloc(n * sizeof(T), alignof(T) < 16 ? 16 : alignof(T))); }
  size_t used() const { return used_; }
  void Reset(size_t to) { used_ = to; }
  uintptr_t begin() const { return reinterpret_cast<uintptr_t>(base_); }
  uintptr_t end() const { return begin() + capacity_; }

 private:
  // Zero-initialised with the agent's state (see AgentState).
  char* base_;
  size_t capacity_;
  size_t used_;
};

// Writes all of buf at the fd's offset; returns 0 or an errno value.
inline int WriteAll(int fd, const void* buf, size_t len) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return 0;
}

inline int PwriteAll(int fd, const void* buf, size_t len, off_t off) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = pwrite(fd, p, len, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    p += n;
    off += n;
    len -= static_cast<size_t>(n);
  }
  return 0;
}

// Reads a whole (small, /proc) file into the arena, NUL-terminated.
// Returns the length, or -1 with errno set.
inline ssize_t ReadWholeFile(const char* path, Arena& arena, char** out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t cap = 64 * 1024;
  char* buf = static_cast<char*>(arena.Alloc(cap, 1));
  size_t len = 0;
  for (;;) {
    if (!buf) { close(fd); errno = ENOMEM; return -1; }
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno; close(fd); errno = e; return -1;
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
    if (len + 1 == cap) {  // grow in place: the arena's last allocation is ours
      if (!arena.Alloc(cap, 1)) { close(fd); errno = ENOMEM; return -1; }
      cap *= 2;
    }
  }
  close(fd);
  buf[len] = '\0';
  *out = buf;
  return static_cast<ssize_t>(len);
}

inline uint64_t ParseHex(const char*& p) {
  uint64_t v = 0;
  for (;; ++p) {
    char c = *p;
    if (c >= '0' && c <= '9') v = v * 16 + static_cast<uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v = v * 16 + static_cast<uint64_t>(c - 'a' + 10);
    else break;
  }
  return v;
}

inline uint64_t ParseDec(const char*& p) {
  uint64_t v = 0;
  while (*p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
  return v;
}

// Appends the decimal form of v at dst; returns the end.
inline char* AppendDec(char* dst, uint64_t v) {
  char tmp[24];
  int n = 0;
  do { tmp[n++] = static_cast<char>('0' + v % 10); v /= 10; } while (v);
  while (n) *dst++ = tmp[--n];
  *dst = '\0';
  return dst;
}

inline char* AppendStr(char* dst, const char* src) {
  while (*src) *dst++ = *src++;
  *dst = '\0';
  return dst;
}

// Copies at most cap-1 bytes and always terminates.
inline void CopyStr(char* dst, const char* src, size_t cap) {
  size_t i = 0;
  for (; src[i] && i + 1 < cap; ++i) dst[i] = src[i];
  dst[i] = '\0';
}

}  // namespace reprise::cr::agent
