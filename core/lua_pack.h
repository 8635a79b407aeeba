/* lua_pack.h - MessagePack in agentflow.core (lua_pack.c). */
#ifndef AF_LUA_PACK_H
#define AF_LUA_PACK_H

#include <lua.h>
#include <stddef.h>

/* Add pack and unpack to the table on top. */
void af_pack_lua_open(lua_State *L);

/*
 * The length n of the table at `idx` when its keys are exactly 1..n (0 for
 * an empty table), else -1.
 */
lua_Integer af_lua_sequence_length(lua_State *L, int idx);

/*
 * Push the first `n` (< 0: all) MessagePack values packed one after another
 * in s[0..len); a value that is a map gets room for `room` more keys (what
 * the caller will add). Returns how many were pushed, or -1 (not packed
 * values) or -2 (truncated) with nothing pushed. Raises only for memory.
 */
int af_lua_unpack(lua_State *L, const char *s, size_t len, int n, int room);

#endif
