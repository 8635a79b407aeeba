/*
 * lua_tally.c - counts by name, kept in C (agentflow.core):
 *
 *   tally = core.tally()
 *   tally:add(name [, n])  ; n = 1
 *   n = tally:get(name)    ; 0 for a name never added
 *   n = tally:size()       ; names counted
 *
 * A run counts the cache entries it used, one name per step: in a Lua
 * table each new name cost a string kept alive for the collector to walk
 * and the table's regrowth, and writing the counts meant walking it again.
 * A tally is written by store:write and store:defer as it is (lua_store.c).
 */
#include "lua_tally.h"
#include "lua_af.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define TALLY_MT "agentflow.tally"

static int tally_gc(lua_State *L)
{
	af_tally *t = lua_touserdata(L, 1);

	for (size_t i = 0; i < t->n; i++)
		free(t->entries[i].name);
	free(t->entries);
	free(t->index);
	memset(t, 0, sizeof *t);
	return 0;
}

/* The tally at 1; the metatable is upvalue 1 (see af_lua_check_self). */
static af_tally *check_tally(lua_State *L)
{
	return af_lua_check_self(L, lua_upvalueindex(1), "tally");
}

/* The slot of `name` in the index: holding its entry's position + 1, or 0 (free). */
static size_t *slot_of(const af_tally *t, const char *name, size_t len)
{
	size_t i = (size_t)XXH3_64bits(name, len) & (t->index_cap - 1);

	while (t->index[i]) {
		const af_tally_entry *e = &t->entries[t->index[i] - 1];

		if (e->len == len && memcmp(e->name, name, len) == 0)
			break;
		i = (i + 1) & (t->index_cap - 1);
	}
	return &t->index[i];
}

/* Room for one more name: the entries grow by doubling, the index stays under half full. */
static void grow(lua_State *L, af_tally *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		af_tally_entry *e = realloc(t->entries, cap * sizeof *e);

		if (!e)
			luaL_error(L, "out of memory");
		t->entries = e;
		t->cap = cap;
	}
	if ((t->n + 1) * 2 > t->index_cap) {
		size_t cap = t->index_cap ? t->index_cap * 2 : 128, *old = t->index;

		if (!(t->index = calloc(cap, sizeof *t->index))) {
			t->index = old;
			luaL_error(L, "out of memory");
		}
		t->index_cap = cap;
		for (size_t i = 0; i < t->n; i++)
			*slot_of(t, t->entries[i].name, t->entries[i].len) = i + 1;
		free(old);
	}
}

void af_tally_add(lua_State *L, af_tally *t, const char *name, size_t len, long long n)
{
	size_t *slot;

	if (t->index_cap && *(slot = slot_of(t, name, len))) {
		t->entries[*slot - 1].count += n;
		return;
	}
	grow(L, t);
	slot = slot_of(t, name, len);
	if (!(t->entries[t->n].name = malloc(len ? len : 1)))
		luaL_error(L, "out of memory");
	memcpy(t->entries[t->n].name, name, len);
	t->entries[t->n].len = len;
	t->entries[t->n].count = n;
	*slot = ++t->n;
}

static int tally_add(lua_State *L)
{
	af_tally *t = check_tally(L);
	size_t len;
	const char *name = luaL_checklstring(L, 2, &len);

	af_tally_add(L, t, name, len, (long long)luaL_optinteger(L, 3, 1));
	return 0;
}

static int tally_get(lua_State *L)
{
	af_tally *t = check_tally(L);
	size_t len, *slot;
	const char *name = luaL_checklstring(L, 2, &len);

	slot = t->index_cap ? slot_of(t, name, len) : NULL;
	lua_pushinteger(L, slot && *slot ? (lua_Integer)t->entries[*slot - 1].count : 0);
	return 1;
}

static int tally_size(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)check_tally(L)->n);
	return 1;
}

static int l_tally(lua_State *L)
{
	af_tally *t = lua_newuserdatauv(L, sizeof *t, 0);

	memset(t, 0, sizeof *t);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_setmetatable(L, -2);
	return 1;
}

const af_tally *af_lua_to_tally(lua_State *L, int idx)
{
	const af_tally *t = lua_touserdata(L, idx);

	if (!t || !lua_getmetatable(L, idx))
		return NULL;
	luaL_getmetatable(L, TALLY_MT);
	if (!lua_rawequal(L, -1, -2))
		t = NULL;
	lua_pop(L, 2);
	return t;
}

void af_tally_lua_open(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"add", tally_add}, {"get", tally_get}, {"size", tally_size}, {NULL, NULL}};

	luaL_newmetatable(L, TALLY_MT);
	lua_pushcfunction(L, tally_gc);
	lua_setfield(L, -2, "__gc");
	luaL_newlibtable(L, methods);
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, methods, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcclosure(L, l_tally, 1);
	lua_setfield(L, -2, "tally");
}
