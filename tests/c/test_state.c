/* Unit tests of state.c: project root and state directory resolution. */
#include "af.h"
#include "state.h"
#include "test.h"

#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;

static char *at(const char *rel)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof buf, "%s/%s", root, rel);
	return buf;
}

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	T_CHECK(f != NULL);
	if (f)
		fclose(f);
}

static void test_root_is_nearest_git_entry(void)
{
	char *found = NULL, *expected;

	T_EQ_INT(AF_OK, af_state_ensure(at("repo/.git")));
	T_EQ_INT(AF_OK, af_state_ensure(at("repo/src/deep")));
	expected = realpath(at("repo"), NULL);
	T_EQ_INT(AF_OK, af_state_project_root(&found, at("repo/src/deep")));
	T_EQ_STR(expected, found);
	free(found);
	free(expected);
}

static void test_git_file_marks_linked_worktree(void)
{
	char *found = NULL, *expected;

	T_EQ_INT(AF_OK, af_state_ensure(at("wt/sub")));
	touch(at("wt/.git"));
	expected = realpath(at("wt"), NULL);
	T_EQ_INT(AF_OK, af_state_project_root(&found, at("wt/sub")));
	T_EQ_STR(expected, found);
	free(found);
	free(expected);
}

static void test_missing_directory_is_an_error(void)
{
	char *found = (char *)"untouched";

	T_EQ_INT(AF_EIO, af_state_project_root(&found, at("no/such/dir")));
	T_CHECK(found == NULL);
	T_CHECK(strstr(af_error_last(), "no/such/dir") != NULL);
}

static void test_state_dir_of_script_in_repo(void)
{
	char *dir = NULL, expected[PATH_MAX], *real = realpath(at("repo"), NULL);

	unsetenv("AGENTFLOW_HOME");
	touch(at("repo/src/flow.lua"));
	T_EQ_INT(AF_OK, af_state_dir(&dir, at("repo/src/flow.lua")));
	snprintf(expected, sizeof expected, "%s/.agentflow", real);
	T_EQ_STR(expected, dir);
	free(dir);
	free(real);
}

static void test_home_overrides(void)
{
	char *dir = NULL;

	setenv("AGENTFLOW_HOME", "/somewhere/else", 1);
	T_EQ_INT(AF_OK, af_state_dir(&dir, at("repo/src/flow.lua")));
	T_EQ_STR("/somewhere/else", dir);
	free(dir);
	unsetenv("AGENTFLOW_HOME");
}

static void test_ensure_creates_private_dirs(void)
{
	struct stat st;

	T_EQ_INT(AF_OK, af_state_ensure(at("made/a/b/.agentflow")));
	T_EQ_INT(0, stat(at("made/a/b/.agentflow"), &st));
	T_CHECK(S_ISDIR(st.st_mode));
	T_EQ_INT(0700, st.st_mode & 0777);
	T_EQ_INT(AF_OK, af_state_ensure(at("made/a/b/.agentflow"))); /* idempotent */
}

static void test_ensure_refuses_a_file(void)
{
	touch(at("plainfile"));
	T_EQ_INT(AF_EIO, af_state_ensure(at("plainfile")));
	T_CHECK(strstr(af_error_last(), "not a directory") != NULL);
}

int main(void)
{
	root = t_tmpdir("state");
	T_RUN(test_root_is_nearest_git_entry);
	T_RUN(test_git_file_marks_linked_worktree);
	T_RUN(test_missing_directory_is_an_error);
	T_RUN(test_state_dir_of_script_in_repo);
	T_RUN(test_home_overrides);
	T_RUN(test_ensure_creates_private_dirs);
	T_RUN(test_ensure_refuses_a_file);
	free(root);
	return t_done();
}
