/* cmd_plan.c - agentflow plan SCRIPT.lua [-- ARGS] */
#include "af.h"
#include "commands.h"

static int cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0}
	};
	af_run_options o = {.plan = 1};
	int c;

	optind = 0;
	while ((c = af_cli_getopt(&af_command_plan, argc, argv, ":", longopts)) != -1) {
		if (c == AF_CLI_BAD_OPTION)
			return AF_EXIT_USAGE;
		if (c == 'j')
			o.json = 1;
	}
	if (optind >= argc)
		return af_cli_usage_error(&af_command_plan, "no workflow script given");
	return af_run_workflow(argc - optind, argv + optind, &o);
}

const af_command af_command_plan = {
	"plan", "dry run: which agent steps the cache answers, and why not",
	"usage: agentflow plan SCRIPT.lua [--json] [-- ARGS]\n"
	"\n"
	"Run the workflow with no agent and no program executed, and print each\n"
	"agent step on stdout, with the files and configs its cache key holds:\n"
	"\n"
	"  HIT    the cache answers it (the workflow goes on with that result)\n"
	"  STALE  an earlier entry exists; the reasons name what changed: ttl,\n"
	"         files: PATHS, missing: PATH, config: PATH, commit, branch,\n"
	"         agent definition, prompt, params, env: NAME, working directory\n"
	"  MISS   nothing is cached for it\n"
	"  ?      it depends on a step that is not a hit, so it cannot be known\n"
	"\n"
	"A step that is not a hit returns a result with status \"planned\".\n"
	"Nothing is written: no log record, no run record, no journal, no cache\n"
	"entry, no file the workflow writes with af.write_file (af.planning()\n"
	"tells a workflow it is being planned). With --json, each line is a JSON\n"
	"object: {state, step, agent, detail, reasons, key, files, configs} per\n"
	"step, {state = \"EXEC\", argv} per program not run, and\n"
	"{plan = {hit, stale, miss, unknown}} last.\n",
	.run = cmd_plan,
};
