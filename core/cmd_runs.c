/* cmd_runs.c - agentflow runs ... (lua/agentflow/cli/runs.lua) */
#include "af.h"
#include "commands.h"

static int cmd_runs(int argc, char **argv)
{
	return af_cli_run_lua("agentflow.cli.runs", argc, argv);
}

const af_command af_command_runs = {
	"runs", "the history of runs: list, show, prune",
	"usage: agentflow runs [ls] [--json]\n"
	"       agentflow runs show RUN_ID [--json]\n"
	"       agentflow runs prune --older-than AGE [--json]    (AGE: 30d, 12h, ...)\n"
	"\n"
	"ls      every run, newest first: id, workflow, status, start, duration,\n"
	"        steps. --json: an array of {run_id, workflow, status, started_at,\n"
	"        finished_at, ...}\n"
	"show    one run and its steps from the journal\n"
	"prune   delete runs that ended more than AGE ago, with their journals\n"
	"\n"
	"A run whose process died without ending it shows as interrupted.\n"
	"exit codes: 0; 66 no such run; 64 usage.\n",
	cmd_runs,
};
