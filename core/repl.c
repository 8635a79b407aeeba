/* repl.c - the read-eval-print loop (see repl.h). */
#include "repl.h"
#include "af.h"
#include "host.h"

#include <editline/readline.h>
#include <errno.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROMPT "> "
#define PROMPT_MORE ">> "
#define HISTORY_MAX 1000

typedef struct repl {
	lua_State *L;
	int interactive;
	char *history; /* NULL: no history file */
} repl;

static volatile sig_atomic_t prompt_interrupted;

static void on_prompt_sigint(int sig)
{
	(void)sig;
	prompt_interrupted = 1;
}

/*
 * One line of input without its newline, malloc'ed; NULL at end of input.
 * On a terminal, Ctrl-C at the prompt returns "" with *cancel set.
 */
static char *read_line(repl *r, const char *prompt, int *cancel)
{
	*cancel = 0;
	if (r->interactive) {
		/* No SA_RESTART: Ctrl-C must end the read libedit is blocked in. */
		struct sigaction sa = {.sa_handler = on_prompt_sigint}, old;
		char *line;

		sigemptyset(&sa.sa_mask);
		prompt_interrupted = 0;
		sigaction(SIGINT, &sa, &old);
		line = readline(prompt);
		sigaction(SIGINT, &old, NULL);
		if (!line && prompt_interrupted) {
			fputs("^C\n", stdout);
			*cancel = 1;
			return strdup("");
		}
		return line;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);

	if (n < 0) {
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = '\0';
	return line;
}

/* A syntax error that only says the chunk ended early. */
static int incomplete(lua_State *L, int status)
{
	static const char mark[] = "<eof>";
	size_t len;
	const char *msg;

	if (status != LUA_ERRSYNTAX)
		return 0;
	msg = lua_tolstring(L, -1, &len);
	return len >= sizeof mark - 1 && strcmp(msg + len - (sizeof mark - 1), mark) == 0;
}

/* Compile "return LINE" (or the rest of "=LINE"); leaves the chunk on success. */
static int load_expression(lua_State *L, const char *line)
{
	const char *expr = line[0] == '=' ? line + 1 : line;
	const char *code = lua_pushfstring(L, "return %s", expr);
	int status = luaL_loadbuffer(L, code, strlen(code), "=stdin");

	lua_remove(L, -2);
	if (status != LUA_OK)
		lua_pop(L, 1);
	return status;
}

/*
 * Read one complete chunk, compiled, onto the stack. Returns a load status,
 * or -1 at end of input. *source receives the chunk's text (for history).
 */
static int load_chunk(repl *r, char **source)
{
	lua_State *L = r->L;
	int cancel, status;
	char *line = read_line(r, PROMPT, &cancel);

	*source = line;
	if (!line)
		return -1;
	if (cancel || line[strspn(line, " \t")] == '\0') {
		lua_pushnil(L);
		return LUA_OK;
	}
	if (load_expression(L, line) == LUA_OK)
		return LUA_OK;
	for (;;) {
		status = luaL_loadbuffer(L, *source, strlen(*source), "=stdin");
		if (!incomplete(L, status))
			return status;
		lua_pop(L, 1);
		line = read_line(r, PROMPT_MORE, &cancel);
		if (!line || cancel) {
			free(line);
			lua_pushnil(L);
			return LUA_OK; /* input ended or was cancelled mid-chunk */
		}
		size_t a = strlen(*source), b = strlen(line);
		char *joined = realloc(*source, a + b + 2);
		if (!joined) {
			free(line);
			lua_pushliteral(L, "out of memory");
			return LUA_ERRMEM;
		}
		joined[a] = '\n';
		memcpy(joined + a + 1, line, b + 1);
		*source = joined;
		free(line);
	}
}

/* Print the n values at the top of the stack with agentflow._pretty. */
static int print_results(lua_State *L, int n)
{
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentflow._pretty");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK)
		return LUA_ERRRUN;
	lua_getfield(L, -1, "print");
	lua_remove(L, -2);
	lua_insert(L, -(n + 1));
	return af_host_pcall(L, n, 0);
}

static void remember(repl *r, const char *source)
{
	if (!r->interactive || source[strspn(source, " \t")] == '\0')
		return;
	add_history(source);
	if (r->history)
		write_history(r->history);
}

/* Run the chunk on the stack, print what it returns. Returns a Lua status. */
static int eval_print(lua_State *L)
{
	int base = lua_gettop(L) - 1;
	int status = af_host_pcall(L, 0, LUA_MULTRET);
	int n = lua_gettop(L) - base;

	if (status == LUA_OK && n > 0)
		status = print_results(L, n);
	if (status != LUA_OK)
		af_host_report(L);
	lua_settop(L, base);
	return status;
}

static void open_history(repl *r)
{
	const char *dir;

	lua_getglobal(r->L, "af");
	lua_getfield(r->L, -1, "state_dir");
	lua_pushboolean(r->L, 1);
	if (lua_pcall(r->L, 1, 1, 0) == LUA_OK && (dir = lua_tostring(r->L, -1))) {
		size_t n = strlen(dir) + sizeof "/repl_history";
		r->history = malloc(n);
		if (r->history) {
			snprintf(r->history, n, "%s/repl_history", dir);
			stifle_history(HISTORY_MAX);
			read_history(r->history);
		}
	}
	lua_pop(r->L, 2);
}

int af_repl_run(lua_State *L)
{
	repl r = {.L = L, .interactive = isatty(STDIN_FILENO)};
	int failures = 0, status;
	char *source;

	if (r.interactive) {
		printf("agentflow %s (%s): `af` is loaded; Ctrl-D exits\n", AF_VERSION, LUA_RELEASE);
		rl_bind_key('\t', rl_insert); /* tab indents, no file-name completion */
		open_history(&r);
	}
	while ((status = load_chunk(&r, &source)) != -1) {
		if (status == LUA_OK && lua_isnil(L, -1))
			lua_pop(L, 1); /* blank or cancelled input */
		else if (status == LUA_OK)
			status = eval_print(L);
		else
			af_host_report(L);
		failures += status != LUA_OK;
		remember(&r, source);
		free(source);
		fflush(stdout);
	}
	if (r.interactive)
		fputc('\n', stdout);
	free(r.history);
	return failures && !r.interactive ? AF_EXIT_DATAERR : AF_EXIT_OK;
}
