/*
 * store.h - the LMDB environment under the state directory: one per
 * process, named databases for the cache and the journal.
 *
 * Every call is one transaction: nothing is held between calls, so a
 * coroutine may yield between any two of them. Reads reuse one reset read
 * transaction (renewing is cheaper than beginning). A write replays itself
 * after growing the map when it is full (MDB_MAP_FULL), and a map grown by
 * another process is adopted (MDB_MAP_RESIZED). Several processes may share
 * the environment; stale reader slots of killed ones are cleared at open.
 *
 * Durability: a write is committed at once, so it survives the process
 * being killed (the pages are in the kernel's cache) and other processes
 * see it. The flush to disk (fsync) happens at most every 50 ms, at a
 * write, and at af_store_sync and close: an operating-system crash can lose
 * the last 50 ms of writes, which the journal's at-least-once replay
 * covers. Flushing every commit would cost ~0.3 ms per step.
 */
#ifndef AF_STORE_H
#define AF_STORE_H

#include <stddef.h>

/* The named databases. */
enum af_db {
	AF_DB_ENTRIES,   /* cache key -> entry (cache.h) */
	AF_DB_MANIFESTS, /* cache key -> the parts of the key */
	AF_DB_LINEAGE,   /* hash(agent, prompt) + key -> created: earlier entries of a call */
	AF_DB_BLOBS,     /* content hash -> a large output */
	AF_DB_STAT,      /* absolute path -> a stat cache record (statcache.h) */
	AF_DB_COUNTERS,  /* name -> a count (hits, misses per agent) */
	AF_DB_JOURNAL,   /* run id + step -> journal record */
	AF_DB_RUNS,      /* run id -> run record */
	AF_DB_FILES,     /* path "\0" cache key -> "": the entries whose key covers a file */
	AF_DB_JOURNAL_BLOBS, /* content hash -> a large step result (journal.h) */
	AF_DB_COUNT
};

typedef struct af_store af_store;

/*
 * One change of a write: with `add` 0, put val (val NULL deletes the key;
 * a missing key is fine). With `add`, the value is a decimal count (missing:
 * 0) that grows by `add`, followed by " " and val when val is given
 * ("12 1764000000.5"). Counting inside the transaction keeps counts exact
 * when several processes share the store.
 */
typedef struct af_store_op {
	int db;
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
	long long add;
} af_store_op;

/*
 * Open (creating) the environment in directory `dir` with an initial map
 * of `map_size` bytes (0: 1 GiB; the file is sparse). Errors: AF_EIO with
 * a message naming the file; a damaged file says how to reset it.
 */
int af_store_open(af_store **out, const char *dir, size_t map_size);

/* Flush everything committed so far to disk. */
int af_store_sync(af_store *s);

/* Flush and close. */
void af_store_close(af_store *s);

/*
 * Look `key` up in `db` and call cb(val, vlen, ctx) while the value is
 * valid (it is a pointer into the map: copy what you keep). Returns AF_OK,
 * AF_ENOTFOUND (cb not called), or AF_EIO.
 */
int af_store_get(af_store *s, int db, const void *key, size_t klen,
		 void (*cb)(const void *val, size_t vlen, void *ctx), void *ctx);

typedef struct af_store_key {
	const void *key;
	size_t klen;
} af_store_key;

/*
 * Look the n `keys` up in `db` in one read transaction (cheaper than n
 * af_store_get calls): cb(i, val, vlen, ctx) for each key i found, while
 * its value is valid. Returns AF_OK or AF_EIO.
 */
int af_store_get_many(af_store *s, int db, const af_store_key *keys, size_t n,
		      void (*cb)(size_t i, const void *val, size_t vlen, void *ctx), void *ctx);

/* Apply `n` changes in one transaction: all or none (durability: above). */
int af_store_write(af_store *s, const af_store_op *ops, size_t n);

/*
 * Count changes (ops with `add`, in AF_DB_COUNTERS) can wait:
 * af_store_defer_counts writes them as one record, one put however many
 * they are, and they count once af_store_fold_counts has applied them. A
 * run's use counts (one per cache entry it used) then cost one write at
 * its end, and folding the records of many runs writes each count once.
 * Records are named "pending/TIME-PID-SERIAL" (so they fold in time order:
 * the latest value of a count wins). Returns AF_OK, AF_ENOMEM or AF_EIO.
 */
int af_store_defer_counts(af_store *s, const af_store_op *ops, size_t n);

/*
 * Apply every deferred count change, summed per count, and delete the
 * records, all in one transaction (so that two processes folding at once
 * count each change once). *records: how many were folded (may be NULL).
 */
int af_store_fold_counts(af_store *s, size_t *records);

/* How many deferred records wait (0 when the store cannot be read). */
size_t af_store_deferred(af_store *s);

/*
 * Call cb for every key of `db` starting with `prefix`, in key order, until
 * it returns non-zero. Key and value are valid only during the call.
 */
int af_store_scan(af_store *s, int db, const void *prefix, size_t plen,
		  int (*cb)(const void *key, size_t klen, const void *val, size_t vlen, void *ctx),
		  void *ctx);

/* Entries in `db`, and the bytes of the map in use. */
int af_store_count(af_store *s, int db, size_t *entries, size_t *used_bytes);

/*
 * Reader slots other live processes hold, after clearing those of dead
 * ones (killed processes leave theirs behind).
 */
int af_store_readers(af_store *s);

/* The current map size in bytes (it grows when full). */
size_t af_store_map_size(af_store *s);

#endif
