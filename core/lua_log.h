/* lua_log.h - the structured log in agentflow.core (lua_log.c). */
#ifndef AF_LUA_LOG_H
#define AF_LUA_LOG_H

#include <lua.h>
#include <stddef.h>

struct af_log;

/* Add log_open, log_scan, log_json and log_step_json to the table on top. */
void af_log_lua_open(lua_State *L);

/* The log of the log object at `idx` (core.log_open), or NULL when it is not one or closed. */
struct af_log *af_lua_to_log(lua_State *L, int idx);

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
 * general step record writes them. Returns AF_OK, AF_EIO, or AF_ENOMEM
 * when the record is too long to write this way (then nothing is written).
 */
int af_lua_log_cached_step(struct af_log *log, const af_step_record *s);

#endif
