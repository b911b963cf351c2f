// Writes image sections (header + payload) at the image fd's current offset.
#pragma once

#include <sys/uio.h>
#include <unistd.h>

#include "format/hash.h"
#include "format/image_format.h"
#include "signal_safe.h"

namespace reprise::cr::agent {

inline SectionHeader MakeSectionHeader(SectionType type, uint32_t owner, uint64_t payload_offset,
                                       uint64_t payload_size, uint64_t payload_hash) {
  SectionHeader h{};
  h.magic = kSectionMagic;
  h.type = static_cast<uint32_t>(type);
  h.owner = owner;
  h.payload_offset = payload_offset;
  h.payload_size = payload_size;
  h.payload_hash = payload_hash;
  h.header_hash = reprise_hash(&h, offsetof(SectionHeader, header_hash));
  return h;
}

// Appends one section whose payload immediately follows its header.
// Returns 0 or an errno value.
inline int AppendSection(int fd, uint32_t owner, SectionType type, const void* payload, size_t size) {
  off_t at = lseek(fd, 0, SEEK_CUR);
  if (at < 0) return errno;
  SectionHeader h = MakeSectionHeader(type, owner, static_cast<uint64_t>(at) + sizeof(SectionHeader),
                                      size, reprise_hash(payload, size));
  if (int e = WriteAll(fd, &h, sizeof h)) return e;
  return WriteAll(fd, payload, size);
}

}  // namespace reprise::cr::agent
