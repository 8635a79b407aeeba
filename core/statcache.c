/* statcache.c - stat cache records and git's racy rule (see statcache.h). */
#include "statcache.h"
#include "af.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { OFF_SIZE = 0, OFF_MTIME = 8, OFF_CTIME = 16, OFF_INO = 24, OFF_RECORDED = 32, OFF_HASH = 40 };

_Static_assert(sizeof(long long) == 8, "records hold 64-bit integers");
_Static_assert(OFF_HASH + AF_HASH_HEX <= AF_STATCACHE_RECORD_SIZE, "the hash fits a record");

static long long ns_of(struct timespec ts)
{
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The coarse wall clock, which the kernel stamps file times from: a write
 * in the tick a record is made in then gets a time equal to the record's,
 * which the racy rule sees. A finer clock would put the record after such
 * a write and trust a file that changed after it was read.
 */
static long long coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return ns_of(ts);
}

void af_statcache_encode(unsigned char out[AF_STATCACHE_RECORD_SIZE], const af_stat_record *rec)
{
	memset(out, 0, AF_STATCACHE_RECORD_SIZE);
	memcpy(out + OFF_SIZE, &rec->size, 8);
	memcpy(out + OFF_MTIME, &rec->mtime_ns, 8);
	memcpy(out + OFF_CTIME, &rec->ctime_ns, 8);
	memcpy(out + OFF_INO, &rec->ino, 8);
	memcpy(out + OFF_RECORDED, &rec->recorded_ns, 8);
	memcpy(out + OFF_HASH, rec->hash, AF_HASH_HEX);
}

/* Whether `h` is 32 lowercase hex digits and a NUL, as af_hash writes them. */
static int valid_hash(const unsigned char *h)
{
	for (int i = 0; i < AF_HASH_HEX - 1; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return h[AF_HASH_HEX - 1] == '\0';
}

int af_statcache_decode(af_stat_record *out, const void *data, size_t len)
{
	const unsigned char *p = data;

	memset(out, 0, sizeof *out);
	if (len != AF_STATCACHE_RECORD_SIZE || !valid_hash(p + OFF_HASH))
		return AF_EINVAL;
	memcpy(&out->size, p + OFF_SIZE, 8);
	memcpy(&out->mtime_ns, p + OFF_MTIME, 8);
	memcpy(&out->ctime_ns, p + OFF_CTIME, 8);
	memcpy(&out->ino, p + OFF_INO, 8);
	memcpy(&out->recorded_ns, p + OFF_RECORDED, 8);
	memcpy(out->hash, p + OFF_HASH, AF_HASH_HEX);
	return AF_OK;
}

int af_statcache_stat(af_stat_record *out, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno == ENOENT || errno == ENOTDIR ? AF_ENOTFOUND : AF_EIO;
	if (!S_ISREG(st.st_mode))
		return AF_EINVAL;
	out->size = (long long)st.st_size;
	out->mtime_ns = ns_of(st.st_mtim);
	out->ctime_ns = ns_of(st.st_ctim);
	out->ino = (long long)st.st_ino;
	return AF_OK;
}

int af_statcache_trusted(const af_stat_record *rec, const af_stat_record *now)
{
	return rec->hash[0] != '\0' && rec->size == now->size && rec->mtime_ns == now->mtime_ns &&
	       rec->ctime_ns == now->ctime_ns && rec->ino == now->ino &&
	       rec->mtime_ns < rec->recorded_ns && rec->ctime_ns < rec->recorded_ns;
}

int af_statcache_hash(af_stat_record *rec, const char *path)
{
	rec->recorded_ns = coarse_ns();
	return af_hash_file(path, rec->hash);
}
