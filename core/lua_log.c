/*
 * lua_log.c - the structured log for the Lua library (agentflow.core):
 * log = core.log_open(path [, max_bytes [, keep]]) ; nil, err
 * log:write(level, component, message [, context_json]) ; nil, err
 */
#include "af.h"
#include "log.h"
#include "logscan.h"
#include "lua_af.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#define LOG_MT "agentflow.log"

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
	if (af_log_write(log, lv, luaL_checkstring(L, 3), luaL_checkstring(L, 4),
			 luaL_optstring(L, 5, NULL)) != AF_OK) {
		luaL_pushfail(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int l_log_gc(lua_State *L)
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
		{NULL, NULL}
	};

	luaL_newmetatable(L, LOG_MT);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_log_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	lua_pushcfunction(L, l_log_open);
	lua_setfield(L, -2, "log_open");
	lua_pushcfunction(L, l_log_scan);
	lua_setfield(L, -2, "log_scan");
}
