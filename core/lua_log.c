/*
 * lua_log.c - the structured log for the Lua library (agentflow.core):
 * log = core.log_open(path [, max_bytes [, keep]]) ; nil, err
 * log:write(level, component, message [, context_json]) ; nil, err
 * log:add_secret(value)
 */
#include "af.h"
#include "log.h"
#include "lua_af.h"

#include <lauxlib.h>

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

static int l_log_add_secret(lua_State *L)
{
	af_log_add_secret(check_log(L), luaL_checkstring(L, 2));
	return 0;
}

static int l_log_gc(lua_State *L)
{
	af_log **l = luaL_checkudata(L, 1, LOG_MT);

	af_log_close(*l);
	*l = NULL;
	return 0;
}

void af_log_lua_open(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"write", l_log_write},
		{"add_secret", l_log_add_secret},
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
}
