/* lua_hit.h - a cache hit answered in one call, in agentflow.core (lua_hit.c). */
#ifndef AF_LUA_HIT_H
#define AF_LUA_HIT_H

#include <lua.h>

/* Add hit_recorder to the table on top. */
void af_hit_lua_open(lua_State *L);

#endif
