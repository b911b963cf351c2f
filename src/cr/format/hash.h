/* The one checksum of the image format: XXH3-64 (xxHash), used header-only so
 * the agent (inside a signal handler) and the libc-free restorer can call it
 * without linking anything. Plain C so both C and C++ code include it. */
#ifndef REPRISE_CR_HASH_H
#define REPRISE_CR_HASH_H

#define XXH_INLINE_ALL
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

static inline unsigned long long reprise_hash(const void *data, unsigned long len) {
  return XXH3_64bits(data, len);
}

#endif
