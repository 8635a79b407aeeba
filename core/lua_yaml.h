/* lua_yaml.h - YAML decoding in agentflow.core (lua_yaml.c). */
#ifndef AF_LUA_YAML_H
#define AF_LUA_YAML_H

#include <lua.h>

/* Add yaml_decode to the table on top. */
void af_yaml_lua_open(lua_State *L);

#endif
