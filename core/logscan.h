/*
 * logscan.h - scanning a JSON-lines log fast: the filters of `agentflow
 * logs query` applied to the raw lines, without decoding them.
 *
 * The log writer (log.c) puts the keys in a fixed order, so a record line
 * starts {"timestamp":"<24 bytes>","level":"<LEVEL>","component":"...
 * and the filters are byte comparisons. Lines not in that shape (broken,
 * truncated, written by something else) are counted as skipped.
 */
#ifndef AF_LOGSCAN_H
#define AF_LOGSCAN_H

#include <stddef.h>

typedef struct af_logscan_filter {
	int min_level;          /* AF_LOG_*; 0 keeps all */
	const char *component;  /* exact, or NULL */
	const char *since;      /* RFC 3339 prefixes compared bytewise, or NULL */
	const char *until;
	const char *contains[4]; /* substrings every kept line must hold (NULL-ended) */
} af_logscan_filter;

/*
 * Call cb(line, len, ctx) for each record line of the file at `path` that
 * passes `f` (len without the newline) until cb returns non-zero, then
 * cb(NULL, 0, ctx) once at the end (lines are valid only until it
 * returns). *skipped gets the number of lines that were not records.
 * Returns AF_OK, or AF_ENOTFOUND / AF_EIO.
 */
int af_logscan(const char *path, const af_logscan_filter *f,
	       int (*cb)(const char *line, size_t len, void *ctx), void *ctx, size_t *skipped);

#endif
