/* lua_http.h - the /metrics and /health server in agentflow.core (lua_http.c). */
#ifndef AF_LUA_HTTP_H
#define AF_LUA_HTTP_H

#include <lua.h>

/* Add http_serve to the table on top. */
void af_http_lua_open(lua_State *L);

#endif
