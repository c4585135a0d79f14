/*
 * RFC 3339 times, the one parser and formatter: the audit trail's --since (CLI) and ?since=
 * (API) read them, and every time trawl prints or serves is written by rfc3339_format.
 */
#ifndef TRAWL_UTIL_RFC3339_H
#define TRAWL_UTIL_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/* "2026-12-03T14:52:50Z" and its NUL. */
#define RFC3339_LEN 21

/*
 * s[0..len) as unix milliseconds: RFC 3339's date-time, "YYYY-MM-DDTHH:MM:SS" with optional
 * fractions of a second (to the millisecond; more digits are dropped) and "Z" or "+HH:MM" /
 * "-HH:MM" (the T and Z may be lower case), or its full-date alone, "YYYY-MM-DD", midnight UTC.
 * Days are checked against their month (February 29 in leap years only); a leap second (:60)
 * reads as the next minute's start. Years 0000 to 9999, so the result may be negative.
 * EINVAL with error_set_at naming the field and its position; nothing may follow the time.
 * Thread-safe.
 */
int rfc3339_parse(int64_t *out_ms, const char *s, size_t len);

/*
 * Unix seconds t as "YYYY-MM-DDTHH:MM:SSZ" into out. EINVAL when t is before year 0 or after
 * year 9999 (out is then ""). Thread-safe.
 */
int rfc3339_format(char out[RFC3339_LEN], int64_t t);

#endif
