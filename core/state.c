/*
 * state.c - resolution of the project root and the state directory.
 *
 * Why not libgit2's repository discovery: loading libgit2 and the sixteen
 * libraries it pulls in costs more than the whole start-up budget, and a
 * work tree root is simply the nearest ancestor holding a `.git` entry.
 * libgit2 is loaded later, only by the parts that need a repository.
 */
#include "state.h"
#include "af.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *path_join(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	int slash = na > 0 && a[na - 1] != '/';
	char *p = malloc(na + slash + nb + 1);

	if (!p)
		return NULL;
	memcpy(p, a, na);
	if (slash)
		p[na] = '/';
	memcpy(p + na + slash, b, nb + 1);
	return p;
}

/* Strip the last component of an absolute path in place ("/a/b" -> "/a"). */
static int path_up(char *p)
{
	char *slash = strrchr(p, '/');

	if (!slash || (slash == p && p[1] == '\0'))
		return 0;
	if (slash == p)
		p[1] = '\0';
	else
		*slash = '\0';
	return 1;
}

int af_state_project_root(char **out, const char *dir)
{
	char *abs = realpath(dir, NULL);
	struct stat st;

	*out = NULL;
	if (!abs)
		return af_error_errno(AF_EIO, "%s", dir);
	do {
		char *git = path_join(abs, ".git");

		if (!git) {
			free(abs);
			return af_error_set(AF_ENOMEM, "out of memory");
		}
		if (lstat(git, &st) == 0) {
			free(git);
			*out = abs;
			return AF_OK;
		}
		free(git);
	} while (path_up(abs));
	free(abs);
	return AF_OK;
}

/* The directory holding `script_path`, as a new string. */
static char *script_dir(const char *script_path)
{
	const char *slash = strrchr(script_path, '/');

	if (!slash)
		return strdup(".");
	if (slash == script_path)
		return strdup("/");
	return strndup(script_path, (size_t)(slash - script_path));
}

int af_state_dir(char **out, const char *script_path)
{
	const char *home = getenv("AGENTFLOW_HOME");
	char *start, *root = NULL, cwd[PATH_MAX];
	int rc;

	*out = NULL;
	if (home && *home) {
		*out = strdup(home);
		return *out ? AF_OK : af_error_set(AF_ENOMEM, "out of memory");
	}
	start = script_path ? script_dir(script_path) : strdup(".");
	if (!start)
		return af_error_set(AF_ENOMEM, "out of memory");
	rc = af_state_project_root(&root, start);
	free(start);
	if (rc == AF_OK && !root) {
		if (!getcwd(cwd, sizeof cwd))
			return af_error_errno(AF_EIO, "getcwd");
		root = strdup(cwd);
	}
	if (rc != AF_OK || !root)
		return rc != AF_OK ? rc : af_error_set(AF_ENOMEM, "out of memory");
	*out = path_join(root, ".agentflow");
	free(root);
	return *out ? AF_OK : af_error_set(AF_ENOMEM, "out of memory");
}

int af_state_ensure(const char *dir)
{
	char *p = strdup(dir);
	struct stat st;
	int rc = AF_OK;

	if (!p)
		return af_error_set(AF_ENOMEM, "out of memory");
	/* Create each missing ancestor in turn, like mkdir -p. */
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			rc = af_error_errno(AF_EIO, "cannot create %s", p);
			break;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	if (rc == AF_OK && (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)))
		rc = af_error_set(AF_EIO, "%s exists and is not a directory", p);
	free(p);
	return rc;
}
