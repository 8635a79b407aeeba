/*
 * lua_journal.c - the run journal for the Lua library (agentflow.core), a
 * thin binding of journal.h; lua/agentflow/_journal.lua is its Lua face.
 *
 *   j = core.journal(store)
 *   j:started(rec, when)          ; when "now" | "spawn" | "later"
 *   j:spawned(run_id, slot, pgid, pid_start)
 *   j:finished(rec, when)
 *   j:copy(run_id, rec)
 *   j:hit(run_id, attempt, step, sid, agent, key)
 *   j:hit_text(run_id, attempt, text) ; j:buffered() ; j:write_hits()
 *   j:checkpoint(run_id, label, step, at)
 *   j:put_value(run_id, id, kind, text) ; kind, text = j:value(run_id, id)
 *   j:put_run(rec) ; rec = j:run(id) ; list = j:runs()
 *   j:flush()
 *   list, err = j:steps(run_id) ; list, err = j:checkpoints(run_id)
 *   rp, err = j:replay(run_id [, until])
 *     claim, rec = rp:claim(sid, agent, key) ; slot = rp:slot(sid, agent, key, attempt)
 *     n = rp:last()
 *   n = j:prune(before [, keep]) ; n = j:maybe_prune(now, age [, keep]) ; n = j:gc_blobs()
 *
 * A record is a table of the fields of af_journal_step / af_journal_run
 * (state as "started", "completed" or "failed"; result and extra as
 * strings). A store that cannot be read or written raises {exit_code = 74,
 * message}; an unreadable record is left out and named by `err`.
 */
#include "lua_journal.h"
#include "af.h"
#include "journal.h"
#include "lua_af.h"
#include "lua_store.h"

#include <lauxlib.h>
#include <string.h>

#define JOURNAL_MT "agentflow.journal"
#define REPLAY_MT "agentflow.journal.replay"
#define ERROR_MT "agentflow.error" /* lua_store.c's */

typedef struct ljournal {
	af_journal *j;
	af_store **store; /* the store object's slot: NULL inside once it is closed */
	af_store *opened; /* the store j was made with */
} ljournal;

static int raise_io(lua_State *L)
{
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, AF_EXIT_IOERR);
	lua_setfield(L, -2, "exit_code");
	lua_pushstring(L, af_error_last());
	lua_setfield(L, -2, "message");
	luaL_setmetatable(L, ERROR_MT);
	return lua_error(L);
}

/* Raise for a failed call (but an unreadable record, which the caller reports). */
static void check(lua_State *L, int rc)
{
	if (rc != AF_OK && rc != AF_EINVAL && rc != AF_ENOTFOUND)
		raise_io(L);
}

/* The journal a method is called on (its metatable is upvalue 1); its store still open. */
static af_journal *self(lua_State *L)
{
	ljournal *lj = af_lua_check_self(L, lua_upvalueindex(1), "journal");

	if (!lj->j || *lj->store != lj->opened)
		luaL_error(L, "the journal's store is closed");
	return lj->j;
}

static const char *opt_field_str(lua_State *L, int t, const char *name, size_t *len)
{
	const char *s;

	lua_getfield(L, t, name);
	s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, len) : NULL;
	lua_pop(L, 1); /* the table keeps the string */
	return s;
}

static long long field_int(lua_State *L, int t, const char *name)
{
	long long v;

	lua_getfield(L, t, name);
	v = lua_isinteger(L, -1) ? (long long)lua_tointeger(L, -1) : (long long)lua_tonumber(L, -1);
	lua_pop(L, 1);
	return v;
}

static double field_num(lua_State *L, int t, const char *name)
{
	double v;

	lua_getfield(L, t, name);
	v = (double)lua_tonumber(L, -1);
	lua_pop(L, 1);
	return v;
}

static int field_bool(lua_State *L, int t, const char *name)
{
	int v;

	lua_getfield(L, t, name);
	v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

static const char *const states[] = {"started", "completed", "failed", NULL};

/* A step record from the table at t. */
static af_journal_step to_step(lua_State *L, int t)
{
	af_journal_step st = {0};

	luaL_checktype(L, t, LUA_TTABLE);
	st.run_id = opt_field_str(L, t, "run_id", NULL);
	st.slot = opt_field_str(L, t, "slot", NULL);
	st.sid = opt_field_str(L, t, "sid", NULL);
	st.kind = opt_field_str(L, t, "kind", NULL);
	st.agent = opt_field_str(L, t, "agent", NULL);
	st.key = opt_field_str(L, t, "key", NULL);
	st.status = opt_field_str(L, t, "status", NULL);
	st.result = opt_field_str(L, t, "result", &st.result_len);
	st.extra = opt_field_str(L, t, "extra", &st.extra_len);
	lua_getfield(L, t, "state");
	st.state = luaL_checkoption(L, -1, "started", states);
	lua_pop(L, 1);
	st.durable = field_bool(L, t, "durable");
	st.step = field_int(L, t, "step");
	st.attempt = field_int(L, t, "attempt");
	st.pgid = field_int(L, t, "pgid");
	st.pid_start = field_int(L, t, "pid_start");
	st.started_at = field_num(L, t, "started_at");
	st.finished_at = field_num(L, t, "finished_at");
	if (!st.sid)
		luaL_error(L, "journal: a step record needs a sid");
	return st;
}

static void set_str(lua_State *L, const char *name, const char *s, size_t len)
{
	if (s) {
		lua_pushlstring(L, s, len);
		lua_setfield(L, -2, name);
	}
}

static void set_int(lua_State *L, const char *name, long long v)
{
	if (v) {
		lua_pushinteger(L, (lua_Integer)v);
		lua_setfield(L, -2, name);
	}
}

static void set_num(lua_State *L, const char *name, double v)
{
	if (v) {
		lua_pushnumber(L, (lua_Number)v);
		lua_setfield(L, -2, name);
	}
}

static void push_step(lua_State *L, const af_journal_step *st)
{
	lua_createtable(L, 0, 20);
	set_str(L, "run_id", st->run_id, st->run_id ? strlen(st->run_id) : 0);
	set_str(L, "slot", st->slot, st->slot ? strlen(st->slot) : 0);
	set_str(L, "sid", st->sid, strlen(st->sid));
	set_str(L, "kind", st->kind, st->kind ? strlen(st->kind) : 0);
	set_str(L, "agent", st->agent, st->agent ? strlen(st->agent) : 0);
	set_str(L, "key", st->key, st->key ? strlen(st->key) : 0);
	set_str(L, "status", st->status, st->status ? strlen(st->status) : 0);
	set_str(L, "result", st->result, st->result_len);
	set_str(L, "extra", st->extra, st->extra_len);
	lua_pushstring(L, states[st->state]);
	lua_setfield(L, -2, "state");
	if (st->durable) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "durable");
	}
	if (st->cached) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "cached");
	}
	set_int(L, "step", st->step);
	lua_pushinteger(L, (lua_Integer)st->attempt);
	lua_setfield(L, -2, "attempt");
	set_int(L, "pgid", st->pgid);
	set_int(L, "pid_start", st->pid_start);
	set_int(L, "done_seq", st->done_seq);
	set_num(L, "started_at", st->started_at);
	set_num(L, "finished_at", st->finished_at);
}

static const char *const whens[] = {"now", "spawn", "later", NULL};

/* j:started(rec, when) */
static int l_started(lua_State *L)
{
	af_journal *j = self(L);
	af_journal_step st = to_step(L, 2);

	check(L, af_journal_started(j, &st, luaL_checkoption(L, 3, NULL, whens)));
	return 0;
}

/* j:spawned(run_id, slot, pgid, pid_start) */
static int l_spawned(lua_State *L)
{
	af_journal *j = self(L);

	check(L, af_journal_spawned(j, luaL_checkstring(L, 2), luaL_checkstring(L, 3),
				    (long long)luaL_checkinteger(L, 4), (long long)luaL_checkinteger(L, 5)));
	return 0;
}

/* j:finished(rec, when) */
static int l_finished(lua_State *L)
{
	af_journal *j = self(L);
	af_journal_step st = to_step(L, 2);

	check(L, af_journal_finished(j, &st, luaL_checkoption(L, 3, NULL, whens)));
	return 0;
}

/* j:copy(run_id, rec) */
static int l_copy(lua_State *L)
{
	af_journal *j = self(L);
	af_journal_step st = to_step(L, 3);

	check(L, af_journal_copy(j, luaL_checkstring(L, 2), &st));
	return 0;
}

/* j:hit(run_id, attempt, step, sid, agent, key): at every cache hit, so no more than this */
static int l_hit(lua_State *L)
{
	af_journal *j = self(L);
	const char *run = luaL_checkstring(L, 2), *sid = luaL_checkstring(L, 5);
	const char *agent = luaL_checkstring(L, 6), *key = luaL_checkstring(L, 7);

	check(L, af_journal_hit(j, run, (long long)luaL_optinteger(L, 3, 0),
				(long long)luaL_checkinteger(L, 4), sid, key, agent));
	return 0;
}

/* j:hit_text(run_id, attempt, text) */
static int l_hit_text(lua_State *L)
{
	af_journal *j = self(L);
	size_t len;
	const char *run = luaL_checkstring(L, 2), *text = luaL_checklstring(L, 4, &len);

	check(L, af_journal_hit_text(j, run, (long long)luaL_optinteger(L, 3, 0), text, len));
	return 0;
}

/* n = j:buffered() : hit lines not yet a chunk */
static int l_buffered(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)af_journal_hits_buffered(self(L)));
	return 1;
}

static int l_write_hits(lua_State *L)
{
	check(L, af_journal_write_hits(self(L)));
	return 0;
}

/* j:checkpoint(run_id, label, step, at) */
static int l_checkpoint(lua_State *L)
{
	af_journal *j = self(L);

	check(L, af_journal_checkpoint(j, luaL_checkstring(L, 2), luaL_checkstring(L, 3),
				       (long long)luaL_checkinteger(L, 4), (double)luaL_checknumber(L, 5)));
	return 0;
}

/* j:put_value(run_id, id, kind, text) */
static int l_put_value(lua_State *L)
{
	af_journal *j = self(L);

	check(L, af_journal_put_value(j, luaL_checkstring(L, 2), luaL_checkstring(L, 3),
				      luaL_checkstring(L, 4), luaL_checkstring(L, 5)));
	return 0;
}

static void push_value(const char *kind, const char *text, void *ctx)
{
	lua_State *L = ctx;

	lua_pushstring(L, kind);
	lua_pushstring(L, text);
}

/* kind, text = j:value(run_id, id) ; nil (none), or nil, err (unreadable) */
static int l_value(lua_State *L)
{
	af_journal *j = self(L);
	int top = lua_gettop(L);
	int rc = af_journal_value(j, luaL_checkstring(L, 2), luaL_checkstring(L, 3), push_value, L);

	check(L, rc);
	if (rc == AF_OK)
		return lua_gettop(L) - top;
	lua_pushnil(L);
	if (rc == AF_ENOTFOUND)
		return 1;
	lua_pushstring(L, af_error_last());
	return 2;
}

/* j:put_run(rec) */
static int l_put_run(lua_State *L)
{
	af_journal *j = self(L);
	af_run_record r = {0};

	luaL_checktype(L, 2, LUA_TTABLE);
	r.run_id = opt_field_str(L, 2, "run_id", NULL);
	r.status = opt_field_str(L, 2, "status", NULL);
	r.host = opt_field_str(L, 2, "host", NULL);
	r.extra = opt_field_str(L, 2, "extra", &r.extra_len);
	r.pid = field_int(L, 2, "pid");
	r.pid_start = field_int(L, 2, "pid_start");
	r.started_at = field_num(L, 2, "started_at");
	r.finished_at = field_num(L, 2, "finished_at");
	if (!r.run_id || !r.status)
		return luaL_error(L, "journal: a run record needs a run_id and a status");
	check(L, af_journal_put_run(j, &r));
	return 0;
}

static void push_run(const af_run_record *r, void *ctx)
{
	lua_State *L = ctx;

	lua_createtable(L, 0, 9);
	set_str(L, "run_id", r->run_id, strlen(r->run_id));
	if (r->damaged) {
		set_str(L, "damaged", r->damaged, strlen(r->damaged));
		return;
	}
	set_str(L, "status", r->status, strlen(r->status));
	set_str(L, "host", r->host, r->host ? strlen(r->host) : 0);
	set_str(L, "extra", r->extra, r->extra_len);
	set_int(L, "pid", r->pid);
	set_int(L, "pid_start", r->pid_start);
	set_num(L, "started_at", r->started_at);
	set_num(L, "finished_at", r->finished_at);
}

/* rec = j:run(id) ; nil when there is none */
static int l_run(lua_State *L)
{
	af_journal *j = self(L);
	int rc = af_journal_run(j, luaL_checkstring(L, 2), push_run, L);

	check(L, rc);
	if (rc != AF_OK)
		lua_pushnil(L);
	return 1;
}

static void append_run(const af_run_record *r, void *ctx)
{
	lua_State *L = ctx;

	push_run(r, L);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

/* list = j:runs() : every run record, in run id order */
static int l_runs(lua_State *L)
{
	af_journal *j = self(L);

	lua_newtable(L);
	check(L, af_journal_runs(j, append_run, L));
	return 1;
}

static int l_flush(lua_State *L)
{
	check(L, af_journal_flush(self(L)));
	return 0;
}

static int append_step(const af_journal_step *st, void *ctx)
{
	lua_State *L = ctx;

	push_step(L, st);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	return 0;
}

/* Return the list on top, and the message when rc says a record was unreadable. */
static int list_and_error(lua_State *L, int rc)
{
	check(L, rc);
	if (rc == AF_EINVAL) {
		lua_pushstring(L, af_error_last());
		return 2;
	}
	return 1;
}

/* list, err = j:steps(run_id) */
static int l_steps(lua_State *L)
{
	af_journal *j = self(L);
	const char *run = luaL_checkstring(L, 2);

	lua_newtable(L);
	return list_and_error(L, af_journal_steps(j, run, append_step, L));
}

static int append_checkpoint(const af_checkpoint_record *cp, void *ctx)
{
	lua_State *L = ctx;

	lua_createtable(L, 0, 4);
	lua_pushstring(L, cp->label);
	lua_setfield(L, -2, "label");
	lua_pushinteger(L, (lua_Integer)cp->step);
	lua_setfield(L, -2, "step");
	lua_pushinteger(L, (lua_Integer)cp->seq);
	lua_setfield(L, -2, "seq");
	lua_pushnumber(L, (lua_Number)cp->at);
	lua_setfield(L, -2, "at");
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	return 0;
}

/* list, err = j:checkpoints(run_id) */
static int l_checkpoints(lua_State *L)
{
	af_journal *j = self(L);
	const char *run = luaL_checkstring(L, 2);

	lua_newtable(L);
	return list_and_error(L, af_journal_checkpoints(j, run, append_checkpoint, L));
}

/* n = j:prune(before [, keep]) */
static int l_prune(lua_State *L)
{
	af_journal *j = self(L);
	size_t n;

	check(L, af_journal_prune(j, (double)luaL_checknumber(L, 2), luaL_optstring(L, 3, NULL), &n));
	lua_pushinteger(L, (lua_Integer)n);
	return 1;
}

/* n = j:maybe_prune(now, age [, keep]) */
static int l_maybe_prune(lua_State *L)
{
	af_journal *j = self(L);
	size_t n;

	check(L, af_journal_maybe_prune(j, (double)luaL_checknumber(L, 2), (double)luaL_checknumber(L, 3),
					luaL_optstring(L, 4, NULL), &n));
	lua_pushinteger(L, (lua_Integer)n);
	return 1;
}

/* n = j:gc_blobs() */
static int l_gc_blobs(lua_State *L)
{
	size_t n;

	check(L, af_journal_gc_blobs(self(L), &n));
	lua_pushinteger(L, (lua_Integer)n);
	return 1;
}

/* ---- replay ------------------------------------------------------------------------ */

static af_journal_replay *check_replay(lua_State *L)
{
	af_journal_replay **rp = luaL_checkudata(L, 1, REPLAY_MT);

	if (!*rp)
		luaL_error(L, "the replay is closed");
	return *rp;
}

static int replay_gc(lua_State *L)
{
	af_journal_replay **rp = luaL_checkudata(L, 1, REPLAY_MT);

	af_journal_replay_close(*rp);
	*rp = NULL;
	return 0;
}

/* rp, err = j:replay(run_id [, until]) */
static int l_replay(lua_State *L)
{
	af_journal *j = self(L);
	const char *run = luaL_checkstring(L, 2);
	long long until = (long long)luaL_optinteger(L, 3, 0);
	af_journal_replay **rp = lua_newuserdatauv(L, sizeof *rp, 0);
	int rc;

	*rp = NULL;
	luaL_setmetatable(L, REPLAY_MT);
	rc = af_journal_replay_open(j, run, until, rp);
	return list_and_error(L, rc);
}

static const char *const claims[] = {"none", "replay", "run", "differs"};

/* claim, rec = rp:claim(sid, agent, key) */
static int l_claim(lua_State *L)
{
	af_journal_replay *rp = check_replay(L);
	const af_journal_step *rec;
	int claim = af_journal_claim(rp, luaL_checkstring(L, 2), luaL_checkstring(L, 3),
				     luaL_checkstring(L, 4), &rec);

	lua_pushstring(L, claims[claim]);
	if (!rec)
		return 1;
	push_step(L, rec);
	return 2;
}

/* slot = rp:slot(sid, agent, key, attempt) */
static int l_slot(lua_State *L)
{
	af_journal_replay *rp = check_replay(L);
	const char *sid = luaL_checkstring(L, 2);
	size_t size = strlen(sid) + AF_DECIMAL_MAX + 2;
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, size);

	af_journal_slot(rp, sid, luaL_checkstring(L, 3), luaL_checkstring(L, 4),
			(long long)luaL_checkinteger(L, 5), out, size);
	luaL_pushresultsize(&b, strlen(out));
	return 1;
}

/* n = rp:last() */
static int l_last(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)af_journal_replay_last(check_replay(L)));
	return 1;
}

/* ---- opening ------------------------------------------------------------------------ */

static int journal_gc(lua_State *L)
{
	ljournal *lj = luaL_checkudata(L, 1, JOURNAL_MT);

	af_journal_close(lj->j);
	lj->j = NULL;
	return 0;
}

/* j = core.journal(store) */
static int l_journal(lua_State *L)
{
	af_store **s = af_lua_to_store(L, 1);
	ljournal *lj;

	luaL_argexpected(L, s, 1, "store");
	if (!*s)
		return luaL_error(L, "the store is closed");
	lj = lua_newuserdatauv(L, sizeof *lj, 1);
	*lj = (ljournal){NULL, s, *s};
	luaL_setmetatable(L, JOURNAL_MT);
	lua_pushvalue(L, 1); /* the store lives as long as the journal */
	lua_setiuservalue(L, -2, 1);
	if (af_journal_open(&lj->j, *s) != AF_OK)
		return raise_io(L);
	return 1;
}

static const luaL_Reg methods[] = {
	{"started", l_started},
	{"spawned", l_spawned},
	{"finished", l_finished},
	{"copy", l_copy},
	{"hit", l_hit},
	{"hit_text", l_hit_text},
	{"buffered", l_buffered},
	{"write_hits", l_write_hits},
	{"checkpoint", l_checkpoint},
	{"put_value", l_put_value},
	{"value", l_value},
	{"put_run", l_put_run},
	{"run", l_run},
	{"runs", l_runs},
	{"flush", l_flush},
	{"steps", l_steps},
	{"checkpoints", l_checkpoints},
	{"replay", l_replay},
	{"prune", l_prune},
	{"maybe_prune", l_maybe_prune},
	{"gc_blobs", l_gc_blobs},
	{NULL, NULL}
};

void af_journal_lua_open(lua_State *L)
{
	static const luaL_Reg replay_methods[] = {
		{"claim", l_claim}, {"slot", l_slot}, {"last", l_last}, {NULL, NULL}};

	luaL_newmetatable(L, JOURNAL_MT);
	luaL_newlibtable(L, methods);
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, methods, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, journal_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_newmetatable(L, REPLAY_MT);
	luaL_newlib(L, replay_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, replay_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	lua_pushcfunction(L, l_journal);
	lua_setfield(L, -2, "journal");
}
