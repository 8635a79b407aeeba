/*
 * cli.h - the command line: dispatch to subcommands, help and usage errors.
 *
 * Every subcommand is a row of the table in cli.c. One written in Lua is
 * only that row (its name, summary and usage; lua/agentflow/cli/NAME.lua
 * does the work); one with work in C is an af_command defined in its own
 * cmd_NAME.c and declared in commands.h. `agentflow NAME --help` and
 * `agentflow help NAME` print its usage without calling it.
 */
#ifndef AF_CLI_H
#define AF_CLI_H

#include <getopt.h>

typedef struct af_command {
	const char *name;
	const char *summary; /* one line for `agentflow --help` */
	const char *usage;   /* the whole text of `agentflow NAME --help` */
	/* argv[0] is the command's name; returns the process exit code; NULL: `module` */
	int (*run)(int argc, char **argv);
	/* without `run`: the Lua module whose main(argv) runs the command in a fresh state */
	const char *module;
} af_command;

/* The program: parses argv and returns the exit code. */
int af_cli_main(int argc, char **argv);

/*
 * Print "agentflow: MESSAGE" and a pointer to the right --help on stderr;
 * returns 64 (usage). `cmd` may be NULL for the top-level command line.
 */
int af_cli_usage_error(const af_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define AF_CLI_BAD_OPTION (-2)

/*
 * getopt_long for a subcommand, with GNU argument permutation (options may
 * follow operands; everything after "--" is an operand). Returns the option
 * value, -1 when options end (operands start at optind), or
 * AF_CLI_BAD_OPTION after printing a usage error. Start each parse with
 * optind = 0.
 */
int af_cli_getopt(const af_command *cmd, int argc, char **argv,
		  const char *shortopts, const struct option *longopts);

/* `agentflow --version`: the program's and each library's version. */
void af_version_print(void);

#endif
