/* lua_tally.h - counts by name in agentflow.core (core.tally(), lua_tally.c). */
#ifndef AF_LUA_TALLY_H
#define AF_LUA_TALLY_H

#include <lua.h>
#include <stddef.h>

/* Entries in the order names were first added. */
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

/* Add tally to the table on top. */
void af_tally_lua_open(lua_State *L);

/* The tally at `idx`, or NULL when the value is not one. */
const af_tally *af_lua_to_tally(lua_State *L, int idx);

/* Count `name` (len bytes) n more times. Raises for memory. */
void af_tally_add(lua_State *L, af_tally *t, const char *name, size_t len, long long n);

#endif
