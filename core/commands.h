/* commands.h - the subcommands with work in C listed in cli.c, one cmd_NAME.c each. */
#ifndef AF_COMMANDS_H
#define AF_COMMANDS_H

#include "cli.h"

extern const af_command af_command_run;
extern const af_command af_command_plan;
extern const af_command af_command_resume;
extern const af_command af_command_repl;

/* The most processes --jobs may allow at once. */
#define AF_MAX_JOBS 1024

/* What `agentflow run` options change; zero means the default. */
typedef struct af_run_options {
	long jobs;    /* processes at once (--jobs) */
	int no_cache; /* run every agent; still store the results (--no-cache) */
	int keep_workspaces; /* keep editing agents' worktrees (--keep-workspaces) */
	int plan;     /* look agents up, run none, write nothing (agentflow plan) */
	const char *resume; /* the run this one continues (agentflow resume) */
	const char *parent; /* the run this one forks from (resume --from) */
	long replay_until;  /* with parent: the last step replayed */
	const char *junit;  /* write the JUnit report here at the end (--junit) */
	int ci;             /* no live status line (--ci; also CI=true) */
	const char *budget_usd; /* dollars the run may spend (--budget-usd) */
	const char *metrics_addr; /* serve /metrics and /health here (--metrics-addr) */
	const char *log_level;    /* the log's threshold (--log-level) */
	int verbose;              /* INFO lines to stderr too (-v) */
	int json;                 /* plan: JSON lines on stdout (plan --json) */
} af_run_options;

/*
 * Run a workflow script with its arguments (argv[0] is the script): what
 * both `agentflow SCRIPT` and `agentflow run SCRIPT` do. `o` may be NULL.
 * Returns the exit code.
 */
int af_run_workflow(int argc, char **argv, const af_run_options *o);

/*
 * `agentflow SCRIPT ARGS` (argv[0] is the script): run's options among ARGS
 * are taken as in `agentflow run`, the other arguments are the script's.
 * Returns the exit code.
 */
int af_run_implicit(int argc, char **argv);

#endif
