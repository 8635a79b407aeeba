/* test_fs.c - glob matching and walking (core/fs.c), content hashes (core/hash.c). */
#include "af.h"
#include "fs.h"
#include "hash.h"
#include "test.h"

static void test_glob_rules(void)
{
	T_CHECK(af_glob_match("erp/*.lua", "erp/a.lua"));
	T_CHECK(!af_glob_match("erp/*.lua", "erp/x/a.lua"));
	T_CHECK(af_glob_match("erp/**/*.lua", "erp/a.lua"));
	T_CHECK(af_glob_match("erp/**/*.lua", "erp/x/y/a.lua"));
	T_CHECK(!af_glob_match("erp/**/*.lua", "erpx/a.lua"));
	T_CHECK(af_glob_match("**/*.md", "a/b/c.md"));
	T_CHECK(af_glob_match("**", "anything/at/all"));
	T_CHECK(af_glob_match("a?c", "abc"));
	T_CHECK(!af_glob_match("a?c", "a/c"));
	T_CHECK(af_glob_match("[ab]*.txt", "b1.txt"));
	T_CHECK(!af_glob_match("[ab]*.txt", "c1.txt"));
	T_CHECK(af_glob_match("plain.txt", "plain.txt"));
	T_CHECK(!af_glob_match("plain.txt", "plain.txt2"));
}

static void collect(const char *path, void *ctx)
{
	char *out = ctx;

	strcat(out, path);
	strcat(out, ";");
}

static void test_walk_from_the_literal_directory(void)
{
	char root[256], cmd[4096], found[1024] = "";

	snprintf(root, sizeof root, "%s/fs-walk", getenv("AF_TEST_TMP"));
	snprintf(cmd, sizeof cmd,
		 "rm -rf '%s' && mkdir -p '%s/erp/x' '%s/.agentflow' && touch '%s/erp/x/a.lua' "
		 "'%s/erp/b.txt' '%s/.agentflow/c.lua'", root, root, root, root, root, root);
	T_EQ_INT(0, system(cmd));
	T_EQ_INT(AF_OK, af_glob(root, "erp/**/*.lua", collect, found));
	T_EQ_STR("erp/x/a.lua;", found);
	found[0] = 0;
	T_EQ_INT(AF_OK, af_glob(root, "**/*.lua", collect, found));
	T_EQ_STR("erp/x/a.lua;", found); /* .agentflow is never walked */
	found[0] = 0;
	T_EQ_INT(AF_OK, af_glob(root, "nope/*.lua", collect, found));
	T_EQ_STR("", found);
}

static void test_hashes(void)
{
	char a[AF_HASH_HEX], b[AF_HASH_HEX];

	af_hash("abc", 3, a);
	af_hash("abd", 3, b);
	T_EQ_STR("06b05ab6733a618578af5f94892f3950", a); /* xxhsum -H2's digits for "abc" */
	T_EQ_INT(32, strlen(a));
	T_CHECK(strcmp(a, b) != 0);
	T_EQ_INT(AF_ENOTFOUND, af_hash_file("/no/such/file", a));
}

int main(void)
{
	T_RUN(test_glob_rules);
	T_RUN(test_walk_from_the_literal_directory);
	T_RUN(test_hashes);
	return t_done();
}
