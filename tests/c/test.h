/*
 * test.h - the C unit-test harness: plain functions with checks.
 *
 *   static void test_thing(void) { T_EQ_INT(3, f()); }
 *   int main(void) { T_RUN(test_thing); return t_done(); }
 *
 * A failed check prints file:line, the expression, what was expected and
 * what came, and the test goes on; t_done() returns 1 if any check failed.
 */
#ifndef AF_TEST_H
#define AF_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int t_failed_checks, t_tests, t_failed_tests;

#define T_FAIL(...) do { \
	fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	t_failed_checks++; \
} while (0)

#define T_CHECK(cond) do { \
	if (!(cond)) \
		T_FAIL("check failed: %s", #cond); \
} while (0)

#define T_EQ_INT(expected, got) do { \
	long long t_e_ = (long long)(expected), t_g_ = (long long)(got); \
	if (t_e_ != t_g_) \
		T_FAIL("%s: expected %lld, got %lld", #got, t_e_, t_g_); \
} while (0)

#define T_EQ_STR(expected, got) do { \
	const char *t_e_ = (expected), *t_g_ = (got); \
	if (!t_e_ || !t_g_ || strcmp(t_e_, t_g_) != 0) \
		T_FAIL("%s: expected \"%s\", got \"%s\"", #got, \
		       t_e_ ? t_e_ : "(null)", t_g_ ? t_g_ : "(null)"); \
} while (0)

#define T_RUN(fn) do { \
	int t_before_ = t_failed_checks; \
	t_tests++; \
	fn(); \
	if (t_failed_checks != t_before_) { \
		t_failed_tests++; \
		fprintf(stderr, "not ok - %s\n", #fn); \
	} else { \
		printf("ok - %s\n", #fn); \
	} \
} while (0)

static inline int t_done(void)
{
	printf("%d passed, %d failed\n", t_tests - t_failed_tests, t_failed_tests);
	return t_failed_tests ? 1 : 0;
}

/* mkdir -p for the harness itself (the code under test has its own). */
static inline void t_mkdirs(char *path)
{
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	mkdir(path, 0700);
}

/* A new, empty directory under $AF_TEST_TMP (or /tmp); caller frees. */
static inline char *t_tmpdir(const char *name)
{
	const char *base = getenv("AF_TEST_TMP");
	char *dir = malloc(4096);

	if (!dir)
		abort();
	snprintf(dir, 4096, "%s", base ? base : "/tmp/af-unit");
	t_mkdirs(dir);
	snprintf(dir, 4096, "%s/%s.XXXXXX", base ? base : "/tmp/af-unit", name);
	if (!mkdtemp(dir))
		abort();
	return dir;
}

#endif
