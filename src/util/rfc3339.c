/*
 * RFC 3339 times (rfc3339.h). The parser works on the characters alone, with its own calendar
 * arithmetic: strptime accepts spaces, one-digit fields and locale forms, and timegm silently
 * moves February 31 to March.
 */
#include "util/rfc3339.h"

#include <stdbool.h>
#include <stdio.h>

#include "util/error.h"

struct cursor {
	const char *s;
	size_t len;
	size_t pos;
};

/* n decimal digits at the cursor, advancing it; -1 (and nothing taken) unless all are digits. */
static int take_digits(struct cursor *c, int n)
{
	int v = 0;

	if (c->len - c->pos < (size_t)n)
		return -1;
	for (int i = 0; i < n; i++) {
		char ch = c->s[c->pos + (size_t)i];

		if (ch < '0' || ch > '9')
			return -1;
		v = v * 10 + (ch - '0');
	}
	c->pos += (size_t)n;
	return v;
}

/* One of the two characters at the cursor (upper and lower case, or the same twice). */
static bool take_char(struct cursor *c, char a, char b)
{
	if (c->pos >= c->len || (c->s[c->pos] != a && c->s[c->pos] != b))
		return false;
	c->pos++;
	return true;
}

/* A number of n digits in [min, max], else EINVAL naming what and where. */
static int take_field(int *out, struct cursor *c, int n, int min, int max, const char *what)
{
	size_t at = c->pos;
	int v = take_digits(c, n);

	if (v < 0) {
		error_set_at(at, "RFC 3339 time: the %s must be %d digits (at byte %zu)", what, n,
			     at);
		return TRAWL_EINVAL;
	}
	if (v < min || v > max) {
		error_set_at(at, "RFC 3339 time: the %s %d is out of range (at byte %zu)", what, v,
			     at);
		return TRAWL_EINVAL;
	}
	*out = v;
	return 0;
}

static int want(struct cursor *c, char a, char b, const char *what)
{
	if (take_char(c, a, b))
		return 0;
	error_set_at(c->pos, "RFC 3339 time: expected %s at byte %zu", what, c->pos);
	return TRAWL_EINVAL;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int *y, int *m, int *d, int64_t z)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* "YYYY-MM-DD" into days since the epoch. */
static int parse_date(int64_t *days, struct cursor *c)
{
	int y, m, d, err;
	size_t day_at;

	if ((err = take_field(&y, c, 4, 0, 9999, "year")) < 0 ||
	    (err = want(c, '-', '-', "'-' after the year")) < 0 ||
	    (err = take_field(&m, c, 2, 1, 12, "month")) < 0 ||
	    (err = want(c, '-', '-', "'-' after the month")) < 0)
		return err;
	day_at = c->pos;
	if ((err = take_field(&d, c, 2, 1, 31, "day")) < 0)
		return err;
	if (d > days_in_month(y, m)) {
		error_set_at(day_at, "RFC 3339 time: %04d-%02d has no day %d (at byte %zu)", y, m, d,
			     day_at);
		return TRAWL_EINVAL;
	}
	*days = days_from_civil(y, m, d);
	return 0;
}

/* ".fff..." at the cursor, if there, as milliseconds (further digits dropped). */
static int parse_fraction(int *ms, struct cursor *c)
{
	int n = 0;

	*ms = 0;
	if (!take_char(c, '.', '.'))
		return 0;
	while (c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9') {
		if (n++ < 3)
			*ms = *ms * 10 + (c->s[c->pos] - '0');
		c->pos++;
	}
	if (n == 0) {
		error_set_at(c->pos, "RFC 3339 time: expected a digit after '.' at byte %zu", c->pos);
		return TRAWL_EINVAL;
	}
	for (; n < 3; n++)
		*ms *= 10;
	return 0;
}

/* "Z" or "+HH:MM" / "-HH:MM" as seconds east of UTC. */
static int parse_offset(int *offset_s, struct cursor *c)
{
	int sign, h, m, err;

	*offset_s = 0;
	if (take_char(c, 'Z', 'z'))
		return 0;
	if (take_char(c, '+', '+'))
		sign = 1;
	else if (take_char(c, '-', '-'))
		sign = -1;
	else
		return want(c, 'Z', 'Z', "'Z' or an offset (+01:00)");
	if ((err = take_field(&h, c, 2, 0, 23, "offset's hour")) < 0 ||
	    (err = want(c, ':', ':', "':' in the offset")) < 0 ||
	    (err = take_field(&m, c, 2, 0, 59, "offset's minute")) < 0)
		return err;
	*offset_s = sign * (h * 3600 + m * 60);
	return 0;
}

/* "THH:MM:SS[.fff](Z|+HH:MM)" into milliseconds since midnight UTC (may be negative). */
static int parse_clock(int64_t *ms, struct cursor *c)
{
	int h, m, sec, frac, offset_s, err;

	if ((err = want(c, 'T', 't', "'T' after the date")) < 0 ||
	    (err = take_field(&h, c, 2, 0, 23, "hour")) < 0 ||
	    (err = want(c, ':', ':', "':' after the hour")) < 0 ||
	    (err = take_field(&m, c, 2, 0, 59, "minute")) < 0 ||
	    (err = want(c, ':', ':', "':' after the minute")) < 0 ||
	    (err = take_field(&sec, c, 2, 0, 60, "second")) < 0 ||
	    (err = parse_fraction(&frac, c)) < 0 || (err = parse_offset(&offset_s, c)) < 0)
		return err;
	/* At most 23:59:60 plus a 23:59 offset: within an int. */
	*ms = (int64_t)(h * 3600 + m * 60 + sec - offset_s) * 1000 + frac;
	return 0;
}

int rfc3339_parse(int64_t *out_ms, const char *s, size_t len)
{
	struct cursor c = { .s = s, .len = len, .pos = 0 };
	int64_t days = 0, clock_ms = 0;
	int err;

	*out_ms = 0;
	if (len == 0) {
		error_set("RFC 3339 time: empty");
		return TRAWL_EINVAL;
	}
	if ((err = parse_date(&days, &c)) < 0 ||
	    (c.pos < c.len && (err = parse_clock(&clock_ms, &c)) < 0))
		return err;
	if (c.pos < c.len) {
		error_set_at(c.pos, "RFC 3339 time: unexpected characters at byte %zu", c.pos);
		return TRAWL_EINVAL;
	}
	*out_ms = days * 86400000 + clock_ms;
	return 0;
}

int rfc3339_format(char out[RFC3339_LEN], int64_t t)
{
	/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
	static const int64_t min_t = -62167219200, max_t = 253402300799;
	int64_t days, rem;
	int y, m, d;

	out[0] = '\0';
	if (t < min_t || t > max_t) {
		error_set("time %lld is outside the years 0000 to 9999", (long long)t);
		return TRAWL_EINVAL;
	}
	days = t / 86400;
	rem = t % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(&y, &m, &d, days);
	if (snprintf(out, RFC3339_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(rem / 3600),
		     (int)(rem / 60 % 60), (int)(rem % 60)) != RFC3339_LEN - 1) {
		out[0] = '\0';
		error_set("time %lld: cannot format it", (long long)t);
		return TRAWL_EINVAL;
	}
	return 0;
}
