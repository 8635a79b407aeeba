/*
 * journal.h - the run journal (DESIGN.md, "Two stores, two jobs"): run
 * records, step records, the cache hits of a run, checkpoints, recorded
 * values, replay claims, retention and the journal's blobs, in the store's
 * journal databases (AF_DB_RUNS, AF_DB_JOURNAL, AF_DB_JOURNAL_BLOBS).
 *
 * Keys (RUN is a run id: [A-Za-z0-9._-], so never "!" nor "/"):
 *   runs:    RUN                        a run record
 *   journal: RUN/s/SLOT                 a step record; SLOT is the step's
 *                                       identity SID, or "SID~ATTEMPT" when a
 *                                       finished record of another step
 *                                       holds SID (never overwritten)
 *            RUN/hits/ATTEMPT/FIRST     lines "STEP SID KEY AGENT" of steps
 *                                       the cache answered, FIRST the
 *                                       first line's step (6 digits)
 *            RUN/checkpoint/LABEL       a checkpoint
 *            RUN/values/ID              a value the workflow read
 *            !pruned                    when retention last ran
 *   journal_blobs: HASH                 a step result of 16 KiB or more
 *
 * Record format (version 1): "AFJ", the version byte 1, a type byte ('S'
 * step, 'H' hits, 'C' checkpoint, 'V' value, 'R' run, 'P' pruned), then
 * fields, each a tag byte and its value: tags below 0x40 an integer (8
 * bytes, little-endian two's complement), 0x40-0x7f a double (8 bytes,
 * IEEE 754, little-endian), 0x80 and up bytes (a 4-byte little-endian
 * length, then the bytes). A reader skips tags it does not know; a record
 * of another version or cut short is reported as unreadable (AF_EINVAL)
 * and never read past its end. A step's result and the other fields of
 * steps and runs are opaque bytes here (the Lua face packs them with
 * core.pack).
 *
 * Durability: af_journal_started with AF_JOURNAL_NOW, af_journal_spawned,
 * af_journal_finished with AF_JOURNAL_NOW and af_journal_put_run commit at
 * once (af_store_write, in one transaction with what is pending); every
 * other write waits in the journal's own pending batch (copies) for the
 * next of those commits, af_journal_flush, or a full batch. The journal
 * never shares a transaction with other writers of the store.
 *
 * Strings passed in are NUL-terminated and copied; strings and bytes passed
 * to callbacks are valid only during the call (copies made outside any
 * LMDB transaction).
 */
#ifndef AF_JOURNAL_H
#define AF_JOURNAL_H

#include "store.h"

#include <stddef.h>

typedef struct af_journal af_journal;

/* When a write is committed. */
enum af_journal_when {
	AF_JOURNAL_NOW,   /* at once, with everything pending */
	AF_JOURNAL_SPAWN, /* with its process group (af_journal_spawned) */
	AF_JOURNAL_LATER  /* with the next commit */
};

enum af_journal_state { AF_JOURNAL_STARTED, AF_JOURNAL_COMPLETED, AF_JOURNAL_FAILED };

/* Results from this size on go to the blob table. */
#define AF_JOURNAL_BLOB_MIN (16 * 1024)

/* Hit lines per chunk. */
#define AF_JOURNAL_HIT_CHUNK 4096

typedef struct af_journal_step {
	const char *run_id;
	const char *slot;   /* writing: where (SID or SID~ATTEMPT; NULL: sid) */
	const char *sid;
	const char *kind;   /* "agent", "exec" */
	const char *agent;
	const char *key;    /* the cache key (an exec step: its request's hash) */
	const char *status; /* of a finished step: "success", "failed", ... */
	int state;          /* enum af_journal_state */
	int durable;        /* committed as it goes (not an in-process step) */
	int cached;         /* answered by the cache: read from hit lines */
	long long step, attempt, pgid, pid_start, done_seq;
	double started_at, finished_at;
	const void *result; /* opaque; NULL: none */
	size_t result_len;
	const void *extra;  /* opaque: the caller's other fields; NULL: none */
	size_t extra_len;
} af_journal_step;

typedef struct af_run_record {
	const char *run_id;
	const char *status; /* "running", "done", ... */
	const char *host;
	long long pid, pid_start;
	double started_at, finished_at; /* finished_at 0: not finished */
	const void *extra;  /* opaque: the caller's other fields */
	size_t extra_len;
	const char *damaged; /* reading: why the record cannot be read (the rest is unset), or NULL */
} af_run_record;

typedef struct af_checkpoint_record {
	const char *label;
	long long step, seq;
	double at;
} af_checkpoint_record;

/* Open the journal over store `s`, which must outlive it. */
int af_journal_open(af_journal **out, af_store *s);

/* Free the journal; what is pending and not flushed is dropped. */
void af_journal_close(af_journal *j);

/* ---- writing ----------------------------------------------------------------- */

/*
 * Step st (run_id, slot, step, sid, kind, agent, key, attempt, started_at,
 * durable) is launching. It stays open until af_journal_finished, so that
 * af_journal_spawned can add its process group.
 */
int af_journal_started(af_journal *j, const af_journal_step *st, int when);

/*
 * The open step of `run_id` at `slot` started process group `pgid` (its
 * leader started at `pid_start`): its record with them is committed at
 * once. Nothing happens when no such step is open.
 */
int af_journal_spawned(af_journal *j, const char *run_id, const char *slot, long long pgid,
		       long long pid_start);

/*
 * Step st ended (st->state COMPLETED or FAILED, with its result): written
 * at `slot` with the next completion number (done_seq), at once or later.
 * A result of AF_JOURNAL_BLOB_MIN bytes or more goes to the blob table.
 */
int af_journal_finished(af_journal *j, const af_journal_step *st, int when);

/* Copy record st of another run into run `run_id` under its sid (a fork), later. */
int af_journal_copy(af_journal *j, const char *run_id, const af_journal_step *st);

/*
 * Step `step` (identity `sid`) of attempt `attempt` of `run_id` was answered
 * by cache entry `key` of `agent`: a line in a buffer, which becomes a
 * pending chunk when it holds AF_JOURNAL_HIT_CHUNK lines (or the run or
 * attempt changes, or at af_journal_write_hits).
 */
int af_journal_hit(af_journal *j, const char *run_id, long long attempt, long long step,
		   const char *sid, const char *key, const char *agent);

/* Add `len` bytes of hit lines ("STEP SID KEY AGENT\n"...) made elsewhere. */
int af_journal_hit_text(af_journal *j, const char *run_id, long long attempt, const char *text,
			size_t len);

/* Lines in the hit buffer. */
size_t af_journal_hits_buffered(const af_journal *j);

/* Make the hit buffer a pending chunk. */
int af_journal_write_hits(af_journal *j);

/* Checkpoint `label` of `run_id` after step `step`, at time `at`, later. */
int af_journal_checkpoint(af_journal *j, const char *run_id, const char *label, long long step,
			  double at);

/* Value `id` of `run_id` read by the workflow: `kind` and its text, later. */
int af_journal_put_value(af_journal *j, const char *run_id, const char *id, const char *kind,
			 const char *text);

/* Write run record r, at once (with everything pending). */
int af_journal_put_run(af_journal *j, const af_run_record *r);

/* Commit the hit buffer and everything pending. */
int af_journal_flush(af_journal *j);

/* ---- reading ----------------------------------------------------------------- */

typedef int (*af_journal_step_cb)(const af_journal_step *st, void *ctx);

/*
 * Call cb for the record of each step identity of `run_id` (the latest
 * attempt's; at equal attempts a step record over a hit line), in step
 * order, with its result read from the blobs, until cb returns non-zero.
 * Returns AF_OK, AF_EIO, or AF_EINVAL (after the readable records) when a
 * record cannot be read: the message names it.
 */
int af_journal_steps(af_journal *j, const char *run_id, af_journal_step_cb cb, void *ctx);

/* The checkpoints of `run_id` in step order (then in the order made). */
int af_journal_checkpoints(af_journal *j, const char *run_id,
			   int (*cb)(const af_checkpoint_record *cp, void *ctx), void *ctx);

/* Value `id` of `run_id`: cb(kind, text, ctx). AF_ENOTFOUND when there is none. */
int af_journal_value(af_journal *j, const char *run_id, const char *id,
		     void (*cb)(const char *kind, const char *text, void *ctx), void *ctx);

/* The record of run `id` (damaged: see af_journal_run). AF_ENOTFOUND when there is none. */
int af_journal_run(af_journal *j, const char *id, void (*cb)(const af_run_record *r, void *ctx),
		   void *ctx);

/* Every run record, in run id order. */
int af_journal_runs(af_journal *j, void (*cb)(const af_run_record *r, void *ctx), void *ctx);

/* ---- replay ------------------------------------------------------------------ */

/* What a resumed run does with a step (af_journal_claim). */
enum af_journal_claim_kind {
	AF_CLAIM_NONE,    /* no record: the step is new (run it, or the cache answers) */
	AF_CLAIM_REPLAY,  /* a completed record of the same agent and key: its result */
	AF_CLAIM_RUN,     /* started, failed or a cache hit: it runs again (or the cache answers) */
	AF_CLAIM_DIFFERS  /* a record of another agent or key: replay ends */
};

typedef struct af_journal_replay af_journal_replay;

/*
 * The records of run `run_id` up to step `until` (0: all), read once, to
 * claim steps of a run that continues it. Unreadable records are left out
 * (the return is AF_EINVAL, with *out made all the same).
 */
int af_journal_replay_open(af_journal *j, const char *run_id, long long until,
			   af_journal_replay **out);

void af_journal_replay_close(af_journal_replay *rp);

/* The highest step number among the records. */
long long af_journal_replay_last(const af_journal_replay *rp);

/*
 * What the record of step identity `sid` says of a step of `agent` with
 * `key`; *rec (may be NULL) is the record (valid until close), NULL with
 * AF_CLAIM_NONE.
 */
int af_journal_claim(const af_journal_replay *rp, const char *sid, const char *agent,
		     const char *key, const af_journal_step **rec);

/*
 * Where a re-run of step `sid` (agent, key) writes in attempt `attempt`:
 * "SID", or "SID~ATTEMPT" beside a completed record of another step.
 * Writes at most `size` bytes with the NUL into out.
 */
void af_journal_slot(const af_journal_replay *rp, const char *sid, const char *agent,
		     const char *key, long long attempt, char *out, size_t size);

/* ---- retention --------------------------------------------------------------- */

/*
 * Delete the runs that ended before time `before` (except `keep`, may be
 * NULL), with their journals, then the journal blobs no record uses. A
 * run still "running" ended when its process is gone (another host's
 * runs count as gone), at its last step record; a run whose record cannot
 * be read (written by another version) ended long ago. *removed: runs
 * deleted.
 */
int af_journal_prune(af_journal *j, double before, const char *keep, size_t *removed);

/* Delete the journal blobs no step record uses; *removed may be NULL. */
int af_journal_gc_blobs(af_journal *j, size_t *removed);

/*
 * af_journal_prune(now - age) unless it ran less than a day before `now`
 * (in any process); *removed is 0 then.
 */
int af_journal_maybe_prune(af_journal *j, double now, double age, const char *keep,
			   size_t *removed);

#endif
