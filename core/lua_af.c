/* lua_af.c - agentflow.core (see lua_af.h). */
#include "lua_af.h"
#include "af.h"
#include "host.h"
#include "scheduler.h"
#include "state.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <uv.h>

/* path = core.state_dir([create]) ; nil, err when it cannot be created */
static int l_state_dir(lua_State *L)
{
	int create = lua_toboolean(L, 1);
	char *dir = NULL;
	int rc = af_state_dir(&dir, af_host_script_path(L));

	if (rc == AF_OK && create)
		rc = af_state_ensure(dir);
	if (rc != AF_OK) {
		free(dir);
		luaL_pushfail(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	lua_pushstring(L, dir);
	free(dir);
	return 1;
}

/* path = core.script_path() ; nil for -e chunks and the REPL */
static int l_script_path(lua_State *L)
{
	lua_pushstring(L, af_host_script_path(L));
	return 1;
}

/* n = core.cpus() : the CPUs this process may use */
static int l_cpus(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)uv_available_parallelism());
	return 1;
}

static const luaL_Reg core_functions[] = {
	{"state_dir", l_state_dir},
	{"script_path", l_script_path},
	{"cpus", l_cpus},
	{NULL, NULL}
};

int luaopen_agentflow_core(lua_State *L)
{
	luaL_newlib(L, core_functions);
	af_sched_open(L);
	lua_pushliteral(L, AF_VERSION);
	lua_setfield(L, -2, "version");
	lua_newtable(L); /* filled from the command line: af_host_set_option */
	lua_setfield(L, -2, "options");
	return 1;
}
