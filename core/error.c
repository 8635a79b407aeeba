/* error.c - the last-error message of the core (see af.h). */
#include "af.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[1024] = "no error";

int af_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_message, sizeof last_message, fmt, ap);
	va_end(ap);
	return code;
}

int af_error_errno(int code, const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_message, sizeof last_message, fmt, ap);
	va_end(ap);
	n = strlen(last_message);
	snprintf(last_message + n, sizeof last_message - n, ": %s", strerror(saved));
	return code;
}

const char *af_error_last(void)
{
	return last_message;
}

const char *af_error_name(int code)
{
	switch (code) {
	case AF_OK: return "AF_OK";
	case AF_ERROR: return "AF_ERROR";
	case AF_ENOTFOUND: return "AF_ENOTFOUND";
	case AF_EEXISTS: return "AF_EEXISTS";
	case AF_EINVAL: return "AF_EINVAL";
	case AF_ETIMEOUT: return "AF_ETIMEOUT";
	case AF_ECANCELED: return "AF_ECANCELED";
	case AF_EIO: return "AF_EIO";
	case AF_ENOMEM: return "AF_ENOMEM";
	case AF_EUNAVAIL: return "AF_EUNAVAIL";
	default: return "AF_E?";
	}
}
