/* Unit tests for the posting list codec: round trips and every way a list can be malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "index/postings.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/vec.h"

static void round_trip(const uint32_t *ids, size_t n, uint32_t limit)
{
	struct buf b;
	struct u32vec out;

	buf_init(&b, 1 << 26);
	u32vec_init(&out);
	assert_int_equal(postings_encode(&b, ids, n), 0);
	assert_true(b.len <= n * POSTINGS_ID_MAX);
	assert_int_equal(postings_decode(&out, (const uint8_t *)b.ptr, b.len, (uint32_t)n, limit),
			 0);
	assert_int_equal(out.len, n);
	if (n)
		assert_memory_equal(out.v, ids, n * sizeof(*ids));
	u32vec_dispose(&out);
	buf_dispose(&b);
}

static void postings_round_trip_empty(void **state)
{
	struct u32vec out;

	(void)state;
	round_trip(NULL, 0, 1);
	u32vec_init(&out);
	assert_int_equal(postings_decode(&out, NULL, 0, 0, 0), 0);
	assert_int_equal(out.len, 0);
	u32vec_dispose(&out);
}

static void postings_round_trip_single(void **state)
{
	static const uint32_t one[] = { 0 }, big[] = { UINT32_MAX - 1 }, mid[] = { 300 };

	(void)state;
	round_trip(one, 1, 1);
	round_trip(big, 1, UINT32_MAX);
	round_trip(mid, 1, 301);
}

static void postings_round_trip_large_gaps(void **state)
{
	static const uint32_t ids[] = { 0, 127, 128, 16383, 16384, 2097151, 2097152, 268435455,
					268435456, UINT32_MAX - 2, UINT32_MAX - 1 };
	static const uint32_t two[] = { 0, UINT32_MAX - 1 };

	(void)state;
	round_trip(ids, sizeof(ids) / sizeof(ids[0]), UINT32_MAX);
	round_trip(two, 2, UINT32_MAX);
}

static void postings_round_trip_dense_and_random(void **state)
{
	size_t n = 100000;
	uint32_t *ids = malloc(n * sizeof(*ids));
	uint32_t x = 0, seed = 12345;

	(void)state;
	assert_non_null(ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = (uint32_t)i;
	round_trip(ids, n, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		x += 1 + (seed >> 16) % 5000;
		ids[i] = x;
	}
	round_trip(ids, n, x + 1);
	free(ids);
}

static void postings_encoding_is_first_id_then_gaps(void **state)
{
	static const uint32_t ids[] = { 5, 6, 200 };
	static const uint8_t want[] = { 5, 1, 0xc2, 0x01 };
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(postings_encode(&b, ids, 3), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.ptr, want, sizeof(want));
	buf_dispose(&b);
}

static void postings_encode_refuses_non_ascending(void **state)
{
	static const uint32_t dup[] = { 1, 1 }, down[] = { 5, 4 };
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(postings_encode(&b, dup, 2), TRAWL_EINVAL);
	assert_int_equal(postings_encode(&b, down, 2), TRAWL_EINVAL);
	buf_dispose(&b);
}

/* Decodes bytes expecting count ids below limit: returns the error, checks out is untouched. */
static int decode(const uint8_t *p, size_t len, uint32_t count, uint32_t limit)
{
	struct u32vec out;
	int err;

	u32vec_init(&out);
	assert_int_equal(u32vec_push(&out, 77), 0);
	error_clear();
	err = postings_decode(&out, p, len, count, limit);
	if (err < 0) {
		assert_int_equal(out.len, 1);
		assert_true(error_last()[0] != '\0');
	} else {
		assert_int_equal(out.len, 1 + count);
		assert_int_equal(out.v[0], 77);
	}
	u32vec_dispose(&out);
	return err;
}

static void postings_decode_appends(void **state)
{
	static const uint8_t list[] = { 3, 4 };

	(void)state;
	assert_int_equal(decode(list, 2, 2, 10), 0);
}

static void postings_reject_truncated_varint(void **state)
{
	static const uint8_t a[] = { 1, 0x80 }, b[] = { 0x80, 0x80 };

	(void)state;
	assert_int_equal(decode(a, 2, 2, 1000), TRAWL_ECORRUPT);
	assert_int_equal(decode(b, 2, 1, 1000), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "truncated"));
}

static void postings_reject_overlong_varint(void **state)
{
	static const uint8_t zero2[] = { 0x80, 0x00 };            /* 0 in two bytes */
	static const uint8_t six[] = { 0x81, 0x80, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t big[] = { 0xff, 0xff, 0xff, 0xff, 0x1f }; /* 2^33 - 1 */

	(void)state;
	assert_int_equal(decode(zero2, 2, 1, 1000), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "overlong"));
	assert_int_equal(decode(six, 6, 1, UINT32_MAX), TRAWL_ECORRUPT);
	assert_int_equal(decode(big, 5, 1, UINT32_MAX), TRAWL_ECORRUPT);
}

static void postings_reject_non_ascending(void **state)
{
	static const uint8_t list[] = { 3, 0 };

	(void)state;
	assert_int_equal(decode(list, 2, 2, 1000), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "ascending"));
}

static void postings_reject_id_out_of_range(void **state)
{
	static const uint8_t list[] = { 3, 4 };
	static const uint8_t wrap[] = { 0xfe, 0xff, 0xff, 0xff, 0x0f, 0x02 }; /* 2^32-2 then +2 */

	(void)state;
	assert_int_equal(decode(list, 2, 2, 7), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "out of range"));
	assert_int_equal(decode(wrap, 6, 2, UINT32_MAX), TRAWL_ECORRUPT);
}

static void postings_reject_count_mismatch(void **state)
{
	static const uint8_t list[] = { 1, 1, 1 };

	(void)state;
	assert_int_equal(decode(list, 3, 2, 100), TRAWL_ECORRUPT); /* bytes left over */
	assert_int_equal(decode(list, 3, 4, 100), TRAWL_ECORRUPT); /* more ids than bytes */
	assert_int_equal(decode(list, 3, 0, 100), TRAWL_ECORRUPT);
	assert_int_equal(decode(list, 3, 3, 100), 0);
}

static void postings_huge_count_does_not_allocate(void **state)
{
	static const uint8_t list[] = { 1 };

	(void)state;
	/* A count from a hostile dictionary must not size an allocation before it is checked. */
	assert_int_equal(decode(list, 1, UINT32_MAX, UINT32_MAX), TRAWL_ECORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(postings_round_trip_empty),
		cmocka_unit_test(postings_round_trip_single),
		cmocka_unit_test(postings_round_trip_large_gaps),
		cmocka_unit_test(postings_round_trip_dense_and_random),
		cmocka_unit_test(postings_encoding_is_first_id_then_gaps),
		cmocka_unit_test(postings_encode_refuses_non_ascending),
		cmocka_unit_test(postings_decode_appends),
		cmocka_unit_test(postings_reject_truncated_varint),
		cmocka_unit_test(postings_reject_overlong_varint),
		cmocka_unit_test(postings_reject_non_ascending),
		cmocka_unit_test(postings_reject_id_out_of_range),
		cmocka_unit_test(postings_reject_count_mismatch),
		cmocka_unit_test(postings_huge_count_does_not_allocate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
