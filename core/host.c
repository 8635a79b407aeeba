/* host.c - the Lua state, module search and error reporting (see host.h). */
#include "host.h"
#include "af.h"
#include "embed.h"
#include "scheduler.h"
#include "lua_af.h"
#include "state.h"

#include <lauxlib.h>
#include <lua-cjson.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int luaopen_cjson_safe(lua_State *L); /* lua-cjson.h declares only luaopen_cjson */

#define SCRIPT_PATH_KEY "agentflow.script_path"
#define SESSION_KEY "agentflow.session"

/* ---- module search ------------------------------------------------------ */

/* searcher: Lua files on the override path (upvalue 1, a Lua path template) */
static int search_override(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *path = lua_tostring(L, lua_upvalueindex(1));
	const char *file;

	lua_getglobal(L, "package");
	lua_getfield(L, -1, "searchpath");
	lua_pushstring(L, name);
	lua_pushstring(L, path);
	lua_call(L, 2, 2);
	file = lua_tostring(L, -2);
	if (!file)
		return 1; /* the "no file ..." lines searchpath produced */
	if (luaL_loadfilex(L, file, NULL) != LUA_OK)
		return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s",
				  name, file, lua_tostring(L, -1));
	lua_pushstring(L, file);
	return 2;
}

/* searcher: the Lua library compiled into the program */
static int search_embedded(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const af_embed_module *m = af_embed_find(name);

	if (!m) {
		lua_pushfstring(L, "no embedded module '%s'", name);
		return 1;
	}
	lua_pushfstring(L, "@%s", m->path);
	if (luaL_loadbufferx(L, (const char *)m->code, m->size, lua_tostring(L, -1), "b") != LUA_OK)
		return luaL_error(L, "error loading embedded module '%s':\n\t%s", name,
				  lua_tostring(L, -1));
	lua_pushstring(L, m->path);
	return 2;
}

/*
 * Push the override path: $AGENTFLOW_LUA_PATH (a Lua path template; a
 * directory entry without '?' stands for DIR/?.lua;DIR/?/init.lua), then
 * <state>/lua.
 */
static void push_override_path(lua_State *L, const char *state_dir)
{
	const char *env = getenv("AGENTFLOW_LUA_PATH");
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	while (env && *env) {
		const char *end = strchr(env, ';');
		size_t n = end ? (size_t)(end - env) : strlen(env);

		if (n > 0 && memchr(env, '?', n)) {
			luaL_addlstring(&b, env, n);
			luaL_addchar(&b, ';');
		} else if (n > 0) {
			luaL_addlstring(&b, env, n);
			luaL_addstring(&b, "/?.lua;");
			luaL_addlstring(&b, env, n);
			luaL_addstring(&b, "/?/init.lua;");
		}
		env = end ? end + 1 : NULL;
	}
	if (state_dir) {
		lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua", state_dir, state_dir);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
}

/* package.searchers = {preload, override, embedded, lua path, C path, C root} */
static void install_searchers(lua_State *L, const char *state_dir)
{
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "searchers");
	for (int i = (int)luaL_len(L, -1); i >= 2; i--) {
		lua_rawgeti(L, -1, i);
		lua_rawseti(L, -2, i + 2);
	}
	push_override_path(L, state_dir);
	lua_pushcclosure(L, search_override, 1);
	lua_rawseti(L, -2, 2);
	lua_pushcfunction(L, search_embedded);
	lua_rawseti(L, -2, 3);
	lua_pop(L, 2);
}

static void preload(lua_State *L, const char *name, lua_CFunction open)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, open);
	lua_setfield(L, -2, name);
	lua_pop(L, 1);
}

/* ---- state -------------------------------------------------------------- */

static int setup(lua_State *L)
{
	const char *script = lua_tostring(L, 1);
	char *state_dir = NULL;

	luaL_openlibs(L);
	preload(L, "cjson", luaopen_cjson);
	preload(L, "cjson.safe", luaopen_cjson_safe);
	preload(L, "agentflow.core", luaopen_agentflow_core);
	lua_pushvalue(L, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, SCRIPT_PATH_KEY);
	/* No state directory is not fatal here: overrides are then off. */
	af_state_dir(&state_dir, script);
	install_searchers(L, state_dir);
	free(state_dir);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentflow");
	lua_call(L, 1, 1);
	lua_setglobal(L, "af");
	return 0;
}

lua_State *af_host_new(const char *script_path)
{
	lua_State *L = luaL_newstate();

	if (!L) {
		fprintf(stderr, "agentflow: cannot create the Lua state: out of memory\n");
		return NULL;
	}
	/*
	 * Steps allocate many short-lived tables (tasks, records, keys):
	 * the generational collector handles them for less (tools/bench).
	 */
	lua_gc(L, LUA_GCGEN, 0, 0);
	lua_pushcfunction(L, setup);
	if (script_path)
		lua_pushstring(L, script_path);
	else
		lua_pushnil(L);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		fprintf(stderr, "agentflow: internal error: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return NULL;
	}
	return L;
}

void af_host_close(lua_State *L)
{
	if (L)
		lua_close(L);
}

const char *af_host_script_path(lua_State *L)
{
	const char *p;

	lua_getfield(L, LUA_REGISTRYINDEX, SCRIPT_PATH_KEY);
	p = lua_tostring(L, -1); /* anchored in the registry */
	lua_pop(L, 1);
	return p;
}

/* ---- calls and errors ------------------------------------------------------ */

int af_host_pcall(lua_State *L, int nargs, int nresults)
{
	return af_sched_run(L, nargs, nresults);
}

/* Push the text of the error value at the top of the stack. */
static void push_message(lua_State *L)
{
	int type = lua_type(L, -1);

	if (af_sched_interrupted()) /* surfaces as the cancel error of whatever waited */
		lua_pushliteral(L, "interrupted");
	else if (type == LUA_TSTRING || type == LUA_TNUMBER)
		lua_pushvalue(L, -1);
	else if (luaL_callmeta(L, -1, "__tostring")) {
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 1);
			lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, -1));
		}
	} else
		lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, -1));
}

void af_host_report(lua_State *L)
{
	int top = lua_gettop(L);

	push_message(L);
	fprintf(stderr, "agentflow: %s\n", lua_tostring(L, -1));
	fflush(stderr);
	lua_settop(L, top - 1);
}

int af_host_exit_code(lua_State *L, int status)
{
	int code = AF_EXIT_DATAERR;

	if (status == LUA_OK)
		return AF_EXIT_OK;
	if (af_sched_interrupted())
		return AF_EXIT_INTERRUPTED;
	if (status == LUA_ERRMEM || status == LUA_ERRERR)
		return AF_EXIT_SOFTWARE;
	if (lua_type(L, -1) == LUA_TTABLE) {
		if (lua_getfield(L, -1, "exit_code") == LUA_TNUMBER)
			code = (int)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	return code;
}

/*
 * Let the Lua library close the run (clear the status line, print the
 * summary) when the code used it: agentflow._run.finish(ok, interrupted).
 * Returns the exit code it asks for (a CI report it could not write), or 0.
 */
static int finish_run(lua_State *L, int ok, int interrupted)
{
	int top = lua_gettop(L), code = AF_EXIT_OK;

	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	if (lua_getfield(L, -1, "agentflow._run") == LUA_TTABLE &&
	    lua_getfield(L, -1, "finish") == LUA_TFUNCTION) {
		lua_pushboolean(L, ok);
		lua_pushboolean(L, interrupted);
		if (lua_pcall(L, 2, 1, 0) != LUA_OK)
			fprintf(stderr, "agentflow: internal error: %s\n", lua_tostring(L, -1));
		else if (lua_isinteger(L, -1))
			code = (int)lua_tointeger(L, -1);
	}
	lua_settop(L, top);
	return code;
}

/* Whether a session (af_host_begin_session) holds the run open. */
static int in_session(lua_State *L)
{
	int session = lua_getfield(L, LUA_REGISTRYINDEX, SESSION_KEY) != LUA_TNIL;

	lua_pop(L, 1);
	return session;
}

static int finish(lua_State *L, int status)
{
	int code = af_host_exit_code(L, status), closing = AF_EXIT_OK;

	if (!in_session(L))
		closing = finish_run(L, status == LUA_OK, af_sched_interrupted());
	if (status != LUA_OK)
		af_host_report(L);
	/* A failure of the workflow itself is the code that matters. */
	return code == AF_EXIT_OK ? closing : code;
}

void af_host_begin_session(lua_State *L, const char *kind)
{
	lua_pushstring(L, kind);
	lua_setfield(L, LUA_REGISTRYINDEX, SESSION_KEY);
	af_host_set_option_string(L, "session", kind);
}

void af_host_end_session(lua_State *L, int code)
{
	finish_run(L, code == AF_EXIT_OK, code == AF_EXIT_INTERRUPTED);
	lua_pushnil(L);
	lua_setfield(L, LUA_REGISTRYINDEX, SESSION_KEY);
}

/* arg = {[-1] = progname, [0] = script, [1..] = arguments}, as lua.c makes it */
static void set_arg_table(lua_State *L, const char *progname, int argc, char **argv)
{
	lua_createtable(L, argc, 1);
	lua_pushstring(L, progname);
	lua_rawseti(L, -2, -1);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i);
	}
	lua_setglobal(L, "arg");
}

int af_host_run_script(lua_State *L, const char *progname, int argc, char **argv)
{
	int from_stdin = strcmp(argv[0], "-") == 0;
	FILE *f = from_stdin ? NULL : fopen(argv[0], "r");
	int status;

	if (!from_stdin && !f) {
		af_error_errno(AF_EIO, "cannot open %s", argv[0]);
		fprintf(stderr, "agentflow: %s\n", af_error_last());
		return AF_EXIT_NOINPUT;
	}
	if (f)
		fclose(f);
	set_arg_table(L, progname, argc, argv);
	status = luaL_loadfilex(L, from_stdin ? NULL : argv[0], "t");
	if (status == LUA_ERRFILE) {
		af_host_report(L);
		return AF_EXIT_NOINPUT;
	}
	if (status != LUA_OK)
		return finish(L, status);
	luaL_checkstack(L, argc, "too many arguments to the script");
	for (int i = 1; i < argc; i++)
		lua_pushstring(L, argv[i]);
	return finish(L, af_host_pcall(L, argc - 1, 0));
}

int af_host_run_chunk(lua_State *L, const char *chunk, const char *name)
{
	int status = luaL_loadbufferx(L, chunk, strlen(chunk), name, "t");

	if (status != LUA_OK)
		return finish(L, status);
	return finish(L, af_host_pcall(L, 0, 0));
}

void af_host_set_option_string(lua_State *L, const char *name, const char *value)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_getfield(L, -1, "agentflow.core");
	lua_getfield(L, -1, "options");
	lua_pushstring(L, value);
	lua_setfield(L, -2, name);
	lua_pop(L, 3);
}

void af_host_set_option(lua_State *L, const char *name, lua_Integer value)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_getfield(L, -1, "agentflow.core");
	lua_getfield(L, -1, "options");
	lua_pushinteger(L, value);
	lua_setfield(L, -2, name);
	lua_pop(L, 3);
}

int af_host_run_module(lua_State *L, const char *module, int argc, char **argv)
{
	int status, code;

	lua_getglobal(L, "require");
	lua_pushstring(L, module);
	if ((status = lua_pcall(L, 1, 1, 0)) != LUA_OK)
		return finish(L, status);
	lua_getfield(L, -1, "main");
	lua_remove(L, -2);
	lua_createtable(L, argc, 0);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i);
	}
	if ((status = af_host_pcall(L, 1, 1)) != LUA_OK)
		return finish(L, status);
	code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : AF_EXIT_OK;
	lua_pop(L, 1);
	return code;
}
