/*
 * Error codes and the thread-local error detail.
 *
 * A function that can fail returns 0 or a negative TRAWL_E* code and, where it detects the
 * problem, records one human-readable line with error_set(). Callers pass the code up and leave
 * the detail alone, so the message names the place the problem was found. Messages never carry
 * secrets or file content.
 */
#ifndef TRAWL_UTIL_ERROR_H
#define TRAWL_UTIL_ERROR_H

#include <stddef.h>

enum {
	TRAWL_OK = 0,
	TRAWL_ENOMEM = -1,
	TRAWL_EINVAL = -2,
	TRAWL_ENOTFOUND = -3,
	TRAWL_ECORRUPT = -4,
	TRAWL_ELIMIT = -5,
	TRAWL_EAUTH = -6,
	TRAWL_EPERM = -7,
	TRAWL_EIO = -8,
	TRAWL_ETIMEOUT = -9,
	TRAWL_EUNSUPPORTED = -10,
	TRAWL_ECANCELED = -11,
	TRAWL_EAGAIN = -12, /* a time budget ran out before the work was done: do it elsewhere */
};

/* Sets the calling thread's error detail (printf-style). Returns nothing; never fails. */
void error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Like error_set(), and also records a 0-based byte position in the user's input (a pattern or
 * query) so that front ends can point at it.
 */
void error_set_at(size_t pos, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Prefixes the current detail with "prefix: ", e.g. the file name an error happened in. Keeps
 * the recorded position.
 */
void error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The calling thread's last detail; "" when none. Borrowed until the next error_* call. */
const char *error_last(void);

/* The recorded position, or (size_t)-1 when the last error has none. */
size_t error_pos(void);

void error_clear(void);

/*
 * Records "out of memory" or, when doing is not NULL, "out of memory <doing>" (e.g. "listing
 * files"), and returns TRAWL_ENOMEM, so that an allocation failure is one line:
 * `return error_nomem("listing files");`.
 */
int error_nomem(const char *doing);

/* A short generic name for a code, e.g. "out of memory". */
const char *error_name(int code);

#endif
