/* commands.h - the subcommands listed in cli.c, one cmd_NAME.c each. */
#ifndef AF_COMMANDS_H
#define AF_COMMANDS_H

#include "cli.h"

extern const af_command af_command_run;
extern const af_command af_command_repl;

/*
 * Run a workflow script with its arguments (argv[0] is the script): what
 * both `agentflow SCRIPT` and `agentflow run SCRIPT` do. Returns the exit code.
 */
int af_run_workflow(int argc, char **argv);

#endif
