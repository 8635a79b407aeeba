/* cmd_why.c - agentflow why RUN_ID STEP (lua/agentflow/cli/why.lua) */
#include "af.h"
#include "commands.h"

static int cmd_why(int argc, char **argv)
{
	return af_cli_run_lua("agentflow.cli.why", argc, argv);
}

const af_command af_command_why = {
	"why", "which parts of a step's cache key changed",
	"usage: agentflow why RUN_ID STEP [--json]\n"
	"\n"
	"For step STEP of run RUN_ID (see `agentflow runs`): a hit says so; a\n"
	"step that missed lists the parts of its cache key that differ from the\n"
	"newest earlier entry for the same agent and prompt (else the same\n"
	"agent): files, missing files, configs, commit, branch, agent definition,\n"
	"executor, model, prompt, params, env, working directory; or `ttl` when\n"
	"only time passed. Then the files and configs the step's key holds,\n"
	"named relative to the project root (--json: `files`, `configs`).\n"
	"\n"
	"exit codes: 0 explained; 66 no such run or step; 64 usage.\n",
	cmd_why,
};
