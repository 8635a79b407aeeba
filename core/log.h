/*
 * log.h - the structured log: one JSON object per line, appended to a file.
 *
 * A record is {"timestamp","level","component","message","context"}: the
 * timestamp RFC 3339 in UTC with milliseconds and "Z", the level one of
 * DEBUG INFO WARN ERROR FATAL, the context a JSON object given already
 * encoded. Records are batched: whole records go out together in one
 * write(2) on an O_APPEND descriptor, so records of concurrent processes
 * never interleave. A batch is written when it reaches 64 KiB, when its
 * first record is 0.1 s old as another one comes, with any record of WARN
 * and above, on af_log_flush (the scheduler calls af_log_flush_all before
 * the loop waits), on close and at exit(3): a run making a record per step
 * pays one system call per batch rather than per record, and a crash loses
 * at most 0.1 s of INFO records. When the file would pass the size limit it
 * is renamed to FILE.1 (FILE.1 to FILE.2, ...; `keep` files kept) and a new
 * one started.
 *
 * Secrets never reach the file: every registered secret value (the values
 * of environment variables named like *KEY*, *TOKEN*, *SECRET*,
 * *PASSWORD*, and what callers add) and every "Bearer <token>" is replaced
 * by [REDACTED] in the message and the context alike.
 */
#ifndef AF_LOG_H
#define AF_LOG_H

#include <stddef.h>

enum af_log_level { AF_LOG_DEBUG, AF_LOG_INFO, AF_LOG_WARN, AF_LOG_ERROR, AF_LOG_FATAL };

typedef struct af_log af_log;

/*
 * Open (creating, mode 0600) the log at `path`, rotating past `max_bytes`
 * (0: 64 MiB) and keeping `keep` old files (0: 3). Returns AF_OK or AF_EIO.
 */
int af_log_open(af_log **out, const char *path, size_t max_bytes, int keep);

void af_log_close(af_log *log);

/* Redact `value` (at least 4 bytes; shorter ones are ignored) from now on. */
int af_log_add_secret(af_log *log, const char *value);

/* Register the secret-looking variables of `envp` ("NAME=value"). */
void af_log_add_env_secrets(af_log *log, char *const *envp);

/*
 * Append one record. `context` is a JSON object's text or NULL ({}).
 * Returns AF_OK or AF_EIO (the batch is lost; the caller goes on).
 */
int af_log_write(af_log *log, int level, const char *component, const char *message,
		 const char *context);

/* Write the batch now. Returns AF_OK or AF_EIO (the batch is lost). */
int af_log_flush(af_log *log);

/* af_log_flush every open log. */
void af_log_flush_all(void);

/* The level named `name` (case-insensitive, WARNING too), or -1. */
int af_log_level(const char *name);

/* "DEBUG", "INFO", ... */
const char *af_log_level_name(int level);

#endif
