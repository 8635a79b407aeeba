/* store.c - the LMDB environment (see store.h). */
#include "store.h"
#include "af.h"

#include <errno.h>
#include <stdio.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_MAP ((size_t)1 << 30)
#define SYNC_EVERY_NS (50 * 1000000ULL)

static const char *const db_names[AF_DB_COUNT] = {
	"entries", "manifests", "lineage", "blobs", "stat", "counters", "journal", "runs",
};

struct af_store {
	MDB_env *env;
	MDB_dbi dbi[AF_DB_COUNT];
	MDB_txn *reader; /* reset between reads, renewed for the next */
	size_t map_size;
	uint64_t synced_ns; /* when the file was last flushed to disk */
	char *dir;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* An error naming the file; damage says how to start again. */
static int fail(const af_store *s, const char *what, int rc)
{
	if (rc == MDB_CORRUPTED || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ||
	    rc == MDB_PAGE_NOTFOUND)
		return af_error_set(AF_EIO, "%s/data.mdb is damaged (%s: %s); "
				    "'agentflow cache reset' removes it and starts an empty one",
				    s->dir, what, mdb_strerror(rc));
	return af_error_set(AF_EIO, "%s/data.mdb: %s: %s", s->dir, what, mdb_strerror(rc));
}

static int open_dbs(af_store *s)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

	if (rc)
		return fail(s, "begin", rc);
	for (int i = 0; i < AF_DB_COUNT; i++) {
		if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]))) {
			mdb_txn_abort(txn);
			return fail(s, "open database", rc);
		}
	}
	if ((rc = mdb_txn_commit(txn)))
		return fail(s, "commit", rc);
	return AF_OK;
}

/*
 * A data file far shorter than its last page is truncated: reading the map
 * there would fault (SIGBUS), so refuse it up front. "Far": a transaction
 * may number pages it never writes (allocated, then freed), so the file can
 * legitimately end a few pages before the last page number.
 */
#define TRUNCATION_SLACK_PAGES 64

static int check_size(af_store *s)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat fst;
	char path[4096];

	snprintf(path, sizeof path, "%s/data.mdb", s->dir);
	if (mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &st) || stat(path, &fst) != 0)
		return AF_OK;
	if ((size_t)fst.st_size + TRUNCATION_SLACK_PAGES * (size_t)st.ms_psize <
	    (info.me_last_pgno + 1) * (size_t)st.ms_psize)
		return fail(s, "check the size", MDB_CORRUPTED);
	return AF_OK;
}

int af_store_open(af_store **out, const char *dir, size_t map_size)
{
	af_store *s = calloc(1, sizeof *s);
	int rc, dead;

	*out = NULL;
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		return af_error_set(AF_ENOMEM, "out of memory");
	}
	s->map_size = map_size ? map_size : DEFAULT_MAP;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = af_error_errno(AF_EIO, "cannot create %s", dir);
		af_store_close(s);
		return rc;
	}
	if ((rc = mdb_env_create(&s->env)) || (rc = mdb_env_set_maxdbs(s->env, AF_DB_COUNT)) ||
	    (rc = mdb_env_set_mapsize(s->env, s->map_size)) ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NOSYNC, 0600))) {
		rc = fail(s, "open", rc);
		af_store_close(s);
		return rc;
	}
	mdb_reader_check(s->env, &dead); /* slots of killed processes */
	if ((rc = check_size(s)) != AF_OK) {
		af_store_close(s);
		return rc;
	}
	if ((rc = open_dbs(s)) != AF_OK) {
		af_store_close(s);
		return rc;
	}
	s->synced_ns = now_ns();
	*out = s;
	return AF_OK;
}

int af_store_sync(af_store *s)
{
	int rc = mdb_env_sync(s->env, 1);

	s->synced_ns = now_ns();
	return rc ? fail(s, "sync", rc) : AF_OK;
}

void af_store_close(af_store *s)
{
	if (!s)
		return;
	if (s->reader)
		mdb_txn_abort(s->reader);
	if (s->env) {
		mdb_env_sync(s->env, 1);
		mdb_env_close(s->env);
	}
	free(s->dir);
	free(s);
}

const char *af_store_dir(const af_store *s)
{
	return s->dir;
}

static int count_line(const char *msg, void *ctx)
{
	(void)msg;
	++*(int *)ctx;
	return 0;
}

int af_store_readers(af_store *s)
{
	int lines = 0, dead = 0;

	mdb_reader_check(s->env, &dead);
	mdb_reader_list(s->env, count_line, &lines);
	/* The first line is a header; our own reset read transaction holds one. */
	lines = lines > 0 ? lines - 1 : 0;
	return s->reader && lines > 0 ? lines - 1 : lines;
}

size_t af_store_map_size(af_store *s)
{
	return s->map_size;
}

/* Adopt a map another process has grown: no transaction may be active. */
static int adopt_resize(af_store *s)
{
	MDB_envinfo info;
	int rc;

	if (s->reader) {
		mdb_txn_abort(s->reader);
		s->reader = NULL;
	}
	if ((rc = mdb_env_set_mapsize(s->env, 0)))
		return rc;
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	return 0;
}

/* A read transaction, renewed from the reset one when there is one. */
static int begin_read(af_store *s, MDB_txn **txn)
{
	int rc;

	for (int tries = 0; tries < 2; tries++) {
		rc = s->reader ? mdb_txn_renew(s->reader)
			       : mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->reader);
		if (rc == MDB_MAP_RESIZED) {
			if ((rc = adopt_resize(s)))
				break;
			continue;
		}
		if (rc && s->reader) { /* a renew failed: start over next time */
			mdb_txn_abort(s->reader);
			s->reader = NULL;
		}
		break;
	}
	*txn = s->reader;
	return rc;
}

int af_store_get(af_store *s, int db, const void *key, size_t klen,
		 void (*cb)(const void *val, size_t vlen, void *ctx), void *ctx)
{
	MDB_val k = {klen, (void *)key}, v;
	MDB_txn *txn;
	int rc = begin_read(s, &txn);

	if (rc)
		return fail(s, "read", rc);
	rc = mdb_get(txn, s->dbi[db], &k, &v);
	if (rc == 0)
		cb(v.mv_data, v.mv_size, ctx);
	mdb_txn_reset(txn);
	if (rc == MDB_NOTFOUND)
		return AF_ENOTFOUND;
	return rc ? fail(s, "get", rc) : AF_OK;
}

int af_store_get_many(af_store *s, int db, const af_store_key *keys, size_t n,
		      void (*cb)(size_t i, const void *val, size_t vlen, void *ctx), void *ctx)
{
	MDB_txn *txn;
	int rc = begin_read(s, &txn);

	if (rc)
		return fail(s, "read", rc);
	for (size_t i = 0; i < n && (rc == 0 || rc == MDB_NOTFOUND); i++) {
		MDB_val k = {keys[i].klen, (void *)keys[i].key}, v;

		if ((rc = mdb_get(txn, s->dbi[db], &k, &v)) == 0)
			cb(i, v.mv_data, v.mv_size, ctx);
	}
	mdb_txn_reset(txn);
	return rc && rc != MDB_NOTFOUND ? fail(s, "get", rc) : AF_OK;
}

/* The decimal digits of v at the end of tmp[24]; returns where they start. */
static char *decimal(long long v, char tmp[24])
{
	char *p = tmp + 24;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return p;
}

/* The count a counter's value starts with (0 when there is none). */
static long long count_of(const MDB_val *v)
{
	const char *p = v->mv_data, *end = p + v->mv_size;
	long long n = 0;
	int neg = p < end && *p == '-';

	for (p += neg; p < end && *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (*p - '0');
	return neg ? -n : n;
}

/*
 * The count at k grows by op->add, followed by op->val if any (see store.h).
 * Through a cursor, so the key is looked up once, and without printf: a run
 * writes one count per cache entry it used.
 */
static int add_count(MDB_cursor *cur, MDB_val *k, const af_store_op *op)
{
	char buf[24 + 1 + 64], tmp[24], *digits;
	MDB_val v;
	int rc = mdb_cursor_get(cur, k, &v, MDB_SET_KEY);
	size_t n, vlen = op->vlen < 64 ? op->vlen : 64;

	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	digits = decimal((rc == 0 ? count_of(&v) : 0) + op->add, tmp);
	n = (size_t)(tmp + 24 - digits);
	memcpy(buf, digits, n);
	if (op->val) {
		buf[n++] = ' ';
		memcpy(buf + n, op->val, vlen);
		n += vlen;
	}
	v.mv_size = n;
	v.mv_data = buf;
	return mdb_cursor_put(cur, k, &v, rc == 0 ? MDB_CURRENT : 0);
}

/* Apply ops in txn; counts go through one cursor per database, opened on first use. */
static int apply(af_store *s, MDB_txn *txn, const af_store_op *ops, size_t n)
{
	MDB_cursor *cur[AF_DB_COUNT] = {0};
	int rc = 0;

	for (size_t i = 0; i < n && (rc == 0 || rc == MDB_NOTFOUND); i++) {
		MDB_val k = {ops[i].klen, (void *)ops[i].key};
		MDB_val v = {ops[i].vlen, (void *)ops[i].val};
		MDB_dbi dbi = s->dbi[ops[i].db];

		if (ops[i].add) {
			rc = cur[ops[i].db] ? 0 : mdb_cursor_open(txn, dbi, &cur[ops[i].db]);
			if (rc == 0)
				rc = add_count(cur[ops[i].db], &k, &ops[i]);
		} else if (ops[i].val) {
			rc = mdb_put(txn, dbi, &k, &v, 0);
		} else {
			rc = mdb_del(txn, dbi, &k, NULL);
		}
	}
	for (int db = 0; db < AF_DB_COUNT; db++)
		if (cur[db])
			mdb_cursor_close(cur[db]);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Double the map after MDB_MAP_FULL: no transaction may be active. */
static int grow(af_store *s)
{
	if (s->reader) {
		mdb_txn_abort(s->reader);
		s->reader = NULL;
	}
	s->map_size *= 2;
	return mdb_env_set_mapsize(s->env, s->map_size);
}

int af_store_write(af_store *s, const af_store_op *ops, size_t n)
{
	for (;;) {
		MDB_txn *txn;
		int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

		if (rc == MDB_MAP_RESIZED) {
			if ((rc = adopt_resize(s)))
				return fail(s, "adopt a grown map", rc);
			continue;
		}
		if (rc)
			return fail(s, "begin a write", rc);
		rc = apply(s, txn, ops, n);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc == MDB_MAP_FULL) {
			if ((rc = grow(s)))
				return fail(s, "grow the map", rc);
			continue; /* replay on the larger map */
		}
		if (rc)
			return fail(s, "write", rc);
		return now_ns() - s->synced_ns >= SYNC_EVERY_NS ? af_store_sync(s) : AF_OK;
	}
}

int af_store_scan(af_store *s, int db, const void *prefix, size_t plen,
		  int (*cb)(const void *key, size_t klen, const void *val, size_t vlen, void *ctx),
		  void *ctx)
{
	MDB_val k = {plen, (void *)prefix}, v;
	MDB_cursor *cur;
	MDB_txn *txn;
	int rc = begin_read(s, &txn);

	if (rc)
		return fail(s, "read", rc);
	if ((rc = mdb_cursor_open(txn, s->dbi[db], &cur))) {
		mdb_txn_reset(txn);
		return fail(s, "cursor", rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (cb(k.mv_data, k.mv_size, v.mv_data, v.mv_size, ctx))
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	mdb_txn_reset(txn);
	return rc && rc != MDB_NOTFOUND ? fail(s, "scan", rc) : AF_OK;
}

int af_store_count(af_store *s, int db, size_t *entries, size_t *used_bytes)
{
	MDB_stat st;
	MDB_envinfo info;
	MDB_txn *txn;
	int rc = begin_read(s, &txn);

	if (rc)
		return fail(s, "read", rc);
	rc = mdb_stat(txn, s->dbi[db], &st);
	mdb_txn_reset(txn);
	if (rc)
		return fail(s, "stat", rc);
	*entries = st.ms_entries;
	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	*used_bytes = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
	return AF_OK;
}
