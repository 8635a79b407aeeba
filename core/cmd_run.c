/* cmd_run.c - agentflow run SCRIPT.lua [-- ARGS] */
#include "af.h"
#include "commands.h"
#include "host.h"

#include <stdio.h>

int af_run_workflow(int argc, char **argv)
{
	lua_State *L = af_host_new(argv[0]);
	int rc;

	if (!L)
		return AF_EXIT_SOFTWARE;
	rc = af_host_run_script(L, "agentflow", argc, argv);
	af_host_close(L);
	return rc;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{NULL, 0, NULL, 0}
	};
	int c;

	optind = 0;
	while ((c = af_cli_getopt(&af_command_run, argc, argv, ":", longopts)) != -1)
		if (c == AF_CLI_BAD_OPTION)
			return AF_EXIT_USAGE;
	if (optind >= argc)
		return af_cli_usage_error(&af_command_run, "no workflow script given");
	return af_run_workflow(argc - optind, argv + optind);
}

const af_command af_command_run = {
	"run", "run a workflow script",
	"usage: agentflow run SCRIPT.lua [-- ARGS]\n"
	"\n"
	"Run the workflow SCRIPT.lua. ARGS are the script's: they fill Lua's `arg`\n"
	"table (arg[0] is the script) and the chunk's `...`. `agentflow SCRIPT.lua\n"
	"ARGS` does the same.\n"
	"\n"
	"exit codes: 0 done; 1 failed critical steps; 65 error in the script\n"
	"(file:line and a traceback on stderr); 66 script not found; 130 interrupted.\n",
	cmd_run,
};
