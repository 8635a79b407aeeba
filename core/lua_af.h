/*
 * lua_af.h - agentflow.core: the C functions behind the `af` Lua library.
 * Preloaded by the host; lua/agentflow/init.lua builds `af` on top of it.
 */
#ifndef AF_LUA_AF_H
#define AF_LUA_AF_H

#include <lua.h>
#include <stddef.h>

int luaopen_agentflow_core(lua_State *L);

/* Add the store, hash, stat, glob and git functions to the table on top (lua_store.c). */
void af_store_lua_open(lua_State *L);

/*
 * The userdata at 1 when its metatable is the one at `mt` (an upvalue index),
 * else a type error naming `what`. For methods called at every step:
 * comparing with a metatable held as an upvalue is cheaper than
 * luaL_checkudata's lookup by name (lua_af.c).
 */
void *af_lua_check_self(lua_State *L, int mt, const char *what);

/* Add yaml_decode to the table on top (lua_yaml.c). */
void af_yaml_lua_open(lua_State *L);

/* Add log_open to the table on top (lua_log.c). */
void af_log_lua_open(lua_State *L);

/* Add pack and unpack to the table on top (lua_pack.c). */
void af_pack_lua_open(lua_State *L);

/*
 * The length n of the table at `idx` when its keys are exactly 1..n (0 for
 * an empty table), else -1 (lua_pack.c).
 */
lua_Integer af_lua_sequence_length(lua_State *L, int idx);

/*
 * Push the first `n` (< 0: all) MessagePack values packed one after another
 * in s[0..len) (see lua_pack.c); a value that is a map gets room for `room`
 * more keys (what the caller will add). Returns how many were pushed, or -1
 * (not packed values) or -2 (truncated) with nothing pushed. Raises only for
 * memory.
 */
int af_lua_unpack(lua_State *L, const char *s, size_t len, int n, int room);

/* Counts by name (core.tally(), lua_tally.c); entries in the order names were first added. */
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

/* Add tally to the table on top (lua_tally.c). */
void af_tally_lua_open(lua_State *L);

/* The tally at `idx`, or NULL when the value is not one. */
const af_tally *af_lua_to_tally(lua_State *L, int idx);

/* Count `name` (len bytes) n more times. Raises for memory (lua_tally.c). */
void af_tally_add(lua_State *L, af_tally *t, const char *name, size_t len, long long n);

/* Text built a line at a time (core.lines(), lua_lines.c). */
typedef struct af_lines {
	char *p;
	size_t len, cap;
	lua_Integer count; /* lines */
} af_lines;

/* Add lines to the table on top (lua_lines.c). */
void af_lines_lua_open(lua_State *L);

/* The lines at `idx`, or NULL when the value is not one. */
af_lines *af_lua_to_lines(lua_State *L, int idx);

/*
 * Append field s[0..n) and a space, or with `last` a newline, ending one
 * more line. Raises for memory.
 */
void af_lines_field(lua_State *L, af_lines *b, const char *s, size_t n, int last);

/* The fields of a step the cache answered, for af_lua_log_cached_step. */
typedef struct af_step_record {
	const char *run_id; /* NULL: not logged (the REPL) */
	const char *agent, *status, *key, *summary; /* summary: NULL for none */
	size_t run_id_len, agent_len, status_len, key_len, summary_len;
	long long step, tokens_in, tokens_out;
	double duration;
} af_step_record;

/*
 * Write the "step ended" record (INFO) of a step the cache answered:
 * cached = true, attempts = 0, cost_usd = 0 and these fields, as the
 * general step record writes them (lua_log.c). Returns AF_OK, AF_EIO, or
 * AF_ENOMEM when the record is too long to write this way (then nothing
 * is written).
 */
struct af_log;
int af_lua_log_cached_step(struct af_log *log, const af_step_record *s);


/* The log of the log object at `idx` (core.log_open), or NULL when it is not one or closed. */
struct af_log *af_lua_to_log(lua_State *L, int idx);

/* The store object at `idx` (core.store_open: NULL inside once closed), or NULL (lua_store.c). */
struct af_store;
struct af_store **af_lua_to_store(lua_State *L, int idx);

/*
 * Push the first `n` packed values of the record under `key` in database
 * `db` (an AF_DB_*), tables made with room for `room` more keys (as
 * store:unpack). Returns how many were pushed (0: no such record, or not
 * packed values) or AF_EIO (lua_store.c).
 */
int af_lua_store_unpack(lua_State *L, struct af_store *s, int db, const char *key, size_t klen,
			int n, int room);

/* Add hit_recorder to the table on top (lua_hit.c). */
void af_hit_lua_open(lua_State *L);

/* Add http_serve to the table on top (lua_http.c). */
void af_http_lua_open(lua_State *L);

#endif
