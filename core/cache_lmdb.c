/*
 * cache_lmdb.c - the cache's backend over the LMDB store (cache.h): each
 * space is one of the store's named databases.
 *
 * Counts wait: a put's count changes become one deferred record of the
 * store (af_store_defer_counts), so that a run's thousands of use counts
 * cost one write. They are folded in before the counters are read, and
 * once FOLD_AFTER records wait (reruns use the same entries, so folding
 * many runs' counts together writes each count once).
 */
#include "af.h"
#include "cache.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

#define FOLD_AFTER 16

typedef struct lmdb_backend {
	af_cache_backend base;
	af_store *store;
} lmdb_backend;

static const int db_of[AF_CACHE_SPACES] = {
	[AF_CACHE_ENTRIES] = AF_DB_ENTRIES,     [AF_CACHE_BLOBS] = AF_DB_BLOBS,
	[AF_CACHE_MANIFESTS] = AF_DB_MANIFESTS, [AF_CACHE_LINEAGE] = AF_DB_LINEAGE,
	[AF_CACHE_FILES] = AF_DB_FILES,         [AF_CACHE_COUNTERS] = AF_DB_COUNTERS,
};

static af_store *store_of(af_cache_backend *b)
{
	return ((lmdb_backend *)b)->store;
}

typedef struct copy_ctx {
	af_buf *out;
	int rc;
} copy_ctx;

static void copy_value(const void *val, size_t vlen, void *ctx)
{
	copy_ctx *c = ctx;

	c->out->len = 0;
	c->rc = af_buf_add(c->out, val, vlen);
}

/* Fold the waiting counts in before counters are read. */
static int fold_if_counters(af_cache_backend *b, int space)
{
	return space == AF_CACHE_COUNTERS && af_store_deferred(store_of(b)) > 0
		       ? af_store_fold_counts(store_of(b), NULL)
		       : AF_OK;
}

static int lmdb_get(af_cache_backend *b, int space, const void *key, size_t klen, af_buf *out)
{
	copy_ctx c = {out, AF_OK};
	int rc = fold_if_counters(b, space);

	if (rc == AF_OK)
		rc = af_store_get(store_of(b), db_of[space], key, klen, copy_value, &c);
	return rc == AF_OK ? c.rc : rc;
}

static void ignore_value(const void *val, size_t vlen, void *ctx)
{
	(void)val, (void)vlen, (void)ctx;
}

static int lmdb_exists(af_cache_backend *b, int space, const void *key, size_t klen)
{
	return af_store_get(store_of(b), db_of[space], key, klen, ignore_value, NULL);
}

static int lmdb_put(af_cache_backend *b, const af_cache_op *ops, size_t n)
{
	af_store_op *now = malloc((n ? n : 1) * sizeof *now), *later = malloc((n ? n : 1) * sizeof *later);
	size_t nnow = 0, nlater = 0;
	int rc = AF_OK;

	if (!now || !later) {
		free(now), free(later);
		return af_error_set(AF_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		af_store_op op = {db_of[ops[i].space], ops[i].key, ops[i].klen, ops[i].val, ops[i].vlen,
				  ops[i].add};

		if (ops[i].space == AF_CACHE_COUNTERS && ops[i].add)
			later[nlater++] = op;
		else
			now[nnow++] = op;
	}
	if (nnow)
		rc = af_store_write(store_of(b), now, nnow);
	if (rc == AF_OK && nlater)
		rc = af_store_defer_counts(store_of(b), later, nlater);
	if (rc == AF_OK && nlater && af_store_deferred(store_of(b)) >= FOLD_AFTER)
		rc = af_store_fold_counts(store_of(b), NULL);
	free(now), free(later);
	return rc;
}

static int lmdb_del(af_cache_backend *b, int space, const void *key, size_t klen)
{
	af_store_op op = {db_of[space], key, klen, NULL, 0, 0};

	return af_store_write(store_of(b), &op, 1);
}

static int lmdb_iterate(af_cache_backend *b, int space, const void *prefix, size_t plen,
			af_cache_visit visit, void *ctx)
{
	int rc = fold_if_counters(b, space);

	return rc == AF_OK ? af_store_scan(store_of(b), db_of[space], prefix, plen, visit, ctx) : rc;
}

static void lmdb_close(af_cache_backend *b)
{
	free(b);
}

af_cache_backend *af_cache_lmdb(af_store *s)
{
	lmdb_backend *b = calloc(1, sizeof *b);

	if (!b)
		return NULL;
	b->base = (af_cache_backend){"lmdb", lmdb_get, lmdb_exists, lmdb_put, lmdb_del, lmdb_iterate,
				     lmdb_close};
	b->store = s;
	return &b->base;
}
