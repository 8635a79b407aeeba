/* lua_af.c - agentflow.core (see lua_af.h). */
#include "lua_af.h"
#include "af.h"
#include "host.h"
#include "lua_cache.h"
#include "lua_http.h"
#include "lua_journal.h"
#include "lua_log.h"
#include "lua_pack.h"
#include "lua_store.h"
#include "lua_yaml.h"
#include "proc.h"
#include "scheduler.h"
#include "state.h"

#include <lauxlib.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;
#include <uv.h>

/* path = core.state_dir([create]) ; nil, err when it cannot be created */
static int l_state_dir(lua_State *L)
{
	int create = lua_toboolean(L, 1);
	char *dir = NULL;
	int rc = af_state_dir(&dir, af_host_script_path(L));

	if (rc == AF_OK && create)
		rc = af_state_ensure(dir);
	if (rc != AF_OK) {
		free(dir);
		luaL_pushfail(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	lua_pushstring(L, dir);
	free(dir);
	return 1;
}

/* path = core.script_path() ; nil for -e chunks and the REPL */
static int l_script_path(lua_State *L)
{
	lua_pushstring(L, af_host_script_path(L));
	return 1;
}

/*
 * path = core.project_root() : the git work tree holding the script (or the
 * current directory), else the current directory; declared files are
 * relative to it. Without a trailing '/'.
 */
static int l_project_root(lua_State *L)
{
	const char *script = af_host_script_path(L);
	char *dir = script ? strdup(script) : NULL, *root = NULL, *slash;
	int rc;

	if (dir && (slash = strrchr(dir, '/')))
		*slash = 0;
	rc = af_state_project_root(&root, dir && strchr(script, '/') ? dir : ".");
	free(dir);
	if (rc != AF_OK || !root)
		root = realpath(".", NULL);
	if (!root)
		return luaL_error(L, "cannot resolve the current directory");
	lua_pushstring(L, root);
	free(root);
	return 1;
}

/* path = core.realpath(path) ; nil, err */
static int l_realpath(lua_State *L)
{
	char *p = realpath(luaL_checkstring(L, 1), NULL);

	if (!p) {
		luaL_pushfail(L);
		lua_pushstring(L, strerror(errno));
		return 2;
	}
	lua_pushstring(L, p);
	free(p);
	return 1;
}

/* pid = core.pid() */
static int l_pid(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)getpid());
	return 1;
}

/* ticks = core.pid_start([pid]) : when the process started (this one by default) */
static int l_pid_start(lua_State *L)
{
	int zombie;

	lua_Integer pid = lua_isnoneornil(L, 1) ? (lua_Integer)getpid() : luaL_checkinteger(L, 1);

	lua_pushinteger(L, (lua_Integer)af_proc_started(pid, &zombie));
	return 1;
}

/*
 * alive = core.pid_alive(pid [, start]) : a process with that id runs (not
 * a zombie) and, given `start` (core.pid_start), is the same process and
 * not a later one that reuses the id.
 */
static int l_pid_alive(lua_State *L)
{
	lua_Integer pid = luaL_checkinteger(L, 1), start = luaL_optinteger(L, 2, 0);
	int zombie;
	unsigned long long now = pid > 0 ? af_proc_started(pid, &zombie) : 0;

	lua_pushboolean(L, now != 0 && !zombie && (start == 0 || (lua_Integer)now == start));
	return 1;
}

/* The process group of live (not zombie) process `pid`, or 0. */
static long long live_pgid(const char *pid)
{
	char path[300], buf[1024];
	long long ppid, pgrp = 0;
	const char *p;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	if (!fgets(buf, sizeof buf, f) || !(p = strrchr(buf, ')')) || p[1] != ' ' || p[2] == 'Z' ||
	    sscanf(p + 3, "%lld %lld", &ppid, &pgrp) != 2)
		pgrp = 0;
	fclose(f);
	return pgrp;
}

/* Whether a live (not zombie) process of process group `pgid` is in /proc. */
static int group_has_member(long long pgid)
{
	struct dirent *d;
	int found = 0;
	DIR *dir = opendir("/proc");

	while (dir && !found && (d = readdir(dir)))
		found = d->d_name[0] >= '1' && d->d_name[0] <= '9' && live_pgid(d->d_name) == pgid;
	if (dir)
		closedir(dir);
	return found;
}

/*
 * alive = core.group_alive(pgid [, start]) : a process of group `pgid` runs
 * (zombies do not count). Given `start` (core.pid_start of its leader),
 * false when the id now leads a group started later: ours is gone.
 */
static int l_group_alive(lua_State *L)
{
	lua_Integer pgid = luaL_checkinteger(L, 1), start = luaL_optinteger(L, 2, 0);
	int zombie;
	unsigned long long leader = pgid > 1 ? af_proc_started(pgid, &zombie) : 0;

	lua_pushboolean(L, pgid > 1 && (start == 0 || leader == 0 || (lua_Integer)leader == start) &&
				   group_has_member(pgid));
	return 1;
}

/* Whether the environment of process `pid` holds the entry `entry` ("K=V"). */
static int environ_has(const char *pid, const char *entry, size_t len)
{
	char path[300];
	static char buf[1 << 20]; /* the kernel's limit for argv + envp is larger, entries are not */
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%s/environ", pid);
	if (!(f = fopen(path, "r")))
		return 0; /* gone, or not ours to read */
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	for (size_t at = 0; at + len <= n; at += strlen(buf + at) + 1)
		if (memcmp(buf + at, entry, len) == 0 && buf[at + len] == 0)
			return 1;
	return 0;
}

/*
 * groups = core.marked_groups(entry) : the process groups (each once) of the
 * live processes whose environment holds `entry` ("K=V"), leaving out this
 * process's own group.
 */
static int l_marked_groups(lua_State *L)
{
	size_t len;
	const char *entry = luaL_checklstring(L, 1, &len);
	long long own = (long long)getpgrp(), pgid;
	struct dirent *d;
	DIR *dir = opendir("/proc");
	lua_Integer n = 0;

	lua_newtable(L); /* pgid -> true, then the list */
	lua_newtable(L);
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9' || !environ_has(d->d_name, entry, len))
			continue;
		pgid = live_pgid(d->d_name);
		if (pgid <= 1 || pgid == own)
			continue;
		if (lua_rawgeti(L, -2, pgid) == LUA_TNIL) {
			lua_pushboolean(L, 1);
			lua_rawseti(L, -4, pgid);
			lua_pushinteger(L, pgid);
			lua_rawseti(L, -3, ++n);
		}
		lua_pop(L, 1);
	}
	if (dir)
		closedir(dir);
	return 1;
}

/* true = core.killpg(pgid, "TERM" | "KILL") ; nil, err */
static int l_killpg(lua_State *L)
{
	static const char *const names[] = {"TERM", "KILL", NULL};
	static const int signals[] = {SIGTERM, SIGKILL};
	lua_Integer pgid = luaL_checkinteger(L, 1);
	int sig = signals[luaL_checkoption(L, 2, NULL, names)];

	luaL_argcheck(L, pgid > 1, 1, "not a process group");
	if (killpg((pid_t)pgid, sig) != 0 && errno != ESRCH) {
		luaL_pushfail(L);
		lua_pushstring(L, strerror(errno));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* true = core.mkdir_p(path) ; nil, err : the directory and its parents, 0700 */
static int l_mkdir_p(lua_State *L)
{
	if (af_state_ensure(luaL_checkstring(L, 1)) != AF_OK) {
		luaL_pushfail(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* path = core.which(program) ; nil when it is not on PATH */
static int l_which(lua_State *L)
{
	char *path = af_proc_which(luaL_checkstring(L, 1), environ);

	lua_pushstring(L, path); /* nil for NULL */
	free(path);
	return 1;
}

/* name = core.hostname() */
static int l_hostname(lua_State *L)
{
	char name[256] = "";

	gethostname(name, sizeof name - 1);
	lua_pushstring(L, name);
	return 1;
}

/* n = core.cpus() : the CPUs this process may use */
static int l_cpus(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)uv_available_parallelism());
	return 1;
}

/*
 * src, line = core.caller(level) : the short source and current line of the
 * function at `level` of the stack, counted as debug.getinfo counts (1: the
 * function calling core.caller); nothing when there is none. What
 * debug.getinfo(level, "Sl") tells, without building its table.
 */
static int l_caller(lua_State *L)
{
	lua_Debug ar;

	if (!lua_getstack(L, (int)luaL_checkinteger(L, 1), &ar) || !lua_getinfo(L, "Sl", &ar))
		return 0;
	lua_pushstring(L, ar.short_src);
	lua_pushinteger(L, ar.currentline);
	return 2;
}

/*
 * copy = core.copy(t [, over]) : a shallow copy of t with the fields of
 * `over` laid over it, made at its final size (copies happen at every step).
 */
static int l_copy(lua_State *L)
{
	int n = 0, has_over = !lua_isnoneornil(L, 2);

	luaL_checktype(L, 1, LUA_TTABLE);
	if (has_over)
		luaL_checktype(L, 2, LUA_TTABLE);
	for (int t = 1; t <= 1 + has_over; t++) {
		lua_pushnil(L);
		while (lua_next(L, t)) {
			lua_pop(L, 1);
			n++;
		}
	}
	lua_createtable(L, 0, n);
	for (int t = 1; t <= 1 + has_over; t++) {
		lua_pushnil(L);
		while (lua_next(L, t)) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, -4);
		}
	}
	return 1;
}

/*
 * ok = core.has_only(t, types) : whether every key of t is a key of `types`
 * naming the type of its value ({prompt = "string"}): the check of a call's
 * options made at every step, without a Lua loop.
 */
static int l_has_only(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const char *want;

		lua_pushvalue(L, -2);
		lua_rawget(L, 2);
		want = lua_tostring(L, -1);
		if (!want || strcmp(want, luaL_typename(L, -2)) != 0) {
			lua_pushboolean(L, 0);
			return 1;
		}
		lua_pop(L, 2);
	}
	lua_pushboolean(L, 1);
	return 1;
}

void *af_lua_check_self(lua_State *L, int mt, const char *what)
{
	void *p = lua_touserdata(L, 1);

	if (!p || !lua_getmetatable(L, 1) || !lua_rawequal(L, -1, mt))
		luaL_typeerror(L, 1, what);
	lua_pop(L, 1);
	return p;
}

static const luaL_Reg core_functions[] = {
	{"caller", l_caller},
	{"copy", l_copy},
	{"has_only", l_has_only},
	{"state_dir", l_state_dir},
	{"script_path", l_script_path},
	{"cpus", l_cpus},
	{"project_root", l_project_root},
	{"realpath", l_realpath},
	{"pid", l_pid},
	{"pid_alive", l_pid_alive},
	{"pid_start", l_pid_start},
	{"group_alive", l_group_alive},
	{"killpg", l_killpg},
	{"marked_groups", l_marked_groups},
	{"hostname", l_hostname},
	{"which", l_which},
	{"mkdir_p", l_mkdir_p},
	{NULL, NULL}
};

int luaopen_agentflow_core(lua_State *L)
{
	luaL_newlib(L, core_functions);
	af_sched_open(L);
	af_store_lua_open(L);
	af_yaml_lua_open(L);
	af_log_lua_open(L);
	af_pack_lua_open(L);
	af_cache_lua_open(L);
	af_journal_lua_open(L);
	af_http_lua_open(L);
	lua_pushliteral(L, AF_VERSION);
	lua_setfield(L, -2, "version");
	lua_newtable(L); /* filled from the command line: af_host_set_option */
	lua_setfield(L, -2, "options");
	return 1;
}
