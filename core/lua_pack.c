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
 * a result comes back exactly as it was stored. msgpack-c writes the
 * format; it is read here (see "The reader").
 *
 * Values: nil, booleans, integers, floats, strings (any bytes), tables
 * (a sequence 1..n becomes an array, anything else a map) and JSON null
 * (lightuserdata NULL, which is cjson.null) as MessagePack nil inside
 * tables. Functions, userdata, coroutines, cycles and nesting deeper than
 * MAX_DEPTH cannot be stored.
 */
#include "lua_pack.h"

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

/*
 * The reader: MessagePack bytes straight to Lua values. msgpack-c reads
 * into an object tree in a heap zone first, which cost more than the rest of
 * a cache hit. Anything that is not what core.pack writes (extension types,
 * nil or NaN map keys) reads as nil or is skipped; bytes that are not
 * MessagePack, or end too soon, are an error, never a crash: entries come
 * from a file that may be damaged.
 */
typedef struct reader {
	const unsigned char *p, *end;
} reader;

enum { R_OK = 0, R_BAD = -1, R_SHORT = -2 };

static int read_value(lua_State *L, reader *r, int depth, int in_table, int room);

/* The next n bytes as a big-endian number, or R_SHORT. */
static int read_be(reader *r, int n, uint64_t *v)
{
	if (r->end - r->p < n)
		return R_SHORT;
	*v = 0;
	for (int i = 0; i < n; i++)
		*v = *v << 8 | *r->p++;
	return R_OK;
}

static int read_str(lua_State *L, reader *r, uint64_t len)
{
	if ((uint64_t)(r->end - r->p) < len)
		return R_SHORT;
	lua_pushlstring(L, (const char *)r->p, (size_t)len);
	r->p += len;
	return R_OK;
}

static int read_array(lua_State *L, reader *r, uint64_t n, int depth)
{
	int rc;

	if (n > (uint64_t)(r->end - r->p)) /* every element takes a byte at least */
		return R_SHORT;
	luaL_checkstack(L, 2, "unpacking");
	lua_createtable(L, (int)n, 0);
	for (uint64_t i = 0; i < n; i++) {
		if ((rc = read_value(L, r, depth + 1, 1, 0)))
			return rc;
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return R_OK;
}

/* A key lua_rawset would refuse (nil, NaN): the pair is skipped. */
static int bad_key(lua_State *L, int idx)
{
	lua_Number x;

	if (lua_type(L, idx) == LUA_TLIGHTUSERDATA)
		return 1;
	if (lua_type(L, idx) != LUA_TNUMBER || lua_isinteger(L, idx))
		return 0;
	x = lua_tonumber(L, idx);
	return x != x;
}

static int read_map(lua_State *L, reader *r, uint64_t n, int depth, int room)
{
	int rc;

	if (n > (uint64_t)(r->end - r->p) / 2) /* every pair takes two bytes at least */
		return R_SHORT;
	luaL_checkstack(L, 3, "unpacking");
	lua_createtable(L, 0, (int)n + room);
	for (uint64_t i = 0; i < n; i++) {
		if ((rc = read_value(L, r, depth + 1, 1, 0)) || (rc = read_value(L, r, depth + 1, 1, 0)))
			return rc;
		if (bad_key(L, -2))
			lua_pop(L, 2);
		else
			lua_rawset(L, -3);
	}
	return R_OK;
}

/* An extension value: its type byte and `len` bytes, skipped; reads as nil. */
static int skip_ext(lua_State *L, reader *r, uint64_t len, int in_table)
{
	if ((uint64_t)(r->end - r->p) < len + 1)
		return R_SHORT;
	r->p += len + 1;
	if (in_table)
		lua_pushlightuserdata(L, NULL);
	else
		lua_pushnil(L);
	return R_OK;
}

/* A number of `n` bytes: unsigned, signed, or a float (n = 4, 8). */
static int read_number(lua_State *L, reader *r, int n, char kind)
{
	uint64_t v;
	int rc = read_be(r, n, &v);

	if (rc)
		return rc;
	if (kind == 'u') {
		lua_pushinteger(L, (lua_Integer)v);
	} else if (kind == 'i') {
		int shift = 64 - 8 * n; /* sign-extend */
		lua_pushinteger(L, (lua_Integer)((int64_t)(v << shift) >> shift));
	} else if (n == 4) {
		uint32_t bits = (uint32_t)v;
		float f;

		memcpy(&f, &bits, sizeof f);
		lua_pushnumber(L, (lua_Number)f);
	} else {
		double d;

		memcpy(&d, &v, sizeof d);
		lua_pushnumber(L, (lua_Number)d);
	}
	return R_OK;
}

/* A value whose size follows its type byte in `n` bytes: str, bin, array, map, ext. */
static int read_sized(lua_State *L, reader *r, int n, char kind, int depth, int in_table, int room)
{
	uint64_t len;
	int rc = read_be(r, n, &len);

	if (rc)
		return rc;
	switch (kind) {
	case 's':
		return read_str(L, r, len);
	case 'a':
		return read_array(L, r, len, depth);
	case 'm':
		return read_map(L, r, len, depth, room);
	default:
		return skip_ext(L, r, len, in_table);
	}
}

/*
 * Push the value at r->p and step past it. Inside a table nil is
 * cjson.null. A map read at `depth` 0 gets room for `room` more keys.
 */
static int read_value(lua_State *L, reader *r, int depth, int in_table, int room)
{
	unsigned c;

	if (depth > MAX_DEPTH)
		return R_BAD;
	if (r->p == r->end)
		return R_SHORT;
	c = *r->p++;
	if (c <= 0x7f || c >= 0xe0) { /* positive and negative fixint */
		lua_pushinteger(L, (lua_Integer)(int8_t)c);
		return R_OK;
	}
	if (c <= 0x8f)
		return read_map(L, r, c & 0x0f, depth, room);
	if (c <= 0x9f)
		return read_array(L, r, c & 0x0f, depth);
	if (c <= 0xbf)
		return read_str(L, r, c & 0x1f);
	switch (c) {
	case 0xc0:
		if (in_table)
			lua_pushlightuserdata(L, NULL);
		else
			lua_pushnil(L);
		return R_OK;
	case 0xc2:
	case 0xc3:
		lua_pushboolean(L, c == 0xc3);
		return R_OK;
	case 0xc4: case 0xc5: case 0xc6: /* bin 8, 16, 32 */
		return read_sized(L, r, 1 << (c - 0xc4), 's', depth, in_table, room);
	case 0xc7: case 0xc8: case 0xc9: /* ext 8, 16, 32 */
		return read_sized(L, r, 1 << (c - 0xc7), 'e', depth, in_table, room);
	case 0xca: case 0xcb: /* float 32, 64 */
		return read_number(L, r, c == 0xca ? 4 : 8, 'f');
	case 0xcc: case 0xcd: case 0xce: case 0xcf: /* uint 8 to 64 */
		return read_number(L, r, 1 << (c - 0xcc), 'u');
	case 0xd0: case 0xd1: case 0xd2: case 0xd3: /* int 8 to 64 */
		return read_number(L, r, 1 << (c - 0xd0), 'i');
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: /* fixext 1 to 16 */
		return skip_ext(L, r, (uint64_t)1 << (c - 0xd4), in_table);
	case 0xd9: case 0xda: case 0xdb: /* str 8, 16, 32 */
		return read_sized(L, r, 1 << (c - 0xd9), 's', depth, in_table, room);
	case 0xdc: case 0xdd: /* array 16, 32 */
		return read_sized(L, r, c == 0xdc ? 2 : 4, 'a', depth, in_table, room);
	case 0xde: case 0xdf: /* map 16, 32 */
		return read_sized(L, r, c == 0xde ? 2 : 4, 'm', depth, in_table, room);
	default: /* 0xc1: never used */
		return R_BAD;
	}
}

int af_lua_unpack(lua_State *L, const char *s, size_t len, int n, int room)
{
	reader r = {(const unsigned char *)s, (const unsigned char *)s + len};
	int base = lua_gettop(L), pushed = 0;

	while (r.p < r.end && (n < 0 || pushed < n)) {
		int rc;

		luaL_checkstack(L, 2, "unpacking");
		if ((rc = read_value(L, &r, 0, 0, room))) {
			lua_settop(L, base);
			return rc;
		}
		pushed++;
	}
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
	int pushed = af_lua_unpack(L, s, len, n, 0);

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
	luaL_newmetatable(L, BUFFER_MT);
	lua_pushcfunction(L, buffer_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_setfuncs(L, functions, 0);
}
