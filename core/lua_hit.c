/*
 * lua_hit.c - a cache hit answered in one call (agentflow.core):
 *
 *   recorder = core.hit_recorder(store, version, lines, hits, access)
 *   r, n, logged = recorder:hit(key, agent, step, sid, started, run_id [, log [, log_run_id]])
 *
 * hit() reads the cache entry under `key` from `store` (see _cache.lua's
 * M.put: format version, expiry, result record, ...). When it is a fresh
 * entry of format `version` holding its output, it makes the result record
 * `r` of step `step` of `agent` as every cached step's record is made
 * (cached, attempts, cost_usd, key, agent, metrics, tokens, duration,
 * run_id, step: see _agent.lua; the summary is stored with the entry),
 * adds the journal's line "STEP SID KEY AGENT" to `lines` (core.lines; `sid` is the step's
 * identity: see _ident.lua), counts the hit of `agent` in
 * the tally `hits` and the use of `key` in the tally `access`, and with a
 * `log` (core.log_open) writes the step's "step ended" record there with
 * `log_run_id` as its run id (nil: none). It returns r, how many lines
 * `lines` holds, and whether it wrote the log record (not when a field is
 * not what a stored hit holds: the caller then writes it). Otherwise it
 * returns nil and does nothing: the caller's full path reads the entry
 * again and says why it missed (or reads the output from the blob table).
 * `started` is the step's core.monotonic() start.
 *
 * Why in C: an all-hit rerun does this at every step, and in Lua its calls
 * and table writes cost more than the lookup itself.
 */
#include "lua_hit.h"
#include "af.h"
#include "log.h"
#include "lua_af.h"
#include "lua_lines.h"
#include "lua_log.h"
#include "lua_store.h"
#include "lua_tally.h"
#include "scheduler.h"
#include "store.h"

#include <lauxlib.h>

#define RECORDER_MT "agentflow.hitrecorder"

/* Room for the fields a hit adds to the stored record (cached, key, agent, run_id, ...). */
#define ROOM 12

typedef struct recorder {
	af_store **store; /* NULL inside once the store is closed */
	lua_Integer version;
	af_lines *lines;
	af_tally *hits, *access;
} recorder;

/* The names record() writes, interned once: the upvalues of record(). */
enum { N_AGENT, N_SUMMARY, N_OUTPUT, N_METRICS, N_TOKENS, N_INPUT, N_DURATION, N_RUN_ID, N_STEP,
       N_STATUS, N_CACHED, N_ATTEMPTS, N_COST, N_KEY, N_BLOB, N_COUNT };
static const char *const names[N_COUNT] = {"agent", "summary", "output", "metrics", "tokens",
					   "input", "duration", "run_id", "step", "status",
					   "cached", "attempts", "cost_usd", "key", "output_blob"};

#define NAME(i) lua_upvalueindex(1 + (i))

/* Push a name: r[name] = v is push_name, push v, lua_rawset(L, r). */
static void push_name(lua_State *L, int name)
{
	lua_pushvalue(L, NAME(name));
}

/* Push r[name]; returns its type. */
static int get(lua_State *L, int r, int name)
{
	lua_pushvalue(L, NAME(name));
	return lua_rawget(L, r);
}

/* The result record's fields that a lookup does not set (as _agent.lua's record()). */
static void fill(lua_State *L, int r, int agent, int step, double started, int run_id)
{
	push_name(L, N_AGENT);
	lua_pushvalue(L, agent);
	lua_rawset(L, r);
	/* the summary is stored with the entry (nil when the output is no string) */
	if (get(L, r, N_METRICS) == LUA_TNIL) {
		push_name(L, N_METRICS);
		lua_newtable(L);
		lua_rawset(L, r);
	}
	if (get(L, r, N_TOKENS) == LUA_TNIL) {
		push_name(L, N_TOKENS);
		lua_createtable(L, 0, 2);
		push_name(L, N_INPUT);
		lua_pushinteger(L, 0);
		lua_rawset(L, -3);
		push_name(L, N_OUTPUT);
		lua_pushinteger(L, 0);
		lua_rawset(L, -3);
		lua_rawset(L, r);
	}
	lua_pop(L, 2);
	push_name(L, N_DURATION);
	lua_pushnumber(L, (lua_Number)(af_sched_monotonic() - started));
	lua_rawset(L, r);
	push_name(L, N_RUN_ID);
	lua_pushvalue(L, run_id);
	lua_rawset(L, r);
	push_name(L, N_STEP);
	lua_pushvalue(L, step);
	lua_rawset(L, r);
}

/*
 * Write the step's log record from r (filled), the key at 2 and the agent
 * at 3; 0 when a field is unusual or the record too long.
 */
static int log_step(lua_State *L, af_log *log, int r, lua_Integer step, int run_id)
{
	af_step_record s = {0};
	int ok;

	s.step = (long long)step;
	s.run_id = lua_tolstring(L, run_id, &s.run_id_len);
	s.agent = lua_tolstring(L, 3, &s.agent_len);
	s.key = lua_tolstring(L, 2, &s.key_len);
	get(L, r, N_STATUS);
	get(L, r, N_SUMMARY);
	get(L, r, N_DURATION);
	get(L, r, N_TOKENS);
	ok = lua_type(L, -4) == LUA_TSTRING && lua_type(L, -1) == LUA_TTABLE;
	if (ok) {
		s.status = lua_tolstring(L, -4, &s.status_len);
		s.summary = lua_type(L, -3) == LUA_TSTRING ? lua_tolstring(L, -3, &s.summary_len) : NULL;
		s.duration = (double)lua_tonumber(L, -2);
		get(L, lua_gettop(L), N_INPUT);
		get(L, lua_gettop(L) - 1, N_OUTPUT);
		ok = lua_isinteger(L, -2) && lua_isinteger(L, -1);
		s.tokens_in = (long long)lua_tointeger(L, -2);
		s.tokens_out = (long long)lua_tointeger(L, -1);
		lua_pop(L, 2);
	}
	/* written, or failed to write (the record is lost, as log:write's would be) */
	ok = ok && af_lua_log_cached_step(log, &s) != AF_ENOMEM;
	lua_pop(L, 4);
	return ok;
}

/*
 * Push the result record of the fresh entry under `key` with its output
 * inline; 0 (nothing pushed) when there is none, or the store cannot be
 * read (the full path then says so).
 */
static int push_entry(lua_State *L, recorder *rec, const char *key, size_t klen)
{
	int top = lua_gettop(L), fresh;

	if (!*rec->store || af_lua_store_unpack(L, *rec->store, AF_DB_ENTRIES, key, klen, 3, ROOM) != 3) {
		lua_settop(L, top);
		return 0;
	}
	fresh = lua_isinteger(L, -3) && lua_tointeger(L, -3) == rec->version && lua_istable(L, -1) &&
		(lua_isnil(L, -2) || (lua_isnumber(L, -2) && lua_tonumber(L, -2) > af_sched_now()));
	if (fresh && get(L, lua_gettop(L), N_BLOB) != LUA_TNIL)
		fresh = 0; /* the output is in the blob table */
	if (fresh) {
		lua_pop(L, 1);
		lua_replace(L, top + 1);
	}
	lua_settop(L, fresh ? top + 1 : top);
	return fresh;
}

static int hit(lua_State *L)
{
	/* the metatable is the last upvalue (see af_lua_check_self) */
	recorder *rec = af_lua_check_self(L, lua_upvalueindex(N_COUNT + 1), "hit recorder");
	size_t alen, klen, slen, idlen;
	const char *key, *agent, *sid;
	lua_Integer step;
	double started;
	af_log *log;
	char tmp[AF_DECIMAL_MAX], *digits;
	int r;

	key = luaL_checklstring(L, 2, &klen);
	agent = luaL_checklstring(L, 3, &alen);
	step = luaL_checkinteger(L, 4);
	sid = luaL_checklstring(L, 5, &idlen);
	started = (double)luaL_checknumber(L, 6);
	luaL_checkstring(L, 7);
	log = lua_isnoneornil(L, 8) ? NULL : af_lua_to_log(L, 8);
	lua_settop(L, 9);
	luaL_checkstack(L, 8, "answering from the cache");
	if (!push_entry(L, rec, key, klen))
		return 0;
	r = lua_gettop(L);
	push_name(L, N_CACHED);
	lua_pushboolean(L, 1);
	lua_rawset(L, r);
	push_name(L, N_ATTEMPTS);
	lua_pushinteger(L, 0);
	lua_rawset(L, r);
	push_name(L, N_COST);
	lua_pushinteger(L, 0);
	lua_rawset(L, r);
	push_name(L, N_KEY);
	lua_pushvalue(L, 2);
	lua_rawset(L, r);
	fill(L, r, 3, 4, started, 7);
	slen = af_decimal((long long)step, tmp, &digits);
	af_lines_field(L, rec->lines, digits, slen, 0);
	af_lines_field(L, rec->lines, sid, idlen, 0);
	af_lines_field(L, rec->lines, key, klen, 0);
	af_lines_field(L, rec->lines, agent, alen, 1);
	af_tally_add(L, rec->hits, agent, alen, 1);
	af_tally_add(L, rec->access, key, klen, 1);
	lua_pushinteger(L, rec->lines->count);
	lua_pushboolean(L, log && log_step(L, log, r, step, 9));
	return 3;
}

/* recorder = core.hit_recorder(store, version, lines, hits, access) */
static int l_hit_recorder(lua_State *L)
{
	recorder *rec;
	af_store **store = af_lua_to_store(L, 1);
	af_lines *lines = af_lua_to_lines(L, 3);
	af_tally *hits = (af_tally *)af_lua_to_tally(L, 4), *access = (af_tally *)af_lua_to_tally(L, 5);

	luaL_argexpected(L, store, 1, "store");
	luaL_argexpected(L, lines, 3, "lines");
	luaL_argexpected(L, hits, 4, "tally");
	luaL_argexpected(L, access, 5, "tally");
	rec = lua_newuserdatauv(L, sizeof *rec, 5);
	*rec = (recorder){store, luaL_checkinteger(L, 2), lines, hits, access};
	for (int i = 1; i <= 5; i++) { /* kept alive as long as the recorder */
		lua_pushvalue(L, i);
		lua_setiuservalue(L, -2, i);
	}
	luaL_setmetatable(L, RECORDER_MT);
	return 1;
}

void af_hit_lua_open(lua_State *L)
{
	luaL_newmetatable(L, RECORDER_MT);
	lua_createtable(L, 0, 1);
	for (int i = 0; i < N_COUNT; i++)
		lua_pushstring(L, names[i]);
	lua_pushvalue(L, -1 - N_COUNT - 1);
	lua_pushcclosure(L, hit, N_COUNT + 1);
	lua_setfield(L, -2, "hit");
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	lua_pushcfunction(L, l_hit_recorder);
	lua_setfield(L, -2, "hit_recorder");
}
