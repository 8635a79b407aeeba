/* hash.c - XXH3-128 of memory and of files (see hash.h). */
#include "hash.h"
#include "af.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

void af_hash_digest(XXH128_hash_t h, char hex[AF_HASH_HEX])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		hex[15 - i] = digits[(h.high64 >> (4 * i)) & 15];
		hex[31 - i] = digits[(h.low64 >> (4 * i)) & 15];
	}
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
