/* logscan.c - filtering log lines without decoding them (see logscan.h). */
#include "logscan.h"
#include "af.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX "{\"timestamp\":\""
#define PREFIX_LEN (sizeof PREFIX - 1)
#define TS_LEN 24 /* 2026-11-24T19:21:36.468Z */
#define LEVEL_KEY "\",\"level\":\""
#define COMPONENT_KEY "\",\"component\":\""

/* The level of a record line, or -1 when the line is not one. */
static int line_level(const char *line, size_t len, const char **after)
{
	const char *p = line + PREFIX_LEN + TS_LEN;
	const char *end = line + len;

	if (len < PREFIX_LEN + TS_LEN + sizeof LEVEL_KEY + 8 || memcmp(line, PREFIX, PREFIX_LEN) != 0 ||
	    line[len - 1] != '}' || memcmp(p, LEVEL_KEY, sizeof LEVEL_KEY - 1) != 0)
		return -1;
	p += sizeof LEVEL_KEY - 1;
	for (int lv = AF_LOG_DEBUG; lv <= AF_LOG_FATAL; lv++) {
		const char *name = af_log_level_name(lv);
		size_t n = strlen(name);

		if (p + n < end && memcmp(p, name, n) == 0 && p[n] == '"') {
			*after = p + n;
			return lv;
		}
	}
	return -1;
}

static int component_is(const char *after, const char *end, const char *component)
{
	size_t n = strlen(component);

	return after + sizeof COMPONENT_KEY - 1 + n + 1 < end &&
	       memcmp(after, COMPONENT_KEY, sizeof COMPONENT_KEY - 1) == 0 &&
	       memcmp(after + sizeof COMPONENT_KEY - 1, component, n) == 0 &&
	       after[sizeof COMPONENT_KEY - 1 + n] == '"';
}

/* Whether `line` passes `f`; -1 when it is not a record at all. */
static int keep(const char *line, size_t len, const af_logscan_filter *f)
{
	const char *after;
	int lv = line_level(line, len, &after);

	if (lv < 0)
		return -1;
	if (lv < f->min_level)
		return 0;
	if (f->since && memcmp(line + PREFIX_LEN, f->since, strnlen(f->since, TS_LEN)) < 0)
		return 0;
	if (f->until && memcmp(line + PREFIX_LEN, f->until, strnlen(f->until, TS_LEN)) > 0)
		return 0;
	if (f->component && !component_is(after, line + len, f->component))
		return 0;
	for (int i = 0; i < 4 && f->contains[i]; i++)
		if (!memmem(line, len, f->contains[i], strlen(f->contains[i])))
			return 0;
	return 1;
}

int af_logscan(const char *path, const af_logscan_filter *f,
	       int (*cb)(const char *line, size_t len, void *ctx), void *ctx, size_t *skipped)
{
	struct stat st;
	const char *map, *p, *end;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*skipped = 0;
	if (fd < 0)
		return af_error_errno(errno == ENOENT ? AF_ENOTFOUND : AF_EIO, "cannot read %s", path);
	if (fstat(fd, &st) != 0) {
		close(fd);
		return af_error_errno(AF_EIO, "cannot read %s", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return AF_OK;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return af_error_errno(AF_EIO, "cannot map %s", path);
	madvise((void *)map, (size_t)st.st_size, MADV_SEQUENTIAL);
	end = map + st.st_size;
	for (p = map; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		int k = len ? keep(p, len, f) : 0;

		if (k < 0)
			++*skipped;
		else if (k > 0 && cb(p, len, ctx))
			break;
		p = nl ? nl + 1 : end;
	}
	cb(NULL, 0, ctx); /* the end, while the lines are still mapped */
	munmap((void *)map, (size_t)st.st_size);
	return AF_OK;
}
