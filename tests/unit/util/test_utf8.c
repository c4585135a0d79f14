/*
 * Unit tests for util/utf8.h, the one UTF-8 decoder: the values it decodes, and the validator
 * agreeing with an independent reference (the Unicode standard's table of well-formed byte
 * sequences) on hand-picked edge cases and on many random inputs, with non-ASCII bytes at every
 * position around the 16-byte ASCII fast path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "regex/unicode.h"
#include "util/utf8.h"

static bool in(uint8_t c, uint8_t lo, uint8_t hi)
{
	return c >= lo && c <= hi;
}

/* Table 3-7 of the Unicode standard, "Well-Formed UTF-8 Byte Sequences", row by row. */
static size_t reference_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	uint8_t lo = 0x80, hi = 0xbf;
	size_t k;

	if (c <= 0x7f)
		return 1;
	if (in(c, 0xc2, 0xdf))
		k = 2;
	else if (in(c, 0xe0, 0xef))
		k = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (in(c, 0xf0, 0xf4))
		k = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (n < k || !in(p[1], lo, hi))
		return 0;
	for (size_t i = 2; i < k; i++)
		if (!in(p[i], 0x80, 0xbf))
			return 0;
	return k;
}

static bool reference(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = reference_len(p + i, n - i);

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

static void utf8_decode_returns_scalar_values(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(utf8_decode(&cp, (const uint8_t *)"A", 1), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(utf8_decode(&cp, (const uint8_t *)"\xc3\xa9x", 3), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(utf8_decode(&cp, (const uint8_t *)"\xe2\x82\xac", 3), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(utf8_decode(&cp, (const uint8_t *)"\xf0\x9e\xa5\x8a", 4), 4);
	assert_int_equal(cp, 0x1e94a);
	assert_int_equal(utf8_decode(&cp, (const uint8_t *)"\xf4\x8f\xbf\xbf", 4), 4);
	assert_int_equal(cp, 0x10ffff);
	/* Invalid input leaves *cp alone. */
	cp = 7;
	assert_int_equal(utf8_decode(&cp, (const uint8_t *)"\xe2\x82\xac", 2), 0);
	assert_int_equal(utf8_decode(&cp, (const uint8_t *)"\xc0\xaf", 2), 0);
	assert_int_equal(utf8_decode(&cp, (const uint8_t *)"\xed\xa0\x80", 3), 0);
	assert_int_equal(cp, 7);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
}

static void utf8_invalid_at_points_at_the_first_bad_byte(void **state)
{
	static const char s[] = "twenty ASCII bytes.. caf\xc3\xa9 \xe2\x82 rest";

	(void)state;
	assert_int_equal(utf8_invalid_at((const uint8_t *)s, sizeof(s) - 1), 27);
	assert_int_equal(utf8_invalid_at((const uint8_t *)s, 27), 27);
	assert_int_equal(utf8_invalid_at((const uint8_t *)"\x80", 1), 0);
	assert_int_equal(utf8_invalid_at((const uint8_t *)"abc\xe2\x82", 5), 3);
}

/* utf8_is_hidden holds general category Cf of the regex tables, U+2028 and U+2029. */
static void hidden_is_cf_and_the_separators(void **state)
{
	size_t cf = UNICODE_N_CATEGORIES, n_cf = 0, n_hidden = 0;

	(void)state;
	for (size_t i = 0; i < UNICODE_N_CATEGORIES; i++)
		if (strcmp(unicode_category_names[i], "Cf") == 0)
			cf = i;
	assert_true(cf < UNICODE_N_CATEGORIES);
	for (size_t i = 0; i < unicode_n_cat_ranges; i++) {
		const struct unicode_cat_range *r = &unicode_cat_ranges[i];

		for (uint32_t cp = r->lo; r->cat == cf && cp <= r->hi; cp++) {
			if (!utf8_is_hidden(cp))
				fail_msg("U+%04X is Cf but not hidden", (unsigned)cp);
			n_cf++;
		}
	}
	/* Every other hidden one is a separator, or Cf in a later Unicode (unassigned here). */
	for (uint32_t cp = 0; cp <= UNICODE_MAX; cp++) {
		size_t cat = 0;

		if (!utf8_is_hidden(cp))
			continue;
		n_hidden++;
		for (size_t i = 0; i < unicode_n_cat_ranges; i++)
			if (cp >= unicode_cat_ranges[i].lo && cp <= unicode_cat_ranges[i].hi)
				cat = unicode_cat_ranges[i].cat;
		if (cat != cf && cat != 0 && cp != 0x2028 && cp != 0x2029)
			fail_msg("U+%04X is hidden but %s", (unsigned)cp, unicode_category_names[cat]);
	}
	assert_true(utf8_is_hidden(0x2028) && utf8_is_hidden(0x2029) && utf8_is_hidden(0x202e));
	assert_false(utf8_is_hidden('a') || utf8_is_hidden(0xe9) || utf8_is_hidden(0x2030));
	assert_true(n_hidden >= n_cf + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utf8_decode_returns_scalar_values),
		cmocka_unit_test(hidden_is_cf_and_the_separators),
		cmocka_unit_test(utf8_invalid_at_points_at_the_first_bad_byte),
		cmocka_unit_test(utf8_accepts_well_formed_text),
		cmocka_unit_test(utf8_refuses_ill_formed_text),
		cmocka_unit_test(utf8_agrees_with_reference_everywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
