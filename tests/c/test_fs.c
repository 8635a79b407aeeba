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

/* The key name of `path` declared in `cwd` under root /p/r. */
static const char *key(const char *cwd, const char *path)
{
	static char out[256];

	return af_path_key(out, sizeof out, "/p/r", cwd, path) < 0 ? "(too long)" : out;
}

static void test_path_keys(void)
{
	char small[8];

	T_EQ_STR("a.txt", key("/p/r", "a.txt"));
	T_EQ_STR("w/data/a.json", key("/p/r/w", "./data/a.json"));
	T_EQ_STR("w/data/a.json", key("/p/r", "w//./data/../data/a.json"));
	T_EQ_STR("a.txt", key("/p/r/w", "../a.txt"));
	T_EQ_STR("w/data/*.json", key("/p/r/w", "data/*.json"));
	T_EQ_STR("a.txt", key("/elsewhere", "/p/r/a.txt"));
	T_EQ_STR(".", key("/p/r/w", ".."));
	T_EQ_STR("/p/rx/a.txt", key("/p/r", "../rx/a.txt"));
	T_EQ_STR("/etc/passwd", key("/p/r/w", "../../../../etc/passwd"));
	T_EQ_STR("/q/b", key("/q", "b/"));
	T_EQ_INT(-1, af_path_key(small, sizeof small, "/p/r", "/p/r", "a-long-name"));
	T_EQ_INT(1, af_path_key(small, sizeof small, "/", "/", "x"));
	T_EQ_STR("x", small);
	T_EQ_INT(1, af_path_key(small, sizeof small, "/", "/x", ".."));
	T_EQ_STR(".", small);
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
	T_RUN(test_path_keys);
	T_RUN(test_walk_from_the_literal_directory);
	T_RUN(test_hashes);
	return t_done();
}
