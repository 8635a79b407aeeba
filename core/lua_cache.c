/*
 * lua_cache.c - the result cache (cache.h) for the Lua library
 * (agentflow.core):
 *
 *   cache = core.cache_open(store) ; core.CACHE_VERSION (cache.h)
 *   r, why = cache:lookup(key, now [, room])  ; r: the result record, or nil, "ttl" | "miss"
 *   cache:store{key, agent, created, ttl, commit, branch, result, output,
 *               manifest, files = {...}, lineage = {...}}
 *   cache:remember(key, manifest) ; m = cache:manifest(key)
 *   e, outdated = cache:entry(key) ; list, outdated = cache:entries()
 *   out = cache:blob(hash) ; k = cache:previous(prefix, own [, newest_only [, before]])
 *   cache:count_hit(agent, key) ; cache:count_miss(agent) ; cache:flush_counts(now)
 *   n, last = cache:access(key) ; rows = cache:stats()
 *   n = cache:invalidate_file(path) ; n = cache:invalidate_agent([agent])
 *   n = cache:remove{key, ...} ; expired, evicted, bytes = cache:prune(now [, max_bytes])
 *
 * `result`, `output` and `manifest` are core.pack's bytes; records come
 * back unpacked. Everything read is copied out of the store before it
 * reaches the Lua stack (a memory error's longjmp must not cross an open
 * transaction). A store that cannot be read or written raises
 * {exit_code = 74, message} (lua_store.h).
 */
#include "lua_cache.h"
#include "af.h"
#include "cache.h"
#include "lua_af.h"
#include "lua_pack.h"
#include "lua_store.h"

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MT "agentflow.cache"

typedef struct lua_cache {
	af_cache *cache;
	struct af_store **store; /* the store's box: NULL inside once it is closed */
	af_buf result, output; /* reused by every lookup */
} lua_cache;

static int cache_close(lua_State *L)
{
	lua_cache *c = luaL_checkudata(L, 1, CACHE_MT);

	af_cache_close(c->cache); /* the backend holds no resource of the store's */
	c->cache = NULL;
	af_buf_free(&c->result);
	af_buf_free(&c->output);
	return 0;
}

/* The cache a method is called on (the metatable is upvalue 1: see af_lua_check_self). */
static lua_cache *check(lua_State *L)
{
	lua_cache *c = af_lua_check_self(L, lua_upvalueindex(1), "cache");

	if (!c->cache || !*c->store)
		luaL_error(L, "the cache is closed");
	return c;
}

/* AF_OK passes; a failure raises (74 for the store, a plain error for memory). */
static int ok_or_raise(lua_State *L, int rc)
{
	if (rc == AF_ENOMEM)
		return luaL_error(L, "out of memory");
	if (rc < 0 && rc != AF_ENOTFOUND)
		return af_lua_raise_io(L);
	return rc;
}

/* Push the packed value in b (nil when empty or not packed). */
static void push_packed(lua_State *L, const char *p, size_t len, int room)
{
	if (af_lua_unpack(L, p, len, 1, room) != 1)
		lua_pushnil(L);
}

static int l_lookup(lua_State *L)
{
	lua_cache *c = check(L);
	size_t klen;
	const char *key = luaL_checklstring(L, 2, &klen);
	double now = (double)luaL_checknumber(L, 3);
	int room = (int)luaL_optinteger(L, 4, 0);
	int state;

	c->output.len = 0;
	state = ok_or_raise(L, af_cache_lookup(c->cache, key, klen, now, &c->result, &c->output));
	if (state != AF_CACHE_FRESH) {
		luaL_pushfail(L);
		lua_pushstring(L, state == AF_CACHE_EXPIRED ? "ttl" : "miss");
		return 2;
	}
	push_packed(L, c->result.p, c->result.len, room + 1);
	if (!lua_istable(L, -1)) {
		luaL_pushfail(L);
		lua_pushstring(L, "miss");
		return 2;
	}
	if (c->output.len) {
		push_packed(L, c->output.p, c->output.len, 0);
		lua_setfield(L, -2, "output");
	}
	return 1;
}

/* The string field `name` of the table at 2 (NULL p when absent). */
static af_cache_str str_field(lua_State *L, const char *name, int required)
{
	af_cache_str s = {NULL, 0};

	lua_getfield(L, 2, name);
	if (!lua_isnil(L, -1) || required)
		s.p = luaL_checklstring(L, -1, &s.len);
	lua_pop(L, 1); /* the string stays referenced by the table */
	return s;
}

/*
 * The strings of the list field `name` of the table at 2 (NULL: of that
 * table), in a userdata left on the stack above the list.
 */
static af_cache_str *str_list(lua_State *L, const char *name, size_t *n)
{
	af_cache_str *list;
	lua_Integer len;

	if (name)
		lua_getfield(L, 2, name);
	else
		lua_pushvalue(L, 2);
	len = lua_istable(L, -1) ? luaL_len(L, -1) : 0;
	list = lua_newuserdatauv(L, sizeof *list * (size_t)(len ? len : 1), 0);
	for (lua_Integer i = 1; i <= len; i++) {
		lua_geti(L, -2, i);
		list[i - 1].p = luaL_checklstring(L, -1, &list[i - 1].len);
		lua_pop(L, 1); /* kept by the list table, which stays below the userdata */
	}
	*n = (size_t)len;
	return list;
}

static int l_store(lua_State *L)
{
	lua_cache *c = check(L);
	af_cache_put p = {0};
	af_cache_str result, output, manifest;
	int rc;

	luaL_checktype(L, 2, LUA_TTABLE);
	p.key = str_field(L, "key", 1);
	p.agent = str_field(L, "agent", 1);
	p.commit = str_field(L, "commit", 0);
	p.branch = str_field(L, "branch", 0);
	result = str_field(L, "result", 1);
	output = str_field(L, "output", 1);
	manifest = str_field(L, "manifest", 0);
	lua_getfield(L, 2, "created");
	p.created = (double)luaL_checknumber(L, -1);
	lua_getfield(L, 2, "ttl");
	p.ttl = lua_isnil(L, -1) ? -1 : (double)luaL_checknumber(L, -1);
	lua_pop(L, 2);
	p.result = result.p, p.result_len = result.len;
	p.output = output.p, p.output_len = output.len;
	p.manifest = manifest.p, p.manifest_len = manifest.len;
	p.files = str_list(L, "files", &p.nfiles);
	p.lineage = str_list(L, "lineage", &p.nlineage);
	rc = af_cache_store(c->cache, &p);
	if (rc == AF_EINVAL)
		return luaL_error(L, "%s", af_error_last());
	ok_or_raise(L, rc);
	return 0;
}

static int l_remember(lua_State *L)
{
	lua_cache *c = check(L);
	size_t klen, mlen;
	const char *key = luaL_checklstring(L, 2, &klen), *m = luaL_checklstring(L, 3, &mlen);

	ok_or_raise(L, af_cache_remember(c->cache, key, klen, m, mlen));
	return 0;
}

/* Push what get() copied into c->result as a string, or nil when absent. */
static int push_got(lua_State *L, lua_cache *c, int rc)
{
	if (ok_or_raise(L, rc) == AF_ENOTFOUND)
		lua_pushnil(L);
	else
		lua_pushlstring(L, c->result.p, c->result.len);
	return 1;
}

/* Push the packed value get() copied into c->result, unpacked; nil when absent. */
static int push_got_value(lua_State *L, lua_cache *c, int rc)
{
	if (ok_or_raise(L, rc) == AF_ENOTFOUND)
		lua_pushnil(L);
	else
		push_packed(L, c->result.p, c->result.len, 0);
	return 1;
}

static int l_manifest(lua_State *L)
{
	lua_cache *c = check(L);
	size_t klen;
	const char *key = luaL_checklstring(L, 2, &klen);

	return push_got_value(L, c, af_cache_manifest(c->cache, key, klen, &c->result));
}

static int l_blob(lua_State *L)
{
	lua_cache *c = check(L);
	size_t hlen;
	const char *hash = luaL_checklstring(L, 2, &hlen);

	return push_got_value(L, c, af_cache_blob(c->cache, hash, hlen, &c->result));
}

static void set_str(lua_State *L, const char *name, const af_cache_str *s)
{
	if (!s->p)
		return;
	lua_pushlstring(L, s->p, s->len);
	lua_setfield(L, -2, name);
}

/* Push entry e (decoded from bytes the caller owns) as a table. */
static void push_entry(lua_State *L, const char *key, size_t klen, const af_cache_entry *e)
{
	lua_createtable(L, 0, 12);
	lua_pushlstring(L, key, klen);
	lua_setfield(L, -2, "key");
	set_str(L, "agent", &e->agent);
	set_str(L, "commit", &e->commit);
	set_str(L, "branch", &e->branch);
	set_str(L, "output_blob", &e->blob);
	lua_pushnumber(L, (lua_Number)e->created);
	lua_setfield(L, -2, "created");
	if (e->expires) {
		lua_pushnumber(L, (lua_Number)e->expires_at);
		lua_setfield(L, -2, "expires_at");
	}
	lua_pushinteger(L, (lua_Integer)e->size);
	lua_setfield(L, -2, "size");
	lua_pushinteger(L, (lua_Integer)e->raw_len + (e->blob.p ? (lua_Integer)e->size : 0));
	lua_setfield(L, -2, "bytes");
	push_packed(L, e->result, e->result_len, 0);
	if (lua_istable(L, -1)) {
		lua_getfield(L, -1, "output");
		lua_setfield(L, -3, "output");
		lua_pushnil(L);
		lua_setfield(L, -2, "output");
	}
	lua_setfield(L, -2, "result");
}

/* e = cache:entry(key): the entry decoded; nil, "outdated" when it is of another version */
static int l_entry(lua_State *L)
{
	lua_cache *c = check(L);
	size_t klen;
	const char *key = luaL_checklstring(L, 2, &klen);
	af_cache_entry e;

	if (ok_or_raise(L, af_cache_raw(c->cache, key, klen, &c->result)) == AF_ENOTFOUND) {
		lua_pushnil(L);
		return 1;
	}
	if (af_cache_decode(c->result.p, c->result.len, 0, &e) != AF_OK) {
		luaL_pushfail(L);
		lua_pushliteral(L, "outdated");
		return 2;
	}
	push_entry(L, key, klen, &e);
	return 1;
}

/*
 * What cache:entries() gathers: the visit copies each entry's bytes (they
 * point into the store); the tables are made after the iteration ends.
 */
typedef struct gathered {
	af_buf bytes; /* per entry: key length, key, entry length, entry */
	size_t n;
} gathered;

static int gather(const char *key, size_t klen, const void *raw, size_t rawlen,
		  const af_cache_entry *e, void *ctx)
{
	gathered *g = ctx;

	(void)e;
	g->n++;
	return af_buf_add(&g->bytes, &klen, sizeof klen) || af_buf_add(&g->bytes, key, klen) ||
	       af_buf_add(&g->bytes, &rawlen, sizeof rawlen) ||
	       af_buf_add(&g->bytes, raw, rawlen);
}

/* The bytes after a length at *at; *at moves past them. */
static const char *next_part(const af_buf *b, size_t *at, size_t *len)
{
	const char *p;

	memcpy(len, b->p + *at, sizeof *len);
	p = b->p + *at + sizeof *len;
	*at += sizeof *len + *len;
	return p;
}

/* list, outdated = cache:entries(): every entry decoded, and the keys of other versions' */
static int l_entries(lua_State *L)
{
	lua_cache *c = check(L);
	gathered *g = lua_newuserdatauv(L, sizeof *g, 0);
	size_t at = 0, nlist = 0, nold = 0;
	int rc;

	memset(g, 0, sizeof *g);
	rc = af_cache_each(c->cache, gather, g);
	if (rc != AF_OK) {
		af_buf_free(&g->bytes);
		return ok_or_raise(L, rc > 0 ? AF_ENOMEM : rc);
	}
	lua_newtable(L);
	lua_newtable(L);
	/* a memory error below leaks the copy: the store's state is safe */
	for (size_t i = 0; i < g->n; i++) {
		size_t klen, rlen;
		const char *key = next_part(&g->bytes, &at, &klen), *raw = next_part(&g->bytes, &at, &rlen);
		af_cache_entry e;

		if (af_cache_decode(raw, rlen, 0, &e) == AF_OK) {
			push_entry(L, key, klen, &e);
			lua_rawseti(L, -3, (lua_Integer)++nlist);
		} else {
			lua_pushlstring(L, key, klen);
			lua_rawseti(L, -2, (lua_Integer)++nold);
		}
	}
	af_buf_free(&g->bytes);
	return 2;
}

static int l_previous(lua_State *L)
{
	lua_cache *c = check(L);
	af_cache_str prefix, own;
	int skip_own = lua_toboolean(L, 4) ? 1 : -1;
	double before = (double)luaL_optnumber(L, 5, -1);

	prefix.p = luaL_checklstring(L, 2, &prefix.len);
	own.p = luaL_checklstring(L, 3, &own.len);
	return push_got(L, c, af_cache_previous(c->cache, &prefix, &own, skip_own, before, &c->result));
}

static int l_count_hit(lua_State *L)
{
	lua_cache *c = check(L);
	size_t alen, klen;
	const char *agent = luaL_checklstring(L, 2, &alen), *key = luaL_checklstring(L, 3, &klen);

	ok_or_raise(L, af_cache_count_hit(c->cache, agent, alen, key, klen));
	return 0;
}

static int l_count_miss(lua_State *L)
{
	lua_cache *c = check(L);
	size_t alen;
	const char *agent = luaL_checklstring(L, 2, &alen);

	ok_or_raise(L, af_cache_count_miss(c->cache, agent, alen));
	return 0;
}

static int l_flush_counts(lua_State *L)
{
	lua_cache *c = check(L);

	ok_or_raise(L, af_cache_flush_counts(c->cache, (double)luaL_checknumber(L, 2)));
	return 0;
}

static int l_access(lua_State *L)
{
	lua_cache *c = check(L);
	size_t klen;
	const char *key = luaL_checklstring(L, 2, &klen);
	long long count;
	double last;

	ok_or_raise(L, af_cache_access(c->cache, key, klen, &count, &last));
	lua_pushinteger(L, (lua_Integer)count);
	if (last > 0)
		lua_pushnumber(L, (lua_Number)last);
	else
		lua_pushnil(L);
	return 2;
}

static void set_count(lua_State *L, const char *name, long long v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, name);
}

/* rows = cache:stats(): {agent, entries, bytes, hits, misses} per agent, in name order */
static int l_stats(lua_State *L)
{
	lua_cache *c = check(L);
	af_cache_agent_stats *s;
	size_t n;

	ok_or_raise(L, af_cache_stats(c->cache, &s, &n));
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		if (!lua_checkstack(L, 3)) {
			af_cache_stats_free(s, n);
			return luaL_error(L, "out of memory");
		}
		lua_createtable(L, 0, 5);
		lua_pushstring(L, s[i].agent);
		lua_setfield(L, -2, "agent");
		set_count(L, "entries", s[i].entries);
		set_count(L, "bytes", s[i].bytes);
		set_count(L, "hits", s[i].hits);
		set_count(L, "misses", s[i].misses);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	af_cache_stats_free(s, n);
	return 1;
}

static int push_removed(lua_State *L, int rc, const size_t *n)
{
	ok_or_raise(L, rc);
	lua_pushinteger(L, (lua_Integer)*n);
	return 1;
}

static int l_invalidate_file(lua_State *L)
{
	lua_cache *c = check(L);
	size_t plen, n = 0;
	const char *path = luaL_checklstring(L, 2, &plen);

	int rc = af_cache_invalidate_file(c->cache, path, plen, &n);

	return push_removed(L, rc, &n);
}

static int l_invalidate_agent(lua_State *L)
{
	lua_cache *c = check(L);
	size_t alen = 0, n = 0;
	const char *agent = luaL_optlstring(L, 2, NULL, &alen);

	int rc = af_cache_invalidate_agent(c->cache, agent, alen, &n);

	return push_removed(L, rc, &n);
}

static int l_remove(lua_State *L)
{
	lua_cache *c = check(L);
	size_t n = 0, removed = 0;
	af_cache_str *keys;
	int rc;

	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	keys = str_list(L, NULL, &n);
	rc = af_cache_remove(c->cache, keys, n, &removed);
	return push_removed(L, rc, &removed);
}

static int l_prune(lua_State *L)
{
	lua_cache *c = check(L);
	double now = (double)luaL_checknumber(L, 2);
	long long max = (long long)luaL_optinteger(L, 3, 0), bytes = 0;
	size_t expired = 0, evicted = 0;

	ok_or_raise(L, af_cache_prune(c->cache, now, max, &expired, &evicted, &bytes));
	lua_pushinteger(L, (lua_Integer)expired);
	lua_pushinteger(L, (lua_Integer)evicted);
	lua_pushinteger(L, (lua_Integer)bytes);
	return 3;
}

/* cache = core.cache_open(store): the cache over an open store (kept alive with it) */
static int l_cache_open(lua_State *L)
{
	struct af_store **store = af_lua_to_store(L, 1);
	af_cache_backend *local;
	lua_cache *c;

	luaL_argexpected(L, store, 1, "store");
	if (!*store)
		return luaL_error(L, "the store is closed");
	c = lua_newuserdatauv(L, sizeof *c, 1);
	memset(c, 0, sizeof *c);
	c->store = store;
	luaL_setmetatable(L, CACHE_MT);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	if (!(local = af_cache_lmdb(*store)) || af_cache_open(&c->cache, local) != AF_OK) {
		if (local)
			local->close(local);
		return luaL_error(L, "out of memory");
	}
	return 1;
}

void af_cache_lua_open(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"lookup", l_lookup},
		{"store", l_store},
		{"remember", l_remember},
		{"manifest", l_manifest},
		{"blob", l_blob},
		{"entry", l_entry},
		{"entries", l_entries},
		{"previous", l_previous},
		{"count_hit", l_count_hit},
		{"count_miss", l_count_miss},
		{"flush_counts", l_flush_counts},
		{"access", l_access},
		{"stats", l_stats},
		{"invalidate_file", l_invalidate_file},
		{"invalidate_agent", l_invalidate_agent},
		{"remove", l_remove},
		{"prune", l_prune},
		{NULL, NULL},
	};

	luaL_newmetatable(L, CACHE_MT);
	lua_pushcfunction(L, cache_close);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, cache_close);
	lua_setfield(L, -2, "__close");
	luaL_newlibtable(L, methods);
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, methods, 1);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	lua_pushcfunction(L, l_cache_open);
	lua_setfield(L, -2, "cache_open");
	lua_pushinteger(L, AF_CACHE_VERSION);
	lua_setfield(L, -2, "CACHE_VERSION");
}
