/* lua_store.h - the store, hashing, file status, globs and git in agentflow.core (lua_store.c). */
#ifndef AF_LUA_STORE_H
#define AF_LUA_STORE_H

#include <lua.h>
#include <stddef.h>

struct af_store;

/* Add the store, hash, stat, glob and git functions to the table on top. */
void af_store_lua_open(lua_State *L);

/* Raise {exit_code = 74, message = af_error_last()}: a store that cannot be read or written. */
int af_lua_raise_io(lua_State *L);

/* The store object at `idx` (core.store_open: NULL inside once closed), or NULL. */
struct af_store **af_lua_to_store(lua_State *L, int idx);

#endif
