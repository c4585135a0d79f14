/* Unit tests for util/array.h: growth keeps contents, and sizes that overflow are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/array.h"
#include "util/error.h"

struct pair {
	uint64_t a, b;
};

static void array_grow_keeps_contents_and_doubles(void **state)
{
	struct pair *v = NULL;
	size_t cap = 0, n = 0;

	(void)state;
	for (uint64_t i = 0; i < 1000; i++) {
		assert_int_equal(ARRAY_GROW(&v, &cap, n + 1), 0);
		assert_true(cap >= n + 1);
		v[n++] = (struct pair){ .a = i, .b = ~i };
	}
	for (uint64_t i = 0; i < 1000; i++) {
		assert_int_equal(v[i].a, i);
		assert_int_equal(v[i].b, ~i);
	}
	assert_int_equal(cap, 1024); /* 8, 16, ... 1024: doubling, not one at a time */
	free(v);
}

static void array_grow_does_nothing_when_there_is_room(void **state)
{
	int *v = NULL, *before;
	size_t cap = 0;

	(void)state;
	assert_int_equal(ARRAY_GROW(&v, &cap, 3), 0);
	before = v;
	assert_int_equal(ARRAY_GROW(&v, &cap, cap), 0);
	assert_ptr_equal(v, before);
	assert_int_equal(ARRAY_GROW(&v, &cap, 0), 0);
	free(v);
}

static void array_grow_refuses_sizes_that_overflow(void **state)
{
	struct pair *v = NULL;
	size_t cap = 0;

	(void)state;
	error_clear();
	assert_int_equal(ARRAY_GROW(&v, &cap, SIZE_MAX / 8), TRAWL_ELIMIT);
	assert_null(v);
	assert_int_equal(cap, 0);
	assert_non_null(strstr(error_last(), "too large"));
	assert_int_equal(array_grow((void **)&v, &cap, 2, 0), TRAWL_ELIMIT);
}

static void array_grow_refuses_objects_over_ptrdiff_max(void **state)
{
	char *v = NULL;
	size_t cap = 0;

	(void)state;
	/* need * elem fits in a size_t, but no object may be that large. */
	assert_int_equal(ARRAY_GROW(&v, &cap, (size_t)PTRDIFF_MAX + 1), TRAWL_ELIMIT);
	assert_null(v);
	assert_int_equal(cap, 0);
	assert_non_null(strstr(error_last(), "too large"));
}

static void error_nomem_sets_the_message(void **state)
{
	(void)state;
	assert_int_equal(error_nomem(NULL), TRAWL_ENOMEM);
	assert_string_equal(error_last(), "out of memory");
	assert_int_equal(error_nomem("listing files"), TRAWL_ENOMEM);
	assert_string_equal(error_last(), "out of memory listing files");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(array_grow_keeps_contents_and_doubles),
		cmocka_unit_test(array_grow_does_nothing_when_there_is_room),
		cmocka_unit_test(array_grow_refuses_sizes_that_overflow),
		cmocka_unit_test(array_grow_refuses_objects_over_ptrdiff_max),
		cmocka_unit_test(error_nomem_sets_the_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
