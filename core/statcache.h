/*
 * statcache.h - the stat cache: what stat() said of a file, when, and the
 * content hash read then, so that an unchanged file is not read again.
 *
 * A cache key names the content hash of every declared file, and a hit
 * computes the key at every call: hashing each file each time would cost
 * more than the hit itself. A record (kept by the caller, in the store's
 * "stat" database under the file's absolute path) lets the hash be reused
 * while stat() still says what it said when the record was made.
 *
 * Stat'ing and hashing leave no message for af_error_last() on the common
 * outcomes: they run for every declared file at every hit, and a missing
 * optional file is expected there.
 */
#ifndef AF_STATCACHE_H
#define AF_STATCACHE_H

#include "hash.h"

#include <stddef.h>

/*
 * The size of an encoded record. The bytes are those of the record layout
 * stores have always held: size, mtime_ns, ctime_ns, ino and recorded_ns as
 * 64-bit integers in host byte order at offsets 0, 8, 16, 24 and 32, the
 * hash's 32 hex digits and a NUL at 40, and 7 zero bytes of padding. Host
 * byte order is no loss: an LMDB file cannot move between architectures
 * anyway.
 */
#define AF_STATCACHE_RECORD_SIZE 80

/*
 * A record: what stat() said of a regular file (nanosecond times) and,
 * once hashed, the wall-clock time the hash was begun and the hash. A
 * value type: copy it freely. A zeroed record is trusted for no file.
 */
typedef struct af_stat_record {
	long long size, mtime_ns, ctime_ns, ino, recorded_ns;
	char hash[AF_HASH_HEX];
} af_stat_record;

/* out = the AF_STATCACHE_RECORD_SIZE bytes of `rec` (see above). */
void af_statcache_encode(unsigned char out[AF_STATCACHE_RECORD_SIZE], const af_stat_record *rec);

/*
 * out = the record in `data` (`len` bytes). Returns AF_OK, or AF_EINVAL
 * (no message) when `len` is not AF_STATCACHE_RECORD_SIZE (a record of an
 * older layout) or the hash is not 32 lowercase hex digits and a NUL (a
 * damaged one); *out is then zeroed, so its file is hashed again.
 */
int af_statcache_decode(af_stat_record *out, const void *data, size_t len);

/*
 * out = what stat() says of `path` now: size, mtime_ns, ctime_ns and ino;
 * recorded_ns and hash are left alone. Follows symbolic links. Returns
 * AF_OK; AF_ENOTFOUND when there is no such file (ENOENT, or ENOTDIR: a
 * component is a file); AF_EINVAL when it is not a regular file; AF_EIO
 * when stat() failed otherwise, with errno saying why. No message is set:
 * a caller that stats many files before reporting one words it.
 */
int af_statcache_stat(af_stat_record *out, const char *path);

/*
 * Whether `rec` still gives the content of a file that stat() says is
 * `now`: size, mtime, ctime and inode match, and the file's mtime and
 * ctime are both strictly before the record was made. The last part is
 * git's "racy" rule: times have the granularity of the kernel's clock
 * tick, so a file written again in the tick its record was made keeps its
 * times, and only a record made after that tick can vouch for it. The
 * ctime is what no one can set: an edit in place whose mtime is put back
 * (`touch -r`, utimensat) still moves it. In doubt the file is hashed
 * again, which costs time and never a wrong key.
 */
int af_statcache_trusted(const af_stat_record *rec, const af_stat_record *now);

/*
 * Complete `rec`, stat'ed by af_statcache_stat, into a new record of the
 * file at `path`: recorded_ns is the wall clock before the file is read
 * (so a change while hashing counts as racy), hash its content. Returns
 * AF_OK, AF_ENOTFOUND, AF_ENOMEM or AF_EIO (with a message).
 */
int af_statcache_hash(af_stat_record *rec, const char *path);

#endif
