/* hash.c - XXH3-128 of memory and of files (see hash.h). */
#include "hash.h"
#include "af.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

/* The 16 hex digits of v, two digits per byte from a table. */
static void hex64(unsigned long long v, char out[16])
{
	static const char pairs[513] =
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
		"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
		"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
		"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

	for (int i = 7; i >= 0; i--, v >>= 8)
		memcpy(out + 2 * i, pairs + 2 * (v & 0xff), 2);
}

void af_hash_digest(XXH128_hash_t h, char hex[AF_HASH_HEX])
{
	hex64(h.high64, hex);
	hex64(h.low64, hex + 16);
	hex[32] = 0;
}

void af_hash(const void *data, size_t len, char hex[AF_HASH_HEX])
{
	af_hash_digest(XXH3_128bits(data, len), hex);
}

int af_hash_file(const char *path, char hex[AF_HASH_HEX])
{
	char buf[64 * 1024];
	XXH3_state_t *st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return af_error_errno(errno == ENOENT ? AF_ENOTFOUND : AF_EIO, "cannot read %s", path);
	if (!(st = XXH3_createState())) {
		close(fd);
		return af_error_set(AF_ENOMEM, "out of memory");
	}
	XXH3_128bits_reset(st);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		XXH3_128bits_update(st, buf, (size_t)n);
	if (n < 0) {
		int rc = af_error_errno(AF_EIO, "cannot read %s", path);

		XXH3_freeState(st);
		close(fd);
		return rc;
	}
	af_hash_digest(XXH3_128bits_digest(st), hex);
	XXH3_freeState(st);
	close(fd);
	return AF_OK;
}
