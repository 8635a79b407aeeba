/*
 * af.h - conventions shared by every part of the agentflow core.
 *
 * Fallible functions return 0 (AF_OK) or one of the negative AF_E* codes and
 * leave a message for af_error_last(). Exit codes of the program follow
 * sysexits.h and are part of the command-line contract (see README).
 */
#ifndef AF_H
#define AF_H

#include <stddef.h>

#define AF_OK 0

enum af_error_code {
	AF_ERROR = -1,     /* generic failure; the message says more */
	AF_ENOTFOUND = -3, /* a named thing does not exist */
	AF_EEXISTS = -4,
	AF_EINVAL = -5,    /* bad argument or malformed input */
	AF_ETIMEOUT = -6,
	AF_ECANCELED = -7,
	AF_EIO = -8,       /* an operating-system I/O call failed */
	AF_ENOMEM = -9,
	AF_EUNAVAIL = -10  /* a required library or service is missing */
};

enum af_exit_code {
	AF_EXIT_OK = 0,
	AF_EXIT_FAILED = 1,       /* finished with failed critical steps */
	AF_EXIT_USAGE = 64,
	AF_EXIT_DATAERR = 65,     /* workflow script error */
	AF_EXIT_NOINPUT = 66,     /* missing script, run or file */
	AF_EXIT_UNAVAILABLE = 69,
	AF_EXIT_SOFTWARE = 70,    /* internal error */
	AF_EXIT_IOERR = 74,
	AF_EXIT_INTERRUPTED = 130
};

/*
 * Record a message for af_error_last() and return `code`, so a failing
 * function can end with `return af_error_set(AF_EIO, "open %s: %s", ...)`.
 */
int af_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like af_error_set, with ": strerror(errno)" appended. */
int af_error_errno(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The message of the last failure on this thread; borrowed until the next
 * af_error_set on this thread. Never NULL. */
const char *af_error_last(void);

/* The name of a code, "AF_ENOTFOUND" and so on. */
const char *af_error_name(int code);

#define AF_DECIMAL_MAX 24

/*
 * The decimal digits of v, written at the end of out; *start is where they
 * begin, the return value how many there are. Without printf: counts and
 * step numbers are written at every step.
 */
static inline size_t af_decimal(long long v, char out[AF_DECIMAL_MAX], char **start)
{
	char *p = out + AF_DECIMAL_MAX;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	*start = p;
	return (size_t)(out + AF_DECIMAL_MAX - p);
}

#endif
