/* cmd_cache.c - agentflow cache ... (lua/agentflow/cli/cache.lua) */
#include "af.h"
#include "commands.h"

static int cmd_cache(int argc, char **argv)
{
	return af_cli_run_lua("agentflow.cli.cache", argc, argv);
}

const af_command af_command_cache = {
	"cache", "inspect and manage the result cache",
	"usage: agentflow cache stats [--json]\n"
	"       agentflow cache ls [--agent A] [--json]\n"
	"       agentflow cache show KEY [--json]      (KEY or a unique prefix)\n"
	"       agentflow cache invalidate (--agent A | --file PATH | --all) [--json]\n"
	"       agentflow cache prune [--max-size SIZE] [--json]\n"
	"       agentflow cache reset\n"
	"\n"
	"stats     entries, bytes, hits, misses and the hit ratio, in all and per agent\n"
	"ls        one line per entry: key, agent, age, time left, size, hits\n"
	"show      one entry: its result, metadata and the manifest of its key\n"
	"invalidate  remove the entries of an agent, those depending on a file\n"
	"          (path relative to the project root), or all\n"
	"prune     remove expired entries; with --max-size (bytes, or 500K, 64M,\n"
	"          2G) also the least recently used until the rest fit\n"
	"reset     delete the cache database files (after damage); the journal\n"
	"          of past runs goes with them\n"
	"\n"
	"The cache lives in <state dir>/store. exit codes: 0 done; 64 usage;\n"
	"66 no such entry; 74 the database cannot be read (see reset).\n",
	cmd_cache,
};
