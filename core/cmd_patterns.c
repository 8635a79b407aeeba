/* cmd_patterns.c - agentflow patterns ... (lua/agentflow/cli/patterns.lua) */
#include "af.h"
#include "commands.h"

static int cmd_patterns(int argc, char **argv)
{
	return af_cli_run_lua("agentflow.cli.patterns", argc, argv);
}

const af_command af_command_patterns = {
	"patterns", "pick an orchestration pattern for a task; measure the heuristic",
	"usage: agentflow patterns select TEXT [--explain] [--json]\n"
	"       agentflow patterns test FILE.tsv [--min-accuracy X] [--json]\n"
	"\n"
	"select  print the pattern for TEXT (sequential, parallel, conditional,\n"
	"        iterative or pipeline) on the first line; --explain adds the\n"
	"        scores, the rules that fired and whether the top two are close\n"
	"test    FILE.tsv holds label<TAB>text lines (# starts a comment); prints\n"
	"        the accuracy, precision and recall per pattern, the confusion\n"
	"        matrix and the misclassified lines; --min-accuracy 0.9 exits 1\n"
	"        below 90%\n"
	"\n"
	"The rules are lua/agentflow/patterns.lua; a project changes them in\n"
	"<state dir>/patterns.lua (see the README).\n",
	cmd_patterns,
};
