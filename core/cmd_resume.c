/* cmd_resume.c - agentflow resume RUN_ID */
#include "af.h"
#include "commands.h"
#include "host.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

/*
 * The script and arguments of run `id`, from lua/agentflow/cli/resume.lua:
 * argv is a NULL-terminated array of copies (script first); with
 * checkpoint `from`, *until is its step. Returns an exit code; 0 with
 * *argv NULL means there is nothing to resume (said already).
 */
static int look_up(const char *id, const char *from, char ***argv, long *until)
{
	lua_State *L = af_host_new(NULL);
	int rc = AF_EXIT_SOFTWARE, n;

	*argv = NULL;
	if (!L)
		return rc;
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentflow.cli.resume");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		af_host_report(L);
		af_host_close(L);
		return rc;
	}
	lua_getfield(L, -1, "look_up");
	lua_pushstring(L, id);
	if (from)
		lua_pushstring(L, from);
	else
		lua_pushnil(L);
	if (af_host_pcall(L, 2, 3) != LUA_OK) {
		af_host_report(L);
		af_host_close(L);
		return AF_EXIT_IOERR;
	}
	*until = (long)lua_tointeger(L, -1);
	lua_pop(L, 1);
	rc = (int)lua_tointeger(L, -2);
	if (rc == AF_EXIT_OK && lua_istable(L, -1)) {
		n = (int)luaL_len(L, -1);
		*argv = calloc((size_t)n + 1, sizeof **argv);
		for (int i = 0; *argv && i < n; i++) {
			lua_geti(L, -1, i + 1);
			(*argv)[i] = strdup(lua_tostring(L, -1));
			lua_pop(L, 1);
		}
	}
	af_host_close(L);
	return rc;
}

static int cmd_resume(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"from", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0}
	};
	af_run_options o = {0};
	const char *from = NULL;
	char **script_argv;
	long until = 0;
	int c, rc, n = 0;

	optind = 0;
	while ((c = af_cli_getopt(&af_command_resume, argc, argv, ":f:", longopts)) != -1) {
		if (c == AF_CLI_BAD_OPTION)
			return AF_EXIT_USAGE;
		if (c == 'f')
			from = optarg;
	}
	if (optind != argc - 1)
		return af_cli_usage_error(&af_command_resume, "resume needs one RUN_ID");
	rc = look_up(argv[optind], from, &script_argv, &until);
	if (rc != AF_EXIT_OK || !script_argv)
		return rc;
	while (script_argv[n])
		n++;
	if (from) {
		o.parent = argv[optind];
		o.replay_until = until;
	} else {
		o.resume = argv[optind];
	}
	rc = af_run_workflow(n, script_argv, &o);
	for (int i = 0; i < n; i++)
		free(script_argv[i]);
	free(script_argv);
	return rc;
}

const af_command af_command_resume = {
	"resume", "continue a run that stopped, without paying again for finished steps",
	"usage: agentflow resume RUN_ID [--from CHECKPOINT]\n"
	"\n"
	"Run the workflow of RUN_ID again, with the same arguments and run id.\n"
	"Each step whose identity (its place in the workflow, the same whatever\n"
	"order branches start in), agent and inputs match a completed record of\n"
	"the journal returns the recorded result without running; a step that\n"
	"was launched but not finished (or failed) runs again, once the\n"
	"processes the stopped run left are ended, and executors get the same\n"
	"idempotency key. The first step that differs from the journal ends\n"
	"replay there, with a warning; finished records are never overwritten.\n"
	"\n"
	"--from CHECKPOINT forks instead: a new run (RUN_ID is its parent)\n"
	"replays up to the checkpoint and executes from there, whatever state\n"
	"RUN_ID ended in; unchanged steps after it still hit the cache.\n"
	"Checkpoints: af.checkpoint(label), and automatic ones named PATTERN#N\n"
	"(`agentflow patterns list` says when each pattern makes them); see\n"
	"`agentflow runs show RUN_ID`.\n"
	"\n"
	"exit codes: those of `agentflow run`; 66 no such run, its script is\n"
	"gone, or it had none (a REPL session, -e chunks, a script read from\n"
	"standard input: these cannot be resumed); 64 usage.\n",
	.run = cmd_resume,
};
