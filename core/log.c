/* log.c - the structured JSON-lines log (see log.h). */
#include "log.h"
#include "af.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX ((size_t)64 << 20)
#define DEFAULT_KEEP 3
#define MAX_SECRETS 64
#define REDACTED "[REDACTED]"
#define BATCH_BYTES ((size_t)64 << 10)
#define BATCH_AGE_NS 100000000LL /* 0.1 s */

struct af_log {
	int fd;
	char *path;
	size_t max_bytes, size;
	int keep;
	char *secrets[MAX_SECRETS];
	int nsecrets;
	/* redaction's scratch and working copies */
	char *buf, *work;
	size_t cap, wcap;
	time_t ts_sec; /* the second ts_prefix shows */
	char ts_prefix[24];
	/* the batch: whole records not written yet, the first made at batch_ns */
	char *batch;
	size_t batch_len, batch_cap;
	long long batch_ns;
	af_log *next_open;
};

/* Every open log, flushed by af_log_flush_all and at exit(3). */
static af_log *open_logs;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "FATAL"};

const char *af_log_level_name(int level)
{
	return level >= 0 && level <= AF_LOG_FATAL ? level_names[level] : "INFO";
}

int af_log_level(const char *name)
{
	if (!strcasecmp(name, "WARNING"))
		return AF_LOG_WARN;
	for (int i = 0; i <= AF_LOG_FATAL; i++)
		if (!strcasecmp(name, level_names[i]))
			return i;
	return -1;
}

static int open_file(af_log *log)
{
	struct stat st;

	log->fd = open(log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log->fd < 0)
		return af_error_errno(AF_EIO, "cannot open the log %s", log->path);
	log->size = fstat(log->fd, &st) == 0 ? (size_t)st.st_size : 0;
	return AF_OK;
}

static int registered; /* af_log_flush_all runs at exit */

int af_log_open(af_log **out, const char *path, size_t max_bytes, int keep)
{
	af_log *log = calloc(1, sizeof *log);
	int rc;

	*out = NULL;
	if (!log || !(log->path = strdup(path))) {
		free(log);
		return af_error_set(AF_ENOMEM, "out of memory");
	}
	log->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX;
	log->keep = keep > 0 ? keep : DEFAULT_KEEP;
	if ((rc = open_file(log)) != AF_OK) {
		af_log_close(log);
		return rc;
	}
	if (!registered) {
		atexit(af_log_flush_all);
		registered = 1;
	}
	log->next_open = open_logs;
	open_logs = log;
	*out = log;
	return AF_OK;
}

void af_log_close(af_log *log)
{
	if (!log)
		return;
	for (af_log **p = &open_logs; *p; p = &(*p)->next_open) {
		if (*p == log) {
			*p = log->next_open;
			break;
		}
	}
	if (log->fd >= 0) {
		af_log_flush(log);
		close(log->fd);
	}
	for (int i = 0; i < log->nsecrets; i++)
		free(log->secrets[i]);
	free(log->path);
	free(log->buf);
	free(log->work);
	free(log->batch);
	free(log);
}

int af_log_add_secret(af_log *log, const char *value)
{
	if (strlen(value) < 4 || log->nsecrets == MAX_SECRETS)
		return AF_OK;
	for (int i = 0; i < log->nsecrets; i++)
		if (!strcmp(log->secrets[i], value))
			return AF_OK;
	if (!(log->secrets[log->nsecrets] = strdup(value)))
		return af_error_set(AF_ENOMEM, "out of memory");
	log->nsecrets++;
	return AF_OK;
}

/* Whether a variable's name says it holds a secret. */
static int secret_name(const char *kv, size_t n)
{
	static const char *const words[] = {"KEY", "TOKEN", "SECRET", "PASSWORD"};

	for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
		size_t len = strlen(words[w]);

		for (size_t i = 0; i + len <= n; i++)
			if (!strncasecmp(kv + i, words[w], len))
				return 1;
	}
	return 0;
}

void af_log_add_env_secrets(af_log *log, char *const *envp)
{
	for (char *const *e = envp; e && *e; e++) {
		const char *eq = strchr(*e, '=');

		if (eq && secret_name(*e, (size_t)(eq - *e)))
			af_log_add_secret(log, eq + 1);
	}
}

/* Make room for `need` more bytes in buf (which holds `len`). */
static int reserve(char **buf, size_t *cap, size_t len, size_t need)
{
	size_t want;
	char *grown;

	if (len + need <= *cap)
		return 0;
	for (want = *cap ? *cap : 512; want < len + need; want *= 2)
		;
	if (!(grown = realloc(*buf, want)))
		return -1;
	*buf = grown;
	*cap = want;
	return 0;
}

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/*
 * The first needle[0..nl) in s[0..n), or NULL. memchr finds candidates
 * many bytes at a time: glibc's memmem costs more on the short texts of
 * records, which almost never hold a secret.
 */
static const char *find(const char *s, size_t n, const char *needle, size_t nl)
{
	const char *end = s + n, *p = s;

	if (nl == 0 || nl > n)
		return nl == 0 ? s : NULL;
	while ((p = memchr(p, needle[0], (size_t)(end - p) - nl + 1))) {
		if (!memcmp(p + 1, needle + 1, nl - 1))
			return p;
		if ((size_t)(end - ++p) < nl)
			break;
	}
	return NULL;
}

/*
 * The text `s` with every secret and bearer token replaced, in log->work
 * (valid until the next call); `s` itself when there is nothing to hide.
 */
static const char *redact(af_log *log, const char *s, size_t *n)
{
	const char *src = s;
	size_t len = *n;

	for (int i = 0; i <= log->nsecrets; i++) {
		const char *needle = i < log->nsecrets ? log->secrets[i] : "Bearer ";
		size_t nl = strlen(needle), out = 0;
		const char *p = src, *end = src + len, *hit;
		char *dst;

		if (!find(src, len, needle, nl))
			continue;
		if (reserve(&log->buf, &log->cap, 0, len * 3 + 16)) /* a scratch copy */
			return src;
		dst = log->buf;
		while ((hit = find(p, (size_t)(end - p), needle, nl))) {
			memcpy(dst + out, p, (size_t)(hit - p));
			out += (size_t)(hit - p);
			if (i == log->nsecrets) { /* keep "Bearer ", hide the token */
				memcpy(dst + out, needle, nl);
				out += nl;
				hit += nl;
				while (hit < end && (strchr("._~+/=-", *hit) || (*hit >= '0' && *hit <= '9') ||
						     ((*hit | 32) >= 'a' && (*hit | 32) <= 'z')))
					hit++;
				p = hit;
			} else {
				p = hit + nl;
			}
			memcpy(dst + out, REDACTED, sizeof REDACTED - 1);
			out += sizeof REDACTED - 1;
		}
		memcpy(dst + out, p, (size_t)(end - p));
		out += (size_t)(end - p);
		if (reserve(&log->work, &log->wcap, 0, out + 1))
			return src;
		memcpy(log->work, dst, out);
		src = log->work;
		len = out;
	}
	*n = len;
	return src;
}

/*
 * "2026-12-01T18:40:25.123Z". The part up to the seconds is formatted once
 * per second: strftime and gmtime cost more than the rest of a record.
 */
static long long timestamp(af_log *log, char out[32])
{
	struct timespec ts;
	struct tm tm;
	long ms;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != log->ts_sec || !log->ts_prefix[0]) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(log->ts_prefix, sizeof log->ts_prefix, "%Y-%m-%dT%H:%M:%S", &tm);
		log->ts_sec = ts.tv_sec;
	}
	ms = ts.tv_nsec / 1000000;
	n = strlen(log->ts_prefix);
	memcpy(out, log->ts_prefix, n);
	out[n] = '.';
	out[n + 1] = (char)('0' + ms / 100);
	out[n + 2] = (char)('0' + ms / 10 % 10);
	out[n + 3] = (char)('0' + ms % 10);
	out[n + 4] = 'Z';
	out[n + 5] = 0;
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Rename FILE.k to FILE.k+1 down to FILE to FILE.1, and start a new FILE. */
static int rotate(af_log *log)
{
	char from[4096], to[4096];
	struct stat st, now;

	/* Another process may have rotated already: then just follow it. */
	if (fstat(log->fd, &st) == 0 && stat(log->path, &now) == 0 && st.st_ino != now.st_ino) {
		close(log->fd);
		return open_file(log);
	}
	for (int k = log->keep - 1; k >= 1; k--) {
		snprintf(from, sizeof from, "%s.%d", log->path, k);
		snprintf(to, sizeof to, "%s.%d", log->path, k + 1);
		rename(from, to);
	}
	snprintf(to, sizeof to, "%s.1", log->path);
	rename(log->path, to);
	close(log->fd);
	return open_file(log);
}

/* The redacted copy of `s` (n bytes): NULL when nothing was hidden. */
static char *redacted_copy(af_log *log, const char *s, size_t *n, int *oom)
{
	const char *r = redact(log, s, n);
	char *copy;

	*oom = 0;
	if (r == s)
		return NULL;
	if (!(copy = strndup(r, *n)))
		*oom = 1;
	return copy;
}

/* The most bytes put_record writes. */
static size_t record_bound(const char *component, size_t mlen, size_t clen)
{
	return 96 + strlen(component) * 6 + mlen * 6 + clen;
}

/* Write the record, made at *ns, at p (room: record_bound); returns the end. */
static char *put_record(af_log *log, char *p, int level, const char *component, const char *msg,
			size_t mlen, const char *ctx, size_t clen, long long *ns)
{
	const char *name = af_log_level_name(level);
	char ts[32];

	*ns = timestamp(log, ts);
	p = put(p, "{\"timestamp\":\"", 14);
	p = put(p, ts, strlen(ts));
	p = put(p, "\",\"level\":\"", 11);
	p = put(p, name, strlen(name));
	p = put(p, "\",\"component\":\"", 15);
	p = af_json_put_escaped(p, component, strlen(component));
	p = put(p, "\",\"message\":\"", 13);
	p = af_json_put_escaped(p, msg, mlen);
	p = put(p, "\",\"context\":", 12);
	p = put(p, ctx, clen);
	return put(p, "}\n", 2);
}

/* Write the first n bytes of the batch; what follows them moves to its start. */
static int write_batch(af_log *log, size_t n)
{
	ssize_t w = n ? write(log->fd, log->batch, n) : 0;

	memmove(log->batch, log->batch + n, log->batch_len - n);
	log->batch_len -= n;
	if (w != (ssize_t)n)
		return af_error_errno(AF_EIO, "cannot write the log %s", log->path);
	log->size += n;
	return AF_OK;
}

int af_log_flush(af_log *log)
{
	return write_batch(log, log->batch_len);
}

void af_log_flush_all(void)
{
	for (af_log *log = open_logs; log; log = log->next_open)
		af_log_flush(log);
}

/*
 * Append one record, built straight into the batch. A record that would
 * take the file past its limit goes to the next file: the batch before it
 * is written, and the file rotated.
 */
int af_log_write(af_log *log, int level, const char *component, const char *message,
		 const char *context)
{
	const char *ctx_in = context && *context ? context : "{}";
	size_t mlen = strlen(message), clen = strlen(ctx_in), before = log->batch_len, len;
	long long ns = 0;
	int oom_m, oom_c, rc = AF_OK;
	/* Redaction uses log->buf as scratch: its results are copied out first. */
	char *msg = redacted_copy(log, message, &mlen, &oom_m);
	char *ctx = redacted_copy(log, ctx_in, &clen, &oom_c);

	if (oom_m || oom_c ||
	    reserve(&log->batch, &log->batch_cap, before, record_bound(component, mlen, clen))) {
		free(msg);
		free(ctx);
		return af_error_set(AF_ENOMEM, "out of memory");
	}
	len = (size_t)(put_record(log, log->batch + before, level, component, msg ? msg : message, mlen,
				  ctx ? ctx : ctx_in, clen, &ns) - (log->batch + before));
	free(msg);
	free(ctx);
	log->batch_len += len;
	if (log->size + before + len > log->max_bytes) {
		if ((rc = write_batch(log, before)) != AF_OK || (rc = rotate(log)) != AF_OK)
			return rc;
	}
	if (log->batch_len == len)
		log->batch_ns = ns;
	if (level >= AF_LOG_WARN || log->batch_len >= BATCH_BYTES || ns - log->batch_ns >= BATCH_AGE_NS)
		return af_log_flush(log);
	return AF_OK;
}
