/* lua_scheduler.c - tasks, waits, sleeping, events and processes (see scheduler.h). */
#include "scheduler.h"
#include "af.h"
#include "log.h"
#include "proc.h"

#include <lauxlib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

extern char **environ;

#define TASK_MT "agentflow.task"
#define EVENT_MT "agentflow.event"

typedef struct task task;

/* How a waiting task is woken, finished and cancelled. */
typedef struct wait_ops {
	/*
	 * Runs in the resumed task: push the values the wait returns and
	 * return their count; with `canceled`, release the wait's resources
	 * and return 0 (the task then raises the cancel error).
	 */
	int (*finish)(lua_State *L, void *data, int canceled);
	/* End the wait early; it must still wake the task (now or later). */
	void (*cancel)(task *t, void *data);
} wait_ops;

enum task_state { T_NEW, T_READY, T_RUNNING, T_WAITING, T_DONE };

struct task {
	lua_State *co;
	int ref;                 /* registry ref to the userdata while not done */
	enum task_state state;
	int canceled;
	int started;
	int nargs;               /* for the first resume */
	int status;              /* when done: LUA_OK or the error status */
	const wait_ops *ops;     /* while waiting */
	void *wait_data;
	task *next_ready;
	task *next_waiter;       /* in a join or event wait list */
	task *joiners;           /* tasks waiting for this one */
	task *prev, *next;       /* every task not done */
};

typedef struct event {
	int set;
	task *waiters;
} event;

static struct {
	lua_State *L;            /* the main thread */
	uv_loop_t *loop;
	uv_idle_t idle;          /* runs the ready queue; active while it is not empty */
	uv_async_t wake;         /* the signal handler's way into the loop */
	uv_prepare_t before_poll; /* writes the log's batches before the loop waits */
	task *ready_head, *ready_tail;
	task *current;           /* the task being resumed */
	task *live;              /* every task not done */
	int stopping;            /* interrupted: no new process starts */
	volatile sig_atomic_t signals;
	struct sigaction old_int, old_term;
} S;

static char CANCELED_KEY;

static void on_idle(uv_idle_t *h);

/* ---- the ready queue -------------------------------------------------------- */

static void make_ready(task *t)
{
	t->state = T_READY;
	t->next_ready = NULL;
	if (S.ready_tail)
		S.ready_tail->next_ready = t;
	else
		S.ready_head = t;
	S.ready_tail = t;
	if (!uv_is_active((uv_handle_t *)&S.idle))
		uv_idle_start(&S.idle, on_idle);
}

static void push_canceled(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &CANCELED_KEY);
}

/* ---- finishing a task ------------------------------------------------------- */

static void unlink_live(task *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		S.live = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

/*
 * Leave the error value, with a traceback when it is a string without one,
 * alone on the dead coroutine's stack, after its to-be-closed variables are
 * closed (lua_resetthread: Lua 5.4.4 has no lua_closethread).
 */
static void keep_error(task *t)
{
	lua_State *co = t->co, *L = S.L;
	const char *msg = lua_tostring(co, -1);

	if (lua_type(co, -1) == LUA_TSTRING && !strstr(msg, "\nstack traceback:"))
		luaL_traceback(L, co, msg, 0);
	else
		lua_xmove(co, L, 1);
	lua_resetthread(co);
	lua_settop(co, 0);
	lua_xmove(L, co, 1);
}

static void task_done(task *t, int status)
{
	task *j, *next;

	t->state = T_DONE;
	t->status = status;
	if (status != LUA_OK)
		keep_error(t);
	unlink_live(t);
	for (j = t->joiners; j; j = next) {
		next = j->next_waiter;
		j->next_waiter = NULL;
		make_ready(j);
	}
	t->joiners = NULL;
	luaL_unref(S.L, LUA_REGISTRYINDEX, t->ref);
	t->ref = LUA_NOREF;
}

/* The one place a task is resumed. */
static void run_task(task *t)
{
	int nres, status;

	if (t->canceled && !t->started) { /* cancelled before it ever ran */
		lua_settop(t->co, 0);
		push_canceled(t->co);
		task_done(t, LUA_ERRRUN);
		return;
	}
	t->started = 1;
	S.current = t;
	t->state = T_RUNNING;
	status = lua_resume(t->co, S.L, t->nargs, &nres);
	S.current = NULL;
	t->nargs = 0;
	if (status == LUA_YIELD) {
		if (t->state == T_RUNNING) { /* a bare coroutine.yield(): run again later */
			lua_pop(t->co, nres);
			make_ready(t);
		}
		return;
	}
	task_done(t, status);
}

static void on_idle(uv_idle_t *h)
{
	task *last = S.ready_tail;

	/* Run what is ready now; what becomes ready meanwhile waits a turn. */
	while (S.ready_head) {
		task *t = S.ready_head;

		S.ready_head = t->next_ready;
		if (!S.ready_head)
			S.ready_tail = NULL;
		t->next_ready = NULL;
		run_task(t);
		if (t == last)
			break;
	}
	if (!S.ready_head)
		uv_idle_stop(h);
}

/* ---- waiting ---------------------------------------------------------------- */

static int wait_k(lua_State *L, int status, lua_KContext ctx)
{
	task *t = (task *)ctx;
	const wait_ops *ops = t->ops;
	void *data = t->wait_data;
	int n;

	(void)status;
	t->ops = NULL;
	t->wait_data = NULL;
	lua_settop(L, 0); /* drop the anchor */
	n = ops->finish(L, data, t->canceled);
	if (t->canceled) {
		push_canceled(L);
		return lua_error(L);
	}
	return n;
}

/* The running task, or a Lua error naming `what` when waiting is impossible. */
static task *waiting_task(lua_State *L, const char *what)
{
	task *t = S.current;

	if (!t || t->co != L)
		luaL_error(L, "%s cannot wait here: call it from the workflow or a branch of it, "
			   "not from inside coroutine.wrap/resume", what);
	if (t->canceled) {
		push_canceled(L);
		lua_error(L);
	}
	return t;
}

/*
 * Suspend the running task until its wait completes; see wait_ops. The value
 * at stack index `anchor` (0: none) stays on the coroutine's stack while it
 * waits, so whatever the wait points into cannot be collected.
 */
static int task_wait(lua_State *L, task *t, const wait_ops *ops, void *data, int anchor)
{
	t->state = T_WAITING;
	t->ops = ops;
	t->wait_data = data;
	if (anchor) {
		lua_pushvalue(L, anchor);
		lua_replace(L, 1);
		lua_settop(L, 1);
	} else {
		lua_settop(L, 0);
	}
	return lua_yieldk(L, 0, (lua_KContext)t, wait_k);
}

/* Remove t from a wait list. */
static void unlink_waiter(task **list, task *t)
{
	for (task **p = list; *p; p = &(*p)->next_waiter) {
		if (*p == t) {
			*p = t->next_waiter;
			t->next_waiter = NULL;
			return;
		}
	}
}

/* ---- tasks -------------------------------------------------------------------- */

static task *check_task(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, TASK_MT);
}

/* Push a new task running the function at `fn` with the `nargs` values above it. */
static task *new_task(lua_State *L, int fn, int nargs)
{
	task *t = lua_newuserdatauv(L, sizeof *t, 1);
	lua_State *co;

	memset(t, 0, sizeof *t);
	luaL_setmetatable(L, TASK_MT);
	co = lua_newthread(L);
	lua_setiuservalue(L, -2, 1); /* the coroutine lives as long as the task */
	t->co = co;
	t->ref = LUA_NOREF;
	lua_pushvalue(L, fn);
	for (int i = 1; i <= nargs; i++)
		lua_pushvalue(L, fn + i);
	lua_xmove(L, co, nargs + 1);
	t->nargs = nargs;
	lua_pushvalue(L, -1);
	t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	t->next = S.live;
	if (S.live)
		S.live->prev = t;
	S.live = t;
	make_ready(t);
	return t;
}

/* task = core.spawn(fn, ...) : runs fn(...) as a new branch from the next loop turn */
static int l_spawn(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	new_task(L, 1, lua_gettop(L) - 1);
	return 1;
}

/* Push `true, results...` or `false, err` of a finished task. */
static int push_outcome(lua_State *L, task *t)
{
	int n = lua_gettop(t->co);

	lua_pushboolean(L, t->status == LUA_OK);
	luaL_checkstack(L, n, "too many results");
	for (int i = 1; i <= n; i++) {
		lua_pushvalue(t->co, i);
		lua_xmove(t->co, L, 1);
	}
	return n + 1;
}

static int join_finish(lua_State *L, void *data, int canceled)
{
	return canceled ? 0 : push_outcome(L, data);
}

static void join_cancel(task *t, void *data)
{
	unlink_waiter(&((task *)data)->joiners, t);
	make_ready(t);
}

static const wait_ops join_ops = {join_finish, join_cancel};

/* ok, ... = core.join(task) : waits for the task; ok is false with its error */
static int l_join(lua_State *L)
{
	task *t = check_task(L, 1), *self;

	if (t->state == T_DONE)
		return push_outcome(L, t);
	self = waiting_task(L, "joining a branch");
	if (self == t)
		return luaL_error(L, "a branch cannot join itself");
	self->next_waiter = t->joiners;
	t->joiners = self;
	return task_wait(L, self, &join_ops, t, 1);
}

static void cancel_task(task *t)
{
	if (t->state == T_DONE || t->canceled)
		return;
	t->canceled = 1;
	if (t->state == T_WAITING)
		t->ops->cancel(t, t->wait_data);
}

/* core.cancel(task) : the task raises core.canceled at its next wait */
static int l_cancel(lua_State *L)
{
	cancel_task(check_task(L, 1));
	return 0;
}

/* done, ok = task:status() */
static int l_task_done(lua_State *L)
{
	task *t = check_task(L, 1);

	lua_pushboolean(L, t->state == T_DONE);
	if (t->state != T_DONE)
		return 1;
	lua_pushboolean(L, t->status == LUA_OK);
	return 2;
}

/* task = core.current() ; nil outside a task */
static int l_current(lua_State *L)
{
	if (!S.current || S.current->co != L)
		return 0;
	lua_rawgeti(L, LUA_REGISTRYINDEX, S.current->ref);
	return 1;
}

/* ---- sleep -------------------------------------------------------------------- */

typedef struct sleep_op {
	uv_timer_t timer;
	task *t;                 /* NULL once cancelled */
} sleep_op;

static void sleep_closed(uv_handle_t *h)
{
	free(h->data);
}

static void sleep_fired(uv_timer_t *timer)
{
	sleep_op *op = timer->data;

	make_ready(op->t);
	op->t = NULL;
	uv_close((uv_handle_t *)timer, sleep_closed);
}

static int sleep_finish(lua_State *L, void *data, int canceled)
{
	(void)L;
	(void)data;
	(void)canceled;
	return 0;
}

static void sleep_cancel(task *t, void *data)
{
	sleep_op *op = data;

	if (op) {
		uv_timer_stop(&op->timer);
		uv_close((uv_handle_t *)&op->timer, sleep_closed);
	}
	make_ready(t);
}

static const wait_ops sleep_ops = {sleep_finish, sleep_cancel};

/* core.sleep(seconds) : 0 yields to the other branches for one loop turn */
static int l_sleep(lua_State *L)
{
	lua_Number s = luaL_checknumber(L, 1);
	task *t = waiting_task(L, "af.sleep");
	sleep_op *op = NULL;

	luaL_argcheck(L, s >= 0, 1, "negative duration");
	if (s > 0) {
		op = malloc(sizeof *op);
		if (!op)
			return luaL_error(L, "out of memory");
		op->t = t;
		uv_timer_init(S.loop, &op->timer);
		op->timer.data = op;
		/*
		 * The loop's clock is cached at the start of its turn, which
		 * may be long ago under load: refresh it, and round up, so
		 * that a sleep never ends early.
		 */
		uv_update_time(S.loop);
		uv_timer_start(&op->timer, sleep_fired, (uint64_t)ceil(s * 1000), 0);
	} else {
		make_ready(t);
	}
	return task_wait(L, t, &sleep_ops, op, 0);
}

/* ---- events ------------------------------------------------------------------- */

static int event_finish(lua_State *L, void *data, int canceled)
{
	(void)L;
	(void)data;
	(void)canceled;
	return 0;
}

static void event_cancel(task *t, void *data)
{
	unlink_waiter(&((event *)data)->waiters, t);
	make_ready(t);
}

static const wait_ops event_ops = {event_finish, event_cancel};

/* ev = core.event() : a one-shot flag branches can wait for */
static int l_event(lua_State *L)
{
	event *e = lua_newuserdatauv(L, sizeof *e, 0);

	e->set = 0;
	e->waiters = NULL;
	luaL_setmetatable(L, EVENT_MT);
	return 1;
}

/* ev:wait() : returns at once when set */
static int l_event_wait(lua_State *L)
{
	event *e = luaL_checkudata(L, 1, EVENT_MT);
	task *t;

	if (e->set)
		return 0;
	t = waiting_task(L, "event:wait");
	t->next_waiter = e->waiters;
	e->waiters = t;
	return task_wait(L, t, &event_ops, e, 1);
}

/* ev:set() : wakes every waiter */
static int l_event_set(lua_State *L)
{
	event *e = luaL_checkudata(L, 1, EVENT_MT);
	task *w, *next;

	e->set = 1;
	for (w = e->waiters; w; w = next) {
		next = w->next_waiter;
		w->next_waiter = NULL;
		make_ready(w);
	}
	e->waiters = NULL;
	return 0;
}

static int l_event_is_set(lua_State *L)
{
	lua_pushboolean(L, ((event *)luaL_checkudata(L, 1, EVENT_MT))->set);
	return 1;
}

/* ---- processes ---------------------------------------------------------------- */

typedef struct exec_op {
	task *t;
	af_proc *proc;
	int done;
	af_proc_result res;      /* with out/err copied */
	char *out, *err;
} exec_op;

static void exec_done(const af_proc_result *res, void *data)
{
	exec_op *op = data;

	op->res = *res;
	op->out = malloc(res->out_len + 1);
	op->err = malloc(res->err_len + 1);
	if (op->out)
		memcpy(op->out, res->out, res->out_len + 1);
	if (op->err)
		memcpy(op->err, res->err, res->err_len + 1);
	op->done = 1;
	op->proc = NULL;
	make_ready(op->t);
}

static void set_field_bool(lua_State *L, const char *k, int v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

static void push_exec_result(lua_State *L, exec_op *op)
{
	const af_proc_result *r = &op->res;

	lua_createtable(L, 0, 10);
	if (r->signal) {
		lua_pushinteger(L, r->signal);
		lua_setfield(L, -2, "signal");
	} else {
		lua_pushinteger(L, r->exit_code);
		lua_setfield(L, -2, "code");
	}
	lua_pushlstring(L, op->out ? op->out : "", op->out ? r->out_len : 0);
	lua_setfield(L, -2, "stdout");
	lua_pushlstring(L, op->err ? op->err : "", op->err ? r->err_len : 0);
	lua_setfield(L, -2, "stderr");
	lua_pushnumber(L, r->duration);
	lua_setfield(L, -2, "duration");
	lua_pushinteger(L, r->pid);
	lua_setfield(L, -2, "pid");
	set_field_bool(L, "timed_out", r->timed_out);
	set_field_bool(L, "stdout_truncated", r->out_truncated || !op->out);
	set_field_bool(L, "stderr_truncated", r->err_truncated || !op->err);
}

static int exec_finish(lua_State *L, void *data, int canceled)
{
	exec_op *op = data;

	if (!canceled)
		push_exec_result(L, op);
	free(op->out);
	free(op->err);
	free(op);
	return canceled ? 0 : 1;
}

static void exec_cancel(task *t, void *data)
{
	exec_op *op = data;

	(void)t;
	/* The task stays waiting until the process group is gone. */
	if (!op->done)
		af_proc_cancel(op->proc);
}

static const wait_ops exec_ops = {exec_finish, exec_cancel};

/* Raise unless the table at idx is a list of strings. */
static void check_strings(lua_State *L, int idx, const char *what)
{
	lua_Integer n = luaL_len(L, idx);

	for (lua_Integer i = 1; i <= n; i++) {
		if (lua_geti(L, idx, i) != LUA_TSTRING)
			luaL_error(L, "%s[%d] must be a string, not %s", what, (int)i,
				   luaL_typename(L, -1));
		lua_pop(L, 1);
	}
}

/* A NULL-terminated copy of the (checked) strings at idx, or NULL. */
static char **copy_strings(lua_State *L, int idx)
{
	lua_Integer n = luaL_len(L, idx);
	char **v = calloc((size_t)n + 1, sizeof *v);

	for (lua_Integer i = 1; v && i <= n; i++) {
		lua_geti(L, idx, i);
		v[i - 1] = strdup(lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	return v;
}

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static uint64_t opt_ms(lua_State *L, int idx, const char *k)
{
	lua_Number s;

	lua_getfield(L, idx, k);
	s = luaL_optnumber(L, -1, 0);
	lua_pop(L, 1);
	return s > 0 ? (uint64_t)(s * 1000 + 0.5) : 0;
}

/* Push {error = message} for a process that could not start (no wait). */
static int spawn_failed(lua_State *L, int rc)
{
	lua_createtable(L, 0, 2);
	lua_pushstring(L, af_error_last());
	lua_setfield(L, -2, "error");
	lua_pushstring(L, rc == AF_ENOTFOUND ? "not_found" : "spawn");
	lua_setfield(L, -2, "reason");
	return 1;
}

/*
 * Call opts.on_spawn(pid), when given, once the process runs: the journal
 * records its group before anything else can happen. The callback must not
 * yield; its errors are its own to keep (see _exec.lua), so one that
 * escapes is dropped rather than unwinding past the process now running.
 */
static void call_on_spawn(lua_State *L, int opts, const af_proc *proc)
{
	if (lua_getfield(L, opts, "on_spawn") == LUA_TFUNCTION) {
		lua_pushinteger(L, (lua_Integer)af_proc_pid(proc));
		if (lua_pcall(L, 1, 0, 0) != LUA_OK)
			lua_pop(L, 1);
	} else {
		lua_pop(L, 1);
	}
}

/*
 * result = core.exec(argv, {stdin=, env={"K=V",...}, cwd=, timeout=s,
 *                           grace=s, max_output=bytes, on_spawn=fn})
 * env is the child's whole environment (the Lua side applies the allow-list).
 */
static int l_exec(lua_State *L)
{
	af_proc_opts o = AF_PROC_OPTS_INIT;
	char **argv, **envp = NULL;
	size_t input_len = 0;
	exec_op *op;
	task *t;
	int rc;

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, 2, LUA_TTABLE);
	t = waiting_task(L, "af.exec");
	if (S.stopping) {
		push_canceled(L);
		return lua_error(L);
	}
	lua_getfield(L, 2, "stdin");
	o.input = luaL_optlstring(L, -1, NULL, &input_len);
	o.input_len = input_len;
	lua_getfield(L, 2, "cwd");
	o.cwd = luaL_optstring(L, -1, NULL);
	o.timeout_ms = opt_ms(L, 2, "timeout");
	if (opt_ms(L, 2, "grace"))
		o.grace_ms = opt_ms(L, 2, "grace");
	lua_getfield(L, 2, "max_output");
	o.output_cap = (size_t)luaL_optinteger(L, -1, (lua_Integer)o.output_cap);
	check_strings(L, 1, "argv");
	lua_getfield(L, 2, "env");
	if (!lua_isnil(L, -1)) {
		luaL_checktype(L, -1, LUA_TTABLE);
		check_strings(L, lua_gettop(L), "env");
		envp = copy_strings(L, lua_gettop(L));
	}
	argv = copy_strings(L, 1);
	op = calloc(1, sizeof *op);
	if (!op || !argv || (!envp && !lua_isnil(L, -1))) {
		free(op);
		free_strv(argv);
		free_strv(envp);
		return luaL_error(L, "out of memory");
	}
	o.argv = argv;
	o.envp = envp ? envp : environ;
	op->t = t;
	rc = af_proc_spawn(&op->proc, S.loop, &o, exec_done, op);
	free_strv(argv);
	free_strv(envp);
	if (rc != AF_OK) {
		free(op);
		return spawn_failed(L, rc);
	}
	call_on_spawn(L, 2, op->proc);
	lua_getfield(L, 2, "stdin"); /* libuv writes from this string: anchor it */
	return task_wait(L, t, &exec_ops, op, lua_gettop(L));
}

/* ---- clocks and the environment ------------------------------------------ */

double af_sched_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double af_sched_monotonic(void)
{
	return (double)uv_hrtime() / 1e9;
}

/* seconds = core.now() : wall-clock time, with sub-second precision */
static int l_now(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)af_sched_now());
	return 1;
}

/* seconds = core.monotonic() : for durations */
static int l_monotonic(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)af_sched_monotonic());
	return 1;
}

/* {NAME = value, ...} = core.environ() */
static int l_environ(lua_State *L)
{
	lua_newtable(L);
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');

		if (!eq)
			continue;
		lua_pushlstring(L, *e, (size_t)(eq - *e));
		lua_pushstring(L, eq + 1);
		lua_rawset(L, -3);
	}
	return 1;
}

/* bool = core.isatty(fd) */
static int l_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
	return 1;
}

/* ---- signals ---------------------------------------------------------------- */

static void stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	push_canceled(L);
	lua_error(L);
}

/*
 * First SIGINT/SIGTERM: stop the Lua code that is running (if any) at its
 * next instruction and wake the loop to cancel everything. Second: kill
 * every process group and leave.
 */
static void on_signal(int sig)
{
	(void)sig;
	if (S.signals++ > 0) {
		af_proc_kill_all();
		_exit(AF_EXIT_INTERRUPTED);
	}
	if (S.current)
		lua_sethook(S.current->co, stop_hook,
			    LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
	uv_async_send(&S.wake);
}

static void cancel_all(void)
{
	for (task *t = S.live; t; t = t->next)
		cancel_task(t);
}

static void on_wake(uv_async_t *h)
{
	(void)h;
	if (S.signals) {
		S.stopping = 1;
		cancel_all();
	}
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	S.signals = 0;
	S.stopping = 0;
	sigaction(SIGINT, &sa, &S.old_int);
	sigaction(SIGTERM, &sa, &S.old_term);
}

static void restore_signals(void)
{
	sigaction(SIGINT, &S.old_int, NULL);
	sigaction(SIGTERM, &S.old_term, NULL);
}

/* ---- running ------------------------------------------------------------------ */

/*
 * The loop is about to poll: when nothing is ready it will wait, so what the
 * log holds goes out now rather than after the wait.
 */
static void on_before_poll(uv_prepare_t *h)
{
	(void)h;
	if (!S.ready_head)
		af_log_flush_all();
}

static void init_loop(void)
{
	if (S.loop)
		return;
	S.loop = uv_default_loop();
	uv_idle_init(S.loop, &S.idle);
	uv_async_init(S.loop, &S.wake, on_wake);
	uv_unref((uv_handle_t *)&S.wake); /* it alone must not keep the loop alive */
	uv_prepare_init(S.loop, &S.before_poll);
	uv_prepare_start(&S.before_poll, on_before_poll);
	uv_unref((uv_handle_t *)&S.before_poll);
	signal(SIGPIPE, SIG_IGN);         /* a child that closes stdin early is not fatal */
}

/* Everything is waiting and nothing can wake it: fail the waits. */
static void break_deadlock(void)
{
	fputs("agentflow: every branch is waiting and nothing can wake them: cancelling\n", stderr);
	cancel_all();
}

int af_sched_run(lua_State *L, int nargs, int nresults)
{
	int fn = lua_gettop(L) - nargs, n, status;
	task *root;

	S.L = L;
	init_loop();
	root = new_task(L, fn, nargs);
	lua_insert(L, fn);         /* the task below the function and arguments */
	lua_settop(L, fn);
	install_signals();
	uv_idle_start(&S.idle, on_idle);
	while (root->state != T_DONE) {
		if (uv_run(S.loop, UV_RUN_ONCE) == 0 && !S.ready_head && root->state != T_DONE)
			break_deadlock();
	}
	/* Branches left running are cancelled; their processes are waited for. */
	cancel_all();
	while (S.live || af_proc_live() > 0)
		uv_run(S.loop, UV_RUN_ONCE);
	restore_signals();
	status = root->status;
	n = lua_gettop(root->co);
	if (status == LUA_OK && nresults != LUA_MULTRET) {
		lua_settop(root->co, nresults);
		n = nresults;
	}
	lua_xmove(root->co, L, n);
	lua_remove(L, fn);
	return status;
}

uv_loop_t *af_sched_loop(void)
{
	init_loop();
	return S.loop;
}

int af_sched_interrupted(void)
{
	return S.signals > 0;
}

/* ---- registration ------------------------------------------------------------ */

static int canceled_tostring(lua_State *L)
{
	lua_pushliteral(L, "canceled");
	return 1;
}

static void open_metatables(lua_State *L)
{
	static const luaL_Reg task_methods[] = {{"status", l_task_done}, {NULL, NULL}};
	static const luaL_Reg event_methods[] = {
		{"wait", l_event_wait}, {"set", l_event_set}, {"is_set", l_event_is_set}, {NULL, NULL}};

	luaL_newmetatable(L, TASK_MT);
	luaL_newlib(L, task_methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_newmetatable(L, EVENT_MT);
	luaL_newlib(L, event_methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	/* the error value of a cancelled wait: one table, compared by identity */
	lua_newtable(L);
	lua_newtable(L);
	lua_pushcfunction(L, canceled_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_setmetatable(L, -2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &CANCELED_KEY);
}

void af_sched_open(lua_State *L)
{
	static const luaL_Reg functions[] = {
		{"spawn", l_spawn}, {"join", l_join}, {"cancel", l_cancel},
		{"current", l_current}, {"sleep", l_sleep}, {"exec", l_exec},
		{"event", l_event}, {"now", l_now}, {"monotonic", l_monotonic},
		{"environ", l_environ}, {"isatty", l_isatty}, {NULL, NULL}};

	open_metatables(L);
	luaL_setfuncs(L, functions, 0);
	push_canceled(L);
	lua_setfield(L, -2, "canceled");
}
