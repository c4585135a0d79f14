/*
 * Unit tests for query_duration_put: a duration is written as the query language reads it
 * (docs/query-syntax.md), never rounded to whole seconds, so a message about timeout:1ms or
 * timeout:1500ms names the timeout the query gave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "query/query.h"

static void expect_duration(uint64_t ms, const char *want)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(query_duration_put(&b, ms), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.ptr, want, b.len);
	buf_dispose(&b);
}

static void durations_under_a_second_keep_their_milliseconds(void **state)
{
	(void)state;
	expect_duration(1, "1ms");
	expect_duration(999, "999ms");
	expect_duration(1500, "1s500ms");
}

static void whole_units_are_written_without_zero_parts(void **state)
{
	(void)state;
	expect_duration(0, "0s");
	expect_duration(10000, "10s");
	expect_duration(60000, "1m");
	expect_duration(90000, "1m30s");
	expect_duration(3600000 + 1, "1h1ms");
}

static void a_parsed_timeout_is_written_as_given(void **state)
{
	static const char *const texts[] = { "1ms", "1s500ms", "59s999ms" };
	struct query *q = NULL;
	char text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t n = (size_t)snprintf(text, sizeof(text), "foo timeout:%s", texts[i]);

		assert_int_equal(query_parse(&q, text, n), 0);
		expect_duration(q->timeout_ms, texts[i]);
		query_free(q);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_under_a_second_keep_their_milliseconds),
		cmocka_unit_test(whole_units_are_written_without_zero_parts),
		cmocka_unit_test(a_parsed_timeout_is_written_as_given),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
