/*
 * scheduler.h - the scheduler: one libuv loop, one coroutine per workflow branch.
 *
 * A call that waits (af.exec, af.sleep, joining a branch, an event) registers
 * its pending operation with the running task and yields from one place
 * (task_wait in lua_scheduler.c); when the operation completes, the loop puts the
 * task on the ready queue, and the ready queue resumes it from one place
 * (run_task). Values are built in the task's own continuation, so an error
 * there is the task's error and never escapes into the loop.
 *
 * SIGINT and SIGTERM during a run stop new processes, cancel every task (their
 * process groups get SIGTERM, then SIGKILL), wait for them, and make the run
 * end "interrupted"; a second signal kills every process group at once and
 * exits 130.
 */
#ifndef AF_SCHEDULER_H
#define AF_SCHEDULER_H

#include <lua.h>
#include <uv.h>

/*
 * Add the scheduler's functions to the table at the top of the stack
 * (agentflow.core): spawn, join, cancel, current, sleep, exec, event, now,
 * monotonic, environ, isatty, canceled.
 */
void af_sched_open(lua_State *L);

/*
 * Run the function below `nargs` arguments on L's stack as the root task and
 * drive the loop until it has finished, every task it left behind has been
 * cancelled and every process has been reaped. Returns a Lua status; with
 * LUA_OK the results (nresults, or all with LUA_MULTRET) replace the function,
 * otherwise the error value does (a string error carries a traceback). L
 * must be the main thread, outside any Lua call.
 */
int af_sched_run(lua_State *L, int nargs, int nresults);

/* The scheduler's event loop (made on first use), for other handles. */
uv_loop_t *af_sched_loop(void);

/* Whether the last af_sched_run was interrupted by SIGINT or SIGTERM. */
int af_sched_interrupted(void);

/* Wall-clock seconds, as core.now() gives them. */
double af_sched_now(void);

/* Monotonic seconds, as core.monotonic() gives them (for durations). */
double af_sched_monotonic(void);

#endif
