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

/*
 * A command written in Lua: `agentflow NAME ARGS` runs
 * require("agentflow.cli.NAME").main(ARGS) (lua/agentflow/cli/NAME.lua),
 * so adding one is a row below and a Lua file.
 */
#define LUA_COMMAND(name, summary, usage) \
	(&(const af_command){name, summary, usage, NULL, "agentflow.cli." name})

/* Every subcommand; `agentflow --help` lists them in this order. */
static const af_command *const commands[] = {
	&af_command_run,
	&af_command_plan,
	LUA_COMMAND("why", "which parts of a step's cache key changed",
		"usage: agentflow why RUN_ID STEP [--json]\n"
		"\n"
		"For step STEP of run RUN_ID (see `agentflow runs`): a hit says so; a\n"
		"step that missed lists the parts of its cache key that differ from the\n"
		"newest earlier entry for the same agent and prompt (else the same\n"
		"agent): files, missing files, configs, commit, branch, agent definition,\n"
		"executor, model, prompt, params, env, working directory; or `ttl` when\n"
		"only time passed. Then the files and configs the step's key holds,\n"
		"named relative to the project root (--json: `files`, `configs`).\n"
		"\n"
		"exit codes: 0 explained; 66 no such run or step; 64 usage.\n"),
	LUA_COMMAND("diff", "the changes an editing step made, as a patch",
		"usage: agentflow diff RUN_ID STEP [--stat] [--json]\n"
		"\n"
		"The patch that step STEP of run RUN_ID (an agent with edits = true)\n"
		"made in its workspace, as git writes it (binary files included): it\n"
		"can be applied with `git apply`. --stat: the files and lines changed;\n"
		"--json: the patch's hash and files.\n"
		"\n"
		"exit codes: 0 shown; 1 the step made no changes; 66 no such run, step\n"
		"or stored patch; 64 usage.\n"),
	LUA_COMMAND("cache", "inspect and manage the result cache",
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
		"66 no such entry; 74 the database cannot be read (see reset).\n"),
	LUA_COMMAND("patterns", "pick an orchestration pattern for a task; measure the heuristic",
		"usage: agentflow patterns select TEXT [--explain] [--json]\n"
		"       agentflow patterns test FILE.tsv [--min-accuracy X] [--json]\n"
		"       agentflow patterns list [--json]\n"
		"\n"
		"select  print the pattern for TEXT (one of those `list` prints) on the\n"
		"        first line; --explain adds the scores, the rules that fired\n"
		"        and whether the top two are close\n"
		"test    FILE.tsv holds label<TAB>text lines (# starts a comment); prints\n"
		"        the accuracy, precision and recall per pattern, the confusion\n"
		"        matrix and the misclassified lines; --min-accuracy 0.9 exits 1\n"
		"        below 90%\n"
		"list    the patterns: name, what each does, how af.orchestrate hands\n"
		"        it its fields, and its automatic checkpoints\n"
		"\n"
		"The rules are lua/agentflow/patterns.lua; a project changes them in\n"
		"<state dir>/patterns.lua (see the README).\n"),
	&af_command_resume,
	LUA_COMMAND("runs", "the history of runs: list, show, prune",
		"usage: agentflow runs [ls] [--json]\n"
		"       agentflow runs show RUN_ID [--json]\n"
		"       agentflow runs prune --older-than AGE [--json]    (AGE: 30d, 12h, ...)\n"
		"\n"
		"ls      every run, newest first: id, workflow, status, start, duration,\n"
		"        steps. --json: an array of {run_id, workflow, status, started_at,\n"
		"        finished_at, ...}\n"
		"show    one run and its steps from the journal\n"
		"prune   delete runs that ended more than AGE ago, with their journals\n"
		"\n"
		"A run whose process died without ending it shows as interrupted.\n"
		"exit codes: 0; 66 no such run; 64 usage.\n"),
	LUA_COMMAND("report", "a run's steps as Markdown, JSON or JUnit XML",
		"usage: agentflow report RUN_ID [--format md|json|junit] [--output FILE]\n"
		"\n"
		"Per step: agent, status, cached, attempts, duration, cost; then totals.\n"
		"JUnit: one testcase per agent step (classname: the workflow), a failure\n"
		"with the error for failed steps, skipped for skipped ones. The default\n"
		"format is md.\n"
		"\n"
		"exit codes: 0; 66 no such run; 64 usage.\n"),
	LUA_COMMAND("agents", "the agents a workflow can call, from agent files",
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
		"others); 66 no such agent; 64 usage.\n"),
	LUA_COMMAND("logs", "query, analyze and export the structured log",
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
		"Lines that are not whole records are skipped and counted.\n"),
	LUA_COMMAND("serve", "serve /metrics and /health from the state directory",
		"usage: agentflow serve --addr HOST:PORT\n"
		"\n"
		"Serve, until interrupted, GET /metrics (Prometheus text 0.0.4: what\n"
		"`agentflow logs export --format prometheus` prints, from the log) and\n"
		"GET /health (JSON) for long-lived scraping of a project's runs.\n"
		"\n"
		"exit codes: 130 when interrupted; 64 usage; 69 cannot listen.\n"),
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

/* A command written in Lua: a fresh state runs require(module).main(argv). */
static int run_lua(const char *module, int argc, char **argv)
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
	return cmd->run ? cmd->run(argc, argv) : run_lua(cmd->module, argc, argv);
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
	.run = cmd_help,
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

/* Levenshtein distance of a and b, capped at 32 bytes of b (command names). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t prev[33], cur[33], nb = strlen(b) > 32 ? 32 : strlen(b);

	for (size_t j = 0; j <= nb; j++)
		prev[j] = j;
	for (size_t i = 1; a[i - 1]; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof prev);
	}
	return prev[nb];
}

/* The command closest to `word` when it is likely a typo of it, or NULL. */
static const char *closest_command(const char *word)
{
	size_t limit = strlen(word) / 3 > 2 ? strlen(word) / 3 : 2, best_d = limit + 1;
	const char *best = NULL;

	for (size_t i = 0; i < NCOMMANDS; i++) {
		size_t d = edit_distance(word, commands[i]->name);

		if (d < best_d) {
			best = commands[i]->name;
			best_d = d;
		}
	}
	return best;
}

/*
 * `agentflow WORD` where WORD is no file and looks like no path (no '/' or
 * '.'): a mistyped command, not a missing script ("cannot open cahce").
 */
static int unknown_command(const char *word)
{
	const char *near;

	if (strcmp(word, "-") == 0 || strpbrk(word, "/.") || access(word, F_OK) == 0)
		return AF_EXIT_OK;
	near = closest_command(word);
	if (near)
		return af_cli_usage_error(NULL, "unknown command '%s' (did you mean '%s'?)", word, near);
	return af_cli_usage_error(NULL, "unknown command '%s'", word);
}

static int run_top(int argc, char **argv)
{
	top_options o = {0};
	int rc = parse_top(&o, argc, argv), repl;
	lua_State *L;

	if (rc != CONTINUE)
		return rc;
	if (o.script && (rc = unknown_command(argv[o.script])) != AF_EXIT_OK)
		return rc;
	if (o.script && !o.first_chunk && !o.interactive)
		return af_run_implicit(argc - o.script, argv + o.script);
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
