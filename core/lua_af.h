/*
 * lua_af.h - agentflow.core: the C functions behind the `af` Lua library.
 * Preloaded by the host; lua/agentflow/init.lua builds `af` on top of it.
 * Each binding's own functions are in its lua_NAME.h; this header holds the
 * module's entry point and what every binding shares.
 */
#ifndef AF_LUA_AF_H
#define AF_LUA_AF_H

#include <lua.h>

int luaopen_agentflow_core(lua_State *L);

/*
 * The userdata at 1 when its metatable is the one at `mt` (an upvalue index),
 * else a type error naming `what`. For methods called at every step:
 * comparing with a metatable held as an upvalue is cheaper than
 * luaL_checkudata's lookup by name.
 */
void *af_lua_check_self(lua_State *L, int mt, const char *what);

#endif
