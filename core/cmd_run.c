/* cmd_run.c - agentflow run SCRIPT.lua [-- ARGS] */
#include "af.h"
#include "commands.h"
#include "host.h"
#include "log.h"

#include <lua.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Start the /metrics and /health server (lua/agentflow/_live.lua). */
static int serve_metrics(lua_State *L, const char *addr)
{
	int rc = AF_EXIT_OK;

	af_host_set_option_string(L, "metrics_addr", addr);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentflow._live");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		af_host_report(L);
		return AF_EXIT_SOFTWARE;
	}
	lua_getfield(L, -1, "start");
	lua_pushstring(L, addr);
	if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
		af_host_report(L);
		rc = AF_EXIT_SOFTWARE;
	} else if (lua_isnil(L, -2)) {
		const char *err = lua_tostring(L, -1);

		rc = strstr(err, "bad address") ? af_cli_usage_error(&af_command_run, "--metrics-addr: %s", err)
						: (fprintf(stderr, "agentflow: --metrics-addr: %s\n", err),
						   AF_EXIT_UNAVAILABLE);
	}
	lua_settop(L, 0);
	return rc;
}

int af_run_workflow(int argc, char **argv, const af_run_options *o)
{
	lua_State *L = af_host_new(argv[0]);
	int rc;

	if (!L)
		return AF_EXIT_SOFTWARE;
	af_host_set_option(L, "workflow", 1);
	if (o && o->jobs > 0)
		af_host_set_option(L, "jobs", o->jobs);
	if (o && o->no_cache)
		af_host_set_option(L, "no_cache", 1);
	if (o && o->keep_workspaces)
		af_host_set_option(L, "keep_workspaces", 1);
	if (o && o->plan)
		af_host_set_option(L, "plan", 1);
	if (o && o->resume)
		af_host_set_option_string(L, "resume", o->resume);
	if (o && o->parent) {
		af_host_set_option_string(L, "parent", o->parent);
		af_host_set_option(L, "replay_until", o->replay_until);
	}
	if (o && o->junit)
		af_host_set_option_string(L, "junit", o->junit);
	if (o && o->ci)
		af_host_set_option(L, "ci", 1);
	if (o && o->budget_usd)
		af_host_set_option_string(L, "budget_usd", o->budget_usd);
	if (o && o->log_level)
		af_host_set_option_string(L, "log_level", o->log_level);
	if (o && o->verbose)
		af_host_set_option(L, "verbose", 1);
	if (o && o->json)
		af_host_set_option(L, "json", 1);
	if (o && o->metrics_addr && (rc = serve_metrics(L, o->metrics_addr)) != AF_EXIT_OK) {
		af_host_close(L);
		return rc;
	}
	rc = af_host_run_script(L, "agentflow", argc, argv);
	af_host_close(L);
	return rc;
}

/* A whole number in [1, max], or -1. */
static long parse_count(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max)
		return -1;
	return v;
}

static const struct option longopts[] = {
	{"jobs", required_argument, NULL, 'j'},
	{"no-cache", no_argument, NULL, 'n'},
	{"keep-workspaces", no_argument, NULL, 'k'},
	{"junit", required_argument, NULL, 'J'},
	{"ci", no_argument, NULL, 'c'},
	{"budget-usd", required_argument, NULL, 'b'},
	{"metrics-addr", required_argument, NULL, 'm'},
	{"log-level", required_argument, NULL, 'l'},
	{"verbose", no_argument, NULL, 'v'},
	{NULL, 0, NULL, 0}
};

static int cmd_run(int argc, char **argv)
{
	af_run_options o = {0};
	char *end;
	int c;

	optind = 0;
	while ((c = af_cli_getopt(&af_command_run, argc, argv, ":j:v", longopts)) != -1) {
		if (c == AF_CLI_BAD_OPTION)
			return AF_EXIT_USAGE;
		if (c == 'n')
			o.no_cache = 1;
		if (c == 'k')
			o.keep_workspaces = 1;
		if (c == 'J')
			o.junit = optarg;
		if (c == 'c')
			o.ci = 1;
		if (c == 'b' && (strtod(optarg, &end) < 0 || end == optarg || *end))
			return af_cli_usage_error(&af_command_run,
						  "--budget-usd wants dollars (like 2.50), not '%s'", optarg);
		if (c == 'b')
			o.budget_usd = optarg;
		if (c == 'm')
			o.metrics_addr = optarg;
		if (c == 'v')
			o.verbose = 1;
		if (c == 'l' && af_log_level(optarg) < 0)
			return af_cli_usage_error(&af_command_run, "--log-level wants debug, info, warn, "
						  "error or fatal, not '%s'", optarg);
		if (c == 'l')
			o.log_level = optarg;
		if (c == 'j' && (o.jobs = parse_count(optarg, AF_MAX_JOBS)) < 0)
			return af_cli_usage_error(&af_command_run,
						  "--jobs wants a whole number from 1 to %d, not '%s'",
						  AF_MAX_JOBS, optarg);
	}
	if (optind >= argc)
		return af_cli_usage_error(&af_command_run, "no workflow script given");
	return af_run_workflow(argc - optind, argv + optind, &o);
}

/*
 * How many arguments from argv[i] make one of run's options (1 or 2 with
 * its value), or 0 when argv[i] is not one. A missing value counts 1, so
 * getopt reports it.
 */
static int option_width(int argc, char **argv, int i)
{
	const char *a = argv[i];

	if (strcmp(a, "-v") == 0)
		return 1;
	if (strncmp(a, "-j", 2) == 0)
		return a[2] || i + 1 == argc ? 1 : 2;
	if (strncmp(a, "--", 2) != 0)
		return 0;
	for (const struct option *o = longopts; o->name; o++) {
		size_t n = strlen(o->name);

		if (strncmp(a + 2, o->name, n) != 0 || (a[2 + n] && a[2 + n] != '='))
			continue;
		return o->has_arg == required_argument && !a[2 + n] && i + 1 < argc ? 2 : 1;
	}
	return 0;
}

/*
 * `agentflow SCRIPT ARGS`: run's options among ARGS (before any `--`) are
 * run's, as in `agentflow run SCRIPT`; every other argument stays the
 * script's (`--bkash URL`), so workflows keep their own flags. Rewritten as
 * `agentflow OPTIONS SCRIPT -- OTHERS` for cmd_run.
 */
int af_run_implicit(int argc, char **argv)
{
	char **v = calloc((size_t)argc + 3, sizeof *v);
	int n = 0, end = 1, rc, i, w;

	if (!v)
		return AF_EXIT_SOFTWARE;
	while (end < argc && strcmp(argv[end], "--") != 0)
		end++;
	v[n++] = "agentflow";
	for (i = 1; i < end; i += w ? w : 1) {
		w = option_width(argc, argv, i);
		for (int k = 0; k < w; k++)
			v[n++] = argv[i + k];
	}
	v[n++] = argv[0];
	v[n++] = "--";
	for (i = 1; i < end; i += w ? w : 1)
		if (!(w = option_width(argc, argv, i)))
			v[n++] = argv[i];
	for (i = end + 1; i < argc; i++)
		v[n++] = argv[i];
	rc = cmd_run(n, v);
	free(v);
	return rc;
}

const af_command af_command_run = {
	"run", "run a workflow script",
	"usage: agentflow run SCRIPT.lua [--jobs N] [--no-cache] [--budget-usd X] [--ci]\n"
	"                     [--junit FILE] [--metrics-addr HOST:PORT] [--log-level L] [-v]\n"
	"                     [--keep-workspaces]\n"
	"                     [-- ARGS]\n"
	"\n"
	"Run the workflow SCRIPT.lua. ARGS are the script's: they fill Lua's `arg`\n"
	"table (arg[0] is the script) and the chunk's `...`. `agentflow SCRIPT.lua\n"
	"ARGS` does the same.\n"
	"\n"
	"  -j, --jobs N   at most N processes at once (default: twice the CPUs,\n"
	"                 at least 8); wins over af.configure{jobs = N}\n"
	"  --no-cache     run every agent, serving nothing from the cache (results\n"
	"                 are still stored)\n"
	"  --keep-workspaces  keep the git worktrees of editing agents (edits =\n"
	"                 true) after their steps, to look at what they did\n"
	"  --budget-usd X the run spends at most X dollars on agents: the CLI gets\n"
	"                 what is left, and once it is spent, agent steps are\n"
	"                 skipped (reason \"budget\"); the summary shows the spend\n"
	"  --metrics-addr HOST:PORT  serve GET /metrics (Prometheus) and GET /health\n"
	"                 (JSON) while the run goes on\n"
	"  --log-level L  the log's threshold (debug, info, warn, error, fatal;\n"
	"                 default info, or AGENTFLOW_LOG_LEVEL)\n"
	"  -v, --verbose  INFO records of the workflow on stderr too\n"
	"  --junit FILE   write the run's JUnit XML report to FILE at the end\n"
	"  --ci           no live status line (as under CI=true); with\n"
	"                 GITHUB_ACTIONS=true, failed steps become ::error\n"
	"                 annotations and the report goes to $GITHUB_STEP_SUMMARY\n"
	"\n"
	"Progress goes to stderr: a live status line on a terminal, else a line\n"
	"per event (AGENTFLOW_PROGRESS=line|plain|off chooses).\n"
	"\n"
	"exit codes: 0 done; 1 failed critical steps; 65 error in the script\n"
	"(file:line and a traceback on stderr); 66 script not found; 130 interrupted.\n",
	.run = cmd_run,
};
