/* cmd_serve.c - agentflow serve --addr HOST:PORT (lua/agentflow/cli/serve.lua) */
#include "af.h"
#include "commands.h"

static int cmd_serve(int argc, char **argv)
{
	return af_cli_run_lua("agentflow.cli.serve", argc, argv);
}

const af_command af_command_serve = {
	"serve", "serve /metrics and /health from the state directory",
	"usage: agentflow serve --addr HOST:PORT\n"
	"\n"
	"Serve, until interrupted, GET /metrics (Prometheus text 0.0.4: what\n"
	"`agentflow logs export --format prometheus` prints, from the log) and\n"
	"GET /health (JSON) for long-lived scraping of a project's runs.\n"
	"\n"
	"exit codes: 130 when interrupted; 64 usage; 69 cannot listen.\n",
	cmd_serve,
};
