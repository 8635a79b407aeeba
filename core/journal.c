/* journal.c - the run journal (see journal.h). */
#include "journal.h"
#include "buf.h"
#include "af.h"
#include "hash.h"
#include "proc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERSION 1
#define HEADER 5 /* "AFJ", version, type */

/* Pending writes past this many, or bytes, are committed: a long in-process loop stays bounded. */
#define MAX_PENDING 2000
#define MAX_PENDING_BYTES (8 << 20)

#define PRUNE_EVERY (24 * 3600.0)
#define PRUNED_KEY "!pruned"

/* Field tags (journal.h: below 0x40 integers, then doubles, then bytes). */
enum {
	T_STATE = 1, T_STEP, T_ATTEMPT, T_DURABLE, T_PGID, T_PID_START, T_DONE_SEQ, T_SEQ, T_PID,
	T_STARTED_AT = 0x40, T_FINISHED_AT, T_AT,
	T_SID = 0x80, T_KIND, T_AGENT, T_KEY, T_STATUS, T_RESULT, T_RESULT_BLOB, T_EXTRA, T_LABEL,
	T_HOST, T_TEXT, T_LINES
};

/* ---- bytes ----------------------------------------------------------------------- */

/* Records are built in an af_buf; one `failed` check covers every put. */
typedef af_buf buf;

static void put(buf *b, const void *s, size_t n)
{
	af_buf_add(b, s, n);
}

static void put_u64(buf *b, uint64_t v)
{
	unsigned char le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(v >> (8 * i));
	put(b, le, 8);
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_header(buf *b, char type)
{
	char h[HEADER] = {'A', 'F', 'J', VERSION, type};

	put(b, h, sizeof h);
}

static void put_int(buf *b, int tag, long long v)
{
	unsigned char t = (unsigned char)tag;

	if (v == 0)
		return; /* absent reads as 0 */
	put(b, &t, 1);
	put_u64(b, (uint64_t)v);
}

static void put_num(buf *b, int tag, double v)
{
	unsigned char t = (unsigned char)tag;
	uint64_t bits;

	if (v == 0)
		return;
	memcpy(&bits, &v, sizeof bits);
	put(b, &t, 1);
	put_u64(b, bits);
}

static void put_bytes(buf *b, int tag, const void *s, size_t n)
{
	unsigned char h[5] = {(unsigned char)tag, (unsigned char)n, (unsigned char)(n >> 8),
			      (unsigned char)(n >> 16), (unsigned char)(n >> 24)};

	if (!s)
		return;
	put(b, h, sizeof h);
	put(b, s, n);
}

static void put_str(buf *b, int tag, const char *s)
{
	if (s)
		put_bytes(b, tag, s, strlen(s));
}

/* One field as read: an integer, a double, or bytes pointing into the record. */
typedef struct field {
	int tag;
	long long i;
	double d;
	const char *s;
	size_t n;
} field;

/* A record being read: its fields follow the header. */
typedef struct reader {
	const unsigned char *p;
	size_t len, at;
	int bad; /* cut short */
} reader;

/* Start reading record p[0..len) of `type`; 0 when it is not one (another version, or damaged). */
static int read_start(reader *r, const void *p, size_t len, char type)
{
	const unsigned char *u = p;

	*r = (reader){u, len, HEADER, 0};
	return len >= HEADER && memcmp(u, "AFJ", 3) == 0 && u[3] == VERSION && u[4] == (unsigned char)type;
}

/* The next field into f; 0 at the end or when the record is cut short (r->bad). */
static int read_field(reader *r, field *f)
{
	size_t left = r->len - r->at;

	if (left == 0)
		return 0;
	f->tag = r->p[r->at];
	if (f->tag < 0x80) {
		uint64_t v;

		if (left < 9)
			return !(r->bad = 1);
		v = get_u64(r->p + r->at + 1);
		f->i = (long long)v;
		memcpy(&f->d, &v, sizeof f->d);
		r->at += 9;
		return 1;
	}
	if (left < 5)
		return !(r->bad = 1);
	f->n = (size_t)r->p[r->at + 1] | (size_t)r->p[r->at + 2] << 8 | (size_t)r->p[r->at + 3] << 16 |
	       (size_t)r->p[r->at + 4] << 24;
	if (left - 5 < f->n)
		return !(r->bad = 1);
	f->s = (const char *)r->p + r->at + 5;
	r->at += 5 + f->n;
	return 1;
}

/* A NUL-terminated copy of field bytes, in an arena the caller frees (NULL when out of memory). */
typedef struct arena {
	char **blocks;
	size_t n, cap;
	int failed;
} arena;

static void *arena_alloc(arena *a, size_t n)
{
	char *p;

	if (a->failed)
		return NULL;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char **grown = realloc(a->blocks, cap * sizeof *grown);

		if (!grown) {
			a->failed = 1;
			return NULL;
		}
		a->blocks = grown;
		a->cap = cap;
	}
	if (!(p = malloc(n ? n : 1))) {
		a->failed = 1;
		return NULL;
	}
	a->blocks[a->n++] = p;
	return p;
}

static char *arena_str(arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void arena_free(arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->blocks[i]);
	free(a->blocks);
	*a = (arena){0};
}

/* ---- the journal ------------------------------------------------------------------- */

typedef struct pending_op {
	int db;
	char *key, *val; /* val NULL: delete */
	size_t klen, vlen;
} pending_op;

/* A step started here and not finished: its record, to add the process group to. */
typedef struct open_step {
	af_journal_step st;
	arena mem;
	struct open_step *next;
} open_step;

struct af_journal {
	af_store *store;
	pending_op *pending;
	size_t npending, cap, pending_bytes;
	open_step *open;
	long long completions, checkpoints;
	buf hits;                /* hit lines not yet a chunk */
	size_t hit_lines;
	long long hits_first;    /* the step of the first line */
	char *hits_run;          /* the run and attempt they are of */
	long long hits_attempt;
};

int af_journal_open(af_journal **out, af_store *s)
{
	af_journal *j = calloc(1, sizeof *j);

	*out = j;
	if (!j)
		return af_error_set(AF_ENOMEM, "out of memory");
	j->store = s;
	return AF_OK;
}

static void free_pending(af_journal *j)
{
	for (size_t i = 0; i < j->npending; i++) {
		free(j->pending[i].key);
		free(j->pending[i].val);
	}
	j->npending = 0;
	j->pending_bytes = 0;
}

void af_journal_close(af_journal *j)
{
	if (!j)
		return;
	free_pending(j);
	free(j->pending);
	while (j->open) {
		open_step *o = j->open;

		j->open = o->next;
		arena_free(&o->mem);
		free(o);
	}
	free(j->hits.p);
	free(j->hits_run);
	free(j);
}

static int oom(void)
{
	return af_error_set(AF_ENOMEM, "out of memory");
}

/* Commit what is pending (and `extra`, may be NULL) in one transaction. */
static int commit(af_journal *j, const af_store_op *extra, size_t nextra)
{
	size_t n = j->npending + nextra;
	af_store_op *ops;
	int rc;

	if (n == 0)
		return AF_OK;
	if (!(ops = malloc(n * sizeof *ops)))
		return oom();
	for (size_t i = 0; i < j->npending; i++) {
		const pending_op *p = &j->pending[i];

		ops[i] = (af_store_op){p->db, p->key, p->klen, p->val, p->vlen, 0};
	}
	for (size_t i = 0; i < nextra; i++)
		ops[j->npending + i] = extra[i];
	rc = af_store_write(j->store, ops, n);
	free(ops);
	if (rc == AF_OK)
		free_pending(j);
	return rc;
}

/* Queue a write of key -> val (taking both, freed on failure) for the next commit. */
static int queue(af_journal *j, int db, char *key, size_t klen, char *val, size_t vlen)
{
	if (j->npending == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;
		pending_op *grown = realloc(j->pending, cap * sizeof *grown);

		if (!grown) {
			free(key);
			free(val);
			return oom();
		}
		j->pending = grown;
		j->cap = cap;
	}
	j->pending[j->npending++] = (pending_op){db, key, val, klen, vlen};
	j->pending_bytes += klen + vlen;
	return j->npending >= MAX_PENDING || j->pending_bytes >= MAX_PENDING_BYTES ? commit(j, NULL, 0)
										  : AF_OK;
}

/* A key "RUN/PART/NAME" (NAME may be NULL), malloc'ed; *len its length. */
static char *make_key(const char *run, const char *part, const char *name, size_t *len)
{
	size_t n = strlen(run) + 1 + strlen(part) + (name ? 1 + strlen(name) : 0);
	char *k = malloc(n + 1);

	if (k)
		snprintf(k, n + 1, name ? "%s/%s/%s" : "%s/%s", run, part, name ? name : "");
	*len = n;
	return k;
}

/* Write record `rec` (taken) under key, at once or later; with a blob op to commit with it. */
static int write_record(af_journal *j, char *key, size_t klen, buf *rec, int when,
			const af_store_op *blob)
{
	if (!key || rec->failed) {
		free(key);
		free(rec->p);
		return oom();
	}
	if (when == AF_JOURNAL_NOW) {
		af_store_op ops[2] = {{AF_DB_JOURNAL, key, klen, rec->p, rec->len, 0}};
		int rc;

		if (blob)
			ops[1] = *blob;
		rc = commit(j, ops, blob ? 2 : 1);
		free(key);
		free(rec->p);
		return rc;
	}
	if (blob) {
		char *bk = malloc(blob->klen), *bv = malloc(blob->vlen ? blob->vlen : 1);
		int rc;

		if (!bk || !bv) {
			free(bk);
			free(bv);
			free(key);
			free(rec->p);
			return oom();
		}
		memcpy(bk, blob->key, blob->klen);
		memcpy(bv, blob->val, blob->vlen);
		if ((rc = queue(j, AF_DB_JOURNAL_BLOBS, bk, blob->klen, bv, blob->vlen)) != AF_OK) {
			free(key);
			free(rec->p);
			return rc;
		}
	}
	return queue(j, AF_DB_JOURNAL, key, klen, rec->p, rec->len);
}

/* ---- step records ------------------------------------------------------------------ */

/* Encode step record st; with `blob` (a hash) in place of its result. */
static void encode_step(buf *b, const af_journal_step *st, const char *blob)
{
	put_header(b, 'S');
	put_int(b, T_STATE, st->state);
	put_int(b, T_STEP, st->step);
	put_int(b, T_ATTEMPT, st->attempt);
	put_int(b, T_DURABLE, st->durable);
	put_int(b, T_PGID, st->pgid);
	put_int(b, T_PID_START, st->pid_start);
	put_int(b, T_DONE_SEQ, st->done_seq);
	put_num(b, T_STARTED_AT, st->started_at);
	put_num(b, T_FINISHED_AT, st->finished_at);
	put_str(b, T_SID, st->sid);
	put_str(b, T_KIND, st->kind);
	put_str(b, T_AGENT, st->agent);
	put_str(b, T_KEY, st->key);
	put_str(b, T_STATUS, st->status);
	if (blob)
		put_str(b, T_RESULT_BLOB, blob);
	else
		put_bytes(b, T_RESULT, st->result, st->result_len);
	put_bytes(b, T_EXTRA, st->extra, st->extra_len);
}

/* Write step record st under RUN/s/SLOT. */
static int write_step(af_journal *j, const char *run_id, const af_journal_step *st, int when)
{
	buf rec = {0};
	size_t klen;
	char *key = make_key(run_id, "s", st->slot ? st->slot : st->sid, &klen);
	char hex[AF_HASH_HEX];
	af_store_op blob = {AF_DB_JOURNAL_BLOBS, hex, AF_HASH_HEX - 1, st->result, st->result_len, 0};
	int big = st->result && st->result_len >= AF_JOURNAL_BLOB_MIN;

	if (big)
		af_hash(st->result, st->result_len, hex);
	encode_step(&rec, st, big ? hex : NULL);
	return write_record(j, key, klen, &rec, when, big ? &blob : NULL);
}

static char *dup_str(arena *a, const char *s)
{
	return s ? arena_str(a, s, strlen(s)) : NULL;
}

/* Keep a copy of started step st, to add its process group to. */
static int keep_open(af_journal *j, const af_journal_step *st)
{
	open_step *o = calloc(1, sizeof *o);

	if (!o)
		return oom();
	o->st = *st;
	o->st.run_id = dup_str(&o->mem, st->run_id);
	o->st.slot = dup_str(&o->mem, st->slot ? st->slot : st->sid);
	o->st.sid = dup_str(&o->mem, st->sid);
	o->st.kind = dup_str(&o->mem, st->kind);
	o->st.agent = dup_str(&o->mem, st->agent);
	o->st.key = dup_str(&o->mem, st->key);
	o->st.status = NULL;
	o->st.result = o->st.extra = NULL;
	o->st.result_len = o->st.extra_len = 0;
	if (o->mem.failed) {
		arena_free(&o->mem);
		free(o);
		return oom();
	}
	o->next = j->open;
	j->open = o;
	return AF_OK;
}

/* The open step of run_id at slot; *prev the link to it. */
static open_step **find_open(af_journal *j, const char *run_id, const char *slot)
{
	open_step **at = &j->open;

	while (*at && (strcmp((*at)->st.run_id, run_id) != 0 || strcmp((*at)->st.slot, slot) != 0))
		at = &(*at)->next;
	return at;
}

static void drop_open(af_journal *j, const char *run_id, const char *slot)
{
	open_step **at = find_open(j, run_id, slot), *o = *at;

	if (o) {
		*at = o->next;
		arena_free(&o->mem);
		free(o);
	}
}

int af_journal_started(af_journal *j, const af_journal_step *st, int when)
{
	af_journal_step rec = *st;
	int rc;

	rec.state = AF_JOURNAL_STARTED;
	drop_open(j, st->run_id, st->slot ? st->slot : st->sid);
	if ((rc = keep_open(j, &rec)) != AF_OK || when == AF_JOURNAL_SPAWN)
		return rc;
	return write_step(j, st->run_id, &rec, when);
}

int af_journal_spawned(af_journal *j, const char *run_id, const char *slot, long long pgid,
		       long long pid_start)
{
	open_step *o = *find_open(j, run_id, slot);

	if (!o)
		return AF_OK;
	o->st.pgid = pgid;
	o->st.pid_start = pid_start;
	return write_step(j, run_id, &o->st, AF_JOURNAL_NOW);
}

int af_journal_finished(af_journal *j, const af_journal_step *st, int when)
{
	af_journal_step rec = *st;

	rec.done_seq = ++j->completions; /* the order steps finished in (parallel ones differ from start order) */
	drop_open(j, st->run_id, st->slot ? st->slot : st->sid);
	return write_step(j, st->run_id, &rec, when);
}

int af_journal_copy(af_journal *j, const char *run_id, const af_journal_step *st)
{
	af_journal_step rec = *st;

	rec.slot = NULL;
	rec.attempt = 0;
	rec.cached = 0;
	return write_step(j, run_id, &rec, AF_JOURNAL_LATER);
}

/* ---- hit lines ----------------------------------------------------------------------- */

size_t af_journal_hits_buffered(const af_journal *j)
{
	return j->hit_lines;
}

/* A chunk record: the header and the T_LINES field's head, its length patched when written. */
#define CHUNK_HEAD (HEADER + 5)

int af_journal_write_hits(af_journal *j)
{
	char name[AF_DECIMAL_MAX * 2 + 8];
	buf rec = j->hits;
	size_t klen, n = rec.len - CHUNK_HEAD;
	char *key;

	if (j->hit_lines == 0)
		return AF_OK;
	snprintf(name, sizeof name, "%lld/%06lld", j->hits_attempt, j->hits_first);
	key = make_key(j->hits_run, "hits", name, &klen);
	for (int i = 0; i < 4; i++)
		rec.p[HEADER + 1 + i] = (char)(unsigned char)(n >> (8 * i));
	/* the buffer becomes the pending record; the next chunk starts one as large */
	j->hits = (buf){malloc(rec.cap), 0, rec.cap, 0};
	if (!j->hits.p)
		j->hits.cap = 0;
	j->hit_lines = 0;
	return write_record(j, key, klen, &rec, AF_JOURNAL_LATER, NULL);
}

/* Make the buffer hold lines of run_id's attempt (writing those of another first). */
static int hits_of(af_journal *j, const char *run_id, long long attempt, long long first)
{
	int rc;

	if (j->hits_run && (j->hits_attempt != attempt || strcmp(j->hits_run, run_id) != 0)) {
		if ((rc = af_journal_write_hits(j)) != AF_OK)
			return rc;
	}
	if (!j->hits_run || strcmp(j->hits_run, run_id) != 0) {
		char *copy = strdup(run_id);

		if (!copy)
			return oom();
		free(j->hits_run);
		j->hits_run = copy;
	}
	j->hits_attempt = attempt;
	if (j->hit_lines == 0) {
		j->hits_first = first;
		j->hits.len = 0;
		j->hits.failed = 0;
		put_header(&j->hits, 'H');
		put(&j->hits, (char[5]){T_LINES}, 5);
	}
	return AF_OK;
}

int af_journal_hit(af_journal *j, const char *run_id, long long attempt, long long step,
		   const char *sid, const char *key, const char *agent)
{
	char tmp[AF_DECIMAL_MAX], *digits;
	size_t n = af_decimal(step, tmp, &digits), slen = strlen(sid), klen = strlen(key);
	size_t alen = strlen(agent);
	buf *b = &j->hits;
	int rc;

	if (j->hit_lines == 0 || j->hits_attempt != attempt || strcmp(j->hits_run, run_id) != 0)
		if ((rc = hits_of(j, run_id, attempt, step)) != AF_OK)
			return rc;
	put(b, digits, n);
	put(b, " ", 1);
	put(b, sid, slen);
	put(b, " ", 1);
	put(b, key, klen);
	put(b, " ", 1);
	put(b, agent, alen);
	put(b, "\n", 1);
	if (b->failed)
		return oom();
	return ++j->hit_lines >= AF_JOURNAL_HIT_CHUNK ? af_journal_write_hits(j) : AF_OK;
}

int af_journal_hit_text(af_journal *j, const char *run_id, long long attempt, const char *text,
			size_t len)
{
	int rc;

	if (len == 0)
		return AF_OK;
	if ((rc = hits_of(j, run_id, attempt, strtoll(text, NULL, 10))) != AF_OK)
		return rc;
	put(&j->hits, text, len);
	if (text[len - 1] != '\n')
		put(&j->hits, "\n", 1);
	for (size_t i = 0; i < len; i++)
		j->hit_lines += text[i] == '\n';
	j->hit_lines += text[len - 1] != '\n';
	if (j->hits.failed)
		return oom();
	return j->hit_lines >= AF_JOURNAL_HIT_CHUNK ? af_journal_write_hits(j) : AF_OK;
}

/* ---- checkpoints, values, runs ------------------------------------------------------- */

int af_journal_checkpoint(af_journal *j, const char *run_id, const char *label, long long step,
			  double at)
{
	buf rec = {0};
	size_t klen;
	char *key = make_key(run_id, "checkpoint", label, &klen);

	put_header(&rec, 'C');
	put_int(&rec, T_STEP, step);
	put_int(&rec, T_SEQ, ++j->checkpoints);
	put_num(&rec, T_AT, at);
	put_str(&rec, T_LABEL, label);
	return write_record(j, key, klen, &rec, AF_JOURNAL_LATER, NULL);
}

int af_journal_put_value(af_journal *j, const char *run_id, const char *id, const char *kind,
			 const char *text)
{
	buf rec = {0};
	size_t klen;
	char *key = make_key(run_id, "values", id, &klen);

	put_header(&rec, 'V');
	put_str(&rec, T_KIND, kind);
	put_str(&rec, T_TEXT, text);
	return write_record(j, key, klen, &rec, AF_JOURNAL_LATER, NULL);
}

int af_journal_put_run(af_journal *j, const af_run_record *r)
{
	buf rec = {0};
	af_store_op op = {AF_DB_RUNS, r->run_id, strlen(r->run_id), NULL, 0, 0};
	int rc;

	put_header(&rec, 'R');
	put_int(&rec, T_PID, r->pid);
	put_int(&rec, T_PID_START, r->pid_start);
	put_num(&rec, T_STARTED_AT, r->started_at);
	put_num(&rec, T_FINISHED_AT, r->finished_at);
	put_str(&rec, T_STATUS, r->status);
	put_str(&rec, T_HOST, r->host);
	put_bytes(&rec, T_EXTRA, r->extra, r->extra_len);
	if (rec.failed) {
		free(rec.p);
		return oom();
	}
	op.val = rec.p;
	op.vlen = rec.len;
	rc = commit(j, &op, 1);
	free(rec.p);
	return rc;
}

int af_journal_flush(af_journal *j)
{
	int rc = af_journal_write_hits(j);

	return rc == AF_OK ? commit(j, NULL, 0) : rc;
}

/* ---- reading ------------------------------------------------------------------------- */

/* Copies of the records under a prefix, made inside the read transaction. */
typedef struct copied {
	arena mem;
	char **keys, **vals;
	size_t *klens, *vlens;
	size_t n, cap;
} copied;

static int copy_record(const void *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	copied *c = ctx;
	char *k, *v;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		char **keys = realloc(c->keys, cap * sizeof *keys);
		char **vals = keys ? realloc(c->vals, cap * sizeof *vals) : NULL;
		size_t *klens = vals ? realloc(c->klens, cap * sizeof *klens) : NULL;
		size_t *vlens = klens ? realloc(c->vlens, cap * sizeof *vlens) : NULL;

		if (keys)
			c->keys = keys;
		if (vals)
			c->vals = vals;
		if (klens)
			c->klens = klens;
		if (!vlens) {
			c->mem.failed = 1;
			return 1;
		}
		c->vlens = vlens;
		c->cap = cap;
	}
	k = arena_str(&c->mem, key, klen);
	v = arena_alloc(&c->mem, vlen);
	if (!k || !v)
		return 1;
	memcpy(v, val, vlen);
	c->keys[c->n] = k;
	c->vals[c->n] = v;
	c->klens[c->n] = klen;
	c->vlens[c->n++] = vlen;
	return 0;
}

static void copied_free(copied *c)
{
	arena_free(&c->mem);
	free(c->keys);
	free(c->vals);
	free(c->klens);
	free(c->vlens);
	*c = (copied){0};
}

/* Copy every record of `db` whose key starts with `prefix`. */
static int copy_prefix(af_journal *j, int db, const char *prefix, copied *c)
{
	int rc = af_store_scan(j->store, db, prefix, strlen(prefix), copy_record, c);

	if (rc == AF_OK && c->mem.failed)
		rc = oom();
	return rc;
}

/* The record at `key` is not one this version reads. */
static int unreadable(const char *key)
{
	return af_error_set(AF_EINVAL,
			    "journal record %s cannot be read: damaged, or written by another "
			    "version of agentflow (journal format %d)", key, VERSION);
}

/* Decode step record p[0..len) into st, its strings copied into `mem`; 0 when damaged. */
static int decode_step(arena *mem, const char *p, size_t len, af_journal_step *st, const char **blob)
{
	reader r;
	field f;

	memset(st, 0, sizeof *st);
	*blob = NULL;
	if (!read_start(&r, p, len, 'S'))
		return 0;
	while (read_field(&r, &f)) {
		switch (f.tag) {
		case T_STATE: st->state = (int)f.i; break;
		case T_STEP: st->step = f.i; break;
		case T_ATTEMPT: st->attempt = f.i; break;
		case T_DURABLE: st->durable = (int)f.i; break;
		case T_PGID: st->pgid = f.i; break;
		case T_PID_START: st->pid_start = f.i; break;
		case T_DONE_SEQ: st->done_seq = f.i; break;
		case T_STARTED_AT: st->started_at = f.d; break;
		case T_FINISHED_AT: st->finished_at = f.d; break;
		case T_SID: st->sid = arena_str(mem, f.s, f.n); break;
		case T_KIND: st->kind = arena_str(mem, f.s, f.n); break;
		case T_AGENT: st->agent = arena_str(mem, f.s, f.n); break;
		case T_KEY: st->key = arena_str(mem, f.s, f.n); break;
		case T_STATUS: st->status = arena_str(mem, f.s, f.n); break;
		case T_RESULT_BLOB: *blob = arena_str(mem, f.s, f.n); break;
		case T_RESULT: st->result = f.s; st->result_len = f.n; break;
		case T_EXTRA: st->extra = f.s; st->extra_len = f.n; break;
		default: break;
		}
	}
	return !r.bad && st->sid && st->state >= AF_JOURNAL_STARTED && st->state <= AF_JOURNAL_FAILED;
}

/* A record being chosen: its order among those read breaks ties. */
typedef struct candidate {
	af_journal_step st;
	const char *blob;
	size_t order;
} candidate;

typedef struct step_set {
	copied raw;
	arena mem;
	candidate *c;
	size_t n, cap;
	const char *bad; /* the key of the first unreadable record */
} step_set;

static candidate *add_candidate(step_set *set)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		candidate *grown = realloc(set->c, cap * sizeof *grown);

		if (!grown)
			return NULL;
		set->c = grown;
		set->cap = cap;
	}
	memset(&set->c[set->n], 0, sizeof set->c[0]);
	set->c[set->n].order = set->n;
	return &set->c[set->n++];
}

/* The lines of hit chunk i of set->raw as candidates (attempt from its key). */
static int add_hits(step_set *set, size_t i, const char *run_id)
{
	const char *key = set->raw.keys[i], *at = key + strlen(run_id) + sizeof "/hits/" - 1;
	long long attempt = strtoll(at, NULL, 10);
	reader r;
	field f = {0};
	const char *lines = NULL, *end = NULL;

	if (read_start(&r, set->raw.vals[i], set->raw.vlens[i], 'H'))
		while (read_field(&r, &f))
			if (f.tag == T_LINES) {
				lines = f.s;
				end = f.s + f.n;
			}
	if (!lines || r.bad)
		return -1;
	while (lines < end) {
		const char *nl = memchr(lines, '\n', (size_t)(end - lines));
		const char *e = nl ? nl : end, *p[3];
		char *line = arena_str(&set->mem, lines, (size_t)(e - lines)), *save = NULL;
		candidate *c = add_candidate(set);

		lines = e + 1;
		if (!line || !c)
			return oom();
		p[0] = strtok_r(line, " ", &save);
		p[1] = strtok_r(NULL, " ", &save);
		p[2] = strtok_r(NULL, " ", &save);
		if (!p[2] || !save || !*save) {
			set->n--;
			return -1;
		}
		c->st = (af_journal_step){.run_id = run_id, .sid = p[1], .key = p[2], .agent = save,
					  .state = AF_JOURNAL_COMPLETED, .status = "success", .cached = 1,
					  .step = strtoll(p[0], NULL, 10), .attempt = attempt};
	}
	return 0;
}

/* Read the hit chunks and step records of run_id into set (unreadable ones: set->bad). */
static int read_steps(af_journal *j, const char *run_id, step_set *set)
{
	char prefix[300];
	size_t hits;
	int rc;

	snprintf(prefix, sizeof prefix, "%s/hits/", run_id);
	if ((rc = copy_prefix(j, AF_DB_JOURNAL, prefix, &set->raw)) != AF_OK)
		return rc;
	hits = set->raw.n;
	snprintf(prefix, sizeof prefix, "%s/s/", run_id);
	if ((rc = copy_prefix(j, AF_DB_JOURNAL, prefix, &set->raw)) != AF_OK)
		return rc;
	for (size_t i = 0; i < set->raw.n; i++) {
		candidate *c;

		if (i < hits) {
			if ((rc = add_hits(set, i, run_id)) < 0 && rc != -1)
				return rc;
			if (rc == -1 && !set->bad)
				set->bad = set->raw.keys[i];
			continue;
		}
		if (!(c = add_candidate(set)))
			return oom();
		if (!decode_step(&set->mem, set->raw.vals[i], set->raw.vlens[i], &c->st, &c->blob)) {
			set->n--;
			if (!set->bad)
				set->bad = set->raw.keys[i];
			continue;
		}
		c->st.run_id = run_id;
		c->st.slot = set->raw.keys[i] + strlen(prefix);
	}
	return set->mem.failed ? oom() : AF_OK;
}

/* qsort, which must not be given NULL even for no elements. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static int by_sid_attempt(const void *a, const void *b)
{
	const candidate *x = a, *y = b;
	int c = strcmp(x->st.sid, y->st.sid);

	if (c)
		return c;
	if (x->st.attempt != y->st.attempt)
		return x->st.attempt < y->st.attempt ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int by_step(const void *a, const void *b)
{
	const candidate *x = a, *y = b;

	if (x->st.step != y->st.step)
		return x->st.step < y->st.step ? -1 : 1;
	return strcmp(x->st.sid, y->st.sid);
}

/* Keep the latest record of each identity, in step order. */
static void choose_latest(step_set *set)
{
	size_t m = 0;

	sort(set->c, set->n, sizeof *set->c, by_sid_attempt);
	for (size_t i = 0; i < set->n; i++) {
		if (i + 1 < set->n && strcmp(set->c[i].st.sid, set->c[i + 1].st.sid) == 0)
			continue; /* a later one of the same identity follows */
		set->c[m++] = set->c[i];
	}
	set->n = m;
	sort(set->c, set->n, sizeof *set->c, by_step);
}

typedef struct blob_copy {
	arena *mem;
	void *p;
	size_t len;
} blob_copy;

static void copy_blob(const void *val, size_t vlen, void *ctx)
{
	blob_copy *b = ctx;

	if ((b->p = arena_alloc(b->mem, vlen)))
		memcpy(b->p, val, vlen);
	b->len = vlen;
}

/* Read the results kept in the blob table; a missing blob leaves the result out. */
static int read_blobs(af_journal *j, step_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		blob_copy b = {&set->mem, NULL, 0};
		int rc;

		if (!set->c[i].blob)
			continue;
		rc = af_store_get(j->store, AF_DB_JOURNAL_BLOBS, set->c[i].blob, strlen(set->c[i].blob),
				  copy_blob, &b);
		if (rc != AF_OK && rc != AF_ENOTFOUND)
			return rc;
		if (set->mem.failed)
			return oom();
		set->c[i].st.result = b.p;
		set->c[i].st.result_len = b.len;
	}
	return AF_OK;
}

static void step_set_free(step_set *set)
{
	copied_free(&set->raw);
	arena_free(&set->mem);
	free(set->c);
}

/* The latest record of each identity of run_id, in step order, results read. */
static int load_steps(af_journal *j, const char *run_id, step_set *set)
{
	int rc = read_steps(j, run_id, set);

	if (rc != AF_OK)
		return rc;
	choose_latest(set);
	return read_blobs(j, set);
}

int af_journal_steps(af_journal *j, const char *run_id, af_journal_step_cb cb, void *ctx)
{
	step_set set = {0};
	int rc = load_steps(j, run_id, &set);

	for (size_t i = 0; rc == AF_OK && i < set.n; i++)
		if (cb(&set.c[i].st, ctx))
			break;
	if (rc == AF_OK && set.bad)
		rc = unreadable(set.bad);
	step_set_free(&set);
	return rc;
}

static int by_checkpoint(const void *a, const void *b)
{
	const af_checkpoint_record *x = a, *y = b;

	if (x->step != y->step)
		return x->step < y->step ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int af_journal_checkpoints(af_journal *j, const char *run_id,
			   int (*cb)(const af_checkpoint_record *cp, void *ctx), void *ctx)
{
	copied raw = {0};
	char prefix[300];
	af_checkpoint_record *cps;
	size_t n = 0;
	const char *bad = NULL;
	int rc;

	snprintf(prefix, sizeof prefix, "%s/checkpoint/", run_id);
	if ((rc = copy_prefix(j, AF_DB_JOURNAL, prefix, &raw)) != AF_OK ||
	    !(cps = calloc(raw.n ? raw.n : 1, sizeof *cps))) {
		copied_free(&raw);
		return rc != AF_OK ? rc : oom();
	}
	for (size_t i = 0; i < raw.n; i++) {
		reader r;
		field f;

		if (!read_start(&r, raw.vals[i], raw.vlens[i], 'C')) {
			bad = bad ? bad : raw.keys[i];
			continue;
		}
		cps[n] = (af_checkpoint_record){raw.keys[i] + strlen(prefix), 0, 0, 0};
		while (read_field(&r, &f)) {
			if (f.tag == T_STEP)
				cps[n].step = f.i;
			else if (f.tag == T_SEQ)
				cps[n].seq = f.i;
			else if (f.tag == T_AT)
				cps[n].at = f.d;
		}
		if (r.bad)
			bad = bad ? bad : raw.keys[i];
		else
			n++;
	}
	sort(cps, n, sizeof *cps, by_checkpoint);
	for (size_t i = 0; i < n; i++)
		if (cb(&cps[i], ctx))
			break;
	rc = bad ? unreadable(bad) : AF_OK;
	free(cps);
	copied_free(&raw);
	return rc;
}

typedef struct value_ctx {
	arena mem;
	const char *kind, *text;
	int bad;
} value_ctx;

static void copy_value(const void *val, size_t vlen, void *ctx)
{
	value_ctx *v = ctx;
	reader r;
	field f;

	if (!read_start(&r, val, vlen, 'V')) {
		v->bad = 1;
		return;
	}
	while (read_field(&r, &f)) {
		if (f.tag == T_KIND)
			v->kind = arena_str(&v->mem, f.s, f.n);
		else if (f.tag == T_TEXT)
			v->text = arena_str(&v->mem, f.s, f.n);
	}
	v->bad = r.bad || !v->kind || !v->text;
}

int af_journal_value(af_journal *j, const char *run_id, const char *id,
		     void (*cb)(const char *kind, const char *text, void *ctx), void *ctx)
{
	value_ctx v = {0};
	size_t klen;
	char *key = make_key(run_id, "values", id, &klen);
	int rc;

	if (!key)
		return oom();
	rc = af_store_get(j->store, AF_DB_JOURNAL, key, klen, copy_value, &v);
	if (rc == AF_OK && v.mem.failed)
		rc = oom();
	else if (rc == AF_OK && v.bad)
		rc = unreadable(key);
	if (rc == AF_OK)
		cb(v.kind, v.text, ctx);
	arena_free(&v.mem);
	free(key);
	return rc;
}

/* Decode run record p[0..len) of run `id` into r (strings into mem). */
static void decode_run(arena *mem, const char *id, const char *p, size_t len, af_run_record *r)
{
	reader rd;
	field f;

	memset(r, 0, sizeof *r);
	r->run_id = id;
	if (!read_start(&rd, p, len, 'R')) {
		r->damaged = "its record was written by another version of agentflow, or is damaged";
		return;
	}
	while (read_field(&rd, &f)) {
		switch (f.tag) {
		case T_PID: r->pid = f.i; break;
		case T_PID_START: r->pid_start = f.i; break;
		case T_STARTED_AT: r->started_at = f.d; break;
		case T_FINISHED_AT: r->finished_at = f.d; break;
		case T_STATUS: r->status = arena_str(mem, f.s, f.n); break;
		case T_HOST: r->host = arena_str(mem, f.s, f.n); break;
		case T_EXTRA: r->extra = f.s; r->extra_len = f.n; break;
		default: break;
		}
	}
	if (rd.bad || !r->status)
		r->damaged = "its record is damaged";
}

int af_journal_runs(af_journal *j, void (*cb)(const af_run_record *r, void *ctx), void *ctx)
{
	copied raw = {0};
	int rc = copy_prefix(j, AF_DB_RUNS, "", &raw);

	for (size_t i = 0; rc == AF_OK && i < raw.n; i++) {
		af_run_record r;

		decode_run(&raw.mem, raw.keys[i], raw.vals[i], raw.vlens[i], &r);
		if (raw.mem.failed)
			rc = oom();
		else
			cb(&r, ctx);
	}
	copied_free(&raw);
	return rc;
}

typedef struct one_run {
	copied raw;
	const char *id;
} one_run;

static void copy_run(const void *val, size_t vlen, void *ctx)
{
	one_run *o = ctx;

	copy_record(o->id, strlen(o->id), val, vlen, &o->raw);
}

int af_journal_run(af_journal *j, const char *id, void (*cb)(const af_run_record *r, void *ctx),
		   void *ctx)
{
	one_run o = {.id = id};
	int rc = af_store_get(j->store, AF_DB_RUNS, id, strlen(id), copy_run, &o);
	af_run_record r;

	if (rc == AF_OK && (o.raw.mem.failed || o.raw.n != 1))
		rc = oom();
	if (rc == AF_OK) {
		decode_run(&o.raw.mem, id, o.raw.vals[0], o.raw.vlens[0], &r);
		if (o.raw.mem.failed)
			rc = oom();
		else
			cb(&r, ctx);
	}
	copied_free(&o.raw);
	return rc;
}

/* ---- replay claims ------------------------------------------------------------------- */

struct af_journal_replay {
	step_set set; /* sorted by sid */
	long long last;
};

static int sid_cmp(const void *key, const void *c)
{
	return strcmp(key, ((const candidate *)c)->st.sid);
}

int af_journal_replay_open(af_journal *j, const char *run_id, long long until,
			   af_journal_replay **out)
{
	af_journal_replay *rp = calloc(1, sizeof *rp);
	size_t m = 0;
	int rc;

	*out = NULL;
	if (!rp)
		return oom();
	if ((rc = load_steps(j, run_id, &rp->set)) != AF_OK) {
		af_journal_replay_close(rp);
		return rc;
	}
	for (size_t i = 0; i < rp->set.n; i++) {
		if (until > 0 && rp->set.c[i].st.step > until)
			continue;
		if (rp->set.c[i].st.step > rp->last)
			rp->last = rp->set.c[i].st.step;
		rp->set.c[m++] = rp->set.c[i];
	}
	rp->set.n = m;
	sort(rp->set.c, rp->set.n, sizeof *rp->set.c, by_sid_attempt);
	*out = rp;
	return rp->set.bad ? unreadable(rp->set.bad) : AF_OK;
}

void af_journal_replay_close(af_journal_replay *rp)
{
	if (rp) {
		step_set_free(&rp->set);
		free(rp);
	}
}

long long af_journal_replay_last(const af_journal_replay *rp)
{
	return rp->last;
}

static const candidate *find_sid(const af_journal_replay *rp, const char *sid)
{
	return rp->set.n ? bsearch(sid, rp->set.c, rp->set.n, sizeof *rp->set.c, sid_cmp) : NULL;
}

static int same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

int af_journal_claim(const af_journal_replay *rp, const char *sid, const char *agent,
		     const char *key, const af_journal_step **rec)
{
	const candidate *c = find_sid(rp, sid);

	if (rec)
		*rec = c ? &c->st : NULL;
	if (!c)
		return AF_CLAIM_NONE;
	if (!same(c->st.agent, agent) || !same(c->st.key, key))
		return AF_CLAIM_DIFFERS;
	if (c->st.state != AF_JOURNAL_COMPLETED || c->st.cached)
		return AF_CLAIM_RUN;
	return AF_CLAIM_REPLAY;
}

void af_journal_slot(const af_journal_replay *rp, const char *sid, const char *agent,
		     const char *key, long long attempt, char *out, size_t size)
{
	const candidate *c = find_sid(rp, sid);

	if (c && c->st.state == AF_JOURNAL_COMPLETED && (!same(c->st.agent, agent) || !same(c->st.key, key)))
		snprintf(out, size, "%s~%lld", sid, attempt);
	else
		snprintf(out, size, "%s", sid);
}

/* ---- retention ----------------------------------------------------------------------- */

/* Whether the process of run r is gone: not on this host, or no longer running. */
static int run_gone(const af_run_record *r)
{
	char host[256] = "";
	int zombie;
	unsigned long long start;

	gethostname(host, sizeof host - 1);
	if (!r->host || strcmp(r->host, host) != 0)
		return 1;
	start = r->pid > 0 ? af_proc_started(r->pid, &zombie) : 0;
	return start == 0 || zombie || (r->pid_start && (long long)start != r->pid_start);
}

static int last_activity(const af_journal_step *st, void *ctx)
{
	double *last = ctx, t = st->finished_at > st->started_at ? st->finished_at : st->started_at;

	if (t > *last)
		*last = t;
	return 0;
}

/*
 * When run r ended (0: it has not). A record that cannot be read (another
 * version's) ended long ago: no later version reads it either.
 */
static double ended_at(af_journal *j, const af_run_record *r)
{
	double last;

	if (r->damaged)
		return 1;
	if (strcmp(r->status, "running") != 0)
		return r->finished_at ? r->finished_at : r->started_at;
	if (!run_gone(r))
		return 0;
	last = r->started_at;
	af_journal_steps(j, r->run_id, last_activity, &last); /* unreadable records: what was read */
	return last;
}

/* The ids of the runs that ended before `before`. */
typedef struct old_runs {
	af_journal *j;
	double before;
	const char *keep;
	char **ids;
	size_t n, cap;
	int failed;
} old_runs;

static void collect_old(const af_run_record *r, void *ctx)
{
	old_runs *o = ctx;
	double end;

	if (o->failed || (o->keep && strcmp(r->run_id, o->keep) == 0))
		return;
	end = ended_at(o->j, r);
	if (end <= 0 || end >= o->before)
		return;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		char **grown = realloc(o->ids, cap * sizeof *grown);

		if (!grown) {
			o->failed = 1;
			return;
		}
		o->ids = grown;
		o->cap = cap;
	}
	if (!(o->ids[o->n] = strdup(r->run_id)))
		o->failed = 1;
	else
		o->n++;
}

/* Delete every key of `db` starting with `prefix`. */
static int delete_keys(af_journal *j, int db, const char *prefix)
{
	copied raw = {0};
	int rc = copy_prefix(j, db, prefix, &raw);
	af_store_op *ops = NULL;

	if (rc == AF_OK && raw.n && !(ops = malloc(raw.n * sizeof *ops)))
		rc = oom();
	for (size_t i = 0; rc == AF_OK && i < raw.n; i++)
		ops[i] = (af_store_op){db, raw.keys[i], raw.klens[i], NULL, 0, 0};
	if (rc == AF_OK && raw.n)
		rc = af_store_write(j->store, ops, raw.n);
	free(ops);
	copied_free(&raw);
	return rc;
}

/* Delete run `id`: its record and its journal. */
static int delete_run(af_journal *j, const char *id)
{
	char prefix[300];
	af_store_op op = {AF_DB_RUNS, id, strlen(id), NULL, 0, 0};
	int rc;

	snprintf(prefix, sizeof prefix, "%s/", id);
	if ((rc = delete_keys(j, AF_DB_JOURNAL, prefix)) != AF_OK)
		return rc;
	return af_store_write(j->store, &op, 1);
}

int af_journal_prune(af_journal *j, double before, const char *keep, size_t *removed)
{
	old_runs o = {j, before, keep, NULL, 0, 0, 0};
	int rc = af_journal_flush(j);

	*removed = 0;
	if (rc == AF_OK)
		rc = af_journal_runs(j, collect_old, &o);
	if (rc == AF_OK && o.failed)
		rc = oom();
	for (size_t i = 0; rc == AF_OK && i < o.n; i++)
		if ((rc = delete_run(j, o.ids[i])) == AF_OK)
			++*removed;
	for (size_t i = 0; i < o.n; i++)
		free(o.ids[i]);
	free(o.ids);
	if (rc == AF_OK && *removed > 0)
		rc = af_journal_gc_blobs(j, NULL);
	return rc;
}

/* The blob hashes step records name, as a sorted list. */
typedef struct refs {
	arena mem;
	char **hashes;
	size_t n, cap;
} refs;

static int collect_ref(const void *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	refs *r = ctx;
	reader rd;
	field f;

	(void)key;
	(void)klen;
	if (!read_start(&rd, val, vlen, 'S'))
		return 0;
	while (read_field(&rd, &f)) {
		if (f.tag != T_RESULT_BLOB)
			continue;
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64;
			char **grown = realloc(r->hashes, cap * sizeof *grown);

			if (!grown)
				return r->mem.failed = 1;
			r->hashes = grown;
			r->cap = cap;
		}
		if (!(r->hashes[r->n] = arena_str(&r->mem, f.s, f.n)))
			return 1;
		r->n++;
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int af_journal_gc_blobs(af_journal *j, size_t *removed)
{
	refs used = {0};
	copied blobs = {0};
	af_store_op *ops = NULL;
	size_t n = 0;
	int rc = af_store_scan(j->store, AF_DB_JOURNAL, "", 0, collect_ref, &used);

	if (rc == AF_OK && used.mem.failed)
		rc = oom();
	if (rc == AF_OK)
		rc = copy_prefix(j, AF_DB_JOURNAL_BLOBS, "", &blobs);
	if (rc == AF_OK && blobs.n && !(ops = malloc(blobs.n * sizeof *ops)))
		rc = oom();
	if (rc == AF_OK) {
		sort(used.hashes, used.n, sizeof *used.hashes, str_cmp);
		for (size_t i = 0; i < blobs.n; i++)
			if (!used.n || !bsearch(&blobs.keys[i], used.hashes, used.n, sizeof *used.hashes, str_cmp))
				ops[n++] = (af_store_op){AF_DB_JOURNAL_BLOBS, blobs.keys[i], blobs.klens[i],
							 NULL, 0, 0};
		if (n)
			rc = af_store_write(j->store, ops, n);
	}
	if (removed)
		*removed = rc == AF_OK ? n : 0;
	free(ops);
	free(used.hashes);
	arena_free(&used.mem);
	copied_free(&blobs);
	return rc;
}

static void read_pruned(const void *val, size_t vlen, void *ctx)
{
	reader r;
	field f;

	if (read_start(&r, val, vlen, 'P'))
		while (read_field(&r, &f))
			if (f.tag == T_AT)
				*(double *)ctx = f.d;
}

int af_journal_maybe_prune(af_journal *j, double now, double age, const char *keep,
			   size_t *removed)
{
	double last = 0;
	buf rec = {0};
	af_store_op op = {AF_DB_JOURNAL, PRUNED_KEY, sizeof PRUNED_KEY - 1, NULL, 0, 0};
	int rc = af_store_get(j->store, AF_DB_JOURNAL, PRUNED_KEY, op.klen, read_pruned, &last);

	*removed = 0;
	if (rc != AF_OK && rc != AF_ENOTFOUND)
		return rc;
	if (now - last < PRUNE_EVERY)
		return AF_OK;
	put_header(&rec, 'P');
	put_num(&rec, T_AT, now);
	if (rec.failed) {
		free(rec.p);
		return oom();
	}
	op.val = rec.p;
	op.vlen = rec.len;
	rc = af_store_write(j->store, &op, 1);
	free(rec.p);
	return rc == AF_OK ? af_journal_prune(j, now - age, keep, removed) : rc;
}
