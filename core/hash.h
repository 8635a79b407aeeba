/*
 * hash.h - content hashes: XXH3 128-bit, written as 32 lowercase hex digits.
 *
 * Used for cache keys and file contents. Not cryptographic: keys are built
 * from our own canonical encoding, and a file's hash only decides whether
 * it changed.
 */
#ifndef AF_HASH_H
#define AF_HASH_H

#include <stddef.h>
#include <xxhash.h>

#define AF_HASH_HEX 33 /* 32 digits and a NUL */

/* hex = the digits of h (for callers that hash in steps with XXH3_128bits_update) */
void af_hash_digest(XXH128_hash_t h, char hex[AF_HASH_HEX]);

/* hex = XXH3-128(data) */
void af_hash(const void *data, size_t len, char hex[AF_HASH_HEX]);

/*
 * hex = XXH3-128(contents of the file at `path`), read in blocks.
 * Returns AF_OK, AF_ENOTFOUND (no such file) or AF_EIO.
 */
int af_hash_file(const char *path, char hex[AF_HASH_HEX]);

#endif
