/* cmd_agents.c - agentflow agents ls | show NAME (lua/agentflow/cli/agents.lua) */
#include "af.h"
#include "commands.h"

static int cmd_agents(int argc, char **argv)
{
	return af_cli_run_lua("agentflow.cli.agents", argc, argv);
}

const af_command af_command_agents = {
	"agents", "the agents a workflow can call, from agent files",
	"usage: agentflow agents [ls] [--json]\n"
	"       agentflow agents show NAME [--json]\n"
	"\n"
	"Agent files are Claude Code subagent files (NAME.md: YAML front matter,\n"
	"the body is the system prompt) or Lua agents (NAME.lua returning a\n"
	"definition), searched in this order, the first of a name winning:\n"
	"$AGENTFLOW_AGENTS (dirs separated by ':'), <project>/agents,\n"
	"<project>/.claude/agents, ~/.claude/agents.\n"
	"\n"
	"ls --json prints an array of {name, description, executor, source}.\n"
	"exit codes: 0; 65 an agent file cannot be read (ls still lists the\n"
	"others); 66 no such agent; 64 usage.\n",
	cmd_agents,
};
