/* cmd_repl.c - agentflow repl */
#include "af.h"
#include "commands.h"
#include "host.h"
#include "repl.h"

static int cmd_repl(int argc, char **argv)
{
	lua_State *L;
	int rc;

	if (argc > 1)
		return af_cli_usage_error(&af_command_repl, "unexpected argument '%s'", argv[1]);
	L = af_host_new(NULL);
	if (!L)
		return AF_EXIT_SOFTWARE;
	af_host_begin_session(L, "repl");
	rc = af_repl_run(L);
	af_host_end_session(L, rc);
	af_host_close(L);
	return rc;
}

const af_command af_command_repl = {
	"repl", "the interactive Lua prompt, with `af` loaded",
	"usage: agentflow repl      (also: agentflow -i, or no arguments on a terminal)\n"
	"\n"
	"An expression prints its value (`x + 2`, `=x`); tables print nested, with\n"
	"sorted keys, cycles marked and depth limited. Input that is not finished\n"
	"continues on the next line. History is kept in <state dir>/repl_history.\n"
	"Ctrl-C interrupts the running chunk; Ctrl-D exits.\n"
	"\n"
	"A session that calls agents is recorded as a run, \"(repl)\" in `agentflow\n"
	"runs`, done when the REPL exits; it cannot be resumed.\n"
	"\n"
	"When standard input is not a terminal, chunks are read from it without\n"
	"prompts; the exit code is then 65 if any chunk failed.\n",
	.run = cmd_repl,
};
