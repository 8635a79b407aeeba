/* test_store.c - the LMDB environment (core/store.c). */
#include "af.h"
#include "store.h"
#include "test.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[512];

static void fresh_dir(const char *name)
{
	char cmd[1024];

	snprintf(dir, sizeof dir, "%s/%s", getenv("AF_TEST_TMP"), name);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, getenv("AF_TEST_TMP"));
	T_EQ_INT(0, system(cmd));
}

static void copy_out(const void *val, size_t vlen, void *ctx)
{
	snprintf(ctx, 64, "%.*s", (int)vlen, (const char *)val);
}

static void test_put_get_delete(void)
{
	af_store *s;
	char got[64] = "";
	af_store_op put = {AF_DB_ENTRIES, "k", 1, "value", 5, 0};
	af_store_op del = {AF_DB_ENTRIES, "k", 1, NULL, 0, 0};

	fresh_dir("store-basic");
	T_EQ_INT(AF_OK, af_store_open(&s, dir, 0));
	T_EQ_INT(AF_ENOTFOUND, af_store_get(s, AF_DB_ENTRIES, "k", 1, copy_out, got));
	T_EQ_INT(AF_OK, af_store_write(s, &put, 1));
	T_EQ_INT(AF_OK, af_store_get(s, AF_DB_ENTRIES, "k", 1, copy_out, got));
	T_EQ_STR("value", got);
	T_EQ_INT(AF_ENOTFOUND, af_store_get(s, AF_DB_MANIFESTS, "k", 1, copy_out, got));
	T_EQ_INT(AF_OK, af_store_write(s, &del, 1));
	T_EQ_INT(AF_ENOTFOUND, af_store_get(s, AF_DB_ENTRIES, "k", 1, copy_out, got));
	af_store_close(s);
}

static void test_counts_add_inside_the_transaction(void)
{
	af_store *s;
	char got[64] = "";
	af_store_op add = {AF_DB_COUNTERS, "hits/a", 6, NULL, 0, 2};

	fresh_dir("store-count");
	T_EQ_INT(AF_OK, af_store_open(&s, dir, 0));
	T_EQ_INT(AF_OK, af_store_write(s, &add, 1));
	T_EQ_INT(AF_OK, af_store_write(s, &add, 1));
	af_store_get(s, AF_DB_COUNTERS, "hits/a", 6, copy_out, got);
	T_EQ_STR("4", got);
	add.val = "17.5";
	add.vlen = 4;
	T_EQ_INT(AF_OK, af_store_write(s, &add, 1));
	af_store_get(s, AF_DB_COUNTERS, "hits/a", 6, copy_out, got);
	T_EQ_STR("6 17.5", got);
	af_store_close(s);
}

/* Deferred counts of many runs fold into one sum per count; the latest value wins. */
static void test_deferred_counts_fold_into_sums(void)
{
	af_store *s;
	char got[64] = "";
	size_t folded;
	af_store_op run1[] = {{AF_DB_COUNTERS, "access/k1", 9, "100.5", 5, 2},
			      {AF_DB_COUNTERS, "hits/a", 6, NULL, 0, 3}};
	af_store_op run2[] = {{AF_DB_COUNTERS, "access/k1", 9, "200.5", 5, 1},
			      {AF_DB_COUNTERS, "access/k2", 9, "200.5", 5, 4}};

	fresh_dir("store-defer");
	T_EQ_INT(AF_OK, af_store_open(&s, dir, 0));
	T_EQ_INT(AF_OK, af_store_write(s, &run1[1], 1));
	T_EQ_INT(AF_OK, af_store_defer_counts(s, run1, 2));
	T_EQ_INT(AF_OK, af_store_defer_counts(s, run2, 2));
	T_EQ_INT(2, af_store_deferred(s));
	T_EQ_INT(AF_ENOTFOUND, af_store_get(s, AF_DB_COUNTERS, "access/k1", 9, copy_out, got));
	T_EQ_INT(AF_OK, af_store_fold_counts(s, &folded));
	T_EQ_INT(2, folded);
	T_EQ_INT(0, af_store_deferred(s));
	af_store_get(s, AF_DB_COUNTERS, "access/k1", 9, copy_out, got);
	T_EQ_STR("3 200.5", got);
	af_store_get(s, AF_DB_COUNTERS, "access/k2", 9, copy_out, got);
	T_EQ_STR("4 200.5", got);
	af_store_get(s, AF_DB_COUNTERS, "hits/a", 6, copy_out, got);
	T_EQ_STR("6", got);
	T_EQ_INT(AF_OK, af_store_fold_counts(s, &folded));
	T_EQ_INT(0, folded);
	af_store_close(s);
}

/* Processes deferring and folding at once: every change counts once. */
static void test_concurrent_folds_count_each_change_once(void)
{
	af_store *s;
	char got[64] = "";
	af_store_op one = {AF_DB_COUNTERS, "hits/a", 6, NULL, 0, 1};

	fresh_dir("store-fold");
	T_EQ_INT(AF_OK, af_store_open(&s, dir, 0));
	af_store_close(s);
	for (int p = 0; p < 4; p++) {
		if (fork() == 0) {
			if (af_store_open(&s, dir, 0) != AF_OK)
				_exit(1);
			for (int i = 0; i < 50; i++)
				if (af_store_defer_counts(s, &one, 1) != AF_OK ||
				    (i % 7 == 0 && af_store_fold_counts(s, NULL) != AF_OK))
					_exit(1);
			af_store_close(s);
			_exit(0);
		}
	}
	for (int p = 0; p < 4; p++) {
		int status;

		wait(&status);
		T_EQ_INT(0, status);
	}
	T_EQ_INT(AF_OK, af_store_open(&s, dir, 0));
	T_EQ_INT(AF_OK, af_store_fold_counts(s, NULL));
	af_store_get(s, AF_DB_COUNTERS, "hits/a", 6, copy_out, got);
	T_EQ_STR("200", got);
	af_store_close(s);
}

static int count_keys(const void *k, size_t kl, const void *v, size_t vl, void *ctx)
{
	(void)k, (void)kl, (void)v, (void)vl;
	++*(int *)ctx;
	return 0;
}

static void test_scan_stops_at_the_prefix(void)
{
	af_store *s;
	af_store_op ops[] = {
		{AF_DB_LINEAGE, "a/1", 3, "x", 1, 0},
		{AF_DB_LINEAGE, "a/2", 3, "x", 1, 0},
		{AF_DB_LINEAGE, "b/1", 3, "x", 1, 0},
	};
	int n = 0;

	fresh_dir("store-scan");
	T_EQ_INT(AF_OK, af_store_open(&s, dir, 0));
	T_EQ_INT(AF_OK, af_store_write(s, ops, 3));
	T_EQ_INT(AF_OK, af_store_scan(s, AF_DB_LINEAGE, "a/", 2, count_keys, &n));
	T_EQ_INT(2, n);
	n = 0;
	T_EQ_INT(AF_OK, af_store_scan(s, AF_DB_LINEAGE, "", 0, count_keys, &n));
	T_EQ_INT(3, n);
	af_store_close(s);
}

/* A write that does not fit grows the map and is replayed. */
static void test_a_full_map_grows(void)
{
	static char big[200 * 1024];
	af_store *s;
	size_t entries, used, first;
	char key[16];

	fresh_dir("store-grow");
	memset(big, 'x', sizeof big);
	T_EQ_INT(AF_OK, af_store_open(&s, dir, 256 * 1024));
	first = af_store_map_size(s);
	for (int i = 0; i < 20; i++) {
		af_store_op op = {AF_DB_BLOBS, key, (size_t)snprintf(key, sizeof key, "b%d", i), big,
				  sizeof big, 0};

		T_EQ_INT(AF_OK, af_store_write(s, &op, 1));
	}
	T_CHECK(af_store_map_size(s) > first);
	T_EQ_INT(AF_OK, af_store_count(s, AF_DB_BLOBS, &entries, &used));
	T_EQ_INT(20, entries);
	af_store_close(s);
}

static void test_damage_is_an_error_that_says_how_to_reset(void)
{
	char path[600], junk[8192];
	af_store *s;
	int fd;

	fresh_dir("store-damage");
	T_EQ_INT(AF_OK, af_store_open(&s, dir, 0));
	af_store_close(s);
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	memset(junk, 0x5a, sizeof junk);
	fd = open(path, O_WRONLY | O_TRUNC);
	T_CHECK(fd >= 0);
	T_EQ_INT(sizeof junk, write(fd, junk, sizeof junk));
	close(fd);
	T_EQ_INT(AF_EIO, af_store_open(&s, dir, 0));
	T_CHECK(strstr(af_error_last(), "data.mdb is damaged") != NULL);
	T_CHECK(strstr(af_error_last(), "agentflow cache reset") != NULL);
}

static void test_truncation_is_damage(void)
{
	static char val[64 * 1024];
	char path[600], key[16];
	af_store *s;

	fresh_dir("store-trunc");
	T_EQ_INT(AF_OK, af_store_open(&s, dir, 0));
	for (int i = 0; i < 10; i++) {
		af_store_op op = {AF_DB_BLOBS, key, (size_t)snprintf(key, sizeof key, "b%d", i), val,
				  sizeof val, 0};

		af_store_write(s, &op, 1);
	}
	af_store_close(s);
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	T_EQ_INT(0, truncate(path, 64 * 1024));
	T_EQ_INT(AF_EIO, af_store_open(&s, dir, 0));
	T_CHECK(strstr(af_error_last(), "damaged") != NULL);
}

int main(void)
{
	T_RUN(test_put_get_delete);
	T_RUN(test_counts_add_inside_the_transaction);
	T_RUN(test_deferred_counts_fold_into_sums);
	T_RUN(test_concurrent_folds_count_each_change_once);
	T_RUN(test_scan_stops_at_the_prefix);
	T_RUN(test_a_full_map_grows);
	T_RUN(test_damage_is_an_error_that_says_how_to_reset);
	T_RUN(test_truncation_is_damage);
	return t_done();
}
