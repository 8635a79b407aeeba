/*
 * repl.h - the interactive Lua prompt, with `af` loaded.
 *
 * Behaves like the standalone lua: a line is first tried as an expression
 * (`return LINE`), so `x + 2` prints 42; `=x` is an expression too; input
 * that ends early continues on the next line; results are printed, tables
 * readably (agentflow._pretty). On a terminal it has line editing and
 * history (<state dir>/repl_history); Ctrl-C interrupts the running chunk
 * or clears the line, Ctrl-D exits. When stdin is not a terminal it reads
 * chunks from it without prompts.
 */
#ifndef AF_REPL_H
#define AF_REPL_H

#include <lua.h>

/*
 * Run the REPL until end of input. Returns the exit code: 0, or 65 when
 * input came from a pipe and a chunk failed (so scripts can tell).
 */
int af_repl_run(lua_State *L);

#endif
