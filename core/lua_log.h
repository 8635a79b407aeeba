/* lua_log.h - the structured log in agentflow.core (lua_log.c). */
#ifndef AF_LUA_LOG_H
#define AF_LUA_LOG_H

#include <lua.h>
/* Add log_open, log_scan, log_json and log_step_json to the table on top. */
void af_log_lua_open(lua_State *L);

#endif
