/* lua_store.h - the store, hashing, file status, globs and git in agentflow.core (lua_store.c). */
#ifndef AF_LUA_STORE_H
#define AF_LUA_STORE_H

#include <lua.h>
#include <stddef.h>

struct af_store;

/* Add the store, hash, stat, glob and git functions to the table on top. */
void af_store_lua_open(lua_State *L);

/* The store object at `idx` (core.store_open: NULL inside once closed), or NULL. */
struct af_store **af_lua_to_store(lua_State *L, int idx);

/*
 * Push the first `n` packed values of the record under `key` in database
 * `db` (an AF_DB_*), tables made with room for `room` more keys (as
 * store:unpack). Returns how many were pushed (0: no such record, or not
 * packed values) or AF_EIO.
 */
int af_lua_store_unpack(lua_State *L, struct af_store *s, int db, const char *key, size_t klen,
			int n, int room);

#endif
