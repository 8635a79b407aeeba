/* test_proc.c - child processes on a libuv loop (core/proc.c). */
#include "af.h"
#include "proc.h"
#include "test.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct outcome {
	int done;
	af_proc_result res;
	char out[256];
	size_t out_len;
	char err[256];
} outcome;

static void on_done(const af_proc_result *res, void *data)
{
	outcome *o = data;

	o->done = 1;
	o->res = *res;
	o->out_len = res->out_len;
	snprintf(o->out, sizeof o->out, "%s", res->out);
	snprintf(o->err, sizeof o->err, "%s", res->err);
	o->res.out = o->out;
	o->res.err = o->err;
}

/* Run argv to the end on a fresh loop; returns af_proc_spawn's code. */
static int run(char *const *argv, af_proc_opts *opts, outcome *o)
{
	uv_loop_t loop;
	int rc;

	memset(o, 0, sizeof *o);
	uv_loop_init(&loop);
	opts->argv = argv;
	opts->envp = environ;
	rc = af_proc_spawn(NULL, &loop, opts, on_done, o);
	if (rc == AF_OK)
		uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return rc;
}

static void test_captures_output_and_exit_code(void)
{
	char *argv[] = {"sh", "-c", "printf out; printf err >&2; exit 3", NULL};
	af_proc_opts opts = AF_PROC_OPTS_INIT;
	outcome o;

	T_EQ_INT(AF_OK, run(argv, &opts, &o));
	T_EQ_INT(1, o.done);
	T_EQ_INT(3, o.res.exit_code);
	T_EQ_INT(0, o.res.signal);
	T_EQ_STR("out", o.out);
	T_EQ_STR("err", o.err);
	T_EQ_INT(af_proc_live(), 0);
}

static void test_feeds_stdin(void)
{
	char *argv[] = {"cat", NULL};
	af_proc_opts opts = AF_PROC_OPTS_INIT;
	outcome o;

	opts.input = "a\0b";
	opts.input_len = 3;
	run(argv, &opts, &o);
	T_EQ_INT(3, o.out_len);
	T_CHECK(memcmp(o.out, "a", 2) == 0);
}

static void test_missing_program_fails_without_callback(void)
{
	char *argv[] = {"no-such-program-at-all", NULL};
	af_proc_opts opts = AF_PROC_OPTS_INIT;
	outcome o;

	T_EQ_INT(AF_ENOTFOUND, run(argv, &opts, &o));
	T_EQ_INT(0, o.done);
	T_EQ_INT(0, af_proc_live());
}

static void test_bad_cwd_is_einval(void)
{
	char *argv[] = {"true", NULL};
	af_proc_opts opts = AF_PROC_OPTS_INIT;
	outcome o;

	opts.cwd = "/no/such/dir";
	T_EQ_INT(AF_EINVAL, run(argv, &opts, &o));
}

static void test_output_cap_truncates(void)
{
	char *argv[] = {"head", "-c", "5000", "/dev/zero", NULL};
	af_proc_opts opts = AF_PROC_OPTS_INIT;
	outcome o;

	opts.output_cap = 100;
	run(argv, &opts, &o);
	T_EQ_INT(100, o.out_len);
	T_EQ_INT(1, o.res.out_truncated);
	T_EQ_INT(0, o.res.exit_code);
}

/* A grandchild that ignores SIGTERM holds stdout open: only SIGKILL to the
 * group ends it, and the result waits for that. */
static void test_timeout_kills_the_group(void)
{
	char *argv[] = {"sh", "-c", "sh -c 'trap \"\" TERM; sleep 30' & sleep 30", NULL};
	af_proc_opts opts = AF_PROC_OPTS_INIT;
	outcome o;

	opts.timeout_ms = 100;
	opts.grace_ms = 100;
	run(argv, &opts, &o);
	T_EQ_INT(1, o.done);
	T_EQ_INT(1, o.res.timed_out);
	T_EQ_INT(SIGTERM, o.res.signal);
	/* killed members stay zombies until init reaps them: give it 2 s */
	for (int i = 0; i < 200 && kill(-(pid_t)o.res.pid, 0) == 0; i++)
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	T_EQ_INT(-1, kill(-(pid_t)o.res.pid, 0));
}

/* What the main process leaves in its group ends with it. */
static void test_leftovers_end_with_the_main_process(void)
{
	char *argv[] = {"sh", "-c", "sleep 30 >/dev/null 2>&1 & echo started", NULL};
	af_proc_opts opts = AF_PROC_OPTS_INIT;
	outcome o;

	opts.grace_ms = 100;
	run(argv, &opts, &o);
	T_EQ_STR("started\n", o.out);
	T_EQ_INT(0, o.res.exit_code);
	T_EQ_INT(-1, kill(-(pid_t)o.res.pid, 0));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(test_captures_output_and_exit_code);
	T_RUN(test_feeds_stdin);
	T_RUN(test_missing_program_fails_without_callback);
	T_RUN(test_bad_cwd_is_einval);
	T_RUN(test_output_cap_truncates);
	T_RUN(test_timeout_kills_the_group);
	T_RUN(test_leftovers_end_with_the_main_process);
	return t_done();
}
