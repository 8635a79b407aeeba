/*
 * lua_lines.c - text built a line at a time, in C (agentflow.core):
 *
 *   lines = core.lines()
 *   n = lines:add(v1, v2, ...)  ; one more line, the values (strings or
 *                               ; numbers) separated by spaces; n lines now
 *   n = lines:count()
 *   text = lines:take()         ; the lines so far without the last
 *                               ; newline; empties the buffer
 *
 * For records made at every step (the journal's cache hits): no Lua string
 * per line. C code adds lines with af_lines_field (lua_hit.c).
 */
#include "lua_lines.h"
#include "af.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define LINES_MT "agentflow.lines"

static int lines_gc(lua_State *L)
{
	af_lines *b = luaL_checkudata(L, 1, LINES_MT);

	free(b->p);
	memset(b, 0, sizeof *b);
	return 0;
}

void af_lines_field(lua_State *L, af_lines *b, const char *s, size_t n, int last)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			luaL_error(L, "out of memory");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len++] = last ? '\n' : ' ';
	b->count += last;
}

static int lines_add(lua_State *L)
{
	af_lines *b = luaL_checkudata(L, 1, LINES_MT);
	int n = lua_gettop(L);

	for (int i = 2; i <= n; i++) {
		char tmp[AF_DECIMAL_MAX], *digits;
		const char *s;
		size_t len;

		if (lua_isinteger(L, i)) { /* most lines start with a step number */
			len = af_decimal((long long)lua_tointeger(L, i), tmp, &digits);
			s = digits;
		} else {
			s = luaL_checklstring(L, i, &len);
		}
		af_lines_field(L, b, s, len, i == n);
	}
	lua_pushinteger(L, b->count);
	return 1;
}

static int lines_count(lua_State *L)
{
	lua_pushinteger(L, ((af_lines *)luaL_checkudata(L, 1, LINES_MT))->count);
	return 1;
}

static int lines_take(lua_State *L)
{
	af_lines *b = luaL_checkudata(L, 1, LINES_MT);

	lua_pushlstring(L, b->p ? b->p : "", b->len ? b->len - 1 : 0);
	b->len = 0;
	b->count = 0;
	return 1;
}

static int l_lines(lua_State *L)
{
	af_lines *b = lua_newuserdatauv(L, sizeof *b, 0);

	memset(b, 0, sizeof *b);
	luaL_setmetatable(L, LINES_MT);
	return 1;
}

af_lines *af_lua_to_lines(lua_State *L, int idx)
{
	return luaL_testudata(L, idx, LINES_MT);
}

void af_lines_lua_open(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"add", lines_add}, {"count", lines_count}, {"take", lines_take}, {NULL, NULL}};

	luaL_newmetatable(L, LINES_MT);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, lines_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	lua_pushcfunction(L, l_lines);
	lua_setfield(L, -2, "lines");
}
