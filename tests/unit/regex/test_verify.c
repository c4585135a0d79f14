/* Unit tests for the exact line verifier (src/regex/verify.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "regex/verify.h"
#include "util/error.h"

/* Whether line matches pattern, by the verifier alone. */
static int verify(const char *pattern, const char *line, size_t len)
{
	struct regex *re = NULL;
	struct verifier *v = NULL;
	int r;

	assert_int_equal(regex_parse(&re, pattern, strlen(pattern), 0), 0);
	assert_int_equal(verifier_new(&v, re), 0);
	r = verify_line(v, (const uint8_t *)line, len, 0);
	verifier_free(v);
	regex_free(re);
	return r;
}

#define V(p, t) verify(p, t, sizeof(t) - 1)

static void verifier_matches_literals_classes_and_repetitions(void **state)
{
	(void)state;
	assert_int_equal(V("abc", "xxabcxx"), 1);
	assert_int_equal(V("abc", "abxc"), 0);
	assert_int_equal(V("a[0-9]{2,3}z", "a123z"), 1);
	assert_int_equal(V("a[0-9]{2,3}z", "a1234z"), 0);
	assert_int_equal(V("(?:ab|cd)+e", "xcdabe"), 1);
	assert_int_equal(V("x*", ""), 1);
	assert_int_equal(V("(?i)straSSe", "STRASSE"), 1);
	assert_int_equal(V("(?i)k", "\xe2\x84\xaa"), 1); /* the Kelvin sign */
	assert_int_equal(V("(?i)a(?-i)b", "AB"), 0);
}

static void verifier_anchors_are_line_ends(void **state)
{
	(void)state;
	assert_int_equal(V("^ab$", "ab"), 1);
	assert_int_equal(V("^b", "ab"), 0);
	assert_int_equal(V("(?:^|a)+b", "aab"), 1);
	assert_int_equal(V("(?:^|a)+b", "cb"), 0);
	assert_int_equal(V("a^", "a"), 0);
}

static void verifier_word_boundaries_follow_unicode(void **state)
{
	(void)state;
	assert_int_equal(V("\\bu64", "\xe4\xb8\xadu64"), 0);   /* after a CJK letter */
	assert_int_equal(V("\\bu64", "=u64"), 1);
	assert_int_equal(V("\\Bu64", "\xe4\xb8\xadu64"), 1);
	assert_int_equal(V("(?-u)\\bu64", "\xe4\xb8\xadu64"), 1); /* ASCII rules */
	assert_int_equal(V("\\bcd", "ab\xff" "cd"), 1);          /* invalid UTF-8: no word */
	assert_int_equal(V("\\B", "x"), 0);
	assert_int_equal(V("\\B", ""), 1);
}

static void verifier_never_matches_invalid_bytes(void **state)
{
	(void)state;
	assert_int_equal(V("a.b", "a\xff" "b"), 0);
	assert_int_equal(V("a[^x]b", "a\xed\xa0\x80" "b"), 0); /* an encoded surrogate */
	assert_int_equal(V("a..b", "a\xc3\xa9\xff" "b"), 0);
	assert_int_equal(V("a.b", "a\xc3\xa9" "b"), 1);
}

static void verifier_repeats_of_empty_stay_small(void **state)
{
	struct regex *re = NULL;
	struct verifier *v = NULL;
	const char *p = "(?:\\b|x{0}){1000}a";

	(void)state;
	assert_int_equal(regex_parse(&re, p, strlen(p), 0), 0);
	assert_int_equal(verifier_new(&v, re), 0);
	assert_int_equal(verify_line(v, (const uint8_t *)" a", 2, 0), 1);
	verifier_free(v);
	regex_free(re);
}

/* A line that takes long to verify ends at the query's deadline, not when it is done. */
static void verifier_stops_at_the_deadline(void **state)
{
	static uint8_t line[1 << 20];
	struct regex *re = NULL;
	struct verifier *v = NULL;
	const char *p = "(?:\\B[a-z]?){400}\\bq";
	struct timespec ts;
	double now;

	(void)state;
	memset(line, 'a', sizeof(line));
	assert_int_equal(regex_parse(&re, p, strlen(p), 0), 0);
	assert_int_equal(verifier_new(&v, re), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
	assert_int_equal(verify_line(v, line, sizeof(line), now - 1), TRAWL_ETIMEOUT);
	verifier_free(v);
	regex_free(re);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verifier_matches_literals_classes_and_repetitions),
		cmocka_unit_test(verifier_anchors_are_line_ends),
		cmocka_unit_test(verifier_word_boundaries_follow_unicode),
		cmocka_unit_test(verifier_never_matches_invalid_bytes),
		cmocka_unit_test(verifier_repeats_of_empty_stay_small),
		cmocka_unit_test(verifier_stops_at_the_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
