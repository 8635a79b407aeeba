/* test_log.c - the JSON-lines log (core/log.c). */
#include "af.h"
#include "log.h"
#include "logscan.h"
#include "test.h"

#include <sys/wait.h>
#include <unistd.h>

static char path[512];

static void fresh(const char *name)
{
	char cmd[1024];

	snprintf(path, sizeof path, "%s/%s.jsonl", getenv("AF_TEST_TMP"), name);
	snprintf(cmd, sizeof cmd, "mkdir -p '%s' && rm -f '%s'*", getenv("AF_TEST_TMP"), path);
	T_EQ_INT(0, system(cmd));
}

static char *slurp(const char *p)
{
	static char buf[1 << 20];
	FILE *f = fopen(p, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

static void test_record_shape(void)
{
	af_log *log;
	char *text;

	fresh("shape");
	T_EQ_INT(AF_OK, af_log_open(&log, path, 0, 0));
	T_EQ_INT(AF_OK, af_log_write(log, AF_LOG_WARN, "cache", "miss \"quoted\"\n", "{\"agent\":\"a\"}"));
	T_EQ_INT(AF_OK, af_log_write(log, AF_LOG_INFO, "run", "started", NULL));
	af_log_close(log);
	text = slurp(path);
	T_CHECK(strncmp(text, "{\"timestamp\":\"20", 16) == 0);
	T_CHECK(strstr(text, "Z\",\"level\":\"WARN\",\"component\":\"cache\","
			     "\"message\":\"miss \\\"quoted\\\"\\n\",\"context\":{\"agent\":\"a\"}}\n") != NULL);
	T_CHECK(strstr(text, "\"level\":\"INFO\",\"component\":\"run\",\"message\":\"started\",\"context\":{}}\n") != NULL);
}

static void test_secrets_are_redacted(void)
{
	char *env[] = {"PATH=/bin", "ANTHROPIC_API_KEY=sk-ant-12345", "DB_PASSWORD=hunter22", NULL};
	af_log *log;
	char *text;

	fresh("redact");
	T_EQ_INT(AF_OK, af_log_open(&log, path, 0, 0));
	af_log_add_env_secrets(log, env);
	af_log_add_secret(log, "abc"); /* too short to redact */
	af_log_write(log, AF_LOG_INFO, "agent", "key sk-ant-12345 and hunter22",
		     "{\"header\":\"Authorization: Bearer eyJhbGc.iOi-J9_x\",\"k\":\"sk-ant-12345\"}");
	af_log_write(log, AF_LOG_INFO, "agent", "hunter2 hunterhunter22", "{\"end\":\"xhunter22\"}");
	af_log_write(log, AF_LOG_INFO, "agent", "Bearer", "{\"k\":\"Bearer abc\"}");
	af_log_close(log);
	text = slurp(path);
	T_CHECK(strstr(text, "\"message\":\"hunter2 hunter[REDACTED]\",\"context\":{\"end\":\"x[REDACTED]\"}") != NULL);
	T_CHECK(strstr(text, "\"message\":\"Bearer\",\"context\":{\"k\":\"Bearer [REDACTED]\"}") != NULL);
	T_CHECK(strstr(text, "sk-ant") == NULL);
	T_CHECK(strstr(text, "hunter22") == NULL);
	T_CHECK(strstr(text, "eyJhbGc") == NULL);
	T_CHECK(strstr(text, "\"message\":\"key [REDACTED] and [REDACTED]\"") != NULL);
	T_CHECK(strstr(text, "Bearer [REDACTED]\",\"k\":\"[REDACTED]\"") != NULL);
}

static void test_rotation_keeps_files(void)
{
	char old[600];
	af_log *log;

	fresh("rotate");
	T_EQ_INT(AF_OK, af_log_open(&log, path, 1000, 2));
	for (int i = 0; i < 100; i++)
		af_log_write(log, AF_LOG_INFO, "t", "a record of some length to fill the file", NULL);
	af_log_close(log);
	snprintf(old, sizeof old, "%s.1", path);
	T_CHECK(access(old, F_OK) == 0);
	snprintf(old, sizeof old, "%s.2", path);
	T_CHECK(access(old, F_OK) == 0);
	snprintf(old, sizeof old, "%s.3", path);
	T_CHECK(access(old, F_OK) != 0);
	T_CHECK(strlen(slurp(path)) <= 1000);
}

/* Four processes appending at once: every line is whole. */
static void test_concurrent_writers_never_interleave(void)
{
	char *text, *line;
	int lines = 0, whole = 0;

	fresh("concurrent");
	for (int p = 0; p < 4; p++) {
		if (fork() == 0) {
			af_log *log;

			if (af_log_open(&log, path, 0, 0) != AF_OK)
				_exit(1);
			for (int i = 0; i < 2000; i++)
				af_log_write(log, AF_LOG_INFO, "writer", "a line that must stay whole", NULL);
			af_log_close(log);
			_exit(0);
		}
	}
	for (int p = 0; p < 4; p++)
		wait(NULL);
	text = slurp(path);
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		lines++;
		whole += strncmp(line, "{\"timestamp\"", 12) == 0 && line[strlen(line) - 1] == '}';
	}
	T_EQ_INT(8000, lines);
	T_EQ_INT(8000, whole);
}

static int count_line(const char *line, size_t len, void *ctx)
{
	(void)len;
	if (line)
		++*(int *)ctx;
	return 0;
}

static void test_scan_filters_without_decoding(void)
{
	af_logscan_filter f = {0};
	size_t skipped;
	af_log *log;
	FILE *out;
	int n = 0;

	fresh("scan");
	T_EQ_INT(AF_OK, af_log_open(&log, path, 0, 0));
	af_log_write(log, AF_LOG_INFO, "cache", "hit", "{\"agent\":\"a\"}");
	af_log_write(log, AF_LOG_WARN, "step", "retry", "{\"agent\":\"b\"}");
	af_log_write(log, AF_LOG_ERROR, "run", "failed", NULL);
	af_log_close(log);
	out = fopen(path, "a");
	fputs("not a record\n{\"timestamp\":\"2026\n", out);
	fclose(out);
	T_EQ_INT(AF_OK, af_logscan(path, &f, count_line, &n, &skipped));
	T_EQ_INT(3, n);
	T_EQ_INT(2, skipped);
	f.min_level = AF_LOG_WARN;
	n = 0;
	af_logscan(path, &f, count_line, &n, &skipped);
	T_EQ_INT(2, n);
	f.component = "step";
	n = 0;
	af_logscan(path, &f, count_line, &n, &skipped);
	T_EQ_INT(1, n);
	memset(&f, 0, sizeof f);
	f.contains[0] = "\"agent\":\"a\"";
	n = 0;
	af_logscan(path, &f, count_line, &n, &skipped);
	T_EQ_INT(1, n);
	memset(&f, 0, sizeof f);
	f.until = "2000-01-01T00:00:00.000Z";
	n = 0;
	af_logscan(path, &f, count_line, &n, &skipped);
	T_EQ_INT(0, n);
	T_EQ_INT(AF_ENOTFOUND, af_logscan("/no/such/log", &f, count_line, &n, &skipped));
}

static int lines_in(const char *p)
{
	int n = 0;

	for (const char *c = slurp(p); *c; c++)
		n += *c == '\n';
	return n;
}

/* INFO records wait in the batch; a WARN record, a flush and exit(3) write it. */
static void test_records_are_batched(void)
{
	af_log *log;
	int status;

	fresh("batch");
	T_EQ_INT(AF_OK, af_log_open(&log, path, 0, 0));
	af_log_write(log, AF_LOG_INFO, "step", "step ended", NULL);
	af_log_write(log, AF_LOG_INFO, "step", "step ended", NULL);
	T_EQ_INT(0, lines_in(path));
	af_log_write(log, AF_LOG_WARN, "step", "retry", NULL);
	T_EQ_INT(3, lines_in(path));
	af_log_write(log, AF_LOG_INFO, "step", "step ended", NULL);
	T_EQ_INT(3, lines_in(path));
	af_log_flush_all();
	T_EQ_INT(4, lines_in(path));
	af_log_close(log);
	if (fork() == 0) {
		if (af_log_open(&log, path, 0, 0) != AF_OK)
			_exit(1);
		af_log_write(log, AF_LOG_INFO, "run", "left without closing the log", NULL);
		exit(0);
	}
	wait(&status);
	T_EQ_INT(0, status);
	T_EQ_INT(5, lines_in(path));
}

static void test_levels(void)
{
	T_EQ_INT(AF_LOG_WARN, af_log_level("warning"));
	T_EQ_INT(AF_LOG_DEBUG, af_log_level("DEBUG"));
	T_EQ_INT(-1, af_log_level("loud"));
	T_EQ_STR("FATAL", af_log_level_name(AF_LOG_FATAL));
}

int main(void)
{
	T_RUN(test_record_shape);
	T_RUN(test_secrets_are_redacted);
	T_RUN(test_rotation_keeps_files);
	T_RUN(test_concurrent_writers_never_interleave);
	T_RUN(test_scan_filters_without_decoding);
	T_RUN(test_records_are_batched);
	T_RUN(test_levels);
	return t_done();
}
