/*
 * lua_yaml.c - YAML (through libyaml) for agent files' front matter.
 *
 * doc, err = core.yaml_decode(text) turns one YAML document into Lua
 * values: mappings become tables, sequences lists, plain scalars that read
 * as integers, floats or true/false become numbers and booleans (YAML 1.1
 * style, as Claude Code's files are written), every other scalar a string.
 * A malformed document gives nil and "line N: problem".
 */
#include "lua_yaml.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Push a plain scalar as the Lua value it reads as. */
static void push_plain(lua_State *L, const char *s, size_t len)
{
	char *end;

	if ((len == 4 && !strncmp(s, "true", 4)) || (len == 3 && !strncmp(s, "yes", 3))) {
		lua_pushboolean(L, 1);
		return;
	}
	if ((len == 5 && !strncmp(s, "false", 5)) || (len == 2 && !strncmp(s, "no", 2))) {
		lua_pushboolean(L, 0);
		return;
	}
	if ((len == 1 && s[0] == '~') || (len == 4 && !strncmp(s, "null", 4))) {
		lua_pushnil(L);
		return;
	}
	if (len > 0 && strspn(s, "+-0123456789.eE") == len) {
		long long i = strtoll(s, &end, 10);

		if (end == s + len) {
			lua_pushinteger(L, (lua_Integer)i);
			return;
		}
		double d = strtod(s, &end);

		if (end == s + len) {
			lua_pushnumber(L, d);
			return;
		}
	}
	lua_pushlstring(L, s, len);
}

typedef struct parser {
	yaml_parser_t p;
	yaml_event_t ev;
	int have_event;
} parser;

static int next_event(lua_State *L, parser *ps)
{
	if (ps->have_event)
		yaml_event_delete(&ps->ev);
	ps->have_event = 0;
	if (!yaml_parser_parse(&ps->p, &ps->ev)) {
		lua_pushfstring(L, "line %d: %s", (int)ps->p.problem_mark.line + 1,
				ps->p.problem ? ps->p.problem : "malformed YAML");
		return 0;
	}
	ps->have_event = 1;
	return 1;
}

static int read_node(lua_State *L, parser *ps);

/* Read the rest of a mapping (after its start event) into a new table. */
static int read_mapping(lua_State *L, parser *ps)
{
	lua_newtable(L);
	for (;;) {
		if (!next_event(L, ps))
			return 0;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			return 1;
		if (!read_node(L, ps)) /* the key */
			return 0;
		if (!next_event(L, ps) || !read_node(L, ps))
			return 0;
		if (lua_isnil(L, -2))
			lua_pop(L, 2);
		else
			lua_settable(L, -3);
	}
}

static int read_sequence(lua_State *L, parser *ps)
{
	lua_Integer n = 0;

	lua_newtable(L);
	for (;;) {
		if (!next_event(L, ps))
			return 0;
		if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
			return 1;
		if (!read_node(L, ps))
			return 0;
		lua_rawseti(L, -2, ++n);
	}
}

/* Push the node whose first event is the current one. */
static int read_node(lua_State *L, parser *ps)
{
	luaL_checkstack(L, 8, "YAML nested too deeply");
	switch (ps->ev.type) {
	case YAML_SCALAR_EVENT:
		if (ps->ev.data.scalar.plain_implicit)
			push_plain(L, (const char *)ps->ev.data.scalar.value, ps->ev.data.scalar.length);
		else
			lua_pushlstring(L, (const char *)ps->ev.data.scalar.value, ps->ev.data.scalar.length);
		return 1;
	case YAML_MAPPING_START_EVENT:
		return read_mapping(L, ps);
	case YAML_SEQUENCE_START_EVENT:
		return read_sequence(L, ps);
	case YAML_ALIAS_EVENT:
		lua_pushfstring(L, "line %d: aliases are not supported", (int)ps->ev.start_mark.line + 1);
		return 0;
	default:
		lua_pushfstring(L, "line %d: unexpected YAML", (int)ps->ev.start_mark.line + 1);
		return 0;
	}
}

/* Skip to the document's root node; push it (an empty document: {}). */
static int read_document(lua_State *L, parser *ps)
{
	while (next_event(L, ps)) {
		switch (ps->ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
			continue;
		case YAML_STREAM_END_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			lua_newtable(L);
			return 1;
		default:
			return read_node(L, ps);
		}
	}
	return 0;
}

/* doc = core.yaml_decode(text) ; nil, "line N: problem" */
static int l_yaml_decode(lua_State *L)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	parser ps = {0};
	int ok;

	if (!yaml_parser_initialize(&ps.p))
		return luaL_error(L, "out of memory");
	yaml_parser_set_input_string(&ps.p, (const unsigned char *)text, len);
	ok = read_document(L, &ps);
	if (ps.have_event)
		yaml_event_delete(&ps.ev);
	yaml_parser_delete(&ps.p);
	if (!ok) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	return 1;
}

void af_yaml_lua_open(lua_State *L)
{
	lua_pushcfunction(L, l_yaml_decode);
	lua_setfield(L, -2, "yaml_decode");
}
