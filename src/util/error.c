/* Thread-local error detail; see error.h. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERROR_MAX 512

static _Thread_local char error_buf[ERROR_MAX];
static _Thread_local size_t error_position = (size_t)-1;

/* Formatted aside first: callers re-set the detail from error_last() to move its position. */
static void error_vset(const char *fmt, va_list ap)
{
	char tmp[ERROR_MAX];

	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	memcpy(error_buf, tmp, sizeof(error_buf));
}

void error_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(fmt, ap);
	va_end(ap);
	error_position = (size_t)-1;
}

void error_set_at(size_t pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(fmt, ap);
	va_end(ap);
	error_position = pos;
}

void error_prefix(const char *fmt, ...)
{
	char prefix[ERROR_MAX];
	char old[ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, error_buf, sizeof(old));
	/* Truncation is acceptable here: the message is for people and stays one line. */
	size_t n = strlen(prefix);

	if (n > ERROR_MAX - 1)
		n = ERROR_MAX - 1;
	memcpy(error_buf, prefix, n);
	error_buf[n] = '\0';
	if (old[0] != '\0' && n + 2 < ERROR_MAX) {
		size_t m = strlen(old);

		if (m > ERROR_MAX - 1 - n - 2)
			m = ERROR_MAX - 1 - n - 2;
		memcpy(error_buf + n, ": ", 2);
		memcpy(error_buf + n + 2, old, m);
		error_buf[n + 2 + m] = '\0';
	}
}

const char *error_last(void)
{
	return error_buf;
}

size_t error_pos(void)
{
	return error_position;
}

void error_clear(void)
{
	error_buf[0] = '\0';
	error_position = (size_t)-1;
}

int error_nomem(const char *doing)
{
	if (doing)
		error_set("out of memory %s", doing);
	else
		error_set("out of memory");
	return TRAWL_ENOMEM;
}

const char *error_name(int code)
{
	switch (code) {
	case TRAWL_OK: return "success";
	case TRAWL_ENOMEM: return "out of memory";
	case TRAWL_EINVAL: return "invalid argument";
	case TRAWL_ENOTFOUND: return "not found";
	case TRAWL_ECORRUPT: return "corrupt data";
	case TRAWL_ELIMIT: return "limit exceeded";
	case TRAWL_EAUTH: return "authentication required";
	case TRAWL_EPERM: return "permission denied";
	case TRAWL_EIO: return "input/output error";
	case TRAWL_ETIMEOUT: return "timed out";
	case TRAWL_EUNSUPPORTED: return "unsupported";
	case TRAWL_ECANCELED: return "canceled";
	case TRAWL_EAGAIN: return "try again";
	default: return "unknown error";
	}
}
