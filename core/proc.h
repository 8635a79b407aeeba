/*
 * proc.h - child processes on the event loop, never through a shell.
 *
 * Each child is started with posix_spawn in a process group of its own, with
 * stdin fed from memory, stdout and stderr captured up to a cap, and no file
 * descriptor of agentflow's other than those three. A timeout or a cancel
 * sends SIGTERM to the whole group, then SIGKILL after a grace period. When
 * the main process exits, whatever it left running in its group is ended the
 * same way, and the result waits until nothing of the group runs: a step's
 * processes never outlive the step. The first spawn makes agentflow a child
 * subreaper (prctl), so that orphans of a group are reparented to it and
 * reaped here rather than lingering as zombies of init.
 *
 * Why not uv_spawn: in libuv 1.44 it forks (a cost that grows with the
 * parent's memory) and can only make a child a session leader; posix_spawn
 * uses vfork semantics and sets the process group directly. The exit is
 * watched through a pidfd on the same loop.
 */
#ifndef AF_PROC_H
#define AF_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct af_proc af_proc;

typedef struct af_proc_opts {
	char *const *argv;    /* argv[0] is looked up on the PATH of envp */
	char *const *envp;    /* the child's whole environment, "NAME=value" */
	const char *cwd;      /* NULL: agentflow's */
	const char *input;    /* stdin contents (may be NULL) */
	size_t input_len;
	size_t output_cap;    /* bytes kept per stream; the rest is read and dropped */
	uint64_t timeout_ms;  /* 0: none */
	uint64_t grace_ms;    /* between SIGTERM and SIGKILL */
} af_proc_opts;

#define AF_PROC_OPTS_INIT {.output_cap = (size_t)16 << 20, .grace_ms = 2000}

typedef struct af_proc_result {
	int exit_code;       /* meaningful when signal == 0 */
	int signal;          /* the signal that ended the main process, or 0 */
	int timed_out;       /* ended by the timeout */
	int canceled;        /* ended by af_proc_cancel */
	const char *out;     /* captured stdout, NUL-terminated */
	size_t out_len;
	int out_truncated;
	const char *err;     /* captured stderr, NUL-terminated */
	size_t err_len;
	int err_truncated;
	double duration;     /* seconds from spawn to the main process's exit */
	long pid;
} af_proc_result;

/*
 * Called once when the process has exited and its output is read. `res` and
 * its strings are borrowed for the duration of the call; the af_proc is
 * freed after it returns.
 */
typedef void (*af_proc_cb)(const af_proc_result *res, void *data);

/*
 * Start a process. On success *out (may be NULL) is a handle valid until
 * `cb` returns. Fails without calling `cb`: AF_ENOTFOUND when the program is
 * not on PATH, AF_EINVAL for a bad cwd or empty argv, AF_EIO otherwise.
 */
int af_proc_spawn(af_proc **out, uv_loop_t *loop, const af_proc_opts *opts,
		  af_proc_cb cb, void *data);

/* The process id, which is also its process group's id. */
long af_proc_pid(const af_proc *p);

/* End the process group: SIGTERM now, SIGKILL after the grace period. */
void af_proc_cancel(af_proc *p);

/*
 * SIGKILL every live process group started here. Async-signal-safe: for the
 * second Ctrl-C and for fatal paths.
 */
void af_proc_kill_all(void);

/*
 * The file `prog` names as exec would find it on the PATH of `envp` (a
 * path with '/' as is), or NULL when there is no such executable. Caller
 * frees.
 */
char *af_proc_which(const char *prog, char *const *envp);

/* How many processes started here have not finished yet. */
int af_proc_live(void);

/*
 * When process `pid` started (clock ticks since boot, field 22 of
 * /proc/PID/stat: with the id it names one process, as ids are reused),
 * and in *zombie whether it is a zombie; 0 when there is no such process.
 */
unsigned long long af_proc_started(long long pid, int *zombie);

#endif
