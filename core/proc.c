/* proc.c - child processes on the event loop (see proc.h). */
#include "proc.h"
#include "af.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Process groups still running, in a fixed table so that a signal handler
 * can walk it: a slot holds a process group id or 0, and every store is a
 * single sig_atomic_t write.
 */
#define MAX_LIVE 4096
static volatile sig_atomic_t live_groups[MAX_LIVE];
static int live_count;

enum { OUT, ERR };

typedef struct stream {
	uv_pipe_t pipe;
	char *buf;
	size_t len, cap;
	int truncated;
	int eof;
} stream;

struct af_proc {
	uv_loop_t *loop;
	pid_t pid;              /* also the process group id */
	int slot;               /* in live_groups */
	uv_poll_t exit_watch;   /* on the pidfd */
	int pidfd;
	uv_pipe_t in;
	uv_write_t write_req;
	stream streams[2];
	uv_timer_t timer;       /* the timeout, then the sweep of the group */
	size_t output_cap;
	uint64_t grace_ms;
	uint64_t start_ns;
	int exited;             /* the main process has been reaped */
	int group_signaled;     /* SIGTERM has gone to the group */
	int group_killed;       /* and SIGKILL, when the grace period ended */
	int group_gone;         /* nothing of the group runs any more */
	uint64_t kill_at_ns;    /* when the grace period ends */
	int open_handles;       /* closed ones count down; free at zero */
	af_proc_result result;
	af_proc_cb cb;
	void *data;
};

/* ---- the live table ------------------------------------------------------ */

static int live_add(pid_t pgid)
{
	for (int i = 0; i < MAX_LIVE; i++) {
		if (live_groups[i] == 0) {
			live_groups[i] = pgid;
			live_count++;
			return i;
		}
	}
	return -1;
}

static void live_remove(int slot)
{
	live_groups[slot] = 0;
	live_count--;
}

void af_proc_kill_all(void)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (live_groups[i] > 0)
			kill(-(pid_t)live_groups[i], SIGKILL);
}

int af_proc_live(void)
{
	return live_count;
}

/* ---- spawning -------------------------------------------------------------- */

static const char *env_lookup(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/*
 * The file to execute for `prog`: itself when it holds a '/', else the first
 * executable PATH entry (the child's PATH, not agentflow's). Caller frees.
 */
char *af_proc_which(const char *prog, char *const *envp)
{
	const char *path = env_lookup(envp, "PATH");

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? strdup(prog) : NULL;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t dirlen = end ? (size_t)(end - path) : strlen(path);
		size_t n = dirlen + 1 + strlen(prog) + 1;
		char *file = malloc(n);
		struct stat st;

		if (!file)
			return NULL;
		if (dirlen == 0)
			snprintf(file, n, "./%s", prog);
		else
			snprintf(file, n, "%.*s/%s", (int)dirlen, path, prog);
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0)
			return file;
		free(file);
		path = end ? end + 1 : path + dirlen;
	}
	return NULL;
}

/*
 * The child gets the three pipe ends as 0, 1, 2, nothing else of ours, the
 * default signal dispositions and mask, its own process group and `cwd`.
 */
static int spawn_child(pid_t *pid, const char *file, const af_proc_opts *o, int fds[3])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	for (int i = 0; i < 3; i++)
		posix_spawn_file_actions_adddup2(&fa, fds[i], i);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (o->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawn(pid, file, &fa, &attr, o->argv, o->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return rc;
}

/* ---- completion ------------------------------------------------------------ */

static void on_close(uv_handle_t *h)
{
	af_proc *p = h->data;

	if (--p->open_handles == 0) {
		free(p->streams[OUT].buf);
		free(p->streams[ERR].buf);
		free(p);
	}
}

/* stdin closes when its input is written, or at the end, whichever is first. */
static void close_input(af_proc *p)
{
	if (!uv_is_closing((uv_handle_t *)&p->in))
		uv_close((uv_handle_t *)&p->in, on_close);
}

static void signal_group(af_proc *p, int sig)
{
	kill(-p->pid, sig);
}

/*
 * Done when the main process is reaped, both streams reached EOF and, once
 * the group was signalled, nothing of it runs any more.
 */
static void maybe_finish(af_proc *p)
{
	stream *o = &p->streams[OUT], *e = &p->streams[ERR];

	if (!p->exited || !o->eof || !e->eof || (p->group_signaled && !p->group_gone))
		return;
	live_remove(p->slot);
	uv_timer_stop(&p->timer);
	p->result.out = o->buf ? o->buf : "";
	p->result.out_len = o->len;
	p->result.out_truncated = o->truncated;
	p->result.err = e->buf ? e->buf : "";
	p->result.err_len = e->len;
	p->result.err_truncated = e->truncated;
	p->cb(&p->result, p->data);
	uv_close((uv_handle_t *)&p->timer, on_close);
	uv_close((uv_handle_t *)&o->pipe, on_close);
	uv_close((uv_handle_t *)&e->pipe, on_close);
	close_input(p);
}

/*
 * Reap what the main process left in its group: as a child subreaper,
 * agentflow inherits those orphans. Only after the main process was reaped,
 * which it would otherwise steal from on_main_exit.
 */
static void reap_group(af_proc *p)
{
	siginfo_t info;

	for (;;) {
		info.si_pid = 0;
		if (waitid(P_PGID, (id_t)p->pid, &info, WEXITED | WNOHANG) != 0 || info.si_pid == 0)
			return;
	}
}

/*
 * Every 10 ms while a signalled group ends: SIGKILL when the grace period
 * is over; the group is gone when no process of it is left, or a tick after
 * SIGKILL (what is left then is a zombie some other parent has to reap).
 */
static void on_sweep(uv_timer_t *t)
{
	af_proc *p = t->data;

	if (p->exited) {
		reap_group(p);
		if (p->group_killed || (kill(-p->pid, 0) == -1 && errno == ESRCH)) {
			p->group_gone = 1;
			maybe_finish(p);
			return;
		}
	}
	if (!p->group_killed && uv_hrtime() >= p->kill_at_ns) {
		signal_group(p, SIGKILL);
		p->group_killed = 1;
	}
}

/* SIGTERM to the group now, SIGKILL when the grace period is over. */
static void terminate_group(af_proc *p)
{
	if (p->group_signaled)
		return;
	p->group_signaled = 1;
	signal_group(p, SIGTERM);
	p->kill_at_ns = uv_hrtime() + p->grace_ms * 1000000;
	uv_timer_stop(&p->timer);
	uv_timer_start(&p->timer, on_sweep, 10, 10);
}

static void on_timeout(uv_timer_t *t)
{
	af_proc *p = t->data;

	p->result.timed_out = 1;
	terminate_group(p);
}

void af_proc_cancel(af_proc *p)
{
	if (!p->exited)
		p->result.canceled = 1;
	terminate_group(p);
}

static void on_main_exit(uv_poll_t *w, int status, int events)
{
	af_proc *p = w->data;
	int st;

	(void)status;
	(void)events;
	if (waitpid(p->pid, &st, WNOHANG) != p->pid)
		return;
	p->exited = 1;
	p->result.duration = (double)(uv_hrtime() - p->start_ns) / 1e9;
	if (WIFSIGNALED(st))
		p->result.signal = WTERMSIG(st);
	else
		p->result.exit_code = WEXITSTATUS(st);
	uv_close((uv_handle_t *)w, on_close);
	close(p->pidfd);
	/* Whatever the main process left behind in its group ends with it. */
	reap_group(p);
	if (!p->streams[OUT].eof || !p->streams[ERR].eof || kill(-p->pid, 0) == 0)
		terminate_group(p);
	maybe_finish(p);
}

/* ---- pipes ------------------------------------------------------------------- */

/* Reads go through one scratch buffer: libuv hands it back before the next alloc. */
static char scratch[64 * 1024];

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	*buf = uv_buf_init(scratch, sizeof scratch);
}

static void keep(stream *s, size_t cap, const char *data, size_t n)
{
	if (s->len + n > cap) {
		n = cap - s->len;
		s->truncated = 1;
	}
	if (n == 0)
		return;
	if (s->len + n + 1 > s->cap) {
		size_t want = s->cap ? s->cap * 2 : 4096;
		char *grown;

		while (want < s->len + n + 1)
			want *= 2;
		grown = realloc(s->buf, want);
		if (!grown) {
			s->truncated = 1;
			return;
		}
		s->buf = grown;
		s->cap = want;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

static void on_read(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
	af_proc *p = h->data;
	stream *s = (uv_pipe_t *)h == &p->streams[OUT].pipe ? &p->streams[OUT] : &p->streams[ERR];

	if (n > 0) {
		keep(s, p->output_cap, buf->base, (size_t)n);
		return;
	}
	if (n < 0) { /* EOF, or an error that ends the stream all the same */
		uv_read_stop(h);
		s->eof = 1;
		maybe_finish(p);
	}
}

static void on_written(uv_write_t *req, int status)
{
	af_proc *p = req->data;

	(void)status; /* EPIPE: the child did not read its input; not an error */
	close_input(p);
}

/* ---- start ----------------------------------------------------------------- */

static int make_pipes(int parent[3], int child[3])
{
	int fds[2];

	for (int i = 0; i < 3; i++) {
		if (pipe2(fds, O_CLOEXEC) != 0)
			return af_error_errno(AF_EIO, "pipe");
		parent[i] = i == 0 ? fds[1] : fds[0];
		child[i] = i == 0 ? fds[0] : fds[1];
	}
	return AF_OK;
}

static void close_all(int fds[3])
{
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int check_request(char **file, const af_proc_opts *o)
{
	struct stat st;

	if (!o->argv || !o->argv[0] || !o->argv[0][0])
		return af_error_set(AF_EINVAL, "empty command");
	if (o->cwd && (stat(o->cwd, &st) != 0 || !S_ISDIR(st.st_mode)))
		return af_error_set(AF_EINVAL, "cwd %s is not a directory", o->cwd);
	*file = af_proc_which(o->argv[0], o->envp);
	if (!*file)
		return af_error_set(AF_ENOTFOUND, "program not found: %s", o->argv[0]);
	return AF_OK;
}

/* Wire the parent's pipe ends and the pidfd into the loop. */
static void watch(af_proc *p, int parent[3])
{
	uv_pipe_init(p->loop, &p->in, 0);
	uv_pipe_open(&p->in, parent[0]);
	for (int i = OUT; i <= ERR; i++) {
		uv_pipe_init(p->loop, &p->streams[i].pipe, 0);
		uv_pipe_open(&p->streams[i].pipe, parent[i + 1]);
		p->streams[i].pipe.data = p;
		uv_read_start((uv_stream_t *)&p->streams[i].pipe, on_alloc, on_read);
	}
	uv_timer_init(p->loop, &p->timer);
	uv_poll_init(p->loop, &p->exit_watch, p->pidfd);
	p->in.data = p->timer.data = p->exit_watch.data = p;
	p->open_handles = 5;
	uv_poll_start(&p->exit_watch, UV_READABLE, on_main_exit);
}

static void feed_input(af_proc *p, const af_proc_opts *o)
{
	uv_buf_t buf;

	if (o->input_len == 0) {
		close_input(p);
		return;
	}
	/* The caller keeps o->input alive until the callback; libuv writes from it. */
	buf = uv_buf_init((char *)o->input, (unsigned)o->input_len);
	p->write_req.data = p;
	if (uv_write(&p->write_req, (uv_stream_t *)&p->in, &buf, 1, on_written) != 0)
		close_input(p);
}

long af_proc_pid(const af_proc *p)
{
	return (long)p->pid;
}

int af_proc_spawn(af_proc **out, uv_loop_t *loop, const af_proc_opts *o,
		  af_proc_cb cb, void *data)
{
	static int subreaper;
	int parent[3] = {-1, -1, -1}, child[3] = {-1, -1, -1};
	char *file = NULL;
	af_proc *p = NULL;
	int rc;

	if (!subreaper)
		subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 1 : -1;
	if (out)
		*out = NULL;
	if ((rc = check_request(&file, o)) != AF_OK)
		goto done;
	if (!(p = calloc(1, sizeof *p))) {
		rc = af_error_set(AF_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = make_pipes(parent, child)) != AF_OK)
		goto done;
	p->start_ns = uv_hrtime();
	if ((rc = spawn_child(&p->pid, file, o, child)) != 0) {
		errno = rc;
		rc = af_error_errno(rc == ENOENT ? AF_ENOTFOUND : AF_EIO, "cannot run %s", o->argv[0]);
		goto done;
	}
	close_all(child);
	child[0] = child[1] = child[2] = -1;
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	p->slot = live_add(p->pid);
	if (p->pidfd < 0 || p->slot < 0) {
		/* Cannot watch it: end it rather than leave it unwatched. */
		kill(-p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		if (p->slot >= 0)
			live_remove(p->slot);
		if (p->pidfd >= 0)
			close(p->pidfd);
		rc = af_error_set(AF_EIO, "cannot watch process %ld", (long)p->pid);
		goto done;
	}
	p->loop = loop;
	p->cb = cb;
	p->data = data;
	p->output_cap = o->output_cap;
	p->grace_ms = o->grace_ms;
	p->result.pid = p->pid;
	watch(p, parent);
	if (o->timeout_ms) {
		uv_update_time(loop); /* the cached loop time may be stale */
		uv_timer_start(&p->timer, on_timeout, o->timeout_ms, 0);
	}
	feed_input(p, o);
	if (out)
		*out = p;
	p = NULL;
	parent[0] = parent[1] = parent[2] = -1;
done:
	close_all(child);
	close_all(parent);
	free(p);
	free(file);
	return rc;
}

/* When a process started, from /proc/PID/stat (see proc.h). */
unsigned long long af_proc_started(long long pid, int *zombie)
{
	char path[64], buf[1024];
	unsigned long long start = 0;
	const char *p;
	FILE *f;

	*zombie = 0;
	snprintf(path, sizeof path, "/proc/%lld/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	/* The name (field 2) may hold spaces and ')': fields are counted from its last ')'. */
	if (fgets(buf, sizeof buf, f) && (p = strrchr(buf, ')')) && p[1] == ' ') {
		*zombie = p[2] == 'Z';
		/*
		 * p + 2 is field 3 (the state); each space passed is one field
		 * on. Field 23 next to it is the memory size, which changes as
		 * the process runs: read it and a live run looks like another.
		 */
		p += 2;
		for (int field = 3; field < 22 && p; field++)
			p = strchr(p + 1, ' ');
		if (p)
			start = strtoull(p + 1, NULL, 10);
	}
	fclose(f);
	return start;
}
