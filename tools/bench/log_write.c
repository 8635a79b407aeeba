/*
 * log_write N FILE - records per second through the structured log's C
 * writer (core/log.c: timestamp, escaping, redaction scan, records batched
 * into one write(2) per 64 KiB), beside raw write(2) of a record of the
 * same size to the same kind of file.
 */
#include "af.h"
#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *ctx = "{\"agent\":\"code-reviewer\",\"step\":12,\"status\":\"success\",\"run_id\":"
			  "\"20261124T101500Z-3fa2c01b\"}";
	char raw[4096], path[4096];
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	double t0, t_log, t_raw;
	af_log *log;
	int fd, len;

	if (argc < 3)
		return 64;
	snprintf(path, sizeof path, "%s.log.jsonl", argv[2]);
	unlink(path);
	if (af_log_open(&log, path, (size_t)1 << 40, 1) != AF_OK)
		return 1;
	af_log_add_secret(log, "sk-not-in-these-records");
	t0 = now();
	for (long i = 0; i < n; i++)
		af_log_write(log, AF_LOG_INFO, "step", "step ended", ctx);
	t_log = now() - t0;
	af_log_close(log);

	len = snprintf(raw, sizeof raw, "{\"timestamp\":\"2026-11-24T10:15:00.000Z\",\"level\":\"INFO\","
		       "\"component\":\"step\",\"message\":\"step ended\",\"context\":%s}\n", ctx);
	snprintf(path, sizeof path, "%s.raw.jsonl", argv[2]);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	t0 = now();
	for (long i = 0; i < n; i++)
		if (write(fd, raw, (size_t)len) != len)
			return 1;
	t_raw = now() - t0;
	close(fd);
	printf("%ld records of %d bytes:\n", n, len);
	printf("  raw write(2)           %10.0f records/s\n", n / t_raw);
	printf("  C log writer           %10.0f records/s  (budget 300000: %s)\n", n / t_log,
	       n / t_log >= 300000 ? "within budget" : "OVER BUDGET");
	return 0;
}
