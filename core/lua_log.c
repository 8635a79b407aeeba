/*
 * lua_log.c - the structured log for the Lua library (agentflow.core):
 * log = core.log_open(path [, max_bytes [, keep]]) ; nil, err
 * log:write(level, component, message [, context]) ; nil, err
 * log:write_step(level, run_id, agent, result) ; nil, err
 * log:flush() ; nil, err
 * log is closed by `local log <close> = ...` or the collector
 * json = core.log_json(context)
 * json = core.log_step_json(run_id, agent, result)
 *
 * A context is a table, encoded here as a JSON object, or its JSON text.
 * The encoder is the logger's own (json.h) rather than lua-cjson's: a
 * record is written for every step, and cjson formats every number through
 * printf and cannot encode what a context may carry (a function, a value
 * with __tostring), which the log then shows as text rather than dropping
 * the record.
 */
#include "lua_log.h"
#include "af.h"
#include "json.h"
#include "log.h"
#include "logscan.h"
#include "lua_pack.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#define LOG_MT "agentflow.log"
#define JSON_MT "agentflow.jsontext"
#define JSON_MAX_DEPTH 16

/* The text being encoded: one per Lua state (an upvalue), reused. */
static int json_text_gc(lua_State *L)
{
	af_json **j = lua_touserdata(L, 1);

	af_json_free(*j);
	*j = NULL;
	return 0;
}

/* The upvalue's text, emptied. */
static af_json *json_start(lua_State *L)
{
	af_json *j = *(af_json **)lua_touserdata(L, lua_upvalueindex(1));

	af_json_reset(j);
	return j;
}

/* The finished text, NUL-terminated; raises when it could not be made. */
static const char *json_finish(lua_State *L, af_json *j)
{
	int code;
	const char *text = af_json_text(j, NULL, &code);

	if (!text)
		luaL_error(L, code == AF_ENOMEM ? "out of memory" : "encoding a log record: too deep");
	return text;
}

/* The number at `idx`: integers as integers (most numbers of a record), else a float. */
static void json_number(lua_State *L, af_json *j, int idx)
{
	if (lua_isinteger(L, idx))
		af_json_integer(j, (long long)lua_tointeger(L, idx));
	else
		af_json_float(j, (double)lua_tonumber(L, idx));
}

static void json_value(lua_State *L, af_json *j, int idx, int depth);

static void json_array(lua_State *L, af_json *j, int idx, lua_Integer n, int depth)
{
	af_json_begin_array(j);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, idx, i);
		json_value(L, j, lua_gettop(L), depth + 1);
		lua_pop(L, 1);
	}
	af_json_end_array(j);
}

static void json_object(lua_State *L, af_json *j, int idx, int depth)
{
	af_json_begin_object(j);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int top = lua_gettop(L);
		size_t klen;
		const char *k;

		if (lua_type(L, top - 1) == LUA_TSTRING) {
			k = lua_tolstring(L, top - 1, &klen);
			af_json_key(j, k, klen);
		} else { /* converted on a copy: converting the key itself confuses lua_next */
			lua_pushvalue(L, top - 1);
			k = luaL_tolstring(L, -1, &klen);
			af_json_key(j, k, klen);
			lua_pop(L, 2);
		}
		json_value(L, j, top, depth + 1);
		lua_settop(L, top - 1);
	}
	af_json_end_object(j);
}

/* A sequence 1..n (n > 0) is an array; any other table, the empty one too, an object. */
static void json_table(lua_State *L, af_json *j, int idx, int depth)
{
	lua_Integer n = af_lua_sequence_length(L, idx);

	if (depth > JSON_MAX_DEPTH) {
		af_json_null(j);
		return;
	}
	luaL_checkstack(L, 4, "encoding a log record");
	if (n > 0)
		json_array(L, j, idx, n, depth);
	else
		json_object(L, j, idx, depth);
}

/* Append the JSON of the value at (absolute) `idx`; what JSON cannot hold is text. */
static void json_value(lua_State *L, af_json *j, int idx, int depth)
{
	size_t len;
	const char *s;

	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		af_json_string(j, s, len);
		break;
	case LUA_TNUMBER:
		json_number(L, j, idx);
		break;
	case LUA_TBOOLEAN:
		af_json_bool(j, lua_toboolean(L, idx));
		break;
	case LUA_TTABLE:
		json_table(L, j, idx, depth);
		break;
	case LUA_TNIL:
		af_json_null(j);
		break;
	default:
		if (lua_type(L, idx) == LUA_TLIGHTUSERDATA && !lua_touserdata(L, idx)) {
			af_json_null(j); /* cjson.null */
			break;
		}
		s = luaL_tolstring(L, idx, &len);
		af_json_string(j, s, len);
		lua_pop(L, 1);
	}
}

/* The JSON object of the table at `idx`, NUL-terminated, in the upvalue's text. */
static const char *json_context(lua_State *L, int idx)
{
	af_json *j = json_start(L);

	json_value(L, j, idx, 0); /* an empty table is an object: {} */
	return json_finish(L, j);
}

/* json = core.log_json(context) : what log:write writes of a context table */
static int l_log_json(lua_State *L)
{
	const char *json;

	luaL_checktype(L, 1, LUA_TTABLE);
	json = json_context(L, 1);
	lua_pushlstring(L, json, strlen(json));
	return 1;
}

/* "k":value of the value at absolute `idx`, unless it is nil. */
static void member(lua_State *L, af_json *j, const char *k, size_t klen, int idx)
{
	int type = lua_type(L, idx);
	size_t len;
	const char *s;

	if (type == LUA_TNIL || type == LUA_TNONE)
		return;
	af_json_key(j, k, klen);
	if (type == LUA_TSTRING) { /* most values of a step record: strings and numbers */
		s = lua_tolstring(L, idx, &len);
		af_json_string(j, s, len);
	} else if (type == LUA_TNUMBER) {
		json_number(L, j, idx);
	} else {
		json_value(L, j, idx, 1);
	}
}

#define MEMBER(L, j, name, idx) member(L, j, name, sizeof name - 1, idx)

/*
 * The names a step record reads from a result record, in the order it
 * writes them. Closures that write step records hold them as upvalues 2...,
 * made once: lua_getfield would intern its name again at every call.
 */
enum { F_STEP, F_STATUS, F_DURATION, F_CACHED, F_ATTEMPTS, F_COST, F_KEY, F_TOKENS, F_INPUT,
       F_OUTPUT, F_REASON, F_ERROR, F_SUMMARY, F_COUNT };
static const char *const step_fields[F_COUNT] = {
	"step", "status", "duration", "cached", "attempts", "cost_usd", "key", "tokens", "input",
	"output", "reason", "error", "summary"};

/* Push field `f` (a step_fields index) of the table at `t`; returns its type. */
static int get_field(lua_State *L, int t, int f)
{
	lua_pushvalue(L, lua_upvalueindex(2 + f));
	return lua_rawget(L, t);
}

/* MEMBER() of field `f` of the table at `t`, written under `name` */
#define FIELD(L, j, t, f, name)                                                                    \
	do {                                                                                        \
		get_field(L, t, f);                                                                 \
		MEMBER(L, j, name, lua_gettop(L));                                                  \
		lua_pop(L, 1);                                                                      \
	} while (0)

/* Push the json text and the step field names, then make the closure of `fn`. */
static void push_step_closure(lua_State *L, int text, lua_CFunction fn)
{
	lua_pushvalue(L, text);
	for (int f = 0; f < F_COUNT; f++)
		lua_pushstring(L, step_fields[f]);
	lua_pushcclosure(L, fn, 1 + F_COUNT);
}

/*
 * The context of a "step ended" record, NUL-terminated, in the upvalue's
 * text: the run id at `run_id` (nil in the REPL), the agent's name at
 * `agent`, and from the result record at `r` its step, status, duration,
 * cached, attempts, cost_usd, key, tokens (as tokens_in and tokens_out),
 * reason, error and the first 200 bytes of its summary. Written straight
 * from the record: a record is made for every step, and building a context
 * table for it cost as much as the rest of a cache hit.
 */
static const char *step_context(lua_State *L, int run_id, int agent, int r)
{
	af_json *j;
	size_t len;
	const char *summary;

	luaL_checktype(L, r, LUA_TTABLE);
	luaL_checkstack(L, 4, "encoding a log record");
	j = json_start(L);
	af_json_begin_object(j);
	MEMBER(L, j, "run_id", run_id);
	FIELD(L, j, r, F_STEP, "step");
	MEMBER(L, j, "agent", agent);
	FIELD(L, j, r, F_STATUS, "status");
	FIELD(L, j, r, F_DURATION, "duration");
	FIELD(L, j, r, F_CACHED, "cached");
	FIELD(L, j, r, F_ATTEMPTS, "attempts");
	FIELD(L, j, r, F_COST, "cost_usd");
	FIELD(L, j, r, F_KEY, "key");
	if (get_field(L, r, F_TOKENS) == LUA_TTABLE) {
		int t = lua_gettop(L);

		get_field(L, t, F_INPUT);
		MEMBER(L, j, "tokens_in", t + 1);
		get_field(L, t, F_OUTPUT);
		MEMBER(L, j, "tokens_out", t + 2);
		lua_pop(L, 2);
	}
	lua_pop(L, 1);
	FIELD(L, j, r, F_REASON, "reason");
	FIELD(L, j, r, F_ERROR, "error");
	if (get_field(L, r, F_SUMMARY) == LUA_TSTRING) {
		summary = lua_tolstring(L, -1, &len);
		lua_pushlstring(L, summary, len < 200 ? len : 200);
		MEMBER(L, j, "summary", lua_gettop(L));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	af_json_end_object(j);
	return json_finish(L, j);
}

/* json = core.log_step_json(run_id, agent, result) : the context log:write_step writes */
static int l_log_step_json(lua_State *L)
{
	const char *json = step_context(L, 1, 2, 3);

	lua_pushstring(L, json);
	return 1;
}

extern char **environ;

static af_log *check_log(lua_State *L)
{
	af_log **l = luaL_checkudata(L, 1, LOG_MT);

	if (!*l)
		luaL_error(L, "the log is closed");
	return *l;
}

static int l_log_open(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lua_Integer max = luaL_optinteger(L, 2, 0), keep = luaL_optinteger(L, 3, 0);
	af_log **ud = lua_newuserdatauv(L, sizeof *ud, 0);

	*ud = NULL;
	luaL_setmetatable(L, LOG_MT);
	if (af_log_open(ud, path, (size_t)(max > 0 ? max : 0), (int)keep) != AF_OK) {
		luaL_pushfail(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	af_log_add_env_secrets(*ud, environ);
	return 1;
}

static int l_log_write(lua_State *L)
{
	af_log *log = check_log(L);
	const char *level = luaL_checkstring(L, 2);
	int lv = af_log_level(level);

	luaL_argcheck(L, lv >= 0, 2, "DEBUG, INFO, WARN, ERROR or FATAL expected");
	const char *ctx = lua_type(L, 5) == LUA_TTABLE ? json_context(L, 5) : luaL_optstring(L, 5, NULL);

	if (af_log_write(log, lv, luaL_checkstring(L, 3), luaL_checkstring(L, 4), ctx) != AF_OK) {
		luaL_pushfail(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int l_log_write_step(lua_State *L)
{
	af_log *log = check_log(L);
	int lv = af_log_level(luaL_checkstring(L, 2));

	luaL_argcheck(L, lv >= 0, 2, "DEBUG, INFO, WARN, ERROR or FATAL expected");
	if (af_log_write(log, lv, "step", "step ended", step_context(L, 3, 4, 5)) != AF_OK) {
		luaL_pushfail(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* log:flush() : write the records the log holds now */
static int l_log_flush(lua_State *L)
{
	if (af_log_flush(check_log(L)) != AF_OK) {
		luaL_pushfail(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* __gc and __close: close the log (once), writing what it holds. */
static int l_log_close(lua_State *L)
{
	af_log **l = luaL_checkudata(L, 1, LOG_MT);

	af_log_close(*l);
	*l = NULL;
	return 0;
}

/*
 * Matching lines that follow each other in the file go out in one write:
 * a run spans from its first line to the end of its last, the newlines
 * between them included; the last newline is written after it.
 */
typedef struct write_ctx {
	const char *start; /* of the pending run, or NULL */
	size_t len;
	size_t n;
} write_ctx;

static void flush_run(write_ctx *w)
{
	if (w->start) {
		fwrite(w->start, 1, w->len, stdout);
		fputc('\n', stdout);
	}
	w->start = NULL;
	w->len = 0;
}

static int write_line(const char *line, size_t len, void *ctx)
{
	write_ctx *w = ctx;

	if (!line) { /* the end of the file */
		flush_run(w);
		return 0;
	}
	if (w->start && line != w->start + w->len + 1)
		flush_run(w);
	if (!w->start)
		w->start = line;
	w->len = (size_t)(line - w->start) + len;
	w->n++;
	return 0;
}

typedef struct collect_ctx {
	lua_State *L;
	size_t n;
} collect_ctx;

static int collect_line(const char *line, size_t len, void *ctx)
{
	collect_ctx *c = ctx;

	if (!line)
		return 0;
	lua_pushlstring(c->L, line, len);
	lua_rawseti(c->L, -2, (lua_Integer)++c->n);
	return 0;
}

static const char *opt_field(lua_State *L, int idx, const char *k)
{
	const char *v;

	lua_getfield(L, idx, k);
	v = lua_tostring(L, -1); /* anchored in the filter table */
	lua_pop(L, 1);
	return v;
}

/*
 * n, skipped = core.log_scan(path, filter, "write") : matching lines to stdout
 * lines, skipped = core.log_scan(path, filter, "collect")
 * filter = {min_level = 0..4, component, since, until, contains = {...}}
 * nil, err, "not_found" | "io" when the file cannot be read.
 */
static int l_log_scan(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	af_logscan_filter f = {0};
	int write = strcmp(luaL_checkstring(L, 3), "write") == 0, rc;
	size_t skipped = 0;
	collect_ctx c = {L, 0};
	write_ctx w = {NULL, 0, 0};

	luaL_checktype(L, 2, LUA_TTABLE);
	lua_getfield(L, 2, "min_level");
	f.min_level = (int)luaL_optinteger(L, -1, 0);
	lua_pop(L, 1);
	f.component = opt_field(L, 2, "component");
	f.since = opt_field(L, 2, "since");
	f.until = opt_field(L, 2, "until");
	if (lua_getfield(L, 2, "contains") == LUA_TTABLE) {
		for (int i = 0; i < 4; i++) {
			lua_rawgeti(L, -1, i + 1);
			f.contains[i] = lua_tostring(L, -1);
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	if (!write)
		lua_newtable(L);
	rc = af_logscan(path, &f, write ? write_line : collect_line, write ? (void *)&w : (void *)&c,
			&skipped);
	if (rc != AF_OK) {
		luaL_pushfail(L);
		lua_pushstring(L, af_error_last());
		lua_pushstring(L, rc == AF_ENOTFOUND ? "not_found" : "io");
		return 3;
	}
	if (write)
		lua_pushinteger(L, (lua_Integer)w.n);
	lua_pushinteger(L, (lua_Integer)skipped);
	return 2;
}

void af_log_lua_open(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"write", l_log_write},
		{"flush", l_log_flush},
		{NULL, NULL}
	};
	af_json **text;

	luaL_newmetatable(L, LOG_MT);
	luaL_newlibtable(L, methods);
	text = lua_newuserdatauv(L, sizeof *text, 0);
	*text = NULL;
	luaL_newmetatable(L, JSON_MT);
	lua_pushcfunction(L, json_text_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	if (af_json_new(text) != AF_OK)
		luaL_error(L, "out of memory");
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, l_log_json, 1);
	lua_setfield(L, -5, "log_json");
	push_step_closure(L, -1, l_log_step_json);
	lua_setfield(L, -5, "log_step_json");
	push_step_closure(L, -1, l_log_write_step);
	lua_setfield(L, -3, "write_step");
	luaL_setfuncs(L, methods, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_log_close);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, l_log_close);
	lua_setfield(L, -2, "__close");
	lua_pop(L, 1);
	lua_pushcfunction(L, l_log_open);
	lua_setfield(L, -2, "log_open");
	lua_pushcfunction(L, l_log_scan);
	lua_setfield(L, -2, "log_scan");
}
