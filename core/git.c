/* git.c - the lazily loaded libgit2 (see git.h). */
#include "git.h"
#include "af.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AF_STR_(x) #x
#define AF_STR(x) AF_STR_(x)
/* The run-time library matching the headers we were compiled against. */
#define AF_GIT_SONAME "libgit2.so." AF_STR(LIBGIT2_VER_MAJOR) "." AF_STR(LIBGIT2_VER_MINOR)

static af_git_api api;
static int loaded; /* 0 not tried, 1 loaded, -1 failed */

static int resolve_all(void *lib)
{
	void *sym;

#define AF_GIT_RESOLVE(ret, name, params) \
	if (!(sym = dlsym(lib, #name))) \
		return af_error_set(AF_EUNAVAIL, "%s lacks %s", AF_GIT_SONAME, #name); \
	*(void **)&api.name = sym;
	AF_GIT_FUNCTIONS(AF_GIT_RESOLVE)
#undef AF_GIT_RESOLVE
	return AF_OK;
}

int af_git_open(const af_git_api **out)
{
	void *lib;

	*out = NULL;
	if (loaded < 0)
		return af_error_set(AF_EUNAVAIL, "%s could not be loaded", AF_GIT_SONAME);
	if (loaded == 0) {
		lib = dlopen(AF_GIT_SONAME, RTLD_NOW | RTLD_LOCAL);
		if (!lib) {
			loaded = -1;
			return af_error_set(AF_EUNAVAIL, "cannot load %s: %s", AF_GIT_SONAME, dlerror());
		}
		if (resolve_all(lib) != AF_OK || api.git_libgit2_init() < 0) {
			loaded = -1;
			return AF_EUNAVAIL;
		}
		loaded = 1;
	}
	*out = &api;
	return AF_OK;
}

static git_repository *repo; /* the last one opened, for repo_dir */
static char *repo_dir;

static int git_fail(int code, const char *what)
{
	const git_error *e = api.git_error_last();

	return af_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

int af_git_repo(const char *dir, git_repository **out)
{
	const af_git_api *g;
	git_repository *r;
	int rc;

	*out = NULL;
	if (repo && repo_dir && strcmp(repo_dir, dir) == 0) {
		*out = repo;
		return AF_OK;
	}
	if ((rc = af_git_open(&g)) != AF_OK)
		return rc;
	rc = g->git_repository_open_ext(&r, dir, 0, NULL);
	if (rc == GIT_ENOTFOUND)
		return af_error_set(AF_ENOTFOUND, "%s is not in a git repository", dir);
	if (rc < 0)
		return git_fail(AF_EIO, dir);
	if (repo)
		g->git_repository_free(repo);
	free(repo_dir);
	repo = r;
	repo_dir = strdup(dir);
	*out = r;
	return AF_OK;
}

int af_git_head(const char *dir, char commit[41], char *branch, size_t branch_len,
		char *root, size_t root_len)
{
	git_repository *r;
	git_reference *head = NULL;
	git_oid oid;
	int rc = af_git_repo(dir, &r);

	if (rc != AF_OK)
		return rc;
	snprintf(root, root_len, "%s", api.git_repository_workdir(r) ? api.git_repository_workdir(r) : "");
	commit[0] = 0;
	rc = api.git_reference_name_to_id(&oid, r, "HEAD");
	if (rc == 0)
		api.git_oid_tostr(commit, 41, &oid);
	else if (rc != GIT_ENOTFOUND && rc != GIT_EUNBORNBRANCH)
		return git_fail(AF_EIO, "HEAD");
	rc = api.git_repository_head(&head, r);
	if (rc == 0) {
		snprintf(branch, branch_len, "%s", api.git_reference_shorthand(head));
		api.git_reference_free(head);
	} else {
		snprintf(branch, branch_len, "%s", rc == GIT_EUNBORNBRANCH ? "(unborn)" : "HEAD");
	}
	return AF_OK;
}

int af_git_match(const char *dir, const char *pattern, void (*cb)(const char *path, void *ctx),
		 void *ctx)
{
	char *strings[] = {(char *)pattern};
	git_strarray arr = {strings, 1};
	git_pathspec *ps;
	git_pathspec_match_list *m;
	git_repository *r;
	int rc = af_git_repo(dir, &r);

	if (rc != AF_OK)
		return rc;
	if (api.git_pathspec_new(&ps, &arr) < 0)
		return git_fail(AF_EINVAL, pattern);
	rc = api.git_pathspec_match_workdir(&m, r, GIT_PATHSPEC_DEFAULT, ps);
	if (rc == GIT_ENOTFOUND) {
		api.git_pathspec_free(ps);
		return AF_OK;
	}
	if (rc < 0) {
		rc = git_fail(AF_EIO, pattern);
		api.git_pathspec_free(ps);
		return rc;
	}
	for (size_t i = 0, n = api.git_pathspec_match_list_entrycount(m); i < n; i++)
		cb(api.git_pathspec_match_list_entry(m, i), ctx);
	api.git_pathspec_match_list_free(m);
	api.git_pathspec_free(ps);
	return AF_OK;
}
