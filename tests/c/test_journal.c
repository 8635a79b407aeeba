/* test_journal.c - the run journal (core/journal.c) over a real LMDB store. */
#include "af.h"
#include "journal.h"
#include "proc.h"
#include "store.h"
#include "test.h"

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[512];

static void fresh(const char *name, af_store **s, af_journal **j)
{
	char cmd[1024];

	snprintf(dir, sizeof dir, "%s/%s", getenv("AF_TEST_TMP"), name);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, getenv("AF_TEST_TMP"));
	T_EQ_INT(0, system(cmd));
	T_EQ_INT(AF_OK, af_store_open(s, dir, 0));
	T_EQ_INT(AF_OK, af_journal_open(j, *s));
}

static void done(af_store *s, af_journal *j)
{
	af_journal_close(j);
	af_store_close(s);
}

/* What af_journal_steps gave: copies of the fields the tests look at. */
#define MAX_STEPS 5000
typedef struct seen {
	size_t n;
	struct {
		char sid[64], slot[64], agent[32], key[64], status[16];
		int state, cached, durable;
		long long step, attempt, pgid, done_seq;
		size_t result_len;
		char result[32]; /* the first bytes */
		char extra[32];
	} s[MAX_STEPS];
} seen;

static seen got;

static void copy_str(char *out, size_t size, const char *s)
{
	snprintf(out, size, "%s", s ? s : "");
}

static int keep_step(const af_journal_step *st, void *ctx)
{
	seen *g = ctx;

	if (g->n < MAX_STEPS) {
		copy_str(g->s[g->n].sid, sizeof g->s[0].sid, st->sid);
		copy_str(g->s[g->n].slot, sizeof g->s[0].slot, st->slot);
		copy_str(g->s[g->n].agent, sizeof g->s[0].agent, st->agent);
		copy_str(g->s[g->n].key, sizeof g->s[0].key, st->key);
		copy_str(g->s[g->n].status, sizeof g->s[0].status, st->status);
		g->s[g->n].state = st->state;
		g->s[g->n].cached = st->cached;
		g->s[g->n].durable = st->durable;
		g->s[g->n].step = st->step;
		g->s[g->n].attempt = st->attempt;
		g->s[g->n].pgid = st->pgid;
		g->s[g->n].done_seq = st->done_seq;
		g->s[g->n].result_len = st->result_len;
		snprintf(g->s[g->n].result, sizeof g->s[0].result, "%.*s",
			 (int)(st->result_len < 31 ? st->result_len : 31), st->result ? (const char *)st->result : "");
		snprintf(g->s[g->n].extra, sizeof g->s[0].extra, "%.*s", (int)st->extra_len,
			 st->extra ? (const char *)st->extra : "");
	}
	g->n++;
	return 0;
}

static int read_steps(af_journal *j, const char *run)
{
	memset(&got, 0, sizeof got);
	return af_journal_steps(j, run, keep_step, &got);
}

static af_journal_step step_of(const char *run, const char *sid, long long n, const char *agent,
			       const char *key)
{
	af_journal_step st = {0};

	st.run_id = run;
	st.sid = sid;
	st.step = n;
	st.kind = "agent";
	st.agent = agent;
	st.key = key;
	st.started_at = 1764000000.25;
	st.durable = 1;
	return st;
}

static af_journal_step finished_of(af_journal_step st, const char *result)
{
	st.state = AF_JOURNAL_COMPLETED;
	st.status = "success";
	st.result = result;
	st.result_len = strlen(result);
	st.extra = "lineage";
	st.extra_len = 7;
	st.finished_at = 1764000001.5;
	return st;
}

/* Whether the record at key exists in db (raw). */
static void found(const void *val, size_t vlen, void *ctx)
{
	(void)val;
	*(size_t *)ctx = vlen;
}

static int has_key(af_store *s, int db, const char *key)
{
	size_t len = 0;

	return af_store_get(s, db, key, strlen(key), found, &len) == AF_OK;
}

static void test_step_records_round_trip(void)
{
	af_store *s;
	af_journal *j;
	af_journal_step st;

	fresh("journal-roundtrip", &s, &j);
	st = step_of("r1", "main/1", 1, "review", "k1");
	T_EQ_INT(AF_OK, af_journal_started(j, &st, AF_JOURNAL_NOW));
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(1, got.n);
	T_EQ_INT(AF_JOURNAL_STARTED, got.s[0].state);
	T_EQ_STR("main/1", got.s[0].sid);
	T_EQ_STR("review", got.s[0].agent);
	T_EQ_INT(1, got.s[0].durable);
	T_EQ_INT(AF_OK, af_journal_spawned(j, "r1", "main/1", 4242, 99));
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(4242, got.s[0].pgid);
	T_EQ_INT(AF_OK, af_journal_spawned(j, "r1", "main/9", 1, 1)); /* no such open step: nothing */
	st = finished_of(st, "packed result");
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_NOW));
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(1, got.n);
	T_EQ_INT(AF_JOURNAL_COMPLETED, got.s[0].state);
	T_EQ_STR("success", got.s[0].status);
	T_EQ_STR("packed result", got.s[0].result);
	T_EQ_STR("lineage", got.s[0].extra);
	T_EQ_STR("main/1", got.s[0].slot);
	T_EQ_INT(1, got.s[0].done_seq);
	T_EQ_INT(0, got.s[0].pgid); /* a finished record names no process */
	T_EQ_INT(AF_OK, read_steps(j, "r2"));
	T_EQ_INT(0, got.n);
	done(s, j);
}

static void test_a_large_result_goes_to_the_blobs(void)
{
	af_store *s;
	af_journal *j;
	af_journal_step st;
	size_t n = AF_JOURNAL_BLOB_MIN + 100, entries, used;
	char *big = malloc(n + 1);

	memset(big, 'x', n);
	big[n] = '\0';
	big[0] = 'B';
	fresh("journal-blob", &s, &j);
	st = finished_of(step_of("r1", "a", 1, "big", "k"), big);
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_NOW));
	T_EQ_INT(AF_OK, af_store_count(s, AF_DB_JOURNAL_BLOBS, &entries, &used));
	T_EQ_INT(1, entries);
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(n, got.s[0].result_len);
	T_EQ_INT('B', got.s[0].result[0]);
	T_EQ_INT(AF_OK, af_journal_gc_blobs(j, &used));
	T_EQ_INT(0, used); /* a record uses it */
	free(big);
	done(s, j);
}

static void test_in_process_records_wait_for_the_next_commit(void)
{
	af_store *s;
	af_journal *j;
	af_journal_step st = step_of("r1", "a", 1, "lua", "k");

	fresh("journal-later", &s, &j);
	st.durable = 0;
	T_EQ_INT(AF_OK, af_journal_started(j, &st, AF_JOURNAL_LATER));
	st = finished_of(st, "r");
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_LATER));
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(0, got.n);
	st = step_of("r1", "b", 2, "agent", "k2");
	T_EQ_INT(AF_OK, af_journal_started(j, &st, AF_JOURNAL_NOW)); /* commits them with it */
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(2, got.n);
	T_EQ_INT(AF_JOURNAL_COMPLETED, got.s[0].state);
	T_EQ_INT(AF_JOURNAL_STARTED, got.s[1].state);
	st = step_of("r1", "c", 3, "exec", "k3");
	T_EQ_INT(AF_OK, af_journal_started(j, &st, AF_JOURNAL_SPAWN)); /* written once spawned */
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(2, got.n);
	T_EQ_INT(AF_OK, af_journal_spawned(j, "r1", "c", 77, 5));
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(3, got.n);
	T_EQ_INT(77, got.s[2].pgid);
	done(s, j);
}

static void test_divergent_slots_and_the_latest_attempt(void)
{
	af_store *s;
	af_journal *j;
	af_journal_replay *rp;
	af_journal_step st;
	char slot[64];

	fresh("journal-slots", &s, &j);
	st = finished_of(step_of("r1", "a", 1, "x", "k1"), "first");
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_NOW));
	/* attempt 1 runs step a with another key: beside the record, never over it */
	T_EQ_INT(AF_OK, af_journal_replay_open(j, "r1", 0, &rp));
	af_journal_slot(rp, "a", "x", "k2", 1, slot, sizeof slot);
	T_EQ_STR("a~1", slot);
	af_journal_slot(rp, "a", "x", "k1", 1, slot, sizeof slot);
	T_EQ_STR("a", slot);
	af_journal_replay_close(rp);
	st = finished_of(step_of("r1", "a", 1, "x", "k2"), "second");
	st.slot = "a~1";
	st.attempt = 1;
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_NOW));
	T_CHECK(has_key(s, AF_DB_JOURNAL, "r1/s/a"));
	T_CHECK(has_key(s, AF_DB_JOURNAL, "r1/s/a~1"));
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(1, got.n);
	T_EQ_STR("second", got.s[0].result);
	T_EQ_STR("a~1", got.s[0].slot);
	T_EQ_INT(1, got.s[0].attempt);
	/* a hit in attempt 2 is the latest */
	T_EQ_INT(AF_OK, af_journal_hit(j, "r1", 2, 1, "a", "k3", "x"));
	T_EQ_INT(AF_OK, af_journal_flush(j));
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(1, got.s[0].cached);
	T_EQ_STR("k3", got.s[0].key);
	/* at equal attempts a step record beats a hit line */
	T_EQ_INT(AF_OK, af_journal_hit(j, "r1", 0, 2, "b", "kb", "y"));
	T_EQ_INT(AF_OK, af_journal_flush(j));
	st = finished_of(step_of("r1", "b", 2, "y", "kb"), "ran");
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_NOW));
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(2, got.n);
	T_EQ_INT(0, got.s[1].cached);
	T_EQ_STR("ran", got.s[1].result);
	done(s, j);
}

static void test_hit_lines_in_chunks(void)
{
	af_store *s;
	af_journal *j;
	char sid[32];
	int n = AF_JOURNAL_HIT_CHUNK + 10;

	fresh("journal-hits", &s, &j);
	for (int i = 1; i <= n; i++) {
		snprintf(sid, sizeof sid, "main/%d", i);
		T_EQ_INT(AF_OK, af_journal_hit(j, "r1", 0, i, sid, "0123abcd", "agent one"));
	}
	T_EQ_INT(10, af_journal_hits_buffered(j)); /* the first chunk is pending */
	T_EQ_INT(AF_OK, af_journal_hit_text(j, "r1", 0, "5000 late/1 beef agent two\n5001 late/2 beef x", 45));
	T_EQ_INT(12, af_journal_hits_buffered(j));
	T_EQ_INT(AF_OK, af_journal_flush(j));
	T_EQ_INT(0, af_journal_hits_buffered(j));
	T_CHECK(has_key(s, AF_DB_JOURNAL, "r1/hits/0/000001"));
	T_CHECK(has_key(s, AF_DB_JOURNAL, "r1/hits/0/004097"));
	T_EQ_INT(AF_OK, read_steps(j, "r1"));
	T_EQ_INT(n + 2, got.n);
	T_EQ_STR("main/1", got.s[0].sid);
	T_EQ_STR("agent one", got.s[0].agent);
	T_EQ_STR("0123abcd", got.s[0].key);
	T_EQ_INT(1, got.s[0].cached);
	T_EQ_INT(AF_JOURNAL_COMPLETED, got.s[0].state);
	T_EQ_STR("success", got.s[0].status);
	T_EQ_STR("agent two", got.s[n].agent);
	T_EQ_INT(5001, got.s[n + 1].step);
	/* another attempt starts a chunk of its own */
	T_EQ_INT(AF_OK, af_journal_hit(j, "r1", 0, 6000, "m/6000", "aa", "z"));
	T_EQ_INT(AF_OK, af_journal_hit(j, "r1", 1, 6001, "m/6001", "aa", "z"));
	T_EQ_INT(AF_OK, af_journal_flush(j));
	T_CHECK(has_key(s, AF_DB_JOURNAL, "r1/hits/0/006000"));
	T_CHECK(has_key(s, AF_DB_JOURNAL, "r1/hits/1/006001"));
	done(s, j);
}

typedef struct labels {
	char text[256];
} labels;

static int add_label(const af_checkpoint_record *cp, void *ctx)
{
	labels *l = ctx;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof l->text - n, "%s%s@%lld", n ? " " : "", cp->label, cp->step);
	return 0;
}

static void test_checkpoints_in_step_order(void)
{
	af_store *s;
	af_journal *j;
	labels l = {""};

	fresh("journal-checkpoints", &s, &j);
	T_EQ_INT(AF_OK, af_journal_checkpoint(j, "r1", "late", 6, 1.0));
	T_EQ_INT(AF_OK, af_journal_checkpoint(j, "r1", "first", 3, 2.0));
	T_EQ_INT(AF_OK, af_journal_checkpoint(j, "r1", "also-late", 6, 3.0));
	T_EQ_INT(AF_OK, af_journal_checkpoint(j, "r2", "other", 1, 3.0));
	T_EQ_INT(AF_OK, af_journal_checkpoints(j, "r1", add_label, &l));
	T_EQ_STR("", l.text); /* not committed yet */
	T_EQ_INT(AF_OK, af_journal_flush(j));
	T_EQ_INT(AF_OK, af_journal_checkpoints(j, "r1", add_label, &l));
	T_EQ_STR("first@3 late@6 also-late@6", l.text);
	done(s, j);
}

static void keep_value(const char *kind, const char *text, void *ctx)
{
	snprintf(ctx, 64, "%s %s", kind, text);
}

static void test_values(void)
{
	af_store *s;
	af_journal *j;
	char v[64] = "";

	fresh("journal-values", &s, &j);
	T_EQ_INT(AF_OK, af_journal_put_value(j, "r1", "main/1", "time", "1764000000.5"));
	T_EQ_INT(AF_OK, af_journal_flush(j));
	T_EQ_INT(AF_OK, af_journal_value(j, "r1", "main/1", keep_value, v));
	T_EQ_STR("time 1764000000.5", v);
	T_EQ_INT(AF_ENOTFOUND, af_journal_value(j, "r1", "main/2", keep_value, v));
	done(s, j);
}

static void test_replay_claims(void)
{
	af_store *s;
	af_journal *j;
	af_journal_replay *rp;
	af_journal_step st;
	const af_journal_step *rec;

	fresh("journal-claims", &s, &j);
	st = finished_of(step_of("r1", "done", 1, "a", "k1"), "r");
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_NOW));
	st = step_of("r1", "running", 2, "a", "k2");
	T_EQ_INT(AF_OK, af_journal_started(j, &st, AF_JOURNAL_NOW));
	st = finished_of(step_of("r1", "broke", 3, "a", "k3"), "r");
	st.state = AF_JOURNAL_FAILED;
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_NOW));
	T_EQ_INT(AF_OK, af_journal_hit(j, "r1", 0, 4, "hit", "k4", "a"));
	st = finished_of(step_of("r1", "later", 7, "a", "k7"), "r");
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_NOW));
	T_EQ_INT(AF_OK, af_journal_flush(j));

	T_EQ_INT(AF_OK, af_journal_replay_open(j, "r1", 0, &rp));
	T_EQ_INT(7, af_journal_replay_last(rp));
	T_EQ_INT(AF_CLAIM_REPLAY, af_journal_claim(rp, "done", "a", "k1", &rec));
	T_EQ_INT(1, rec->step);
	T_EQ_INT(AF_CLAIM_DIFFERS, af_journal_claim(rp, "done", "a", "other", &rec));
	T_EQ_INT(AF_CLAIM_DIFFERS, af_journal_claim(rp, "done", "b", "k1", NULL));
	T_EQ_INT(AF_CLAIM_RUN, af_journal_claim(rp, "running", "a", "k2", NULL));
	T_EQ_INT(AF_CLAIM_RUN, af_journal_claim(rp, "broke", "a", "k3", NULL));
	T_EQ_INT(AF_CLAIM_RUN, af_journal_claim(rp, "hit", "a", "k4", NULL));
	T_EQ_INT(AF_CLAIM_NONE, af_journal_claim(rp, "new", "a", "k5", &rec));
	T_CHECK(rec == NULL);
	af_journal_replay_close(rp);
	/* up to a checkpoint's step */
	T_EQ_INT(AF_OK, af_journal_replay_open(j, "r1", 4, &rp));
	T_EQ_INT(4, af_journal_replay_last(rp));
	T_EQ_INT(AF_CLAIM_NONE, af_journal_claim(rp, "later", "a", "k7", NULL));
	af_journal_replay_close(rp);
	done(s, j);
}

static int count_runs_seen;

static void count_run(const af_run_record *r, void *ctx)
{
	(void)ctx;
	(void)r;
	count_runs_seen++;
}

static void put_run(af_journal *j, const char *id, const char *status, double started, double finished,
		    long long pid)
{
	af_run_record r = {0};
	char host[256] = "";
	int zombie;

	gethostname(host, sizeof host - 1);
	r.run_id = id;
	r.status = status;
	r.started_at = started;
	r.finished_at = finished;
	r.pid = pid;
	r.pid_start = (long long)af_proc_started(pid, &zombie);
	r.host = host;
	r.extra = "info";
	r.extra_len = 4;
	T_EQ_INT(AF_OK, af_journal_put_run(j, &r));
}

/* A process id that no process has now (a child that has been reaped). */
static long long gone_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void big_step(af_journal *j, const char *run, char fill)
{
	size_t n = AF_JOURNAL_BLOB_MIN;
	char *big = malloc(n + 1);
	af_journal_step st;

	memset(big, fill, n);
	big[n] = '\0';
	st = finished_of(step_of(run, "s", 1, "a", "k"), big);
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_NOW));
	free(big);
}

static void test_retention_and_blob_gc(void)
{
	af_store *s;
	af_journal *j;
	size_t removed, entries, used;
	double now = (double)time(NULL), old = now - 40 * 86400.0;

	fresh("journal-retention", &s, &j);
	put_run(j, "old", "done", old, old + 10, getpid());
	put_run(j, "recent", "done", now - 10, now - 5, getpid());
	put_run(j, "still-running", "running", old, 0, getpid());
	put_run(j, "died", "running", old, 0, gone_pid());
	put_run(j, "current", "done", old, old + 1, getpid());
	big_step(j, "old", 'o');
	big_step(j, "recent", 'r');
	big_step(j, "died", 'd');
	T_EQ_INT(AF_OK, af_journal_checkpoint(j, "old", "cp", 1, old));
	T_EQ_INT(AF_OK, af_journal_flush(j));
	T_EQ_INT(AF_OK, af_store_count(s, AF_DB_JOURNAL_BLOBS, &entries, &used));
	T_EQ_INT(3, entries);

	T_EQ_INT(AF_OK, af_journal_maybe_prune(j, now, 30 * 86400.0, "current", &removed));
	T_EQ_INT(2, removed); /* old, died; not the running one, the recent one, nor `keep` */
	T_CHECK(!has_key(s, AF_DB_RUNS, "old"));
	T_CHECK(!has_key(s, AF_DB_RUNS, "died"));
	T_CHECK(has_key(s, AF_DB_RUNS, "still-running"));
	T_CHECK(has_key(s, AF_DB_RUNS, "recent"));
	T_CHECK(has_key(s, AF_DB_RUNS, "current"));
	T_CHECK(!has_key(s, AF_DB_JOURNAL, "old/s/s"));
	T_CHECK(!has_key(s, AF_DB_JOURNAL, "old/checkpoint/cp"));
	T_CHECK(has_key(s, AF_DB_JOURNAL, "recent/s/s"));
	T_EQ_INT(AF_OK, af_store_count(s, AF_DB_JOURNAL_BLOBS, &entries, &used));
	T_EQ_INT(1, entries); /* the recent run's */
	count_runs_seen = 0;
	T_EQ_INT(AF_OK, af_journal_runs(j, count_run, NULL));
	T_EQ_INT(3, count_runs_seen);

	/* at most once a day */
	put_run(j, "old2", "done", old, old + 10, getpid());
	T_EQ_INT(AF_OK, af_journal_maybe_prune(j, now + 3600, 30 * 86400.0, NULL, &removed));
	T_EQ_INT(0, removed);
	T_EQ_INT(AF_OK, af_journal_maybe_prune(j, now + 86400, 30 * 86400.0, NULL, &removed));
	T_EQ_INT(2, removed); /* old2 and, now unkept, current */
	done(s, j);
}

typedef struct run_seen {
	char status[32], damaged[200], extra[16];
	int n;
} run_seen;

static void keep_run(const af_run_record *r, void *ctx)
{
	run_seen *g = ctx;

	g->n++;
	copy_str(g->status, sizeof g->status, r->status);
	copy_str(g->damaged, sizeof g->damaged, r->damaged);
	snprintf(g->extra, sizeof g->extra, "%.*s", (int)r->extra_len, r->extra ? (const char *)r->extra : "");
}

static void test_damaged_records_are_reported(void)
{
	af_store *s;
	af_journal *j;
	af_journal_step st;
	run_seen r = {0};
	size_t removed;
	/* the previous format (cjson), a cut-short record, a record of another version */
	af_store_op ops[] = {
		{AF_DB_JOURNAL, "r1/s/old", 0, "{\"state\":\"completed\",\"sid\":\"old\"}", 0, 0},
		{AF_DB_JOURNAL, "r1/s/cut", 0, "AFJ\001S\002\001", 0, 0},
		{AF_DB_JOURNAL, "r1/hits/0/000009", 0, "AFJ\002H", 0, 0},
		{AF_DB_RUNS, "r0", 0, "{\"run_id\":\"r0\",\"status\":\"done\"}", 0, 0},
	};

	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		ops[i].klen = strlen(ops[i].key);
		ops[i].vlen = strlen(ops[i].val);
	}
	fresh("journal-damaged", &s, &j);
	T_EQ_INT(AF_OK, af_store_write(s, ops, sizeof ops / sizeof ops[0]));
	st = finished_of(step_of("r1", "good", 1, "a", "k"), "r");
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_NOW));
	T_EQ_INT(AF_EINVAL, read_steps(j, "r1"));
	T_CHECK(strstr(af_error_last(), "r1/hits/0/000009") != NULL);
	T_CHECK(strstr(af_error_last(), "another version of agentflow") != NULL);
	T_EQ_INT(1, got.n); /* the readable one all the same */
	T_EQ_STR("good", got.s[0].sid);
	T_EQ_INT(AF_OK, af_journal_run(j, "r0", keep_run, &r));
	T_EQ_INT(1, r.n);
	T_CHECK(strstr(r.damaged, "another version of agentflow") != NULL);
	put_run(j, "r2", "done", 1.0, 2.0, getpid());
	T_EQ_INT(AF_OK, af_journal_run(j, "r2", keep_run, &r));
	T_EQ_STR("", r.damaged);
	T_EQ_STR("done", r.status);
	T_EQ_STR("info", r.extra);
	/* retention removes what no version reads any more, and leaves the rest */
	put_run(j, "r3", "done", (double)time(NULL), (double)time(NULL), getpid());
	T_EQ_INT(AF_OK, af_journal_prune(j, 1.5, NULL, &removed));
	T_EQ_INT(1, removed);
	T_CHECK(!has_key(s, AF_DB_RUNS, "r0"));
	T_CHECK(has_key(s, AF_DB_RUNS, "r2")); /* ended at 2.0 */
	T_CHECK(has_key(s, AF_DB_RUNS, "r3"));
	done(s, j);
}

/*
 * Another process (this program run again, with a store of its own): the
 * number of step records of run r1 it reads, -1 on error.
 */
static int steps_seen_by_another_process(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execl("/proc/self/exe", "test_journal", "--count-steps", dir, (char *)NULL);
		_exit(255);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) != 255 ? WEXITSTATUS(status) : -1;
}

/* test_journal --count-steps DIR: exit with the number of step records of run r1. */
static int count_steps(const char *store_dir)
{
	af_store *s;
	af_journal *j;
	int n;

	if (af_store_open(&s, store_dir, 0) != AF_OK || af_journal_open(&j, s) != AF_OK ||
	    read_steps(j, "r1") != AF_OK)
		return 255;
	n = (int)got.n;
	done(s, j);
	return n;
}

static void test_committed_records_are_durable(void)
{
	af_store *s;
	af_journal *j;
	af_journal_step st;

	fresh("journal-durable", &s, &j);
	st = step_of("r1", "a", 1, "agent", "k");
	T_EQ_INT(AF_OK, af_journal_started(j, &st, AF_JOURNAL_NOW));
	T_EQ_INT(1, steps_seen_by_another_process());
	st = step_of("r1", "b", 2, "lua", "k");
	T_EQ_INT(AF_OK, af_journal_started(j, &st, AF_JOURNAL_LATER));
	T_EQ_INT(1, steps_seen_by_another_process()); /* waits */
	st = finished_of(step_of("r1", "c", 3, "exec", "k"), "r");
	T_EQ_INT(AF_OK, af_journal_finished(j, &st, AF_JOURNAL_NOW));
	T_EQ_INT(3, steps_seen_by_another_process());
	done(s, j);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--count-steps") == 0)
		return count_steps(argv[2]);
	T_RUN(test_step_records_round_trip);
	T_RUN(test_a_large_result_goes_to_the_blobs);
	T_RUN(test_in_process_records_wait_for_the_next_commit);
	T_RUN(test_divergent_slots_and_the_latest_attempt);
	T_RUN(test_hit_lines_in_chunks);
	T_RUN(test_checkpoints_in_step_order);
	T_RUN(test_values);
	T_RUN(test_replay_claims);
	T_RUN(test_retention_and_blob_gc);
	T_RUN(test_damaged_records_are_reported);
	T_RUN(test_committed_records_are_durable);
	return t_done();
}
