/*
 * lua_store.c - the store, hashing, file status, globs and git for the Lua
 * library (agentflow.core). Expected failures return nil and a message; a
 * store that cannot be read or written raises {exit_code = 74, message}.
 */
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include "lua_store.h"
#include "af.h"
#include "buf.h"
#include "fs.h"
#include "git.h"
#include "hash.h"
#include "lua_af.h"
#include "statcache.h"
#include "store.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STORE_MT "agentflow.store"
#define ERROR_MT "agentflow.error"
#define COPY_MT "agentflow.store.copy"

static const char *const db_names[] = {
	"entries", "manifests", "lineage", "blobs", "stat", "counters", "journal", "runs", "files",
	"journal_blobs", NULL,
};

int af_lua_raise_io(lua_State *L)
{
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, AF_EXIT_IOERR);
	lua_setfield(L, -2, "exit_code");
	lua_pushstring(L, af_error_last());
	lua_setfield(L, -2, "message");
	luaL_setmetatable(L, ERROR_MT);
	return lua_error(L);
}

static int error_tostring(lua_State *L)
{
	lua_getfield(L, 1, "message");
	return 1;
}

af_store **af_lua_to_store(lua_State *L, int idx)
{
	return luaL_testudata(L, idx, STORE_MT);
}

/* The store a method is called on; methods hold the metatable as upvalue 1 (see af_lua_check_self). */
static af_store *check_store(lua_State *L)
{
	af_store **s = af_lua_check_self(L, lua_upvalueindex(1), "store");

	if (!*s)
		luaL_error(L, "the store is closed");
	return *s;
}

/*
 * store = core.store_open(dir) ; nil, err. One environment per process:
 * a second call with the same dir returns the same store, until it is
 * closed (`local s <close> = core.store_open(dir)`, or the collector).
 */
static int l_store_open(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	lua_Integer map = luaL_optinteger(L, 2, 0);
	af_store **ud;

	lua_getfield(L, LUA_REGISTRYINDEX, STORE_MT ".open");
	if (lua_getfield(L, -1, dir) == LUA_TUSERDATA)
		return 1;
	lua_pop(L, 1);
	ud = lua_newuserdatauv(L, sizeof *ud, 1);
	*ud = NULL;
	luaL_setmetatable(L, STORE_MT);
	lua_pushvalue(L, 1); /* the dir, to forget the store by when it is closed */
	lua_setiuservalue(L, -2, 1);
	if (af_store_open(ud, dir, (size_t)(map > 0 ? map : 0)) != AF_OK) {
		lua_pushnil(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, dir);
	return 1;
}

/* __gc and __close: close the store (once) and let store_open open its dir again. */
static int l_store_close(lua_State *L)
{
	af_store **s = luaL_checkudata(L, 1, STORE_MT);

	if (!*s)
		return 0;
	af_store_close(*s);
	*s = NULL;
	lua_getfield(L, LUA_REGISTRYINDEX, STORE_MT ".open");
	lua_getiuservalue(L, 1, 1);
	lua_pushvalue(L, -1);
	if (lua_rawget(L, -3) == LUA_TUSERDATA && lua_rawequal(L, -1, 1)) {
		lua_pop(L, 1);
		lua_pushnil(L);
		lua_rawset(L, -3);
	}
	return 0;
}

/*
 * What a read copies out of its LMDB transaction before any of it reaches
 * the Lua stack: pushing can raise a memory error, and its longjmp would
 * leave the transaction or cursor open. The copy is a userdata on the stack
 * while it is read, so such an error frees it with the userdata.
 */
typedef af_buf copy_box;

static int copy_gc(lua_State *L)
{
	af_buf_free(lua_touserdata(L, 1));
	return 0;
}

/* Push an empty copy. */
static copy_box *push_copy(lua_State *L)
{
	copy_box *b = lua_newuserdatauv(L, sizeof *b, 0);

	*b = (copy_box){0};
	luaL_setmetatable(L, COPY_MT);
	return b;
}

/* Append s[0..n) to the copy (`failed` says when it could not). No Lua
 * here: it runs inside the transaction. */
static void copy_add(copy_box *b, const void *s, size_t n)
{
	af_buf_add(b, s, n);
}

static void copy_value(const void *val, size_t vlen, void *ctx)
{
	copy_add(ctx, val, vlen);
}

/* Raise the memory error a copy that failed stands for. */
static void check_copy(lua_State *L, const copy_box *b)
{
	if (b->failed)
		luaL_error(L, "not enough memory");
}

/* Free the copy now rather than when the collector finds it. */
static void free_copy(copy_box *b)
{
	af_buf_free(b);
}

/* value = store:get(db, key) ; nil when absent */
static int l_store_get(lua_State *L)
{
	af_store *s = check_store(L);
	int db = luaL_checkoption(L, 2, NULL, db_names);
	size_t klen;
	const char *key = luaL_checklstring(L, 3, &klen);
	copy_box *b = push_copy(L);
	int rc = af_store_get(s, db, key, klen, copy_value, b);

	if (rc == AF_ENOTFOUND) {
		lua_pushnil(L);
		return 1;
	}
	if (rc != AF_OK)
		return af_lua_raise_io(L);
	check_copy(L, b);
	lua_pushlstring(L, b->p, b->len);
	free_copy(b);
	return 1;
}

/* Fill op from the op table at `t`: {db, key, value | false [, add]} (see af_store_op). */
static void fill_op(lua_State *L, int t, lua_Integer i, af_store_op *op)
{
	const char *key, *val;
	size_t klen, vlen = 0;
	int db;

	if (lua_type(L, t) != LUA_TTABLE)
		luaL_error(L, "store:write: op %d is not a table", (int)i);
	lua_geti(L, t, 1);
	db = luaL_checkoption(L, -1, NULL, db_names);
	lua_geti(L, t, 2);
	key = luaL_checklstring(L, -1, &klen);
	lua_geti(L, t, 3);
	val = lua_toboolean(L, -1) ? luaL_checklstring(L, -1, &vlen) : NULL;
	lua_geti(L, t, 4);
	/* the strings stay referenced by the ops table during the write */
	*op = (af_store_op){db, key, klen, val, vlen, (long long)luaL_optinteger(L, -1, 0)};
	lua_pop(L, 4);
}

/* The ops of the table at 2 (see l_store_write), in userdata on the stack; *n: how many. */
static af_store_op *read_ops(lua_State *L, size_t *n)
{
	lua_Integer len;
	af_store_op *ops;

	luaL_checktype(L, 2, LUA_TTABLE);
	len = luaL_len(L, 2);
	ops = lua_newuserdatauv(L, sizeof *ops * (size_t)(len ? len : 1), 0);
	for (lua_Integer i = 1; i <= len; i++) {
		lua_geti(L, 2, i);
		fill_op(L, lua_gettop(L), i, &ops[i - 1]);
		lua_pop(L, 1);
	}
	*n = (size_t)len;
	return ops;
}

/* store:write{op, ...} : the ops in one transaction; an op is {db, key, value | false [, add]} */
static int l_store_write(lua_State *L)
{
	af_store *s = check_store(L);
	size_t n;
	af_store_op *ops = read_ops(L, &n);

	return af_store_write(s, ops, n) == AF_OK ? 0 : af_lua_raise_io(L);
}

/* Copy a key and its value, each after its length. */
static int collect(const void *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	copy_add(ctx, &klen, sizeof klen);
	copy_add(ctx, key, klen);
	copy_add(ctx, &vlen, sizeof vlen);
	copy_add(ctx, val, vlen);
	return 0;
}

/* Push the string that follows its length at b->p + *at; *at moves past it. */
static void push_collected(lua_State *L, const copy_box *b, size_t *at)
{
	size_t len;

	memcpy(&len, b->p + *at, sizeof len);
	lua_pushlstring(L, b->p + *at + sizeof len, len);
	*at += sizeof len + len;
}

/* keys, values = store:scan(db [, prefix]) */
static int l_store_scan(lua_State *L)
{
	af_store *s = check_store(L);
	int db = luaL_checkoption(L, 2, NULL, db_names);
	size_t plen = 0;
	const char *prefix = luaL_optlstring(L, 3, "", &plen);
	copy_box *b = push_copy(L);
	size_t at = 0;

	if (af_store_scan(s, db, prefix, plen, collect, b) != AF_OK)
		return af_lua_raise_io(L);
	check_copy(L, b);
	lua_newtable(L);
	lua_newtable(L);
	for (lua_Integer n = 1; at < b->len; n++) {
		push_collected(L, b, &at);
		lua_rawseti(L, -3, n);
		push_collected(L, b, &at);
		lua_rawseti(L, -2, n);
	}
	free_copy(b);
	return 2;
}

/* entries, bytes_in_use, map_size = store:count(db) */
static int l_store_count(lua_State *L)
{
	af_store *s = check_store(L);
	int db = luaL_checkoption(L, 2, NULL, db_names);
	size_t entries, used;

	if (af_store_count(s, db, &entries, &used) != AF_OK)
		return af_lua_raise_io(L);
	lua_pushinteger(L, (lua_Integer)entries);
	lua_pushinteger(L, (lua_Integer)used);
	lua_pushinteger(L, (lua_Integer)af_store_map_size(s));
	return 3;
}

/* A declared path of core.file_part, with what stat() and the stat cache say. */
typedef struct part_file {
	const char *decl; /* as declared, for messages */
	const char *path; /* as the key names it (af_path_key) */
	size_t len;
	int optional;     /* a missing file is part of the key, not an error */
	char *abs;        /* what stat() and the stat cache see */
	int state, err;   /* af_statcache_stat's, and errno after AF_EIO */
	af_stat_record now, rec;
} part_file;

static int by_path(const void *a, const void *b)
{
	/* strcoll, as Lua compares strings: the order table.sort gives */
	return strcoll(((const part_file *)a)->path, ((const part_file *)b)->path);
}

/* A record that cannot be decoded is left zeroed: its file is hashed again. */
static void copy_part_record(size_t i, const void *val, size_t vlen, void *ctx)
{
	af_statcache_decode(&((part_file *)ctx)[i].rec, val, vlen);
}

/*
 * Read entry i of the table at 4 into f: a path, or {path, optional =
 * true}. The strings stay anchored in the table.
 */
static void read_entry(lua_State *L, part_file *f, lua_Integer i)
{
	int t = lua_geti(L, 4, i);

	if (t == LUA_TTABLE) {
		lua_getfield(L, -1, "optional");
		f->optional = lua_toboolean(L, -1);
		lua_geti(L, -2, 1);
		f->decl = lua_tostring(L, -1);
		lua_pop(L, 2);
	} else {
		f->decl = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
	}
	lua_pop(L, 1);
	if (!f->decl)
		luaL_error(L, "files[%d] must be a path or {path, optional = true}", (int)i);
}

/*
 * Read the declared paths from the table at 4 into f[], named as keys name
 * them (relative to `root` from `cwd`), sorted and distinct (required when
 * any of a name's declarations is); returns how many, or -1 when one is a
 * glob.
 */
static lua_Integer read_paths(lua_State *L, part_file *f, lua_Integer n, const char *root,
			      const char *cwd)
{
	size_t clen = strlen(cwd), bytes = 0;
	lua_Integer m = 0;
	char *names;

	for (lua_Integer i = 1; i <= n; i++) {
		read_entry(L, &f[i - 1], i);
		if (strpbrk(f[i - 1].decl, "*?["))
			return -1;
		bytes += clen + 1 + strlen(f[i - 1].decl) + 1;
	}
	names = lua_newuserdatauv(L, bytes ? bytes : 1, 0); /* 8 */
	lua_replace(L, 8);
	for (lua_Integer i = 0; i < n; i++) {
		long len = af_path_key(names, bytes, root, cwd, f[i].decl);

		f[i].path = names;
		f[i].len = (size_t)len; /* the buffer holds every name: it fits */
		names += len + 1;
		bytes -= (size_t)len + 1;
	}
	qsort(f, (size_t)n, sizeof *f, by_path);
	for (lua_Integer i = 0; i < n; i++) {
		if (m > 0 && strcmp(f[i].path, f[m - 1].path) == 0)
			f[m - 1].optional &= f[i].optional;
		else
			f[m++] = f[i];
	}
	return m;
}

/* Stat every path of f[] and, with a store, read their stat records (one transaction). */
static void stat_paths(lua_State *L, af_store *s, const char *root, part_file *f, lua_Integer n)
{
	size_t rlen = strlen(root), bytes = 0;
	af_store_key *keys = lua_newuserdatauv(L, sizeof *keys * (size_t)(n ? n : 1), 0);
	char *abs;

	for (lua_Integer i = 0; i < n; i++)
		bytes += rlen + 1 + f[i].len + 1;
	abs = lua_newuserdatauv(L, bytes ? bytes : 1, 0);
	for (lua_Integer i = 0; i < n; i++) {
		f[i].abs = abs;
		if (f[i].path[0] != '/') {
			memcpy(abs, root, rlen);
			abs[rlen] = '/';
			abs += rlen + 1;
		}
		memcpy(abs, f[i].path, f[i].len + 1);
		abs += f[i].len + 1;
		f[i].state = af_statcache_stat(&f[i].now, f[i].abs);
		f[i].err = errno;
		keys[i] = (af_store_key){f[i].abs, strlen(f[i].abs)};
	}
	if (s && af_store_get_many(s, AF_DB_STAT, keys, (size_t)n, copy_part_record, f) != AF_OK)
		af_lua_raise_io(L);
}

/*
 * Push nil and why file f cannot be part of a key: a required file that is
 * missing (naming it as declared, and as the key would), or one that cannot
 * be read. Returns 2 (the values pushed).
 */
static int push_file_error(lua_State *L, const part_file *f)
{
	lua_pushnil(L);
	if (f->state == AF_ENOTFOUND && strcmp(f->decl, f->path) != 0)
		lua_pushfstring(L, "%s (%s) does not exist", f->decl, f->path);
	else if (f->state == AF_ENOTFOUND)
		lua_pushfstring(L, "%s does not exist", f->decl);
	else
		lua_pushfstring(L, "%s: %s", f->abs,
				f->state == AF_EINVAL ? "not a regular file" : strerror(f->err));
	lua_pushstring(L, f->state == AF_ENOTFOUND ? "missing" : "io");
	return 3;
}

/* The index of the first file of f[] that cannot be part of a key, or -1. */
static lua_Integer bad_file(const part_file *f, lua_Integer n)
{
	for (lua_Integer i = 0; i < n; i++)
		if (f[i].state != AF_OK && !(f[i].state == AF_ENOTFOUND && f[i].optional))
			return i;
	return -1;
}

/*
 * The content hash of each file of f[] ("missing" for an optional one that
 * is not there) into f[i].rec.hash, hashing the files whose records are not
 * trusted; their new records go into the table at `records` (made on first
 * need). Returns 0, or 1 with nil and the message pushed.
 */
static int hash_paths(lua_State *L, part_file *f, lua_Integer n, int records)
{
	unsigned char enc[AF_STATCACHE_RECORD_SIZE];

	for (lua_Integer i = 0; i < n; i++) {
		if (f[i].state == AF_ENOTFOUND) {
			memcpy(f[i].rec.hash, "missing", sizeof "missing");
			continue;
		}
		if (af_statcache_trusted(&f[i].rec, &f[i].now))
			continue;
		if (af_statcache_hash(&f[i].now, f[i].abs) != AF_OK) {
			lua_pushnil(L);
			lua_pushstring(L, af_error_last());
			return 1;
		}
		f[i].rec = f[i].now;
		if (lua_isnil(L, records)) {
			lua_newtable(L);
			lua_replace(L, records);
		}
		af_statcache_encode(enc, &f[i].now);
		lua_pushlstring(L, (const char *)enc, sizeof enc);
		lua_setfield(L, records, f[i].abs);
	}
	return 0;
}

/*
 * enc, records = core.file_part(store, root, cwd, paths, with_content)
 * false (a path is a glob: expand it first) ; nil, err, "missing" | "io"
 *
 * A cache key's file part: "path\0hash\0path\0hash..." over the distinct
 * `paths` in sorted order, each with its content hash, "missing" for an
 * optional file that is not there, or "-" without content. A path is a
 * string or {path, optional = true}; a relative one means what io.open
 * makes of it in `cwd`, and the key names it relative to `root` (see
 * af_path_key), so that the same file has one name from every directory.
 * A required file that does not exist is an error naming it. Content
 * hashes go through the stat cache of `store` (nil: none), whose records
 * are all read in one transaction; `records` ({abs = record}, or nil)
 * holds the new ones, for the caller to write with its next commit.
 * In C: a hit computes this for every declared file at every call.
 */
static int l_file_part(lua_State *L)
{
	af_store **ud = lua_isnil(L, 1) ? NULL : luaL_checkudata(L, 1, STORE_MT);
	const char *root = luaL_checkstring(L, 2), *cwd = luaL_checkstring(L, 3);
	int with_content = lua_toboolean(L, 5);
	lua_Integer n, bad;
	part_file *f;
	luaL_Buffer b;

	luaL_checktype(L, 4, LUA_TTABLE);
	lua_settop(L, 5);
	n = luaL_len(L, 4);
	f = lua_newuserdatauv(L, sizeof *f * (size_t)(n ? n : 1), 0); /* 6 */
	memset(f, 0, sizeof *f * (size_t)(n ? n : 1));
	lua_pushnil(L); /* 7: the new records */
	lua_pushnil(L); /* 8: the names */
	if ((n = read_paths(L, f, n, root, cwd)) < 0) {
		lua_pushboolean(L, 0);
		return 1;
	}
	stat_paths(L, with_content && ud && *ud ? *ud : NULL, root, f, n);
	if ((bad = bad_file(f, n)) >= 0)
		return push_file_error(L, &f[bad]);
	if (with_content && hash_paths(L, f, n, 7))
		return 2;
	luaL_buffinit(L, &b);
	for (lua_Integer i = 0; i < n; i++) {
		if (i > 0)
			luaL_addchar(&b, '\0');
		luaL_addlstring(&b, f[i].path, f[i].len);
		luaL_addchar(&b, '\0');
		luaL_addstring(&b, with_content ? f[i].rec.hash : "-");
	}
	luaL_pushresult(&b);
	lua_pushvalue(L, 7);
	return 2;
}

/*
 * name = core.path_key(root, cwd, path) : the name a cache key gives a
 * declared path or pattern (see af_path_key)
 */
static int l_path_key(lua_State *L)
{
	const char *root = luaL_checkstring(L, 1), *cwd = luaL_checkstring(L, 2);
	size_t plen, clen = strlen(cwd);
	const char *path = luaL_checklstring(L, 3, &plen);
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, clen + plen + 2);
	long len = af_path_key(out, clen + plen + 2, root, cwd, path);

	luaL_pushresultsize(&b, (size_t)len);
	return 1;
}

/* store:sync() : flush everything committed to disk now */
static int l_store_sync(lua_State *L)
{
	return af_store_sync(check_store(L)) == AF_OK ? 0 : af_lua_raise_io(L);
}

/* n = store:readers() : reader slots in use (stale ones cleared first) */
static int l_store_readers(lua_State *L)
{
	lua_pushinteger(L, af_store_readers(check_store(L)));
	return 1;
}

/* hex = core.hash(s) */
static int l_hash(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	char hex[AF_HASH_HEX];

	af_hash(s, len, hex);
	lua_pushlstring(L, hex, AF_HASH_HEX - 1);
	return 1;
}

/*
 * hex = core.hash_parts(s1, s2, ...) : core.hash(string.pack("s4s4...", s1,
 * s2, ...)), each part length-prefixed, without building that string.
 */
/* Hash what buf holds as part of a stream (starting it the first time). */
static void spill(XXH3_state_t *st, int *streaming, const void *buf, size_t *used)
{
	if (!*streaming)
		XXH3_128bits_reset(st);
	*streaming = 1;
	XXH3_128bits_update(st, buf, *used);
	*used = 0;
}

static int l_hash_parts(lua_State *L)
{
	int n = lua_gettop(L), streaming = 0;
	XXH3_state_t st;
	char hex[AF_HASH_HEX], buf[1024];
	size_t used = 0;

	/* Most keys fit in buf and are hashed in one call: far cheaper than streaming. */
	for (int i = 1; i <= n; i++) {
		size_t len;
		const char *part = luaL_checklstring(L, i, &len);

		luaL_argcheck(L, len <= 0xffffffffu, i, "part too long");
		if (used + 4 > sizeof buf)
			spill(&st, &streaming, buf, &used);
		for (int b = 0; b < 4; b++)
			buf[used++] = (char)(unsigned char)(len >> (8 * b));
		if (len > sizeof buf - used) {
			spill(&st, &streaming, buf, &used);
			XXH3_128bits_update(&st, part, len);
		} else {
			memcpy(buf + used, part, len);
			used += len;
		}
	}
	if (streaming) {
		XXH3_128bits_update(&st, buf, used);
		af_hash_digest(XXH3_128bits_digest(&st), hex);
	} else {
		af_hash_digest(XXH3_128bits(buf, used), hex);
	}
	lua_pushlstring(L, hex, AF_HASH_HEX - 1);
	return 1;
}

/* hex = core.hash_file(path) ; nil, err */
static int l_hash_file(lua_State *L)
{
	char hex[AF_HASH_HEX];

	if (af_hash_file(luaL_checkstring(L, 1), hex) != AF_OK) {
		lua_pushnil(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	lua_pushlstring(L, hex, AF_HASH_HEX - 1);
	return 1;
}

/* size, mtime_ns, inode = core.stat(path) ; nil, err, "missing" | "io" */
static int l_stat(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat st;

	if (stat(path, &st) != 0) {
		int missing = errno == ENOENT || errno == ENOTDIR;

		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(errno));
		lua_pushstring(L, missing ? "missing" : "io");
		return 3;
	}
	if (!S_ISREG(st.st_mode)) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: not a regular file", path);
		lua_pushstring(L, "io");
		return 3;
	}
	lua_pushinteger(L, (lua_Integer)st.st_size);
	lua_pushinteger(L, (lua_Integer)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
	lua_pushinteger(L, (lua_Integer)st.st_ino);
	return 3;
}

static void push_path(const char *path, void *ctx)
{
	lua_State *L = ctx;

	lua_pushstring(L, path);
	lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
}

/* paths = core.glob(root, pattern) ; nil, err */
static int l_glob(lua_State *L)
{
	const char *root = luaL_checkstring(L, 1), *pattern = luaL_checkstring(L, 2);

	lua_newtable(L);
	if (af_glob(root, pattern, push_path, L) != AF_OK) {
		lua_pushnil(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	return 1;
}

/* true = core.glob_match(pattern, path) */
static int l_glob_match(lua_State *L)
{
	lua_pushboolean(L, af_glob_match(luaL_checkstring(L, 1), luaL_checkstring(L, 2)));
	return 1;
}

static int push_git_error(lua_State *L, int rc)
{
	lua_pushnil(L);
	lua_pushstring(L, af_error_last());
	lua_pushstring(L, rc == AF_ENOTFOUND ? "not_found" : rc == AF_EUNAVAIL ? "unavailable" : "io");
	return 3;
}

/* commit, branch, root = core.git_head(dir) ; nil, err, kind */
static int l_git_head(lua_State *L)
{
	char commit[41], branch[256], root[4096];
	int rc = af_git_head(luaL_checkstring(L, 1), commit, branch, sizeof branch, root, sizeof root);

	if (rc != AF_OK)
		return push_git_error(L, rc);
	lua_pushstring(L, commit);
	lua_pushstring(L, branch);
	lua_pushstring(L, root);
	return 3;
}

/* paths = core.git_match(dir, pattern) ; nil, err, kind */
static int l_git_match(lua_State *L)
{
	int rc;

	lua_newtable(L);
	rc = af_git_match(luaL_checkstring(L, 1), luaL_checkstring(L, 2), push_path, L);
	return rc == AF_OK ? 1 : push_git_error(L, rc);
}

static const luaL_Reg store_methods[] = {
	{"get", l_store_get},
	{"write", l_store_write},
	{"scan", l_store_scan},
	{"count", l_store_count},
	{"readers", l_store_readers},
	{"sync", l_store_sync},
	{NULL, NULL}
};

static const luaL_Reg functions[] = {
	{"store_open", l_store_open},
	{"hash", l_hash},
	{"hash_parts", l_hash_parts},
	{"hash_file", l_hash_file},
	{"file_part", l_file_part},
	{"path_key", l_path_key},
	{"stat", l_stat},
	{"glob", l_glob},
	{"glob_match", l_glob_match},
	{"git_head", l_git_head},
	{"git_match", l_git_match},
	{NULL, NULL}
};

void af_store_lua_open(lua_State *L)
{
	luaL_newmetatable(L, STORE_MT);
	luaL_newlibtable(L, store_methods);
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, store_methods, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_store_close);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, l_store_close);
	lua_setfield(L, -2, "__close");
	lua_pop(L, 1);
	luaL_newmetatable(L, ERROR_MT);
	lua_pushcfunction(L, error_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
	luaL_newmetatable(L, COPY_MT);
	lua_pushcfunction(L, copy_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, STORE_MT ".open");
	luaL_setfuncs(L, functions, 0);
}
