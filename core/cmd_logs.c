/* cmd_logs.c - agentflow logs query|analyze|export (lua/agentflow/cli/logs.lua) */
#include "af.h"
#include "commands.h"

static int cmd_logs(int argc, char **argv)
{
	return af_cli_run_lua("agentflow.cli.logs", argc, argv);
}

const af_command af_command_logs = {
	"logs", "query, analyze and export the structured log",
	"usage: agentflow logs query [--level L] [--component C] [--since T] [--until T]\n"
	"                            [--run ID] [--where KEY=VALUE] [--grep TEXT] [--json]\n"
	"       agentflow logs analyze [--json]\n"
	"       agentflow logs export --format prometheus [--output FILE]\n"
	"\n"
	"The log is <state dir>/logs/agentflow.jsonl (and its rotated files): one\n"
	"JSON object per line, {timestamp, level, component, message, context}.\n"
	"query   records of level L and above, of a component, in a time range\n"
	"        (RFC 3339 or an age like 1h), of a run, with a context value, or\n"
	"        containing TEXT; JSON lines on a pipe or with --json, a table on\n"
	"        a terminal\n"
	"analyze records per level and component; runs (count, success rate,\n"
	"        duration p50/p95); per agent executions, failures, cache hit\n"
	"        ratio, duration p50/p95/max, cost and tokens\n"
	"export  the same as Prometheus metrics; --output writes the file\n"
	"        atomically (for node_exporter's textfile collector)\n"
	"\n"
	"Lines that are not whole records are skipped and counted.\n",
	cmd_logs,
};
