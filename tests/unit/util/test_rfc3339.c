/*
 * Unit tests for src/util/rfc3339.c: the forms RFC 3339 allows (Z or an offset, fractions of a
 * second, a date alone), the calendar (leap years, days per month), and every way a time can
 * be wrong (fields out of range, missing parts, trailing bytes, empty), then the formatter and
 * a round trip through both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/error.h"
#include "util/rfc3339.h"

static int64_t parse_ok(const char *s)
{
	int64_t ms = -1;

	if (rfc3339_parse(&ms, s, strlen(s)) != 0)
		fail_msg("%s: refused: %s", s, error_last());
	return ms;
}

static void parse_bad(const char *s, const char *why)
{
	int64_t ms = 42;

	if (rfc3339_parse(&ms, s, strlen(s)) != TRAWL_EINVAL)
		fail_msg("%s: accepted (%lld)", s, (long long)ms);
	assert_int_equal(ms, 0);
	if (!strstr(error_last(), why))
		fail_msg("%s: message \"%s\" lacks \"%s\"", s, error_last(), why);
}

static void utc_times_with_z_parse(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse_ok("2026-12-03T14:52:50Z"), 1796309570000LL);
	assert_int_equal(parse_ok("2026-12-03t14:52:50z"), 1796309570000LL);
	assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -1000);
	assert_int_equal(parse_ok("1900-03-01T00:00:00Z"), -2203891200000LL);
	assert_int_equal(parse_ok("0000-01-01T00:00:00Z"), -62167219200000LL);
	assert_int_equal(parse_ok("9999-12-31T23:59:59Z"), 253402300799000LL);
}

static void offsets_move_to_utc(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-12-03T15:52:50+01:00"), 1796309570000LL);
	assert_int_equal(parse_ok("2026-12-03T13:52:50-01:00"), 1796309570000LL);
	assert_int_equal(parse_ok("2026-12-03T14:52:50+00:00"), 1796309570000LL);
	assert_int_equal(parse_ok("2026-12-03T14:52:50-00:00"), 1796309570000LL);
	assert_int_equal(parse_ok("2026-12-04T05:22:50+14:30"), 1796309570000LL);
	/* An offset may cross midnight and the year. */
	assert_int_equal(parse_ok("1970-01-01T00:00:00+01:00"), -3600000);
	assert_int_equal(parse_ok("1969-12-31T23:00:00-01:00"), 0);
}

static void fractions_count_to_the_millisecond(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1970-01-01T00:00:00.250Z"), 250);
	assert_int_equal(parse_ok("1970-01-01T00:00:00.5Z"), 500);
	assert_int_equal(parse_ok("1970-01-01T00:00:00.05Z"), 50);
	assert_int_equal(parse_ok("1970-01-01T00:00:01.999999999Z"), 1999);
	assert_int_equal(parse_ok("1970-01-01T01:00:00.123+01:00"), 123);
}

static void a_date_alone_is_midnight_utc(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1970-01-02"), 86400000);
	assert_int_equal(parse_ok("2026-12-03"), 1796256000000LL);
}

static void leap_days_follow_the_gregorian_calendar(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2024-02-29T00:00:00Z"), 1709164800000LL);
	assert_int_equal(parse_ok("2000-02-29T23:59:59Z"), 951868799000LL);
	assert_int_equal(parse_ok("2024-03-01T00:00:00Z") - parse_ok("2024-02-28T00:00:00Z"),
			 2 * 86400000LL);
	parse_bad("2023-02-29T00:00:00Z", "has no day 29");
	parse_bad("1900-02-29T00:00:00Z", "has no day 29");
	parse_bad("2026-04-31", "has no day 31");
	parse_bad("2026-02-30T00:00:00Z", "has no day 30");
	/* A leap second reads as the next minute's start. */
	assert_int_equal(parse_ok("2016-12-31T23:59:60Z"), parse_ok("2017-01-01T00:00:00Z"));
}

static void out_of_range_fields_are_refused(void **state)
{
	(void)state;
	parse_bad("2026-13-01T00:00:00Z", "month 13 is out of range");
	parse_bad("2026-00-01T00:00:00Z", "month 0 is out of range");
	parse_bad("2026-01-00T00:00:00Z", "day 0 is out of range");
	parse_bad("2026-01-32T00:00:00Z", "day 32 is out of range");
	parse_bad("2026-01-01T24:00:00Z", "hour 24 is out of range");
	parse_bad("2026-01-01T00:60:00Z", "minute 60 is out of range");
	parse_bad("2026-01-01T00:00:61Z", "second 61 is out of range");
	parse_bad("2026-01-01T00:00:00+24:00", "offset's hour 24 is out of range");
	parse_bad("2026-01-01T00:00:00+01:60", "offset's minute 60 is out of range");
}

static void malformed_times_are_refused(void **state)
{
	(void)state;
	parse_bad("", "empty");
	parse_bad("yesterday", "year must be 4 digits");
	parse_bad("26-01-01", "year must be 4 digits");
	parse_bad("+2026-01-01", "year must be 4 digits");
	parse_bad("2026-1-01T00:00:00Z", "month must be 2 digits");
	parse_bad("2026-01-01T0:00:00Z", "hour must be 2 digits");
	parse_bad("2026/01/01", "'-' after the year");
	parse_bad("2026-01-01 00:00:00Z", "'T' after the date");
	parse_bad("2026-01-01T00:00Z", "':' after the minute");
	parse_bad("2026-01-01T00:00:00", "'Z' or an offset");
	parse_bad("2026-01-01T00:00:00.Z", "digit after '.'");
	parse_bad("2026-01-01T00:00:00+01", "':' in the offset");
	parse_bad("2026-01-01T00:00:00+0a:00", "offset's hour must be 2 digits");
	parse_bad("2026-01-01T00:00:00+0100", "':' in the offset");
	parse_bad("2026-01-01T", "hour must be 2 digits");
	parse_bad(" 2026-01-01T00:00:00Z", "year must be 4 digits");
}

static void trailing_bytes_are_refused(void **state)
{
	int64_t ms = 0;

	(void)state;
	parse_bad("2026-01-01T00:00:00Zx", "unexpected characters at byte 20");
	parse_bad("2026-01-01T00:00:00Z ", "unexpected characters");
	parse_bad("2026-01-01T00:00:00+01:00:00", "unexpected characters");
	parse_bad("2026-01-01x", "'T' after the date");
	/* The length bounds the input: a NUL inside is a trailing byte, not an end. */
	assert_int_equal(rfc3339_parse(&ms, "2026-01-01\0T", 12), TRAWL_EINVAL);
	/* ... and nothing is read past it. */
	assert_int_equal(rfc3339_parse(&ms, "2026-01-01T00:00:00Z", 19), TRAWL_EINVAL);
	assert_int_equal(rfc3339_parse(&ms, "2026-01-01T00:00:00Z", 10), 0);
	assert_int_equal(ms, parse_ok("2026-01-01"));
}

static void format_writes_utc_with_z(void **state)
{
	char out[RFC3339_LEN];

	(void)state;
	assert_int_equal(rfc3339_format(out, 0), 0);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	assert_int_equal(rfc3339_format(out, 1796309570), 0);
	assert_string_equal(out, "2026-12-03T14:52:50Z");
	assert_int_equal(rfc3339_format(out, -1), 0);
	assert_string_equal(out, "1969-12-31T23:59:59Z");
	assert_int_equal(rfc3339_format(out, 951868799), 0);
	assert_string_equal(out, "2000-02-29T23:59:59Z");
	assert_int_equal(rfc3339_format(out, 253402300799LL), 0);
	assert_string_equal(out, "9999-12-31T23:59:59Z");
	assert_int_equal(rfc3339_format(out, -62167219200LL), 0);
	assert_string_equal(out, "0000-01-01T00:00:00Z");
	assert_int_equal(rfc3339_format(out, 253402300800LL), TRAWL_EINVAL);
	assert_string_equal(out, "");
	assert_int_equal(rfc3339_format(out, -62167219201LL), TRAWL_EINVAL);
	assert_int_equal(rfc3339_format(out, INT64_MAX), TRAWL_EINVAL);
	assert_int_equal(rfc3339_format(out, INT64_MIN), TRAWL_EINVAL);
}

static void format_and_parse_round_trip(void **state)
{
	char out[RFC3339_LEN];

	(void)state;
	/* Every 1,000,003 seconds (about 11.6 days) across the years 0000 to 9999. */
	for (int64_t t = -62167219200LL; t <= 253402300799LL; t += 1000003) {
		assert_int_equal(rfc3339_format(out, t), 0);
		assert_int_equal(parse_ok(out), t * 1000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utc_times_with_z_parse),
		cmocka_unit_test(offsets_move_to_utc),
		cmocka_unit_test(fractions_count_to_the_millisecond),
		cmocka_unit_test(a_date_alone_is_midnight_utc),
		cmocka_unit_test(leap_days_follow_the_gregorian_calendar),
		cmocka_unit_test(out_of_range_fields_are_refused),
		cmocka_unit_test(malformed_times_are_refused),
		cmocka_unit_test(trailing_bytes_are_refused),
		cmocka_unit_test(format_writes_utc_with_z),
		cmocka_unit_test(format_and_parse_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
