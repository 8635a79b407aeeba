/* lua_cache.h - the result cache in agentflow.core (lua_cache.c). */
#ifndef AF_LUA_CACHE_H
#define AF_LUA_CACHE_H

#include <lua.h>

/* Add cache_open to the table on top. */
void af_cache_lua_open(lua_State *L);

#endif
