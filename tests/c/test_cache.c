/* test_cache.c - the result cache (core/cache.c) over the LMDB backend and over a backend of the test's own. */
#include "af.h"
#include "cache.h"
#include "store.h"
#include "test.h"

#include <stdint.h>

static char dir[512];

static void fresh_dir(const char *name)
{
	char cmd[1100];

	snprintf(dir, sizeof dir, "%s/%s", getenv("AF_TEST_TMP"), name);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	T_EQ_INT(0, system(cmd));
}

/* {"status": "success"}, packed */
static const char RESULT[] = "\x81\xa6status\xa7success";
#define RESULT_LEN (sizeof RESULT - 1)

static af_cache_str S(const char *s)
{
	return (af_cache_str){s, strlen(s)};
}

/* A put of `key` by `agent` at time `created`, output `out` (packed), covering `file`. */
static af_cache_put put_of(const char *key, const char *agent, double created, double ttl,
			   const char *out, size_t out_len, const af_cache_str *file)
{
	static af_cache_str lineage[2];

	lineage[0] = S("p:prompt/");
	lineage[1] = S("a:agent/");
	return (af_cache_put){.key = S(key), .agent = S(agent), .commit = S("c0ffee"),
			      .created = created, .ttl = ttl, .result = RESULT, .result_len = RESULT_LEN,
			      .output = out, .output_len = out_len, .manifest = "\x80", .manifest_len = 1,
			      .files = file, .nfiles = file ? 1 : 0, .lineage = lineage, .nlineage = 2};
}

static af_cache *open_lmdb(const char *name, af_store **s)
{
	af_cache *c = NULL;

	fresh_dir(name);
	T_EQ_INT(AF_OK, af_store_open(s, dir, 0));
	T_EQ_INT(AF_OK, af_cache_open(&c, af_cache_lmdb(*s)));
	return c;
}

/* How many keys database db holds. */
static size_t rows_in(af_store *s, int db)
{
	size_t n = 0, bytes;

	T_EQ_INT(AF_OK, af_store_count(s, db, &n, &bytes));
	return n;
}

static void close_lmdb(af_cache *c, af_store *s)
{
	af_cache_close(c);
	af_store_close(s);
}

/* ---- a backend of the test's own: every space in memory ---------------------- */

typedef struct row {
	int space;
	char *key, *val;
	size_t klen, vlen;
} row;

typedef struct mem_backend {
	af_cache_backend base;
	row rows[256];
	size_t n;
	int puts;
} mem_backend;

static row *find(mem_backend *m, int space, const void *key, size_t klen)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->rows[i].space == space && m->rows[i].klen == klen && memcmp(m->rows[i].key, key, klen) == 0)
			return &m->rows[i];
	return NULL;
}

static int mem_get(af_cache_backend *b, int space, const void *key, size_t klen, af_buf *out)
{
	row *r = find((mem_backend *)b, space, key, klen);

	if (!r)
		return AF_ENOTFOUND;
	out->len = 0;
	return af_buf_add(out, r->val, r->vlen);
}

static int mem_exists(af_cache_backend *b, int space, const void *key, size_t klen)
{
	return find((mem_backend *)b, space, key, klen) ? AF_OK : AF_ENOTFOUND;
}

static int mem_del(af_cache_backend *b, int space, const void *key, size_t klen)
{
	mem_backend *m = (mem_backend *)b;
	row *r = find(m, space, key, klen);

	if (r) {
		free(r->key), free(r->val);
		*r = m->rows[--m->n];
	}
	return AF_OK;
}

static char *dup_bytes(const void *p, size_t n)
{
	char *q = malloc(n ? n : 1);

	memcpy(q, p, n);
	return q;
}

static int mem_put(af_cache_backend *b, const af_cache_op *ops, size_t n)
{
	mem_backend *m = (mem_backend *)b;

	m->puts++;
	for (size_t i = 0; i < n; i++) {
		const af_cache_op *op = &ops[i];
		row *r = find(m, op->space, op->key, op->klen);
		char text[64];
		long long had = 0;

		if (!op->val && !op->add) {
			mem_del(b, op->space, op->key, op->klen);
			continue;
		}
		if (op->add) { /* "COUNT [TEXT]" */
			if (r)
				had = strtoll(r->val, NULL, 10);
			snprintf(text, sizeof text, "%lld%s%.*s", had + op->add, op->val ? " " : "",
				 (int)op->vlen, op->val ? (const char *)op->val : "");
		}
		if (!r) {
			r = &m->rows[m->n++];
			*r = (row){op->space, dup_bytes(op->key, op->klen), NULL, op->klen, 0};
		}
		free(r->val);
		r->val = op->add ? dup_bytes(text, strlen(text) + 1) : dup_bytes(op->val, op->vlen);
		r->vlen = op->add ? strlen(text) : op->vlen;
	}
	return AF_OK;
}

static int by_key(const void *a, const void *b)
{
	const row *x = *(row *const *)a, *y = *(row *const *)b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);

	return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static int mem_iterate(af_cache_backend *b, int space, const void *prefix, size_t plen,
		       af_cache_visit visit, void *ctx)
{
	mem_backend *m = (mem_backend *)b;
	row *sorted[256];
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->rows[i].space == space && m->rows[i].klen >= plen && memcmp(m->rows[i].key, prefix, plen) == 0)
			sorted[n++] = &m->rows[i];
	qsort(sorted, n, sizeof *sorted, by_key);
	for (size_t i = 0; i < n; i++)
		if (visit(sorted[i]->key, sorted[i]->klen, sorted[i]->val, sorted[i]->vlen, ctx))
			break;
	return AF_OK;
}

static void mem_close(af_cache_backend *b)
{
	mem_backend *m = (mem_backend *)b;

	for (size_t i = 0; i < m->n; i++)
		free(m->rows[i].key), free(m->rows[i].val);
	free(m);
}

static mem_backend *mem_new(void)
{
	mem_backend *m = calloc(1, sizeof *m);

	m->base = (af_cache_backend){"memory", mem_get, mem_exists, mem_put, mem_del, mem_iterate, mem_close};
	return m;
}

/* ---- the tests ---------------------------------------------------------------- */

/* An entry stored and looked up: its record with the output added, fresh until its TTL. */
static void check_store_lookup(af_cache *c)
{
	af_buf result = {0}, output = {0}, raw = {0};
	af_cache_put p = put_of("k1", "agent-a", 1000, 60, "\xa5hello", 6, NULL);
	af_cache_entry e;

	T_EQ_INT(AF_CACHE_MISSING, af_cache_lookup(c, "k1", 2, 1001, &result, &output));
	T_EQ_INT(AF_OK, af_cache_store(c, &p));
	T_EQ_INT(AF_CACHE_FRESH, af_cache_lookup(c, "k1", 2, 1001, &result, &output));
	T_EQ_INT(0, output.len);
	/* the map now holds two pairs: status, and output after it */
	T_EQ_INT(0x82, (unsigned char)result.p[0]);
	T_EQ_INT(RESULT_LEN + 7 + 6, result.len);
	T_CHECK(memcmp(result.p + result.len - 13, "\xa6output\xa5hello", 13) == 0);
	T_EQ_INT(AF_CACHE_EXPIRED, af_cache_lookup(c, "k1", 2, 1061, &result, &output));
	T_EQ_INT(AF_OK, af_cache_raw(c, "k1", 2, &raw));
	T_EQ_INT(AF_OK, af_cache_decode(raw.p, raw.len, 0, &e));
	T_EQ_INT(AF_CACHE_VERSION, e.version);
	T_CHECK(e.expires && e.expires_at == 1060);
	T_CHECK(e.agent.len == 7 && memcmp(e.agent.p, "agent-a", 7) == 0);
	T_CHECK(e.commit.len == 6 && e.branch.p == NULL && e.blob.p == NULL);
	T_EQ_INT(6, e.size);
	T_CHECK(e.created == 1000);
	af_buf_free(&result);
	af_buf_free(&output);
	af_buf_free(&raw);
}

static void test_store_lookup_lmdb(void)
{
	af_store *s;
	af_cache *c = open_lmdb("cache-basic", &s);

	check_store_lookup(c);
	close_lmdb(c, s);
}

static void test_another_backend_is_one_file(void)
{
	mem_backend *m = mem_new();
	af_cache *c;

	T_EQ_INT(AF_OK, af_cache_open(&c, &m->base));
	check_store_lookup(c);
	/* one put for the entry, its manifest, lineage rows and index rows */
	T_EQ_INT(1, m->puts);
	T_CHECK(find(m, AF_CACHE_MANIFESTS, "k1", 2) != NULL);
	T_EQ_INT(4, m->n); /* entry, manifest, two lineage rows */
	af_cache_close(c);
}

static void test_never_expires_and_blobs(void)
{
	af_store *s;
	af_cache *c = open_lmdb("cache-blob", &s);
	size_t n = AF_CACHE_BLOB_MIN + 100;
	char *big = malloc(n + 5);
	af_buf result = {0}, output = {0};
	af_cache_put p, q;
	af_cache_str key = S("k2");
	size_t removed, blobs;

	big[0] = (char)0xdb; /* str 32 */
	big[1] = 0, big[2] = 0, big[3] = (char)((n >> 8) & 0xff), big[4] = (char)(n & 0xff);
	memset(big + 5, 'x', n);
	p = put_of("k2", "agent-b", 1000, -1, big, n + 5, NULL);
	q = put_of("k3", "agent-b", 1001, -1, big, n + 5, NULL);
	T_EQ_INT(AF_OK, af_cache_store(c, &p));
	T_EQ_INT(AF_OK, af_cache_store(c, &q));
	T_EQ_INT(AF_CACHE_FRESH, af_cache_lookup(c, "k2", 2, 1e12, &result, &output));
	T_EQ_INT(n + 5, output.len);
	T_EQ_INT(RESULT_LEN, result.len); /* the record holds no output */
	/* the blob stays while an entry uses it */
	T_EQ_INT(AF_OK, af_cache_remove(c, &key, 1, &removed));
	T_EQ_INT(1, removed);
	T_EQ_INT(AF_CACHE_FRESH, af_cache_lookup(c, "k3", 2, 1e12, &result, &output));
	T_EQ_INT(AF_OK, af_cache_invalidate_agent(c, "agent-b", 7, &removed));
	T_EQ_INT(1, removed);
	blobs = rows_in(s, AF_DB_BLOBS);
	T_EQ_INT(0, blobs); /* the last entry using it went: so did the blob */
	free(big);
	af_buf_free(&result);
	af_buf_free(&output);
	close_lmdb(c, s);
}

static void test_other_versions_and_damage_miss(void)
{
	af_store *s;
	af_cache *c = open_lmdb("cache-version", &s);
	af_store_op old = {AF_DB_ENTRIES, "k4", 2, "\x04\xc0\xc0\x80\x80", 5, 0};
	af_store_op cut = {AF_DB_ENTRIES, "k5", 2, "\x05\xc0\xc0\x83", 4, 0};
	af_buf result = {0}, output = {0};
	af_cache_entry e;
	size_t expired, evicted;
	long long bytes;

	T_EQ_INT(AF_OK, af_store_write(s, &old, 1));
	T_EQ_INT(AF_OK, af_store_write(s, &cut, 1));
	T_EQ_INT(AF_CACHE_MISSING, af_cache_lookup(c, "k4", 2, 0, &result, &output));
	T_EQ_INT(AF_CACHE_MISSING, af_cache_lookup(c, "k5", 2, 0, &result, &output));
	T_EQ_INT(AF_EINVAL, af_cache_decode("\x04\xc0\xc0\x80\x80", 5, 1, &e));
	T_EQ_INT(4, e.version);
	/* prune removes what cannot be read */
	T_EQ_INT(AF_OK, af_cache_prune(c, 0, 0, &expired, &evicted, &bytes));
	T_EQ_INT(2, expired);
	af_buf_free(&result);
	af_buf_free(&output);
	close_lmdb(c, s);
}

static void test_lineage(void)
{
	af_store *s;
	af_cache *c = open_lmdb("cache-lineage", &s);
	af_cache_put a = put_of("ka", "x", 100, 10, "\xa1" "a", 2, NULL);
	af_cache_put b = put_of("kb", "x", 200, 10, "\xa1" "b", 2, NULL);
	af_cache_put b2 = put_of("kb", "x", 300, 10, "\xa1" "b", 2, NULL);
	af_cache_str p = S("p:prompt/"), kb = S("kb"), kz = S("kz");
	af_buf out = {0};

	T_EQ_INT(AF_ENOTFOUND, af_cache_previous(c, &p, &kz, -1, -1, &out));
	T_EQ_INT(AF_OK, af_cache_store(c, &a));
	T_EQ_INT(AF_OK, af_cache_store(c, &b));
	T_EQ_INT(AF_OK, af_cache_previous(c, &p, &kz, -1, -1, &out));
	T_CHECK(out.len == 2 && memcmp(out.p, "kb", 2) == 0);
	T_EQ_INT(AF_OK, af_cache_previous(c, &p, &kb, -1, -1, &out));
	T_CHECK(out.len == 2 && memcmp(out.p, "ka", 2) == 0);
	T_EQ_INT(AF_OK, af_cache_previous(c, &p, &kz, -1, 150, &out));
	T_CHECK(out.len == 2 && memcmp(out.p, "ka", 2) == 0);
	T_EQ_INT(AF_ENOTFOUND, af_cache_previous(c, &p, &kz, -1, 50, &out));
	/* the same key stored again: passing over its newest row finds its older one */
	T_EQ_INT(AF_OK, af_cache_store(c, &b2));
	T_EQ_INT(AF_OK, af_cache_previous(c, &p, &kb, 1, -1, &out));
	T_CHECK(out.len == 2 && memcmp(out.p, "kb", 2) == 0);
	T_EQ_INT(AF_OK, af_cache_previous(c, &p, &kb, -1, -1, &out));
	T_CHECK(out.len == 2 && memcmp(out.p, "ka", 2) == 0);
	af_buf_free(&out);
	close_lmdb(c, s);
}

static void test_file_index(void)
{
	af_store *s;
	af_cache *c = open_lmdb("cache-files", &s);
	af_cache_str fa = S("src/a.lua"), fab = S("src/a.lua.bak");
	af_cache_put p1 = put_of("k1", "x", 100, 10, "\xa1" "a", 2, &fa);
	af_cache_put p2 = put_of("k2", "x", 100, 10, "\xa1" "a", 2, &fab);
	af_cache_put p3 = put_of("k3", "x", 100, 10, "\xa1" "a", 2, NULL);
	af_buf result = {0}, output = {0};
	size_t removed, rows, lineage;

	T_EQ_INT(AF_OK, af_cache_store(c, &p1));
	T_EQ_INT(AF_OK, af_cache_store(c, &p2));
	T_EQ_INT(AF_OK, af_cache_store(c, &p3));
	T_EQ_INT(AF_OK, af_cache_invalidate_file(c, "src/a.lua", 9, &removed));
	T_EQ_INT(1, removed);
	T_EQ_INT(AF_CACHE_MISSING, af_cache_lookup(c, "k1", 2, 0, &result, &output));
	T_EQ_INT(AF_CACHE_FRESH, af_cache_lookup(c, "k2", 2, 0, &result, &output));
	T_EQ_INT(AF_CACHE_FRESH, af_cache_lookup(c, "k3", 2, 0, &result, &output));
	/* what hung off k1 went with it: its index row, lineage rows, manifest */
	rows = rows_in(s, AF_DB_FILES);
	T_EQ_INT(1, rows);
	lineage = rows_in(s, AF_DB_LINEAGE);
	T_EQ_INT(4, lineage);
	T_EQ_INT(AF_ENOTFOUND, af_cache_manifest(c, "k1", 2, &result));
	T_EQ_INT(AF_OK, af_cache_invalidate_file(c, "nothing", 7, &removed));
	T_EQ_INT(0, removed);
	af_buf_free(&result);
	af_buf_free(&output);
	close_lmdb(c, s);
}

static void test_counts_and_stats(void)
{
	af_store *s;
	af_cache *c = open_lmdb("cache-counts", &s);
	af_cache_put p = put_of("k1", "agent-a", 100, 10, "\xa1" "a", 2, NULL);
	af_cache_agent_stats *st;
	size_t n;
	long long count;
	double last;

	T_EQ_INT(AF_OK, af_cache_store(c, &p));
	T_EQ_INT(AF_OK, af_cache_count_hit(c, "agent-a", 7, "k1", 2));
	T_EQ_INT(AF_OK, af_cache_count_hit(c, "agent-a", 7, "k1", 2));
	T_EQ_INT(AF_OK, af_cache_count_miss(c, "agent-b", 7));
	T_EQ_INT(AF_OK, af_cache_access(c, "k1", 2, &count, &last));
	T_EQ_INT(0, count); /* not written yet */
	T_EQ_INT(AF_OK, af_cache_flush_counts(c, 1764000000.5));
	T_EQ_INT(AF_OK, af_cache_access(c, "k1", 2, &count, &last));
	T_EQ_INT(2, count);
	T_CHECK(last == 1764000000.5);
	T_EQ_INT(AF_OK, af_cache_stats(c, &st, &n));
	T_EQ_INT(2, n);
	if (n == 2) {
		T_EQ_STR("agent-a", st[0].agent);
		T_EQ_INT(1, st[0].entries);
		T_EQ_INT(2, st[0].hits);
		T_CHECK(st[0].bytes > 0);
		T_EQ_STR("agent-b", st[1].agent);
		T_EQ_INT(0, st[1].entries);
		T_EQ_INT(1, st[1].misses);
	}
	af_cache_stats_free(st, n);
	close_lmdb(c, s);
}

static void test_prune(void)
{
	af_store *s;
	af_cache *c = open_lmdb("cache-prune", &s);
	af_cache_put old = put_of("k-old", "x", 100, 10, "\xa1" "a", 2, NULL);
	af_cache_put used = put_of("k-used", "x", 200, -1, "\xa1" "a", 2, NULL);
	af_cache_put idle = put_of("k-idle", "x", 300, -1, "\xa1" "a", 2, NULL);
	af_buf result = {0}, output = {0};
	size_t expired, evicted;
	long long bytes, one;

	T_EQ_INT(AF_OK, af_cache_store(c, &old));
	T_EQ_INT(AF_OK, af_cache_store(c, &used));
	T_EQ_INT(AF_OK, af_cache_store(c, &idle));
	T_EQ_INT(AF_OK, af_cache_count_hit(c, "x", 1, "k-used", 6));
	T_EQ_INT(AF_OK, af_cache_flush_counts(c, 400));
	T_EQ_INT(AF_OK, af_cache_prune(c, 150, 0, &expired, &evicted, &bytes));
	T_EQ_INT(1, expired);
	T_EQ_INT(0, evicted);
	one = bytes / 2;
	/* over the limit: the least recently used goes (k-idle: created 300, never used; k-used: used at 400) */
	T_EQ_INT(AF_OK, af_cache_prune(c, 150, one, &expired, &evicted, &bytes));
	T_EQ_INT(0, expired);
	T_EQ_INT(1, evicted);
	T_CHECK(bytes <= one);
	T_EQ_INT(AF_CACHE_FRESH, af_cache_lookup(c, "k-used", 6, 500, &result, &output));
	T_EQ_INT(AF_CACHE_MISSING, af_cache_lookup(c, "k-idle", 6, 500, &result, &output));
	af_buf_free(&result);
	af_buf_free(&output);
	close_lmdb(c, s);
}

static void test_result_must_be_a_map(void)
{
	af_store *s;
	af_cache *c = open_lmdb("cache-bad", &s);
	af_cache_put p = put_of("k1", "x", 100, 10, "\xa1" "a", 2, NULL);

	p.result = "\xa3" "abc", p.result_len = 4;
	T_EQ_INT(AF_EINVAL, af_cache_store(c, &p));
	close_lmdb(c, s);
}

int main(void)
{
	T_RUN(test_store_lookup_lmdb);
	T_RUN(test_another_backend_is_one_file);
	T_RUN(test_never_expires_and_blobs);
	T_RUN(test_other_versions_and_damage_miss);
	T_RUN(test_lineage);
	T_RUN(test_file_index);
	T_RUN(test_counts_and_stats);
	T_RUN(test_prune);
	T_RUN(test_result_must_be_a_map);
	return t_done();
}
