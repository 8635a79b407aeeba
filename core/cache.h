/*
 * cache.h - the result cache: entries under content keys, with a TTL,
 * their lineage, large outputs as blobs, an index from file path to
 * entries, use counts, stats and pruning (DESIGN.md, "Two stores, two
 * jobs"). How a key is made stays in Lua (_cache.lua): this module keeps
 * what a key names.
 *
 * Storage goes through a backend (af_cache_backend): a few named spaces
 * of keys and values with get, exists, put, delete and iterate. The LMDB
 * store is the first (af_cache_lmdb, cache_lmdb.c); another tier, a remote
 * cache say, is one more backend and changes no caller.
 *
 * An entry is MessagePack values one after another, so that a hit reads
 * the first few and stops:
 *
 *   version     integer: AF_CACHE_VERSION; entries of other versions miss
 *   expires_at  float seconds since the epoch, or nil: never
 *   blob        the hash naming the output in the blob space, or nil
 *   result      the result record (a map; opaque here: Lua packs it),
 *               holding "output" unless the output is a blob
 *   meta        a map: key, agent, created, commit, branch (strings or
 *               nil), size (bytes of the packed output), files (the paths
 *               the key covers: the file index's rows), lineage (the
 *               rows of this entry in the lineage space)
 */
#ifndef AF_CACHE_H
#define AF_CACHE_H

#include "buf.h"

#include <stddef.h>

struct af_store;

/* Bumped when the encoding of a key or an entry changes (keys: _cache.lua). */
#define AF_CACHE_VERSION 5

/* Outputs at least this long (packed) are kept as blobs. */
#define AF_CACHE_BLOB_MIN (16 * 1024)

/* ---- the backend ------------------------------------------------------------ */

/* The spaces a backend keeps. */
enum af_cache_space {
	AF_CACHE_ENTRIES,   /* key -> entry */
	AF_CACHE_BLOBS,     /* content hash -> packed output */
	AF_CACHE_MANIFESTS, /* key -> the parts of the key (packed by the caller) */
	AF_CACHE_LINEAGE,   /* prefix, creation time, key -> agent: earlier entries of a call */
	AF_CACHE_FILES,     /* path "\0" key -> "": the entries whose key covers a file */
	AF_CACHE_COUNTERS,  /* hits/AGENT, misses/AGENT, access/KEY -> "COUNT [LAST_TIME]" */
	AF_CACHE_SPACES
};

/* One change: put val (NULL: delete key). In AF_CACHE_COUNTERS with `add`
 * non-zero, the count grows by add and val (may be NULL) is the text after it. */
typedef struct af_cache_op {
	int space;
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
	long long add;
} af_cache_op;

/* Called per key by iterate, until it returns non-zero; key and value valid during the call. */
typedef int (*af_cache_visit)(const void *key, size_t klen, const void *val, size_t vlen,
			      void *ctx);

typedef struct af_cache_backend af_cache_backend;

/*
 * A backend. Every call is whole: nothing is held between calls. Errors are
 * AF_EIO (with af_error_last() naming what failed); a space a backend does
 * not keep behaves as an empty one that drops writes.
 */
struct af_cache_backend {
	const char *name;
	/* Copy the value of key into *out (replacing what it held): AF_OK or AF_ENOTFOUND. */
	int (*get)(af_cache_backend *b, int space, const void *key, size_t klen, af_buf *out);
	/* AF_OK when key is there, AF_ENOTFOUND when not. */
	int (*exists)(af_cache_backend *b, int space, const void *key, size_t klen);
	/* Apply n changes, all or none; counts may be applied later (by the next iterate). */
	int (*put)(af_cache_backend *b, const af_cache_op *ops, size_t n);
	/* Delete key (a missing one is fine). */
	int (*del)(af_cache_backend *b, int space, const void *key, size_t klen);
	/* Visit the keys starting with prefix, in key order. */
	int (*iterate)(af_cache_backend *b, int space, const void *prefix, size_t plen,
		       af_cache_visit visit, void *ctx);
	void (*close)(af_cache_backend *b);
};

/* The backend over an open LMDB store (not closed with the backend). NULL: out of memory. */
af_cache_backend *af_cache_lmdb(struct af_store *s);

/* ---- entries ---------------------------------------------------------------- */

/* A byte string that points into something else. */
typedef struct af_cache_str {
	const char *p;
	size_t len;
} af_cache_str;

/*
 * An entry's header and metadata, as af_cache_decode reads them: strings
 * and `result` point into the bytes decoded. A NULL p is a nil string.
 */
typedef struct af_cache_entry {
	long long version;
	int expires;         /* 0: never expires */
	double expires_at;
	af_cache_str blob;   /* the output's blob hash, or nil */
	const void *result;  /* the packed result record */
	size_t result_len;
	af_cache_str key, agent, commit, branch;
	double created;
	long long size;
	size_t raw_len;      /* the length of the whole entry */
} af_cache_entry;

/*
 * Read the entry in raw[0..n). With `header_only`, stop after the result
 * (meta fields are then zero). AF_OK, or AF_EINVAL when the bytes are not
 * an entry (or one of another version: e->version says which).
 */
int af_cache_decode(const void *raw, size_t n, int header_only, af_cache_entry *e);

/* ---- the cache --------------------------------------------------------------- */

typedef struct af_cache af_cache;

/* A cache over `local` (closed with the cache). Returns AF_OK or AF_ENOMEM. */
int af_cache_open(af_cache **out, af_cache_backend *local);

/* Close; counts not written by af_cache_flush_counts are dropped. NULL is allowed. */
void af_cache_close(af_cache *c);

enum af_cache_state { AF_CACHE_FRESH, AF_CACHE_EXPIRED, AF_CACHE_MISSING };

/*
 * Look `key` up at time `now`. FRESH: *result holds the packed result
 * record with its output (from the blob when it is one: *output then holds
 * the packed output and the record has none). EXPIRED: it is there but
 * past its TTL. MISSING: no entry of this version. An error reading is
 * AF_EIO (negative). Copies out of the store: nothing here points into it.
 */
int af_cache_lookup(af_cache *c, const void *key, size_t klen, double now, af_buf *result,
		    af_buf *output);

/* What af_cache_put stores. */
typedef struct af_cache_put {
	af_cache_str key, agent, commit, branch;
	double created;
	double ttl;                 /* seconds; < 0: never expires */
	const void *result;         /* the packed result record, without output */
	size_t result_len;
	const void *output;         /* the packed output */
	size_t output_len;
	const void *manifest;       /* the parts of the key, packed (may be NULL) */
	size_t manifest_len;
	const af_cache_str *files;  /* the paths the key covers */
	size_t nfiles;
	const af_cache_str *lineage; /* lineage prefixes ("p:HASH/", "a:HASH/") */
	size_t nlineage;
} af_cache_put;

/*
 * Store an entry, its blob, manifest, lineage rows and file index rows in
 * one change. The result must be a MessagePack map. Returns AF_OK, AF_EINVAL
 * (result is no map) or AF_EIO.
 */
int af_cache_store(af_cache *c, const af_cache_put *p);

/* Keep the manifest of a key that has no entry (so that `why` can explain the next one). */
int af_cache_remember(af_cache *c, const void *key, size_t klen, const void *manifest, size_t mlen);

/* The packed manifest of key into *out: AF_OK or AF_ENOTFOUND. */
int af_cache_manifest(af_cache *c, const void *key, size_t klen, af_buf *out);

/* The whole entry under key into *out: AF_OK or AF_ENOTFOUND. */
int af_cache_raw(af_cache *c, const void *key, size_t klen, af_buf *out);

/* The packed output of a blob into *out: AF_OK or AF_ENOTFOUND. */
int af_cache_blob(af_cache *c, const void *hash, size_t hlen, af_buf *out);

/*
 * The newest key under a lineage prefix created before `before` (seconds;
 * < 0: any time), into *out: AF_OK or AF_ENOTFOUND. Rows of `own` are
 * passed over: every one with skip_own < 0, else only when it is the
 * newest row and skip_own is 1 (a step's own entry, to find the one
 * before it, which may be an older entry under the same key).
 */
int af_cache_previous(af_cache *c, const af_cache_str *prefix, const af_cache_str *own,
		      int skip_own, double before, af_buf *out);

/* ---- counts ---------------------------------------------------------------- */

/* Count a hit of `agent` using entry `key`; a miss of `agent`. AF_OK or AF_ENOMEM. */
int af_cache_count_hit(af_cache *c, const char *agent, size_t alen, const char *key, size_t klen);
int af_cache_count_miss(af_cache *c, const char *agent, size_t alen);

/* Write the counts gathered so far (the access counts with time `now`) as one change. */
int af_cache_flush_counts(af_cache *c, double now);

/* Entry `key`'s use count and last use time (0 when never used). */
int af_cache_access(af_cache *c, const void *key, size_t klen, long long *count, double *last);

/* ---- listing, stats, removal ------------------------------------------------- */

/*
 * Visit every entry: visit(key, klen, raw, rawlen, e, ctx) with its bytes
 * (valid during the call) and e decoded from them (NULL for an entry of
 * another version or damaged), until visit returns non-zero.
 */
typedef int (*af_cache_each_fn)(const char *key, size_t klen, const void *raw, size_t rawlen,
				const af_cache_entry *e, void *ctx);
int af_cache_each(af_cache *c, af_cache_each_fn visit, void *ctx);

/* Per agent (or the total, agent NULL): entries, bytes, hits, misses. */
typedef struct af_cache_agent_stats {
	char *agent;
	long long entries, bytes, hits, misses;
} af_cache_agent_stats;

/* The stats per agent in name order (*out: free with af_cache_stats_free). */
int af_cache_stats(af_cache *c, af_cache_agent_stats **out, size_t *n);
void af_cache_stats_free(af_cache_agent_stats *s, size_t n);

/* Remove the entries in keys[0..n) with their manifest, lineage, index rows and
 * counts, then the blobs no entry uses. *removed (may be NULL): how many were there. */
int af_cache_remove(af_cache *c, const af_cache_str *keys, size_t n, size_t *removed);

/* Remove the entries whose key covers file `path` (as keys name it), found by the index. */
int af_cache_invalidate_file(af_cache *c, const char *path, size_t plen, size_t *removed);

/* Remove the entries of agent (NULL: every entry). */
int af_cache_invalidate_agent(af_cache *c, const char *agent, size_t alen, size_t *removed);

/*
 * Remove the entries expired at `now` and those of other versions, then,
 * when max_bytes > 0, the least recently used until the rest take at most
 * max_bytes. *expired, *evicted: how many; *bytes: what the rest take.
 */
int af_cache_prune(af_cache *c, double now, long long max_bytes, size_t *expired, size_t *evicted,
		   long long *bytes);

#endif
