/* Unit tests of error.c, embed.c and git.c. */
#include "af.h"
#include "embed.h"
#include "git.h"
#include "test.h"

#include <errno.h>

static void test_error_set_returns_code(void)
{
	T_EQ_INT(AF_ENOTFOUND, af_error_set(AF_ENOTFOUND, "no agent %s", "x"));
	T_EQ_STR("no agent x", af_error_last());
	T_EQ_STR("AF_ENOTFOUND", af_error_name(AF_ENOTFOUND));
}

static void test_error_errno_appends_strerror(void)
{
	errno = ENOENT;
	T_EQ_INT(AF_EIO, af_error_errno(AF_EIO, "open %s", "f"));
	T_EQ_STR("open f: No such file or directory", af_error_last());
}

static void test_embedded_table_is_sorted_and_found(void)
{
	T_CHECK(af_embed_count > 0);
	for (unsigned i = 1; i < af_embed_count; i++)
		T_CHECK(strcmp(af_embed_modules[i - 1].name, af_embed_modules[i].name) < 0);
	for (unsigned i = 0; i < af_embed_count; i++)
		T_CHECK(af_embed_find(af_embed_modules[i].name) == &af_embed_modules[i]);
	T_CHECK(af_embed_find("agentflow") != NULL);
	T_EQ_STR("lua/agentflow/init.lua", af_embed_find("agentflow")->path);
	T_CHECK(af_embed_find("agentflow.nonexistent") == NULL);
	T_CHECK(af_embed_find("") == NULL);
}

static void test_git_loads_matching_version(void)
{
	const af_git_api *git = NULL, *again = NULL;
	int major = -1, minor = -1, rev = -1;

	T_EQ_INT(AF_OK, af_git_open(&git));
	T_CHECK(git != NULL);
	if (!git)
		return;
	git->git_libgit2_version(&major, &minor, &rev);
	T_EQ_INT(LIBGIT2_VER_MAJOR, major);
	T_EQ_INT(LIBGIT2_VER_MINOR, minor);
	T_EQ_INT(AF_OK, af_git_open(&again));
	T_CHECK(again == git);
}

int main(void)
{
	T_RUN(test_error_set_returns_code);
	T_RUN(test_error_errno_appends_strerror);
	T_RUN(test_embedded_table_is_sorted_and_found);
	T_RUN(test_git_loads_matching_version);
	return t_done();
}
