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
#include <unistd.h>

#define DEFAULT_MAP ((size_t)1 << 30)
#define SYNC_EVERY_NS (50 * 1000000ULL)

static const char *const db_names[AF_DB_COUNT] = {
	"entries", "manifests", "lineage", "blobs", "stat", "counters", "journal", "runs", "files",
	"journal_blobs",
};

struct af_store {
	MDB_env *env;
	MDB_dbi dbi[AF_DB_COUNT];
	MDB_txn *reader; /* reset between reads, renewed for the next */
	size_t map_size;
	uint64_t synced_ns; /* when the file was last flushed to disk */
	char *dir;
};

/* The wall clock in ns: deferred records are named in time order. */
static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

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

/* Create the directory and open the environment in it, its databases with it. */
static int open_env(af_store *s)
{
	int rc, dead;

	if (mkdir(s->dir, 0700) != 0 && errno != EEXIST)
		return af_error_errno(AF_EIO, "cannot create %s", s->dir);
	if ((rc = mdb_env_create(&s->env)) || (rc = mdb_env_set_maxdbs(s->env, AF_DB_COUNT)) ||
	    (rc = mdb_env_set_mapsize(s->env, s->map_size)) ||
	    (rc = mdb_env_open(s->env, s->dir, MDB_NOTLS | MDB_NOSYNC, 0600)))
		return fail(s, "open", rc);
	mdb_reader_check(s->env, &dead); /* slots of killed processes */
	if ((rc = check_size(s)) != AF_OK)
		return rc;
	return open_dbs(s);
}

int af_store_open(af_store **out, const char *dir, size_t map_size)
{
	af_store *s = calloc(1, sizeof *s);
	int rc;

	*out = NULL;
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		return af_error_set(AF_ENOMEM, "out of memory");
	}
	s->map_size = map_size ? map_size : DEFAULT_MAP;
	if ((rc = open_env(s)) != AF_OK) {
		af_store_close(s); /* closes what open_env got to */
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
static int add_count(MDB_cursor *cur, const MDB_val *k, const af_store_op *op)
{
	char buf[AF_DECIMAL_MAX + 1 + 64], tmp[AF_DECIMAL_MAX], *digits;
	/* MDB_SET leaves `key` ours: a key pointing into the page would move under the put */
	MDB_val key = *k, v;
	int rc = mdb_cursor_get(cur, &key, &v, MDB_SET);
	size_t n, vlen = op->vlen < 64 ? op->vlen : 64;

	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	n = af_decimal((rc == 0 ? count_of(&v) : 0) + op->add, tmp, &digits);
	memcpy(buf, digits, n);
	if (op->val) {
		buf[n++] = ' ';
		memcpy(buf + n, op->val, vlen);
		n += vlen;
	}
	v.mv_size = n;
	v.mv_data = buf;
	key = *k;
	return mdb_cursor_put(cur, &key, &v, rc == 0 ? MDB_CURRENT : 0);
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

/*
 * Run fn(s, txn, ctx) in a write transaction and commit: on MDB_MAP_FULL the
 * map grows and fn runs again from the start; a map another process grew
 * is adopted first.
 */
static int write_txn(af_store *s, int (*fn)(af_store *, MDB_txn *, void *), void *ctx)
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
		rc = fn(s, txn, ctx);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc == MDB_MAP_FULL) {
			if ((rc = grow(s)))
				return fail(s, "grow the map", rc);
			continue; /* replay on the larger map */
		}
		if (rc == ENOMEM)
			return af_error_set(AF_ENOMEM, "out of memory");
		if (rc)
			return fail(s, "write", rc);
		return now_ns() - s->synced_ns >= SYNC_EVERY_NS ? af_store_sync(s) : AF_OK;
	}
}

typedef struct ops_ctx {
	const af_store_op *ops;
	size_t n;
} ops_ctx;

static int apply_ops(af_store *s, MDB_txn *txn, void *ctx)
{
	const ops_ctx *o = ctx;

	return apply(s, txn, o->ops, o->n);
}

int af_store_write(af_store *s, const af_store_op *ops, size_t n)
{
	ops_ctx o = {ops, n};

	return write_txn(s, apply_ops, &o);
}

/* ---- deferred counts ---------------------------------------------------------- */

#define PENDING "pending/"

/* A count change as a deferred record holds it: name, add, value, each length-prefixed. */
static size_t put_u32(unsigned char *p, size_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return 4;
}

static size_t get_u32(const unsigned char *p)
{
	size_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int af_store_defer_counts(af_store *s, const af_store_op *ops, size_t n)
{
	static unsigned serial;
	size_t len = 0, at = 0;
	unsigned char *rec;
	char key[64];
	af_store_op op = {AF_DB_COUNTERS, key, 0, NULL, 0, 0};
	int rc;

	if (n == 0)
		return AF_OK;
	for (size_t i = 0; i < n; i++)
		len += 4 + ops[i].klen + 8 + 4 + (ops[i].val ? ops[i].vlen : 0);
	if (!(rec = malloc(len)))
		return af_error_set(AF_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		size_t vlen = ops[i].val ? ops[i].vlen : 0;
		unsigned long long add = (unsigned long long)ops[i].add;

		at += put_u32(rec + at, ops[i].klen);
		memcpy(rec + at, ops[i].key, ops[i].klen);
		at += ops[i].klen;
		for (int b = 0; b < 8; b++)
			rec[at++] = (unsigned char)(add >> (8 * b));
		at += put_u32(rec + at, vlen);
		if (vlen)
			memcpy(rec + at, ops[i].val, vlen);
		at += vlen;
	}
	/* keys in time order, distinct across processes: the fold applies them in order */
	op.klen = (size_t)snprintf(key, sizeof key, PENDING "%016llx-%08x-%08x",
				   (unsigned long long)wall_ns(), (unsigned)getpid(), serial++);
	op.val = rec;
	op.vlen = len;
	rc = af_store_write(s, &op, 1);
	free(rec);
	return rc;
}

/* The changes of the deferred records, summed per count name. */
typedef struct fold_entry {
	char *name;
	size_t nlen;
	long long add;
	char *val; /* the latest record's; NULL: none */
	size_t vlen;
	int has_val;
} fold_entry;

typedef struct fold_map {
	fold_entry *slots;
	size_t cap, used;
} fold_map;

static uint64_t name_hash(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static fold_entry *slot_of(fold_map *m, const void *name, size_t nlen)
{
	size_t i = (size_t)name_hash(name, nlen) & (m->cap - 1);

	while (m->slots[i].name &&
	       (m->slots[i].nlen != nlen || memcmp(m->slots[i].name, name, nlen) != 0))
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static int grow_map(fold_map *m)
{
	fold_map bigger = {calloc(m->cap ? m->cap * 2 : 1024, sizeof(fold_entry)),
			   m->cap ? m->cap * 2 : 1024, m->used};

	if (!bigger.slots)
		return ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].name)
			*slot_of(&bigger, m->slots[i].name, m->slots[i].nlen) = m->slots[i];
	free(m->slots);
	*m = bigger;
	return 0;
}

static void free_map(fold_map *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->slots[i].name);
		free(m->slots[i].val);
	}
	free(m->slots);
}

/* Add one change to the map (copies: the record's memory is the map's until the next write). */
static int fold_change(fold_map *m, const unsigned char *name, size_t nlen, long long add,
		       const unsigned char *val, size_t vlen, int has_val)
{
	fold_entry *e;

	if ((m->used + 1) * 2 > m->cap && grow_map(m))
		return ENOMEM;
	e = slot_of(m, name, nlen);
	if (!e->name) {
		if (!(e->name = malloc(nlen ? nlen : 1)))
			return ENOMEM;
		memcpy(e->name, name, nlen);
		e->nlen = nlen;
		m->used++;
	}
	e->add += add;
	if (has_val) {
		char *copy = malloc(vlen ? vlen : 1);

		if (!copy)
			return ENOMEM;
		memcpy(copy, val, vlen);
		free(e->val);
		e->val = copy;
		e->vlen = vlen;
		e->has_val = 1;
	}
	return 0;
}

/* Parse one deferred record into the map; MDB_CORRUPTED when it is not one. */
static int fold_record(fold_map *m, const unsigned char *p, size_t len)
{
	size_t at = 0;

	while (at < len) {
		size_t nlen, vlen;
		const unsigned char *name, *val;
		unsigned long long add = 0;
		int rc;

		if (len - at < 4 || len - at - 4 < (nlen = get_u32(p + at)) + 12)
			return MDB_CORRUPTED;
		name = p + at + 4;
		at += 4 + nlen;
		for (int b = 7; b >= 0; b--)
			add = add << 8 | p[at + (size_t)b];
		at += 8;
		vlen = get_u32(p + at);
		at += 4;
		if (len - at < vlen)
			return MDB_CORRUPTED;
		val = p + at;
		at += vlen;
		if ((rc = fold_change(m, name, nlen, (long long)add, val, vlen, vlen > 0)))
			return rc;
	}
	return 0;
}

typedef struct fold_ctx {
	size_t records;
} fold_ctx;

/* Add key k to the list of keys to delete. */
static int keep_key(MDB_val **keys, size_t *n, size_t *cap, const MDB_val *k)
{
	void *copy;

	if (*n == *cap) {
		MDB_val *grown = realloc(*keys, sizeof **keys * (*cap ? *cap * 2 : 16));

		if (!grown)
			return ENOMEM;
		*keys = grown;
		*cap = *cap ? *cap * 2 : 16;
	}
	if (!(copy = malloc(k->mv_size)))
		return ENOMEM;
	memcpy(copy, k->mv_data, k->mv_size);
	(*keys)[(*n)++] = (MDB_val){k->mv_size, copy};
	return 0;
}

/*
 * In the write transaction: read every deferred record (copying what it
 * says: writes move the pages), delete them, then write each sum once.
 */
static int fold_txn(af_store *s, MDB_txn *txn, void *ctx)
{
	fold_ctx *f = ctx;
	fold_map m = {0};
	MDB_cursor *cur;
	MDB_val k = {sizeof PENDING - 1, PENDING}, v, *keys = NULL;
	size_t nkeys = 0, cap = 0;
	MDB_dbi dbi = s->dbi[AF_DB_COUNTERS];
	int rc = mdb_cursor_open(txn, dbi, &cur), op = MDB_SET_RANGE;

	if (rc)
		return rc;
	while (rc == 0 && (rc = mdb_cursor_get(cur, &k, &v, op)) == 0 &&
	       k.mv_size >= sizeof PENDING - 1 && memcmp(k.mv_data, PENDING, sizeof PENDING - 1) == 0) {
		if ((rc = fold_record(&m, v.mv_data, v.mv_size)) == 0)
			rc = keep_key(&keys, &nkeys, &cap, &k);
		op = MDB_NEXT;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < nkeys; i++)
		rc = mdb_del(txn, dbi, &keys[i], NULL);
	for (size_t i = 0; rc == 0 && i < m.cap; i++) {
		fold_entry *e = &m.slots[i];
		af_store_op change = {AF_DB_COUNTERS, e->name, e->nlen, e->has_val ? e->val : NULL,
				      e->vlen, e->add};

		if (e->name && e->add)
			rc = apply(s, txn, &change, 1);
	}
	f->records = nkeys;
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i].mv_data);
	free(keys);
	free_map(&m);
	return rc;
}

int af_store_fold_counts(af_store *s, size_t *records)
{
	fold_ctx f = {0};
	int rc = write_txn(s, fold_txn, &f);

	if (records)
		*records = rc == AF_OK ? f.records : 0;
	return rc;
}

size_t af_store_deferred(af_store *s)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = {sizeof PENDING - 1, PENDING}, v;
	size_t n = 0;
	int op = MDB_SET_RANGE;

	if (begin_read(s, &txn))
		return 0;
	if (mdb_cursor_open(txn, s->dbi[AF_DB_COUNTERS], &cur) == 0) {
		while (mdb_cursor_get(cur, &k, &v, op) == 0 && k.mv_size >= sizeof PENDING - 1 &&
		       memcmp(k.mv_data, PENDING, sizeof PENDING - 1) == 0) {
			n++;
			op = MDB_NEXT;
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_reset(txn);
	return n;
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
