/*
 * lua_af.h - agentflow.core: the C functions behind the `af` Lua library.
 * Preloaded by the host; lua/agentflow/init.lua builds `af` on top of it.
 */
#ifndef AF_LUA_AF_H
#define AF_LUA_AF_H

#include <lua.h>
#include <stddef.h>

int luaopen_agentflow_core(lua_State *L);

/* Add the store, hash, stat, glob and git functions to the table on top (lua_store.c). */
void af_store_lua_open(lua_State *L);

/* Add yaml_decode to the table on top (lua_yaml.c). */
void af_yaml_lua_open(lua_State *L);

/* Add log_open to the table on top (lua_log.c). */
void af_log_lua_open(lua_State *L);

/* Add pack and unpack to the table on top (lua_pack.c). */
void af_pack_lua_open(lua_State *L);

/*
 * The length n of the table at `idx` when its keys are exactly 1..n (0 for
 * an empty table), else -1 (lua_pack.c).
 */
lua_Integer af_lua_sequence_length(lua_State *L, int idx);

/*
 * Push the first `n` (< 0: all) MessagePack values packed one after another
 * in s[0..len) (see lua_pack.c); a value that is a map gets room for `room`
 * more keys (what the caller will add). Returns how many were pushed, or -1
 * (not packed values) or -2 (truncated) with nothing pushed. Raises only for
 * memory.
 */
int af_lua_unpack(lua_State *L, const char *s, size_t len, int n, int room);

/* Counts by name (core.tally(), lua_tally.c); entries in the order names were first added. */
typedef struct af_tally_entry {
	char *name;
	size_t len;
	long long count;
} af_tally_entry;

typedef struct af_tally {
	af_tally_entry *entries;
	size_t n, cap;
	size_t *index; /* open addressing: an entry's position + 1, 0 for a free slot */
	size_t index_cap;
} af_tally;

/* Add tally to the table on top (lua_tally.c). */
void af_tally_lua_open(lua_State *L);

/* The tally at `idx`, or NULL when the value is not one. */
const af_tally *af_lua_to_tally(lua_State *L, int idx);

/* Add http_serve to the table on top (lua_http.c). */
void af_http_lua_open(lua_State *L);

#endif
