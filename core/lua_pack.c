/*
 * lua_pack.c - Lua values as MessagePack bytes (agentflow.core), for what
 * the cache keeps of a result:
 *
 *   bytes = core.pack(value) ; nil, err
 *   v1, v2, ... = core.unpack(bytes [, n]) ; nil, err
 *
 * Values packed one after another can be read back a few at a time: a
 * cache hit reads the first values of its entry, not the metadata after
 * them.
 *
 * Why not JSON: a cache hit decodes its entry, and decoding JSON (numbers
 * through strtod, strings scanned for escapes) was most of a hit's time;
 * MessagePack is length-prefixed and keeps integers apart from floats, so
 * a result comes back exactly as it was stored. msgpack-c does the format.
 *
 * Values: nil, booleans, integers, floats, strings (any bytes), tables
 * (a sequence 1..n becomes an array, anything else a map) and JSON null
 * (lightuserdata NULL, which is cjson.null) as MessagePack nil inside
 * tables. Functions, userdata, coroutines, cycles and nesting deeper than
 * MAX_DEPTH cannot be stored.
 */
#include "lua_af.h"

#include <lauxlib.h>
#include <msgpack.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 64
#define BUFFER_MT "agentflow.packbuffer"

static int buffer_gc(lua_State *L)
{
	msgpack_sbuffer *sb = luaL_checkudata(L, 1, BUFFER_MT);

	msgpack_sbuffer_destroy(sb);
	msgpack_sbuffer_init(sb);
	return 0;
}

lua_Integer af_lua_sequence_length(lua_State *L, int idx)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, idx), keys = 0;

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_Integer k;

		lua_pop(L, 1);
		/* n distinct keys, each a whole number in 1..n, are exactly 1..n */
		if (!lua_isinteger(L, -1) || (k = lua_tointeger(L, -1)) < 1 || k > n) {
			lua_pop(L, 1);
			return -1;
		}
		keys++;
	}
	return keys == n ? n : -1;
}

static const char *pack_value(lua_State *L, msgpack_packer *pk, int idx, int depth);

static const char *pack_table(lua_State *L, msgpack_packer *pk, int idx, int depth)
{
	lua_Integer n;
	size_t pairs = 0;
	const char *err;

	if (depth > MAX_DEPTH)
		return "a table nested too deeply (or a cycle)";
	luaL_checkstack(L, 4, "packing");
	if ((n = af_lua_sequence_length(L, idx)) > 0) {
		msgpack_pack_array(pk, (size_t)n);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, idx, i);
			err = pack_value(L, pk, lua_gettop(L), depth + 1);
			lua_pop(L, 1);
			if (err)
				return err;
		}
		return NULL;
	}
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		pairs++;
	}
	msgpack_pack_map(pk, pairs);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int top = lua_gettop(L);

		if ((err = pack_value(L, pk, top - 1, depth + 1)) ||
		    (err = pack_value(L, pk, top, depth + 1))) {
			lua_pop(L, 2);
			return err;
		}
		lua_pop(L, 1);
	}
	return NULL;
}

/* Pack the value at `idx`; NULL, or what cannot be stored. */
static const char *pack_value(lua_State *L, msgpack_packer *pk, int idx, int depth)
{
	size_t len;
	const char *s;

	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		msgpack_pack_nil(pk);
		return NULL;
	case LUA_TBOOLEAN:
		return lua_toboolean(L, idx) ? (msgpack_pack_true(pk), NULL)
					     : (msgpack_pack_false(pk), NULL);
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			msgpack_pack_int64(pk, (int64_t)lua_tointeger(L, idx));
		else
			msgpack_pack_double(pk, (double)lua_tonumber(L, idx));
		return NULL;
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		msgpack_pack_str_with_body(pk, s, len);
		return NULL;
	case LUA_TTABLE:
		return pack_table(L, pk, idx, depth);
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == NULL) {
			msgpack_pack_nil(pk);
			return NULL;
		}
		return "a light userdata cannot be stored";
	default:
		return lua_pushfstring(L, "a %s cannot be stored", luaL_typename(L, idx));
	}
}

/* bytes = core.pack(value) ; nil, err */
static int l_pack(lua_State *L)
{
	msgpack_sbuffer *sb;
	msgpack_packer pk;
	const char *err;

	lua_settop(L, 1);
	/* the buffer lives in a userdata, so an error in the middle frees it too */
	sb = lua_newuserdatauv(L, sizeof *sb, 0);
	msgpack_sbuffer_init(sb);
	luaL_setmetatable(L, BUFFER_MT);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if ((err = pack_value(L, &pk, 1, 0))) {
		luaL_pushfail(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushlstring(L, sb->data ? sb->data : "", sb->size);
	return 1;
}

/* Push the Lua form of `o`; nil inside a table is cjson.null. */
static void push_object(lua_State *L, const msgpack_object *o, int in_table)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		if (in_table)
			lua_pushlightuserdata(L, NULL);
		else
			lua_pushnil(L);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		lua_pushboolean(L, o->via.boolean);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		lua_pushinteger(L, (lua_Integer)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		lua_pushinteger(L, (lua_Integer)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		lua_pushnumber(L, (lua_Number)o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		lua_pushlstring(L, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		lua_pushlstring(L, o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		luaL_checkstack(L, 2, "unpacking");
		lua_createtable(L, (int)o->via.array.size, 0);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			push_object(L, &o->via.array.ptr[i], 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	case MSGPACK_OBJECT_MAP:
		luaL_checkstack(L, 3, "unpacking");
		lua_createtable(L, 0, (int)o->via.map.size);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			push_object(L, &o->via.map.ptr[i].key, 1);
			push_object(L, &o->via.map.ptr[i].val, 1);
			if (lua_type(L, -2) == LUA_TLIGHTUSERDATA) /* nil key */
				lua_pop(L, 2); /* not from core.pack */
			else
				lua_rawset(L, -3);
		}
		break;
	default: /* extension types: not from core.pack */
		lua_pushnil(L);
		break;
	}
}

static void unpacked_reset(msgpack_unpacked *u)
{
	msgpack_unpacked_destroy(u);
	msgpack_unpacked_init(u);
}

static int unpacked_gc(lua_State *L)
{
	unpacked_reset(lua_touserdata(L, 1));
	return 0;
}

/* The registry key of the decoding state: a msgpack_unpacked in a userdata. */
static const char unpacked_key = 'u';

/*
 * The decoded objects live in that userdata until the Lua values are built:
 * if building raises (out of memory), the next call or the collector frees
 * them.
 */
int af_lua_unpack(lua_State *L, const char *s, size_t len, int n)
{
	msgpack_unpacked *u;
	size_t off = 0;
	int pushed = 0;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &unpacked_key);
	u = lua_touserdata(L, -1);
	lua_pop(L, 1);
	while (off < len && (n < 0 || pushed < n)) {
		msgpack_unpack_return rc = msgpack_unpack_next(u, s, len, &off);

		if (rc != MSGPACK_UNPACK_SUCCESS && rc != MSGPACK_UNPACK_EXTRA_BYTES) {
			unpacked_reset(u);
			lua_pop(L, pushed);
			return rc == MSGPACK_UNPACK_CONTINUE ? -2 : -1;
		}
		luaL_checkstack(L, 2, "unpacking");
		push_object(L, &u->data, 0);
		pushed++;
	}
	unpacked_reset(u);
	return pushed;
}

/*
 * v1, v2, ... = core.unpack(bytes [, n]) : the first n values packed one
 * after another in bytes (all of them without n); nil, err when the bytes
 * are not packed values.
 */
static int l_unpack(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	int n = (int)luaL_optinteger(L, 2, -1);
	int pushed = af_lua_unpack(L, s, len, n);

	if (pushed < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, pushed == -2 ? "truncated packed value" : "not a packed value");
		return 2;
	}
	return pushed;
}

void af_pack_lua_open(lua_State *L)
{
	static const luaL_Reg functions[] = {
		{"pack", l_pack},
		{"unpack", l_unpack},
		{NULL, NULL}
	};
	msgpack_unpacked *u;

	luaL_newmetatable(L, BUFFER_MT);
	lua_pushcfunction(L, buffer_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	u = lua_newuserdatauv(L, sizeof *u, 0);
	msgpack_unpacked_init(u);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, unpacked_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &unpacked_key);
	luaL_setfuncs(L, functions, 0);
}
