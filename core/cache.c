/*
 * cache.c - the result cache (cache.h): the entry format, lookups, stores,
 * lineage, the file index, use counts, stats and pruning, over a backend.
 */
#include "cache.h"
#include "af.h"
#include "hash.h"
#include "tally.h"

#include <math.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct af_cache {
	af_cache_backend *local;
	af_tally hits, misses, access; /* counted since the last flush */
};

/* ---- writing MessagePack ---------------------------------------------------- */

/* msgpack-c writes through this; a failed append leaves the buffer marked. */
typedef struct writer {
	af_buf *b;
	int rc;
} writer;

static int write_cb(void *data, const char *buf, size_t len)
{
	writer *w = data;

	if (w->rc == AF_OK)
		w->rc = af_buf_add(w->b, buf, len);
	return w->rc == AF_OK ? 0 : -1;
}

static void pack_str(msgpack_packer *pk, const af_cache_str *s)
{
	if (s->p)
		msgpack_pack_str_with_body(pk, s->p, s->len);
	else
		msgpack_pack_nil(pk);
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* ---- reading MessagePack ---------------------------------------------------- */

/* A position in packed bytes; reads fail (return 0) past the end or on a type not asked for. */
typedef struct cursor {
	const unsigned char *p, *end;
} cursor;

#define MAX_DEPTH 64

static int take_be(cursor *c, int n, uint64_t *v)
{
	if (c->end - c->p < n)
		return 0;
	*v = 0;
	for (int i = 0; i < n; i++)
		*v = *v << 8 | *c->p++;
	return 1;
}

static int skip_bytes(cursor *c, uint64_t n)
{
	if ((uint64_t)(c->end - c->p) < n)
		return 0;
	c->p += n;
	return 1;
}

static int skip_value(cursor *c, int depth);

static int skip_values(cursor *c, uint64_t n, int depth)
{
	for (uint64_t i = 0; i < n; i++)
		if (!skip_value(c, depth + 1))
			return 0;
	return 1;
}

/* Skip a value whose length (or element count) follows in n bytes. */
static int skip_sized(cursor *c, int n, char kind, int depth)
{
	uint64_t len;

	if (!take_be(c, n, &len))
		return 0;
	switch (kind) {
	case 'a':
		return skip_values(c, len, depth);
	case 'm':
		return len <= UINT64_MAX / 2 && skip_values(c, len * 2, depth);
	case 'e':
		return skip_bytes(c, len + 1);
	default:
		return skip_bytes(c, len);
	}
}

static int skip_value(cursor *c, int depth)
{
	unsigned t;

	if (depth > MAX_DEPTH || c->p == c->end)
		return 0;
	t = *c->p++;
	if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
		return 1;
	if (t <= 0x8f)
		return skip_values(c, (uint64_t)(t & 0x0f) * 2, depth);
	if (t <= 0x9f)
		return skip_values(c, t & 0x0f, depth);
	if (t <= 0xbf)
		return skip_bytes(c, t & 0x1f);
	switch (t) {
	case 0xc4: case 0xc5: case 0xc6: return skip_sized(c, 1 << (t - 0xc4), 's', depth);
	case 0xc7: case 0xc8: case 0xc9: return skip_sized(c, 1 << (t - 0xc7), 'e', depth);
	case 0xca: return skip_bytes(c, 4);
	case 0xcb: return skip_bytes(c, 8);
	case 0xcc: case 0xcd: case 0xce: case 0xcf: return skip_bytes(c, 1u << (t - 0xcc));
	case 0xd0: case 0xd1: case 0xd2: case 0xd3: return skip_bytes(c, 1u << (t - 0xd0));
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		return skip_bytes(c, ((uint64_t)1 << (t - 0xd4)) + 1);
	case 0xd9: case 0xda: case 0xdb: return skip_sized(c, 1 << (t - 0xd9), 's', depth);
	case 0xdc: case 0xdd: return skip_sized(c, t == 0xdc ? 2 : 4, 'a', depth);
	case 0xde: case 0xdf: return skip_sized(c, t == 0xde ? 2 : 4, 'm', depth);
	default: return 0;
	}
}

static int take_nil(cursor *c)
{
	if (c->p < c->end && *c->p == 0xc0) {
		c->p++;
		return 1;
	}
	return 0;
}

static int take_int(cursor *c, long long *v)
{
	uint64_t u;
	unsigned t;

	if (c->p == c->end)
		return 0;
	t = *c->p;
	if (t <= 0x7f || t >= 0xe0) {
		c->p++;
		*v = (int8_t)t;
		return 1;
	}
	if (t >= 0xcc && t <= 0xcf) {
		c->p++;
		if (!take_be(c, 1 << (t - 0xcc), &u) || u > INT64_MAX)
			return 0;
		*v = (long long)u;
		return 1;
	}
	if (t >= 0xd0 && t <= 0xd3) {
		int n = 1 << (t - 0xd0), shift = 64 - 8 * n;

		c->p++;
		if (!take_be(c, n, &u))
			return 0;
		*v = (long long)((int64_t)(u << shift) >> shift);
		return 1;
	}
	return 0;
}

/* A float or an integer, as a double. */
static int take_number(cursor *c, double *x)
{
	uint64_t u;
	long long i;

	if (c->p < c->end && (*c->p == 0xca || *c->p == 0xcb)) {
		int n = *c->p++ == 0xca ? 4 : 8;

		if (!take_be(c, n, &u))
			return 0;
		if (n == 4) {
			uint32_t bits = (uint32_t)u;
			float f;

			memcpy(&f, &bits, sizeof f);
			*x = f;
		} else {
			memcpy(x, &u, sizeof *x);
		}
		return 1;
	}
	if (!take_int(c, &i))
		return 0;
	*x = (double)i;
	return 1;
}

/* A string (str or bin), or nil (s->p NULL). */
static int take_str(cursor *c, af_cache_str *s)
{
	uint64_t len;
	unsigned t;

	if (take_nil(c)) {
		*s = (af_cache_str){NULL, 0};
		return 1;
	}
	if (c->p == c->end)
		return 0;
	t = *c->p++;
	if (t >= 0xa0 && t <= 0xbf)
		len = t & 0x1f;
	else if (t >= 0xd9 && t <= 0xdb)
		{ if (!take_be(c, 1 << (t - 0xd9), &len)) return 0; }
	else if (t >= 0xc4 && t <= 0xc6)
		{ if (!take_be(c, 1 << (t - 0xc4), &len)) return 0; }
	else
		return 0;
	if ((uint64_t)(c->end - c->p) < len)
		return 0;
	*s = (af_cache_str){(const char *)c->p, (size_t)len};
	c->p += len;
	return 1;
}

static int take_container(cursor *c, unsigned fix_lo, unsigned b16, uint64_t *n)
{
	unsigned t;

	if (c->p == c->end)
		return 0;
	t = *c->p;
	if (t >= fix_lo && t <= fix_lo + 0x0f) {
		c->p++;
		*n = t & 0x0f;
		return 1;
	}
	if (t == b16 || t == b16 + 1) {
		c->p++;
		return take_be(c, t == b16 ? 2 : 4, n);
	}
	return 0;
}

static int take_map(cursor *c, uint64_t *n)
{
	return take_container(c, 0x80, 0xde, n);
}

static int take_array(cursor *c, uint64_t *n)
{
	return take_container(c, 0x90, 0xdc, n);
}

static int str_is(const af_cache_str *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->p && s->len == n && memcmp(s->p, lit, n) == 0;
}

/* ---- entries ---------------------------------------------------------------- */

/* Visit each string of the array under `name` in the meta map at m[0..n). */
static int each_meta_str(const void *m, size_t n, const char *name,
			 int (*fn)(const af_cache_str *s, void *ctx), void *ctx)
{
	cursor c = {m, (const unsigned char *)m + n};
	uint64_t pairs, len;
	af_cache_str k, s;
	int rc;

	if (!m || !take_map(&c, &pairs))
		return AF_OK;
	for (uint64_t i = 0; i < pairs; i++) {
		if (!take_str(&c, &k))
			return AF_EINVAL;
		if (!str_is(&k, name)) {
			if (!skip_value(&c, 1))
				return AF_EINVAL;
			continue;
		}
		if (!take_array(&c, &len))
			return AF_EINVAL;
		for (uint64_t j = 0; j < len; j++) {
			if (!take_str(&c, &s) || !s.p)
				return AF_EINVAL;
			if ((rc = fn(&s, ctx)))
				return rc;
		}
	}
	return AF_OK;
}

static int read_meta(cursor *c, af_cache_entry *e)
{
	uint64_t pairs;
	af_cache_str k;

	if (!take_map(c, &pairs))
		return 0;
	for (uint64_t i = 0; i < pairs; i++) {
		int ok;

		if (!take_str(c, &k))
			return 0;
		if (str_is(&k, "key"))
			ok = take_str(c, &e->key);
		else if (str_is(&k, "agent"))
			ok = take_str(c, &e->agent);
		else if (str_is(&k, "commit"))
			ok = take_str(c, &e->commit);
		else if (str_is(&k, "branch"))
			ok = take_str(c, &e->branch);
		else if (str_is(&k, "created"))
			ok = take_number(c, &e->created);
		else if (str_is(&k, "size"))
			ok = take_int(c, &e->size);
		else
			ok = skip_value(c, 1);
		if (!ok)
			return 0;
	}
	return 1;
}

/* The entry as af_cache_decode reads it, and where its meta map lies. */
static int decode(const void *raw, size_t n, int header_only, af_cache_entry *e, const void **meta,
		  size_t *meta_len)
{
	cursor c = {raw, (const unsigned char *)raw + n};
	const unsigned char *result;

	memset(e, 0, sizeof *e);
	e->raw_len = n;
	if (!take_int(&c, &e->version) || e->version != AF_CACHE_VERSION)
		return AF_EINVAL;
	if (!take_nil(&c)) {
		if (!take_number(&c, &e->expires_at))
			return AF_EINVAL;
		e->expires = 1;
	}
	if (!take_str(&c, &e->blob))
		return AF_EINVAL;
	result = c.p;
	if (!skip_value(&c, 0))
		return AF_EINVAL;
	e->result = result;
	e->result_len = (size_t)(c.p - result);
	if (header_only)
		return AF_OK;
	if (meta)
		*meta = c.p, *meta_len = (size_t)(c.end - c.p);
	return read_meta(&c, e) ? AF_OK : AF_EINVAL;
}

int af_cache_decode(const void *raw, size_t n, int header_only, af_cache_entry *e)
{
	return decode(raw, n, header_only, e, NULL, NULL);
}

/* ---- the cache --------------------------------------------------------------- */

int af_cache_open(af_cache **out, af_cache_backend *local)
{
	af_cache *c = calloc(1, sizeof *c);

	if (!c)
		return af_error_set(AF_ENOMEM, "out of memory");
	c->local = local;
	*out = c;
	return AF_OK;
}

void af_cache_close(af_cache *c)
{
	if (!c)
		return;
	af_tally_clear(&c->hits);
	af_tally_clear(&c->misses);
	af_tally_clear(&c->access);
	c->local->close(c->local);
	free(c);
}

static int fresh_at(const af_cache_entry *e, double now)
{
	return !e->expires || e->expires_at > now;
}

int af_cache_lookup(af_cache *c, const void *key, size_t klen, double now, af_buf *result,
		    af_buf *output)
{
	af_cache_entry e;
	size_t off;
	int rc = c->local->get(c->local, AF_CACHE_ENTRIES, key, klen, result);

	if (rc == AF_ENOTFOUND)
		return AF_CACHE_MISSING;
	if (rc != AF_OK)
		return rc;
	if (decode(result->p, result->len, 1, &e, NULL, NULL) != AF_OK)
		return AF_CACHE_MISSING;
	if (!fresh_at(&e, now))
		return AF_CACHE_EXPIRED;
	if (e.blob.p) {
		rc = c->local->get(c->local, AF_CACHE_BLOBS, e.blob.p, e.blob.len, output);
		if (rc == AF_ENOTFOUND)
			return AF_CACHE_MISSING; /* its output was removed: as good as no entry */
		if (rc != AF_OK)
			return rc;
	}
	/* keep only the result record: move it to the front */
	off = (size_t)((const char *)e.result - result->p);
	memmove(result->p, result->p + off, e.result_len);
	result->len = e.result_len;
	return AF_CACHE_FRESH;
}

/* ---- storing ------------------------------------------------------------------ */

/* The lineage row of an entry: prefix, its creation time in hex nanoseconds, "/", key. */
static int lineage_row(af_buf *b, const af_cache_str *prefix, double created,
		       const af_cache_str *key)
{
	char stamp[24];
	double ns = created > 0 ? floor(created * 1e9) : 0;

	snprintf(stamp, sizeof stamp, "%016llx/", ns < 1.8e19 ? (unsigned long long)ns : 0ULL);
	b->len = 0;
	if (af_buf_add(b, prefix->p, prefix->len) || af_buf_add(b, stamp, 17) ||
	    af_buf_add(b, key->p, key->len))
		return AF_ENOMEM;
	return AF_OK;
}

static int index_row(af_buf *b, const af_cache_str *path, const af_cache_str *key)
{
	b->len = 0;
	if (af_buf_add(b, path->p, path->len) || af_buf_add(b, "", 1) ||
	    af_buf_add(b, key->p, key->len))
		return AF_ENOMEM;
	return AF_OK;
}

/*
 * Write the result map of p with "output" added (the output inline): a
 * header counting one more pair, the record's pairs as Lua packed them,
 * then the output's key and value.
 */
static int result_with_output(msgpack_packer *pk, writer *w, const af_cache_put *p)
{
	cursor c = {p->result, (const unsigned char *)p->result + p->result_len};
	uint64_t pairs;
	size_t header;

	if (!take_map(&c, &pairs) || pairs >= UINT32_MAX)
		return af_error_set(AF_EINVAL, "a cached result must be a map");
	header = (size_t)(c.p - (const unsigned char *)p->result);
	msgpack_pack_map(pk, (size_t)pairs + 1);
	if (w->rc == AF_OK)
		w->rc = af_buf_add(w->b, c.p, p->result_len - header);
	msgpack_pack_str_with_body(pk, "output", 6);
	if (w->rc == AF_OK)
		w->rc = af_buf_add(w->b, p->output, p->output_len);
	return w->rc;
}

/* The meta map (cache.h) with the lineage rows rows[0..n). */
static void pack_meta(msgpack_packer *pk, const af_cache_put *p, const af_buf *rows, size_t n)
{
	msgpack_pack_map(pk, 8);
	pack_cstr(pk, "key");
	pack_str(pk, &p->key);
	pack_cstr(pk, "agent");
	pack_str(pk, &p->agent);
	pack_cstr(pk, "created");
	msgpack_pack_double(pk, p->created);
	pack_cstr(pk, "commit");
	pack_str(pk, &p->commit);
	pack_cstr(pk, "branch");
	pack_str(pk, &p->branch);
	pack_cstr(pk, "size");
	msgpack_pack_int64(pk, (int64_t)p->output_len);
	pack_cstr(pk, "files");
	msgpack_pack_array(pk, p->nfiles);
	for (size_t i = 0; i < p->nfiles; i++)
		pack_str(pk, &p->files[i]);
	pack_cstr(pk, "lineage");
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_str_with_body(pk, rows[i].p, rows[i].len);
}

/* Encode the entry of p into *b; blob_hash is the output's blob name or NULL (inline). */
static int encode_entry(af_buf *b, const af_cache_put *p, const char *blob_hash,
			const af_buf *rows, size_t nrows)
{
	writer w = {b, AF_OK};
	msgpack_packer pk;
	int rc;

	msgpack_packer_init(&pk, &w, write_cb);
	msgpack_pack_int(&pk, AF_CACHE_VERSION);
	if (p->ttl < 0 || isinf(p->ttl))
		msgpack_pack_nil(&pk);
	else
		msgpack_pack_double(&pk, p->created + p->ttl);
	if (blob_hash) {
		pack_cstr(&pk, blob_hash);
		if (w.rc == AF_OK) {
			cursor c = {p->result, (const unsigned char *)p->result + p->result_len};
			uint64_t pairs;

			if (!take_map(&c, &pairs))
				return af_error_set(AF_EINVAL, "a cached result must be a map");
			w.rc = af_buf_add(b, p->result, p->result_len);
		}
	} else {
		msgpack_pack_nil(&pk);
		if ((rc = result_with_output(&pk, &w, p)))
			return rc;
	}
	pack_meta(&pk, p, rows, nrows);
	return w.rc;
}

/* The rows and buffers af_cache_store fills, freed together. */
typedef struct put_bufs {
	af_buf entry, rows[2], *index;
	size_t nindex;
} put_bufs;

static void put_bufs_free(put_bufs *b)
{
	af_buf_free(&b->entry);
	for (size_t i = 0; i < 2; i++)
		af_buf_free(&b->rows[i]);
	for (size_t i = 0; i < b->nindex; i++)
		af_buf_free(&b->index[i]);
	free(b->index);
}

static int make_rows(put_bufs *b, const af_cache_put *p)
{
	if (p->nlineage > 2)
		return af_error_set(AF_EINVAL, "an entry has two lineage prefixes at most");
	for (size_t i = 0; i < p->nlineage; i++)
		if (lineage_row(&b->rows[i], &p->lineage[i], p->created, &p->key))
			return af_error_set(AF_ENOMEM, "out of memory");
	if (p->nfiles && !(b->index = calloc(p->nfiles, sizeof *b->index)))
		return af_error_set(AF_ENOMEM, "out of memory");
	for (size_t i = 0; i < p->nfiles; i++, b->nindex++)
		if (index_row(&b->index[i], &p->files[i], &p->key))
			return af_error_set(AF_ENOMEM, "out of memory");
	return AF_OK;
}

int af_cache_store(af_cache *c, const af_cache_put *p)
{
	put_bufs b = {0};
	char blob[AF_HASH_HEX];
	int is_blob = p->output_len >= AF_CACHE_BLOB_MIN, rc;
	af_cache_op *ops = calloc(5 + p->nlineage + p->nfiles, sizeof *ops);
	size_t n = 0;

	if (!ops)
		return af_error_set(AF_ENOMEM, "out of memory");
	if (is_blob)
		af_hash(p->output, p->output_len, blob);
	if ((rc = make_rows(&b, p)) ||
	    (rc = encode_entry(&b.entry, p, is_blob ? blob : NULL, b.rows, p->nlineage)))
		goto done;
	if (is_blob)
		ops[n++] = (af_cache_op){AF_CACHE_BLOBS, blob, AF_HASH_HEX - 1, p->output, p->output_len, 0};
	ops[n++] = (af_cache_op){AF_CACHE_ENTRIES, p->key.p, p->key.len, b.entry.p, b.entry.len, 0};
	if (p->manifest)
		ops[n++] = (af_cache_op){AF_CACHE_MANIFESTS, p->key.p, p->key.len, p->manifest,
					 p->manifest_len, 0};
	for (size_t i = 0; i < p->nlineage; i++)
		ops[n++] = (af_cache_op){AF_CACHE_LINEAGE, b.rows[i].p, b.rows[i].len, p->agent.p,
					 p->agent.len, 0};
	for (size_t i = 0; i < b.nindex; i++)
		ops[n++] = (af_cache_op){AF_CACHE_FILES, b.index[i].p, b.index[i].len, "", 0, 0};
	rc = c->local->put(c->local, ops, n);
done:
	put_bufs_free(&b);
	free(ops);
	return rc;
}

int af_cache_remember(af_cache *c, const void *key, size_t klen, const void *manifest, size_t mlen)
{
	af_cache_op op = {AF_CACHE_MANIFESTS, key, klen, manifest, mlen, 0};

	return c->local->put(c->local, &op, 1);
}

int af_cache_manifest(af_cache *c, const void *key, size_t klen, af_buf *out)
{
	return c->local->get(c->local, AF_CACHE_MANIFESTS, key, klen, out);
}

int af_cache_raw(af_cache *c, const void *key, size_t klen, af_buf *out)
{
	return c->local->get(c->local, AF_CACHE_ENTRIES, key, klen, out);
}

int af_cache_blob(af_cache *c, const void *hash, size_t hlen, af_buf *out)
{
	return c->local->get(c->local, AF_CACHE_BLOBS, hash, hlen, out);
}

/* ---- lineage ---------------------------------------------------------------- */

typedef struct previous_ctx {
	size_t plen;
	const af_cache_str *own;
	char limit[17];
	int any_time;
	af_cache_str newest, second, other; /* rows' keys, in the store's bytes: copied at once */
	af_buf keep[3];
	int rc;
} previous_ctx;

/* Copy the key k into slot i of p (its own buffer). */
static void keep_key(previous_ctx *p, int i, const char *k, size_t kl)
{
	af_cache_str *slot = i == 0 ? &p->newest : i == 1 ? &p->second : &p->other;

	p->keep[i].len = 0;
	if (af_buf_add(&p->keep[i], k, kl))
		p->rc = AF_ENOMEM;
	*slot = (af_cache_str){p->keep[i].p, kl};
}

/* Rows come in time order: each one that qualifies is the newest so far. */
static int previous_row(const void *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	previous_ctx *p = ctx;
	const char *stamp = (const char *)key + p->plen, *k = stamp + 17;
	size_t kl;

	(void)val, (void)vlen;
	if (klen < p->plen + 17 || (!p->any_time && memcmp(stamp, p->limit, 16) >= 0))
		return 0;
	kl = klen - p->plen - 17;
	if (p->newest.p) { /* the newest becomes the second: swap their buffers */
		af_buf t = p->keep[1];

		p->keep[1] = p->keep[0], p->keep[0] = t;
		p->second = (af_cache_str){p->keep[1].p, p->newest.len};
	}
	keep_key(p, 0, k, kl);
	if (!(kl == p->own->len && memcmp(k, p->own->p, kl) == 0))
		keep_key(p, 2, k, kl);
	return p->rc != AF_OK;
}

int af_cache_previous(af_cache *c, const af_cache_str *prefix, const af_cache_str *own,
		      int skip_own, double before, af_buf *out)
{
	previous_ctx p = {.plen = prefix->len, .own = own, .any_time = before < 0};
	const af_cache_str *found;
	int rc;

	if (!p.any_time) {
		double ns = floor(before * 1e9);

		snprintf(p.limit, sizeof p.limit, "%016llx",
			 ns > 0 && ns < 1.8e19 ? (unsigned long long)ns : 0ULL);
	}
	rc = c->local->iterate(c->local, AF_CACHE_LINEAGE, prefix->p, prefix->len, previous_row, &p);
	if (rc == AF_OK && p.rc != AF_OK)
		rc = af_error_set(AF_ENOMEM, "out of memory");
	if (skip_own < 0)
		found = &p.other;
	else if (skip_own && p.newest.p && p.newest.len == own->len &&
		 memcmp(p.newest.p, own->p, own->len) == 0)
		found = &p.second;
	else
		found = &p.newest;
	if (rc == AF_OK) {
		out->len = 0;
		rc = !found->p ? AF_ENOTFOUND
			       : af_buf_add(out, found->p, found->len);
	}
	for (int i = 0; i < 3; i++)
		af_buf_free(&p.keep[i]);
	return rc;
}

/* ---- counts ---------------------------------------------------------------- */

int af_cache_count_hit(af_cache *c, const char *agent, size_t alen, const char *key, size_t klen)
{
	if (af_tally_add(&c->hits, agent, alen, 1) || af_tally_add(&c->access, key, klen, 1))
		return af_error_set(AF_ENOMEM, "out of memory");
	return AF_OK;
}

int af_cache_count_miss(af_cache *c, const char *agent, size_t alen)
{
	return af_tally_add(&c->misses, agent, alen, 1) ? af_error_set(AF_ENOMEM, "out of memory")
							 : AF_OK;
}

/* Add one op per name of t: the count at PREFIX..NAME grows by the name's count. */
static int tally_ops(const af_tally *t, const char *prefix, const char *val, af_cache_op *ops,
		     size_t *n, af_buf *keys, size_t *at)
{
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < t->n; i++) {
		const af_tally_entry *e = &t->entries[i];

		if (af_buf_add(keys, prefix, plen) || af_buf_add(keys, e->name, e->len))
			return AF_ENOMEM;
		/* keys may move while growing: ops hold offsets until the end */
		ops[*n] = (af_cache_op){AF_CACHE_COUNTERS, (const void *)(uintptr_t)*at, plen + e->len,
					val, val ? strlen(val) : 0, e->count};
		*at += plen + e->len;
		(*n)++;
	}
	return AF_OK;
}

int af_cache_flush_counts(af_cache *c, double now)
{
	size_t total = c->hits.n + c->misses.n + c->access.n, n = 0, at = 0;
	af_buf keys = {0};
	af_cache_op *ops;
	char when[32];
	int rc;

	if (total == 0)
		return AF_OK;
	if (!(ops = calloc(total, sizeof *ops)))
		return af_error_set(AF_ENOMEM, "out of memory");
	snprintf(when, sizeof when, "%.3f", now);
	rc = tally_ops(&c->hits, "hits/", NULL, ops, &n, &keys, &at) ||
	     tally_ops(&c->misses, "misses/", NULL, ops, &n, &keys, &at) ||
	     tally_ops(&c->access, "access/", now > 0 ? when : NULL, ops, &n, &keys, &at);
	if (rc) {
		rc = af_error_set(AF_ENOMEM, "out of memory");
	} else {
		for (size_t i = 0; i < n; i++)
			ops[i].key = keys.p + (uintptr_t)ops[i].key;
		rc = c->local->put(c->local, ops, n);
	}
	if (rc == AF_OK) {
		af_tally_clear(&c->hits);
		af_tally_clear(&c->misses);
		af_tally_clear(&c->access);
	}
	af_buf_free(&keys);
	free(ops);
	return rc;
}

/* "COUNT [TIME]" as counters keep it. */
static void parse_count(const af_buf *v, long long *count, double *last)
{
	char text[64];
	size_t n = v->len < sizeof text - 1 ? v->len : sizeof text - 1;
	char *end;

	memcpy(text, v->p, n);
	text[n] = 0;
	*count = strtoll(text, &end, 10);
	*last = *end == ' ' ? strtod(end + 1, NULL) : 0;
}

int af_cache_access(af_cache *c, const void *key, size_t klen, long long *count, double *last)
{
	af_buf name = {0}, v = {0};
	int rc;

	*count = 0, *last = 0;
	if (af_buf_add(&name, "access/", 7) || af_buf_add(&name, key, klen))
		return af_error_set(AF_ENOMEM, "out of memory");
	rc = c->local->get(c->local, AF_CACHE_COUNTERS, name.p, name.len, &v);
	if (rc == AF_OK)
		parse_count(&v, count, last);
	af_buf_free(&name);
	af_buf_free(&v);
	return rc == AF_ENOTFOUND ? AF_OK : rc;
}

/* ---- listing ----------------------------------------------------------------- */

typedef struct each_ctx {
	af_cache_each_fn visit;
	void *ctx;
} each_ctx;

static int each_entry(const void *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	each_ctx *x = ctx;
	af_cache_entry e;

	if (decode(val, vlen, 0, &e, NULL, NULL) != AF_OK)
		return x->visit(key, klen, val, vlen, NULL, x->ctx);
	return x->visit(key, klen, val, vlen, &e, x->ctx);
}

int af_cache_each(af_cache *c, af_cache_each_fn visit, void *ctx)
{
	each_ctx x = {visit, ctx};

	return c->local->iterate(c->local, AF_CACHE_ENTRIES, "", 0, each_entry, &x);
}

/* The bytes an entry takes: itself, and its blob. */
static long long entry_bytes(const af_cache_entry *e)
{
	return (long long)e->raw_len + (e->blob.p ? e->size : 0);
}

/* ---- stats ------------------------------------------------------------------- */

typedef struct stats_ctx {
	af_cache_agent_stats *s;
	size_t n, cap;
	af_tally index; /* agent -> position + 1 */
	int rc;
} stats_ctx;

static af_cache_agent_stats *agent_stats(stats_ctx *x, const char *agent, size_t len)
{
	long long at = af_tally_get(&x->index, agent, len);
	char *name;

	if (at)
		return &x->s[at - 1];
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		af_cache_agent_stats *s = realloc(x->s, cap * sizeof *s);

		if (!s)
			return NULL;
		x->s = s, x->cap = cap;
	}
	if (!(name = malloc(len + 1)) || af_tally_add(&x->index, agent, len, (long long)x->n + 1)) {
		free(name);
		return NULL;
	}
	memcpy(name, agent, len);
	name[len] = 0;
	x->s[x->n] = (af_cache_agent_stats){name, 0, 0, 0, 0};
	return &x->s[x->n++];
}

static int stats_entry(const char *key, size_t klen, const void *raw, size_t rawlen,
                        const af_cache_entry *e, void *ctx)
{
	(void)raw, (void)rawlen;
	stats_ctx *x = ctx;
	af_cache_agent_stats *a;

	(void)key, (void)klen;
	if (!e || !e->agent.p)
		return 0;
	if (!(a = agent_stats(x, e->agent.p, e->agent.len)))
		return x->rc = AF_ENOMEM;
	a->entries++;
	a->bytes += entry_bytes(e);
	return 0;
}

typedef struct counter_ctx {
	stats_ctx *x;
	size_t plen;
	int misses;
} counter_ctx;

static int stats_counter(const void *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	counter_ctx *cc = ctx;
	af_buf v = {(char *)val, vlen, vlen, 0};
	af_cache_agent_stats *a = agent_stats(cc->x, (const char *)key + cc->plen, klen - cc->plen);
	long long count;
	double last;

	if (!a)
		return cc->x->rc = AF_ENOMEM;
	parse_count(&v, &count, &last);
	*(cc->misses ? &a->misses : &a->hits) += count;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const af_cache_agent_stats *)a)->agent, ((const af_cache_agent_stats *)b)->agent);
}

int af_cache_stats(af_cache *c, af_cache_agent_stats **out, size_t *n)
{
	stats_ctx x = {0};
	counter_ctx hits = {&x, 5, 0}, misses = {&x, 7, 1};
	int rc = af_cache_each(c, stats_entry, &x);

	if (rc == AF_OK)
		rc = c->local->iterate(c->local, AF_CACHE_COUNTERS, "hits/", 5, stats_counter, &hits);
	if (rc == AF_OK)
		rc = c->local->iterate(c->local, AF_CACHE_COUNTERS, "misses/", 7, stats_counter, &misses);
	if (rc == AF_OK && x.rc)
		rc = af_error_set(AF_ENOMEM, "out of memory");
	af_tally_clear(&x.index);
	if (rc != AF_OK) {
		af_cache_stats_free(x.s, x.n);
		return rc;
	}
	if (x.n)
		qsort(x.s, x.n, sizeof *x.s, by_name);
	*out = x.s, *n = x.n;
	return AF_OK;
}

void af_cache_stats_free(af_cache_agent_stats *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].agent);
	free(s);
}

/* ---- removal ---------------------------------------------------------------- */

/* Deletions gathered before they are written: keys copied into one buffer. */
typedef struct dels {
	af_buf keys;
	int *space;
	size_t *at, *len, n, cap;
} dels;

static int del_add(dels *d, int space, const void *key, size_t klen)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		int *sp = realloc(d->space, cap * sizeof *sp);
		size_t *at = sp ? realloc(d->at, cap * sizeof *at) : NULL;
		size_t *len = at ? realloc(d->len, cap * sizeof *len) : NULL;

		if (sp)
			d->space = sp;
		if (at)
			d->at = at;
		if (!len)
			return AF_ENOMEM;
		d->len = len, d->cap = cap;
	}
	d->space[d->n] = space, d->at[d->n] = d->keys.len, d->len[d->n] = klen;
	d->n++;
	return af_buf_add(&d->keys, key, klen);
}

static void dels_free(dels *d)
{
	af_buf_free(&d->keys);
	free(d->space), free(d->at), free(d->len);
	*d = (dels){0};
}

static int dels_write(af_cache *c, dels *d)
{
	af_cache_op *ops;
	int rc;

	if (d->n == 0)
		return AF_OK;
	if (!(ops = calloc(d->n, sizeof *ops)))
		return af_error_set(AF_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->n; i++)
		ops[i] = (af_cache_op){d->space[i], d->keys.p + d->at[i], d->len[i], NULL, 0, 0};
	rc = c->local->put(c->local, ops, d->n);
	free(ops);
	return rc;
}

typedef struct row_ctx {
	dels *d;
	int space;
	const void *key;
	size_t klen;
} row_ctx;

static int del_lineage(const af_cache_str *row, void *ctx)
{
	row_ctx *r = ctx;

	return del_add(r->d, AF_CACHE_LINEAGE, row->p, row->len);
}

static int del_index(const af_cache_str *path, void *ctx)
{
	row_ctx *r = ctx;
	af_buf row = {0};
	af_cache_str key = {r->key, r->klen};
	int rc = index_row(&row, path, &key);

	if (rc == AF_OK)
		rc = del_add(r->d, AF_CACHE_FILES, row.p, row.len);
	af_buf_free(&row);
	return rc;
}

/* The deletions of entry key and what hangs off it; *had: whether it was there. */
static int del_entry(af_cache *c, dels *d, const af_cache_str *key, int *had)
{
	af_buf raw = {0}, name = {0};
	af_cache_entry e;
	const void *meta = NULL;
	size_t meta_len = 0;
	row_ctx r = {d, 0, key->p, key->len};
	int rc = c->local->get(c->local, AF_CACHE_ENTRIES, key->p, key->len, &raw);

	*had = rc == AF_OK;
	if (rc != AF_OK && rc != AF_ENOTFOUND)
		return rc;
	if (*had && decode(raw.p, raw.len, 0, &e, &meta, &meta_len) == AF_OK) {
		each_meta_str(meta, meta_len, "lineage", del_lineage, &r);
		each_meta_str(meta, meta_len, "files", del_index, &r);
	}
	rc = del_add(d, AF_CACHE_ENTRIES, key->p, key->len) ||
	     del_add(d, AF_CACHE_MANIFESTS, key->p, key->len) ||
	     af_buf_add(&name, "access/", 7) || af_buf_add(&name, key->p, key->len) ||
	     del_add(d, AF_CACHE_COUNTERS, name.p, name.len);
	af_buf_free(&raw);
	af_buf_free(&name);
	return rc ? af_error_set(AF_ENOMEM, "out of memory") : AF_OK;
}

static int used_blob(const char *key, size_t klen, const void *raw, size_t rawlen,
                      const af_cache_entry *e, void *ctx)
{
	(void)raw, (void)rawlen;
	(void)key, (void)klen;
	if (e && e->blob.p && af_tally_add(ctx, e->blob.p, e->blob.len, 1))
		return AF_ENOMEM;
	return 0;
}

typedef struct orphan_ctx {
	af_tally *used;
	dels *d;
} orphan_ctx;

static int orphan_blob(const void *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	orphan_ctx *o = ctx;

	(void)val, (void)vlen;
	if (af_tally_get(o->used, key, klen))
		return 0;
	return del_add(o->d, AF_CACHE_BLOBS, key, klen);
}

/* Delete the blobs no entry uses. */
static int collect_blobs(af_cache *c)
{
	af_tally used = {0};
	dels d = {0};
	orphan_ctx o = {&used, &d};
	int rc = af_cache_each(c, used_blob, &used);

	if (rc == AF_OK)
		rc = c->local->iterate(c->local, AF_CACHE_BLOBS, "", 0, orphan_blob, &o);
	if (rc == AF_OK)
		rc = dels_write(c, &d);
	else if (rc > 0)
		rc = af_error_set(AF_ENOMEM, "out of memory");
	af_tally_clear(&used);
	dels_free(&d);
	return rc;
}

int af_cache_remove(af_cache *c, const af_cache_str *keys, size_t n, size_t *removed)
{
	dels d = {0};
	size_t count = 0;
	int rc = AF_OK, had;

	for (size_t i = 0; i < n && rc == AF_OK; i++) {
		rc = del_entry(c, &d, &keys[i], &had);
		count += had;
	}
	if (rc == AF_OK)
		rc = dels_write(c, &d);
	dels_free(&d);
	if (rc == AF_OK && count)
		rc = collect_blobs(c);
	if (removed)
		*removed = count;
	return rc;
}

/* ---- choosing what to remove ------------------------------------------------- */

/* Keys gathered by a visit, each an af_cache_str into one buffer. */
typedef struct keyset {
	af_buf bytes;
	size_t *at, *len, n, cap;
	int rc;
} keyset;

static int keyset_add(keyset *k, const void *key, size_t klen)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		size_t *at = realloc(k->at, cap * sizeof *at), *len = at ? realloc(k->len, cap * sizeof *len) : NULL;

		if (at)
			k->at = at;
		if (!len)
			return k->rc = AF_ENOMEM;
		k->len = len, k->cap = cap;
	}
	k->at[k->n] = k->bytes.len, k->len[k->n] = klen;
	k->n++;
	return k->rc = af_buf_add(&k->bytes, key, klen);
}

static void keyset_free(keyset *k)
{
	af_buf_free(&k->bytes);
	free(k->at), free(k->len);
	*k = (keyset){0};
}

/* Remove the entries of k. */
static int remove_keyset(af_cache *c, keyset *k, size_t *removed)
{
	af_cache_str *keys;
	int rc;

	if (k->rc)
		return af_error_set(AF_ENOMEM, "out of memory");
	if (k->n == 0) {
		if (removed)
			*removed = 0;
		return AF_OK;
	}
	if (!(keys = calloc(k->n, sizeof *keys)))
		return af_error_set(AF_ENOMEM, "out of memory");
	for (size_t i = 0; i < k->n; i++)
		keys[i] = (af_cache_str){k->bytes.p + k->at[i], k->len[i]};
	rc = af_cache_remove(c, keys, k->n, removed);
	free(keys);
	return rc;
}

typedef struct file_ctx {
	keyset *k;
	size_t plen;
} file_ctx;

static int file_row(const void *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	file_ctx *f = ctx;

	(void)val, (void)vlen;
	return keyset_add(f->k, (const char *)key + f->plen, klen - f->plen) != AF_OK;
}

int af_cache_invalidate_file(af_cache *c, const char *path, size_t plen, size_t *removed)
{
	keyset k = {0};
	af_buf prefix = {0};
	file_ctx f = {&k, plen + 1};
	int rc;

	if (af_buf_add(&prefix, path, plen) || af_buf_add(&prefix, "", 1))
		return af_error_set(AF_ENOMEM, "out of memory");
	rc = c->local->iterate(c->local, AF_CACHE_FILES, prefix.p, prefix.len, file_row, &f);
	if (rc == AF_OK)
		rc = remove_keyset(c, &k, removed);
	af_buf_free(&prefix);
	keyset_free(&k);
	return rc;
}

typedef struct agent_ctx {
	keyset *k;
	const char *agent;
	size_t alen;
} agent_ctx;

static int agent_entry(const char *key, size_t klen, const void *raw, size_t rawlen,
                        const af_cache_entry *e, void *ctx)
{
	(void)raw, (void)rawlen;
	agent_ctx *a = ctx;

	if (a->agent && !(e && e->agent.p && e->agent.len == a->alen &&
			  memcmp(e->agent.p, a->agent, a->alen) == 0))
		return 0;
	return keyset_add(a->k, key, klen) != AF_OK;
}

int af_cache_invalidate_agent(af_cache *c, const char *agent, size_t alen, size_t *removed)
{
	keyset k = {0};
	agent_ctx a = {&k, agent, alen};
	int rc = af_cache_each(c, agent_entry, &a);

	if (rc == AF_OK)
		rc = remove_keyset(c, &k, removed);
	keyset_free(&k);
	return rc;
}

/* ---- pruning ----------------------------------------------------------------- */

typedef struct live_entry {
	size_t key; /* index in the live keyset */
	long long bytes;
	double used; /* last access, else creation */
} live_entry;

typedef struct prune_ctx {
	double now;
	keyset gone, live;
	live_entry *entries;
	size_t n, cap;
	long long bytes;
	size_t expired;
} prune_ctx;

static int prune_entry(const char *key, size_t klen, const void *raw, size_t rawlen,
                        const af_cache_entry *e, void *ctx)
{
	(void)raw, (void)rawlen;
	prune_ctx *p = ctx;

	if (!e || !fresh_at(e, p->now)) {
		p->expired++;
		return keyset_add(&p->gone, key, klen) != AF_OK;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		live_entry *l = realloc(p->entries, cap * sizeof *l);

		if (!l)
			return p->live.rc = AF_ENOMEM;
		p->entries = l, p->cap = cap;
	}
	p->entries[p->n] = (live_entry){p->live.n, entry_bytes(e), e->created};
	p->n++;
	p->bytes += entry_bytes(e);
	return keyset_add(&p->live, key, klen) != AF_OK;
}

static int by_use(const void *a, const void *b)
{
	double x = ((const live_entry *)a)->used, y = ((const live_entry *)b)->used;

	return (x > y) - (x < y);
}

/* Move the least recently used live entries to the gone set until the rest fit. */
static int evict(af_cache *c, prune_ctx *p, long long max_bytes, size_t *evicted)
{
	for (size_t i = 0; i < p->n; i++) {
		long long count;
		double last;
		int rc = af_cache_access(c, p->live.bytes.p + p->live.at[p->entries[i].key],
					 p->live.len[p->entries[i].key], &count, &last);

		if (rc != AF_OK)
			return rc;
		if (last > p->entries[i].used)
			p->entries[i].used = last;
	}
	if (p->n)
		qsort(p->entries, p->n, sizeof *p->entries, by_use);
	for (size_t i = 0; i < p->n && p->bytes > max_bytes; i++) {
		size_t k = p->entries[i].key;

		if (keyset_add(&p->gone, p->live.bytes.p + p->live.at[k], p->live.len[k]))
			return af_error_set(AF_ENOMEM, "out of memory");
		p->bytes -= p->entries[i].bytes;
		(*evicted)++;
	}
	return AF_OK;
}

int af_cache_prune(af_cache *c, double now, long long max_bytes, size_t *expired, size_t *evicted,
		   long long *bytes)
{
	prune_ctx p = {.now = now};
	int rc = af_cache_each(c, prune_entry, &p);

	*evicted = 0;
	if (rc == AF_OK && (p.gone.rc || p.live.rc))
		rc = af_error_set(AF_ENOMEM, "out of memory");
	if (rc == AF_OK && max_bytes > 0)
		rc = evict(c, &p, max_bytes, evicted);
	if (rc == AF_OK)
		rc = remove_keyset(c, &p.gone, NULL);
	*expired = p.expired;
	*bytes = p.bytes;
	keyset_free(&p.gone);
	keyset_free(&p.live);
	free(p.entries);
	return rc;
}
