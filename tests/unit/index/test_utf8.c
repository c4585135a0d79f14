/*
 * Unit tests for the writer's UTF-8 validator: it agrees with the reference rule
 * (utf8_seq_len() in util/json.h) on hand-picked edge cases and on many random inputs, with
 * non-ASCII bytes at every position around the 16-byte ASCII fast path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "index/utf8.h"
#include "util/json.h"

static bool reference(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = utf8_seq_len(p + i, n - i);

		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

static void check(const char *s, size_t n, bool want)
{
	assert_int_equal(utf8_is_valid((const uint8_t *)s, n), want);
	assert_int_equal(reference((const uint8_t *)s, n), want);
}

static void utf8_accepts_well_formed_text(void **state)
{
	(void)state;
	check("", 0, true);
	check("plain ascii text, longer than sixteen bytes", 43, true);
	check("caf\xc3\xa9", 5, true);
	check("\xe2\x82\xac euro", 8, true);
	check("\xf0\x9f\x98\x80", 4, true);
	check("\xf4\x8f\xbf\xbf", 4, true);  /* U+10FFFF */
	check("\xed\x9f\xbf", 3, true);      /* U+D7FF */
	check("\xee\x80\x80", 3, true);      /* U+E000 */
	check("\xc2\x80", 2, true);
}

static void utf8_refuses_ill_formed_text(void **state)
{
	(void)state;
	check("caf\xe9", 4, false);           /* Latin-1 */
	check("\xc0\xaf", 2, false);          /* overlong '/' */
	check("\xe0\x80\xaf", 3, false);      /* overlong */
	check("\xf0\x80\x80\xaf", 4, false);  /* overlong */
	check("\xed\xa0\x80", 3, false);      /* surrogate U+D800 */
	check("\xf4\x90\x80\x80", 4, false);  /* above U+10FFFF */
	check("\xf5\x80\x80\x80", 4, false);
	check("\x80", 1, false);              /* lone continuation */
	check("abc\xe2\x82", 5, false);       /* cut at the end */
	check("\xe2\x28\xa1", 3, false);      /* bad continuation */
	check("\xff", 1, false);
}

static void utf8_agrees_with_reference_everywhere(void **state)
{
	static const uint8_t pieces[][4] = {
		{ 0xc3, 0xa9 }, { 0xe2, 0x82, 0xac }, { 0xf0, 0x9f, 0x98, 0x80 }, { 0x80 },
		{ 0xed, 0xa0, 0x80 }, { 0xc3 }, { 0xff }, { 0xe0, 0x80, 0x80 },
	};
	static const size_t piece_len[] = { 2, 3, 4, 1, 3, 1, 1, 3 };
	uint8_t buf[80];
	uint32_t seed = 1;

	(void)state;
	/* One piece at every offset of an ASCII run. */
	for (size_t k = 0; k < sizeof(piece_len) / sizeof(piece_len[0]); k++)
		for (size_t at = 0; at + piece_len[k] <= 70; at++) {
			memset(buf, 'a', 70);
			memcpy(buf + at, pieces[k], piece_len[k]);
			for (size_t n = at; n <= 70; n += 7)
				assert_int_equal(utf8_is_valid(buf, n), reference(buf, n));
		}
	/* Random bytes, mostly ASCII. */
	for (int iter = 0; iter < 200000; iter++) {
		size_t n;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % 40;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (seed >> 16) % 4 ? (uint8_t)'x' : (uint8_t)(0x80 | (seed >> 8));
		}
		assert_int_equal(utf8_is_valid(buf, n), reference(buf, n));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utf8_accepts_well_formed_text),
		cmocka_unit_test(utf8_refuses_ill_formed_text),
		cmocka_unit_test(utf8_agrees_with_reference_everywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
