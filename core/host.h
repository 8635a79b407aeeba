/*
 * host.h - the Lua state agentflow runs workflows in.
 *
 * One lua_State per process. It has the standard libraries; cjson,
 * cjson.safe and agentflow.core preloaded; the global `af`; and module
 * search in this order:
 *   1. package.preload
 *   2. Lua files on $AGENTFLOW_LUA_PATH, then in <state dir>/lua/
 *      (so a project can override any module, the pattern heuristics above
 *      all, without rebuilding)
 *   3. the Lua library embedded in the program (lua/ at build time)
 *   4. package.path and package.cpath, as in the standalone lua
 */
#ifndef AF_HOST_H
#define AF_HOST_H

#include <lua.h>

/*
 * A new state for a workflow at `script_path` (NULL for -e chunks and the
 * REPL: the current directory decides the project). Returns NULL when memory
 * or the embedded library fails; the reason has been printed to stderr.
 */
lua_State *af_host_new(const char *script_path);

void af_host_close(lua_State *L);

/*
 * Call the function below `nargs` arguments on the stack as the root task of
 * the scheduler (scheduler.h), so it may wait on processes and timers and start
 * branches; SIGINT interrupts it. Returns a Lua status; on error the error
 * value (a string error with its traceback) replaces the function.
 */
int af_host_pcall(lua_State *L, int nargs, int nresults);

/*
 * Print the value at the top of the stack as "agentflow: MESSAGE" on stderr
 * and pop it. Non-string errors are shown with their __tostring or type.
 */
void af_host_report(lua_State *L);

/*
 * The exit code for a finished call whose error value (if any) is at the
 * top of the stack: 0 for LUA_OK, 130 when interrupted, 70 for memory and
 * handler errors, an error table's integer `exit_code` field, else 65.
 */
int af_host_exit_code(lua_State *L, int status);

/*
 * Run a workflow script: arg[0] = argv[0] = the script ("-" reads it from
 * standard input), arg[1..] and the chunk's `...` = the rest. `progname` is arg[-1]. Prints any error and
 * returns the exit code (66 when the script cannot be read).
 */
int af_host_run_script(lua_State *L, const char *progname, int argc, char **argv);

/* Run a chunk of Lua source named `name` (as with -e). Returns an exit code. */
int af_host_run_chunk(lua_State *L, const char *chunk, const char *name);

/*
 * A session: -e chunks, a script and the REPL run in one state make one
 * run, which stays open until af_host_end_session instead of closing after
 * each chunk. `kind` ("repl" or "chunk") goes to core.options.session: the
 * run record keeps it, and such runs cannot be resumed (no script holds
 * what they ran). `code` is the session's exit code: 0 closes the run as
 * done, 130 as interrupted, anything else as failed.
 */
void af_host_begin_session(lua_State *L, const char *kind);
void af_host_end_session(lua_State *L, int code);

/*
 * Run a command written in Lua: require(module).main(args), where args[0]
 * is the command's name and args[1..] its arguments, as the root task of
 * the scheduler. main returns the exit code (nil: 0); an error is reported
 * as for a script (its exit_code field, else 65).
 */
int af_host_run_module(lua_State *L, const char *module, int argc, char **argv);

/*
 * Set agentflow.core.options[name] = value: how the command line (run
 * --jobs, ...) reaches the Lua library. The state must come from af_host_new.
 */
void af_host_set_option(lua_State *L, const char *name, lua_Integer value);

/* As af_host_set_option, with a string value. */
void af_host_set_option_string(lua_State *L, const char *name, const char *value);

/* The script path given to af_host_new, or NULL. Borrowed. */
const char *af_host_script_path(lua_State *L);

#endif
