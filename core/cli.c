/* cli.c - the top-level command line (see cli.h). */
#include "cli.h"
#include "af.h"
#include "commands.h"
#include "host.h"
#include "repl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const af_command af_command_help;

/* Every subcommand; `agentflow --help` lists them in this order. */
static const af_command *const commands[] = {
	&af_command_run,
	&af_command_plan,
	&af_command_why,
	&af_command_cache,
	&af_command_patterns,
	&af_command_resume,
	&af_command_runs,
	&af_command_report,
	&af_command_agents,
	&af_command_logs,
	&af_command_serve,
	&af_command_repl,
	&af_command_help,
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char top_usage[] =
	"usage: agentflow SCRIPT.lua [ARGS]     run a workflow (- reads it from stdin)\n"
	"       agentflow COMMAND [OPTIONS]     see the commands below\n"
	"       agentflow [-e CHUNK]... [-i] [SCRIPT.lua [ARGS]]\n"
	"\n"
	"options:\n"
	"  -e CHUNK       run the Lua chunk (may be repeated; before the script)\n"
	"  -i             enter the REPL after running chunks and the script\n"
	"  --version      print the version of agentflow and its libraries\n"
	"  -h, --help     print this help\n"
	"\n"
	"With no arguments agentflow starts the REPL (on a terminal), or reads\n"
	"Lua chunks from standard input.\n"
	"\n"
	"exit codes: 0 done; 1 failed critical steps; 64 usage; 65 workflow script\n"
	"error; 66 missing input; 69 service unavailable; 70 internal error;\n"
	"74 I/O error; 130 interrupted.\n"
	"\n"
	"commands:\n";

static void print_top_help(void)
{
	fputs(top_usage, stdout);
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %-14s %s\n", commands[i]->name, commands[i]->summary);
	puts("\n`agentflow COMMAND --help` describes each command.");
}

static const af_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int af_cli_usage_error(const af_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("agentflow: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\nTry 'agentflow %s --help'.\n", cmd->name);
	else
		fputs("\nTry 'agentflow --help'.\n", stderr);
	return AF_EXIT_USAGE;
}

int af_cli_getopt(const af_command *cmd, int argc, char **argv,
		  const char *shortopts, const struct option *longopts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == '?') {
		if (optopt)
			af_cli_usage_error(cmd, "unknown option '-%c'", optopt);
		else
			af_cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		return AF_CLI_BAD_OPTION;
	}
	if (c == ':') {
		af_cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		return AF_CLI_BAD_OPTION;
	}
	return c;
}

int af_cli_run_lua(const char *module, int argc, char **argv)
{
	lua_State *L = af_host_new(NULL);
	int rc;

	if (!L)
		return AF_EXIT_SOFTWARE;
	rc = af_host_run_module(L, module, argc, argv);
	af_host_close(L);
	return rc;
}

/* --help or -h among the options (before any "--") of a subcommand. */
static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static int run_command(const af_command *cmd, int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		fputs(cmd->usage, stdout);
		return AF_EXIT_OK;
	}
	return cmd->run(argc, argv);
}

/* ---- agentflow help [COMMAND] ------------------------------------------- */

static int cmd_help(int argc, char **argv)
{
	const af_command *cmd;

	if (argc < 2) {
		print_top_help();
		return AF_EXIT_OK;
	}
	if (argc > 2)
		return af_cli_usage_error(&af_command_help, "too many arguments");
	cmd = find_command(argv[1]);
	if (!cmd)
		return af_cli_usage_error(NULL, "unknown command '%s'", argv[1]);
	fputs(cmd->usage, stdout);
	return AF_EXIT_OK;
}

static const af_command af_command_help = {
	"help", "describe a command",
	"usage: agentflow help [COMMAND]\n"
	"\n"
	"Describe COMMAND, or list every command.\n",
	cmd_help,
};

/* ---- agentflow [-e CHUNK]... [-i] [SCRIPT [ARGS]] ------------------------ */

typedef struct top_options {
	int interactive;
	int first_chunk;  /* index of the first -e, 0 if none */
	int script;       /* index of SCRIPT in argv, 0 if none */
} top_options;

#define CONTINUE (-1)

/* Returns CONTINUE, or an exit code to stop with (--help, --version, errors). */
static int parse_top(top_options *o, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "-e") == 0) {
			if (++i == argc)
				return af_cli_usage_error(NULL, "option '-e' needs a chunk");
			if (!o->first_chunk)
				o->first_chunk = i - 1;
		} else if (strcmp(a, "-i") == 0) {
			o->interactive = 1;
		} else if (strcmp(a, "--version") == 0) {
			af_version_print();
			return AF_EXIT_OK;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			print_top_help();
			return AF_EXIT_OK;
		} else {
			return af_cli_usage_error(NULL, "unknown option '%s'", a);
		}
	}
	o->script = i < argc ? i : 0;
	return CONTINUE;
}

/* Run each -e chunk in argv[from..end) in order; stop at the first failure. */
static int run_chunks(lua_State *L, char **argv, int from, int end)
{
	int rc = AF_EXIT_OK;

	for (int i = from; from && i < end && rc == AF_EXIT_OK; i++)
		if (strcmp(argv[i], "-e") == 0)
			rc = af_host_run_chunk(L, argv[++i], "=(command line)");
	return rc;
}

static int run_top(int argc, char **argv)
{
	top_options o = {0};
	int rc = parse_top(&o, argc, argv), repl;
	lua_State *L;

	if (rc != CONTINUE)
		return rc;
	if (o.script && !o.first_chunk && !o.interactive)
		return af_run_workflow(argc - o.script, argv + o.script, NULL);
	L = af_host_new(o.script ? argv[o.script] : NULL);
	if (!L)
		return AF_EXIT_SOFTWARE;
	repl = o.interactive || (!o.first_chunk && !o.script);
	af_host_begin_session(L, repl ? "repl" : "chunk");
	rc = run_chunks(L, argv, o.first_chunk, o.script ? o.script : argc);
	if (rc == AF_EXIT_OK && o.script)
		rc = af_host_run_script(L, argv[0], argc - o.script, argv + o.script);
	if (rc == AF_EXIT_OK && repl)
		rc = af_repl_run(L);
	af_host_end_session(L, rc);
	af_host_close(L);
	return rc;
}

int af_cli_main(int argc, char **argv)
{
	const af_command *cmd = argc > 1 ? find_command(argv[1]) : NULL;

	if (cmd)
		return run_command(cmd, argc - 1, argv + 1);
	return run_top(argc, argv);
}
