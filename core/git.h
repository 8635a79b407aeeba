/*
 * git.h - libgit2, loaded on first use.
 *
 * libgit2 links sixteen shared libraries (TLS, SSH, Kerberos) whose loading
 * costs more than agentflow's whole start-up budget, and most invocations
 * never look at a repository. So the library is opened with dlopen() the
 * first time a caller needs it, and its functions are reached through the
 * table below. Only this file and git.c name libgit2's symbols.
 */
#ifndef AF_GIT_H
#define AF_GIT_H

#include <git2.h>

/* The libgit2 functions agentflow uses: X(return type, name, parameters). */
#define AF_GIT_FUNCTIONS(X) \
	X(int, git_libgit2_init, (void)) \
	X(int, git_libgit2_version, (int *major, int *minor, int *rev))

typedef struct af_git_api {
#define AF_GIT_FIELD(ret, name, params) ret (*name) params;
	AF_GIT_FUNCTIONS(AF_GIT_FIELD)
#undef AF_GIT_FIELD
} af_git_api;

/*
 * Load and initialise libgit2 once per process. *out is borrowed for the
 * life of the process. Returns 0, or AF_EUNAVAIL with a message naming the
 * library file when it cannot be loaded.
 */
int af_git_open(const af_git_api **out);

#endif
