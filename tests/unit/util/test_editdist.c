/* Unit tests for util/editdist.h, the "did you mean" distance and its limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/editdist.h"

static size_t dist(const char *a, const char *b, size_t limit)
{
	return editdist(a, strlen(a), b, strlen(b), limit);
}

static void editdist_counts_edits(void **state)
{
	(void)state;
	assert_int_equal(dist("python", "python", 3), 0);
	assert_int_equal(dist("pyton", "python", 3), 1);   /* insertion */
	assert_int_equal(dist("pythonn", "python", 3), 1); /* deletion */
	assert_int_equal(dist("pythan", "python", 3), 1);  /* substitution */
	assert_int_equal(dist("kitten", "sitting", 3), 3);
	assert_int_equal(dist("", "abc", 3), 3);
}

static void editdist_counts_a_swap_as_one_edit(void **state)
{
	(void)state;
	assert_int_equal(dist("pyhton", "python", 3), 1);
	assert_int_equal(dist("fiel", "file", 3), 1);
	assert_int_equal(dist("rsut", "rust", 3), 1);
}

static void editdist_ignores_ascii_case(void **state)
{
	(void)state;
	assert_int_equal(dist("PyThOn", "python", 3), 0);
	assert_int_equal(dist("LANG", "lnag", 3), 1);
}

static void editdist_stops_past_the_limit(void **state)
{
	char long_a[EDITDIST_MAX + 2];

	(void)state;
	assert_int_equal(dist("abcdef", "uvwxyz", 2), 3);
	assert_int_equal(dist("a", "abcdefgh", 3), 4); /* the lengths alone are too far apart */
	memset(long_a, 'a', sizeof(long_a) - 1);
	long_a[sizeof(long_a) - 1] = '\0';
	assert_int_equal(dist(long_a, long_a, 3), 4);
}

static void editdist_limit_grows_with_the_input(void **state)
{
	(void)state;
	assert_int_equal(editdist_limit(0), 0);
	assert_int_equal(editdist_limit(2), 0);
	assert_int_equal(editdist_limit(3), 1);
	assert_int_equal(editdist_limit(5), 1);
	assert_int_equal(editdist_limit(6), 2);
	assert_int_equal(editdist_limit(8), 2);
	assert_int_equal(editdist_limit(9), 3);
	assert_int_equal(editdist_limit(1000), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(editdist_counts_edits),
		cmocka_unit_test(editdist_counts_a_swap_as_one_edit),
		cmocka_unit_test(editdist_ignores_ascii_case),
		cmocka_unit_test(editdist_stops_past_the_limit),
		cmocka_unit_test(editdist_limit_grows_with_the_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
