/* lua_lines.h - text built a line at a time in agentflow.core (core.lines(), lua_lines.c). */
#ifndef AF_LUA_LINES_H
#define AF_LUA_LINES_H

#include <lua.h>
#include <stddef.h>

typedef struct af_lines {
	char *p;
	size_t len, cap;
	lua_Integer count; /* lines */
} af_lines;

/* Add lines to the table on top. */
void af_lines_lua_open(lua_State *L);

/* The lines at `idx`, or NULL when the value is not one. */
af_lines *af_lua_to_lines(lua_State *L, int idx);

/*
 * Append field s[0..n) and a space, or with `last` a newline, ending one
 * more line. Raises for memory.
 */
void af_lines_field(lua_State *L, af_lines *b, const char *s, size_t n, int last);

#endif
