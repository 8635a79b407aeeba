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
	X(int, git_libgit2_version, (int *major, int *minor, int *rev)) \
	X(const git_error *, git_error_last, (void)) \
	X(int, git_repository_open_ext, (git_repository **out, const char *path, unsigned int flags, \
					 const char *ceiling_dirs)) \
	X(void, git_repository_free, (git_repository *repo)) \
	X(const char *, git_repository_workdir, (const git_repository *repo)) \
	X(int, git_reference_name_to_id, (git_oid *out, git_repository *repo, const char *name)) \
	X(int, git_repository_head, (git_reference **out, git_repository *repo)) \
	X(const char *, git_reference_shorthand, (const git_reference *ref)) \
	X(void, git_reference_free, (git_reference *ref)) \
	X(char *, git_oid_tostr, (char *out, size_t n, const git_oid *id)) \
	X(int, git_pathspec_new, (git_pathspec **out, const git_strarray *pathspec)) \
	X(void, git_pathspec_free, (git_pathspec *ps)) \
	X(int, git_pathspec_match_workdir, (git_pathspec_match_list **out, git_repository *repo, \
					    uint32_t flags, git_pathspec *ps)) \
	X(size_t, git_pathspec_match_list_entrycount, (const git_pathspec_match_list *m)) \
	X(const char *, git_pathspec_match_list_entry, (const git_pathspec_match_list *m, size_t pos)) \
	X(void, git_pathspec_match_list_free, (git_pathspec_match_list *m))

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

/*
 * The repository holding `dir` (searching upwards), kept open for later
 * calls with the same `dir`. *out is borrowed. AF_ENOTFOUND outside a
 * repository; AF_EUNAVAIL when libgit2 cannot be loaded.
 */
int af_git_repo(const char *dir, git_repository **out);

/*
 * HEAD of the repository holding `dir`: the commit as 40 hex digits ("" on
 * an unborn branch) and the branch's short name ("HEAD" when detached).
 * The work tree root goes to `root` (with a trailing '/'). Errors as
 * af_git_repo.
 */
int af_git_head(const char *dir, char commit[41], char *branch, size_t branch_len,
		char *root, size_t root_len);

/*
 * Call cb(path, ctx) for each file of the work tree of `dir`'s repository
 * (tracked, or untracked and not ignored) that matches git pathspec
 * `pattern`; paths are relative to the work tree root.
 */
int af_git_match(const char *dir, const char *pattern, void (*cb)(const char *path, void *ctx),
		 void *ctx);

#endif
