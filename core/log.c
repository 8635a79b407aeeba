/* log.c - the structured JSON-lines log (see log.h). */
#include "log.h"
#include "af.h"

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
	/* scratch: the record being built, and redaction's working copies */
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

/* Append s (n bytes) to buf as the inside of a JSON string. */
static int append_escaped(af_log *log, size_t *len, const char *s, size_t n)
{
	if (reserve(&log->buf, &log->cap, *len, n * 6 + 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char *p = log->buf + *len;

		if (c == '"' || c == '\\') {
			p[0] = '\\';
			p[1] = (char)c;
			*len += 2;
		} else if (c == '\n') {
			memcpy(p, "\\n", 2);
			*len += 2;
		} else if (c == '\t') {
			memcpy(p, "\\t", 2);
			*len += 2;
		} else if (c < 0x20) {
			*len += (size_t)snprintf(p, 7, "\\u%04x", c);
		} else {
			*p = (char)c;
			*len += 1;
		}
	}
	return 0;
}

static int append(af_log *log, size_t *len, const char *s, size_t n)
{
	if (reserve(&log->buf, &log->cap, *len, n))
		return -1;
	memcpy(log->buf + *len, s, n);
	*len += n;
	return 0;
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

/*
 * Build the record in log->buf, made at *ns; returns its length, 0 when out
 * of memory.
 */
static size_t build(af_log *log, int level, const char *component, const char *msg, size_t mlen,
		    const char *ctx, size_t clen, long long *ns)
{
	const char *name = af_log_level_name(level);
	char ts[32];
	size_t len = 0;

	*ns = timestamp(log, ts);
	if (append(log, &len, "{\"timestamp\":\"", 14) || append(log, &len, ts, strlen(ts)) ||
	    append(log, &len, "\",\"level\":\"", 11) || append(log, &len, name, strlen(name)) ||
	    append(log, &len, "\",\"component\":\"", 15) ||
	    append_escaped(log, &len, component, strlen(component)) ||
	    append(log, &len, "\",\"message\":\"", 13) || append_escaped(log, &len, msg, mlen) ||
	    append(log, &len, "\",\"context\":", 12) || append(log, &len, ctx, clen) ||
	    append(log, &len, "}\n", 2))
		return 0;
	return len;
}

int af_log_flush(af_log *log)
{
	size_t len = log->batch_len;

	log->batch_len = 0;
	if (len == 0)
		return AF_OK;
	if (write(log->fd, log->batch, len) != (ssize_t)len)
		return af_error_errno(AF_EIO, "cannot write the log %s", log->path);
	log->size += len;
	return AF_OK;
}

void af_log_flush_all(void)
{
	for (af_log *log = open_logs; log; log = log->next_open)
		af_log_flush(log);
}

/*
 * Make room for a record of `len` bytes: the batch goes out first when the
 * record would take the file past its limit (which then rotates) or the
 * batch past its size.
 */
static int make_room(af_log *log, size_t len)
{
	if (log->size + log->batch_len + len > log->max_bytes) {
		if (af_log_flush(log) != AF_OK)
			return AF_EIO;
		if (rotate(log) != AF_OK)
			return AF_EIO;
	}
	if (log->batch_len + len > BATCH_BYTES && af_log_flush(log) != AF_OK)
		return AF_EIO;
	if (reserve(&log->batch, &log->batch_cap, log->batch_len, len))
		return af_error_set(AF_ENOMEM, "out of memory");
	return AF_OK;
}

int af_log_write(af_log *log, int level, const char *component, const char *message,
		 const char *context)
{
	const char *ctx_in = context && *context ? context : "{}";
	size_t mlen = strlen(message), clen = strlen(ctx_in), len;
	long long ns = 0;
	int oom_m, oom_c, rc;
	/* Redaction uses log->buf as scratch: its results are copied out first. */
	char *msg = redacted_copy(log, message, &mlen, &oom_m);
	char *ctx = redacted_copy(log, ctx_in, &clen, &oom_c);

	len = oom_m || oom_c ? 0 : build(log, level, component, msg ? msg : message, mlen,
					 ctx ? ctx : ctx_in, clen, &ns);
	free(msg);
	free(ctx);
	if (len == 0)
		return af_error_set(AF_ENOMEM, "out of memory");
	if ((rc = make_room(log, len)) != AF_OK)
		return rc;
	if (log->batch_len == 0)
		log->batch_ns = ns;
	memcpy(log->batch + log->batch_len, log->buf, len);
	log->batch_len += len;
	if (level >= AF_LOG_WARN || ns - log->batch_ns >= BATCH_AGE_NS)
		return af_log_flush(log);
	return AF_OK;
}
