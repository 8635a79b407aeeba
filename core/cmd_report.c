/* cmd_report.c - agentflow report RUN_ID --format md|json|junit (lua/agentflow/cli/report.lua) */
#include "af.h"
#include "commands.h"

static int cmd_report(int argc, char **argv)
{
	return af_cli_run_lua("agentflow.cli.report", argc, argv);
}

const af_command af_command_report = {
	"report", "a run's steps as Markdown, JSON or JUnit XML",
	"usage: agentflow report RUN_ID [--format md|json|junit] [--output FILE]\n"
	"\n"
	"Per step: agent, status, cached, attempts, duration, cost; then totals.\n"
	"JUnit: one testcase per agent step (classname: the workflow), a failure\n"
	"with the error for failed steps, skipped for skipped ones. The default\n"
	"format is md.\n"
	"\n"
	"exit codes: 0; 66 no such run; 64 usage.\n",
	cmd_report,
};
