/* Unit tests for the SIMD substring search, against memmem (and a folded naive search). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "regex/substr.h"

static const enum substr_path paths[] = { SUBSTR_BEST, SUBSTR_SSE2, SUBSTR_SCALAR };
#define N_PATHS (sizeof(paths) / sizeof(paths[0]))

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* The oracle: memmem, or a naive comparison of lowered haystack bytes. */
static size_t oracle(const uint8_t *h, size_t len, const uint8_t *n, size_t n_len, bool is_icase)
{
	if (!is_icase) {
		const uint8_t *hit = memmem(h, len, n, n_len);

		return hit ? (size_t)(hit - h) : len;
	}
	for (size_t p = 0; p + n_len <= len; p++) {
		size_t i = 0;

		while (i < n_len && lower(h[p + i]) == n[i])
			i++;
		if (i == n_len)
			return p;
	}
	return len;
}

/* Checks every code path against the oracle; reports the failing case. */
static void check(const uint8_t *h, size_t len, const uint8_t *n, size_t n_len, bool is_icase)
{
	struct substr s;
	size_t want = oracle(h, len, n, n_len, is_icase);

	substr_init(&s, n, n_len, is_icase);
	for (size_t k = 0; k < N_PATHS; k++) {
		size_t got = substr_find_with(&s, h, len, paths[k]);

		if (got != want) {
			fprintf(stderr, "path %d, needle of %zu bytes (%.*s), haystack of %zu, icase %d: "
					"got %zu, want %zu\n",
				(int)paths[k], n_len, (int)n_len, (const char *)n, len, is_icase, got,
				want);
			fail();
		}
	}
}

/*
 * A haystack that ends at an unreadable page, so a read past its end crashes the test (ASan
 * does not see reads inside a mapping).
 */
struct guarded {
	uint8_t *map;
	size_t page;
};

static uint8_t *guarded_end(struct guarded *g)
{
	return g->map + g->page * 2;
}

static void guarded_init(struct guarded *g)
{
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	g->map = mmap(NULL, g->page * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + g->page * 2, g->page, PROT_NONE), 0);
}

static void guarded_dispose(struct guarded *g)
{
	munmap(g->map, g->page * 3);
}

/* Needles of 1..64 bytes at every offset of a 200-byte haystack, ending at a guard page. */
static void substr_finds_needles_at_every_alignment(void **state)
{
	struct guarded g;
	uint8_t needle[64];

	(void)state;
	guarded_init(&g);
	for (size_t n_len = 1; n_len <= 64; n_len++) {
		for (size_t i = 0; i < n_len; i++)
			needle[i] = (uint8_t)('a' + (i * 7 + n_len) % 26);
		for (size_t len = n_len; len <= 200; len++) {
			uint8_t *h = guarded_end(&g) - len;

			for (size_t at = 0; at + n_len <= len; at++) {
				memset(h, '.', len);
				memcpy(h + at, needle, n_len);
				check(h, len, needle, n_len, false);
			}
			if (len > 80)
				len += 29; /* every length up to 80, then a sample */
		}
	}
	guarded_dispose(&g);
}

/* A match that ends on the last byte, and one a byte short of fitting. */
static void substr_handles_buffer_ends(void **state)
{
	struct guarded g;
	const uint8_t *n = (const uint8_t *)"CONFIG_DEBUG_ATOMIC_SLEEP";
	size_t n_len = strlen((const char *)n);

	(void)state;
	guarded_init(&g);
	for (size_t len = 0; len <= 300; len++) {
		uint8_t *h = guarded_end(&g) - len;

		memset(h, 'x', len);
		check(h, len, n, n_len, false);
		if (len >= n_len) {
			memcpy(h + len - n_len, n, n_len);
			check(h, len, n, n_len, false);
			/* All but the last byte at the very end: no match. */
			memset(h, 'x', len);
			memcpy(h + len - n_len + 1, n, n_len - 1);
			check(h, len, n, n_len, false);
		}
	}
	guarded_dispose(&g);
}

/* Repeated bytes: both filter bytes equal, overlapping near-matches. */
static void substr_handles_repeated_bytes(void **state)
{
	uint8_t h[300], n[70];

	(void)state;
	for (size_t n_len = 1; n_len <= 64; n_len++) {
		memset(n, 'a', n_len);
		for (size_t run = 0; run < 140; run++) {
			memset(h, 'b', sizeof(h));
			memset(h + 37, 'a', run);
			check(h, sizeof(h), n, n_len, false);
			check(h, sizeof(h), n, n_len, true);
		}
		/* "aaa...ab" in runs of a's. */
		memset(n, 'a', n_len);
		n[n_len - 1] = 'b';
		memset(h, 'a', sizeof(h));
		check(h, sizeof(h), n, n_len, false);
		h[250] = 'b';
		check(h, sizeof(h), n, n_len, false);
	}
}

static void substr_folds_ascii_case(void **state)
{
	const uint8_t *h = (const uint8_t *)"x Use-After-FREE here, use-after-free there";
	struct substr s;

	(void)state;
	check(h, strlen((const char *)h), (const uint8_t *)"use-after-free", 14, true);
	substr_init(&s, (const uint8_t *)"use-after-free", 14, true);
	assert_int_equal(substr_find(&s, h, strlen((const char *)h)), 2);
	/* '@' | 0x20 is '`': not a letter, so it is compared exactly. */
	check((const uint8_t *)"a@b", 3, (const uint8_t *)"a`b", 3, true);
	check((const uint8_t *)"a`b", 3, (const uint8_t *)"a`b", 3, true);
	/* Bytes above 0x7f are never folded. */
	check((const uint8_t *)"\xc3\x84\xc3\xa4", 4, (const uint8_t *)"\xc3\xa4", 2, true);
	/* A needle holding an upper-case letter never matches when folding. */
	substr_init(&s, (const uint8_t *)"Ab", 2, true);
	assert_int_equal(substr_find(&s, (const uint8_t *)"xxAbab", 6), 6);
}

static void substr_handles_empty_and_long_needles(void **state)
{
	struct substr s;
	uint8_t h[100];

	(void)state;
	memset(h, 'q', sizeof(h));
	substr_init(&s, h, 0, false);
	assert_int_equal(substr_find(&s, h, sizeof(h)), 0);
	substr_init(&s, h, sizeof(h), false);
	assert_int_equal(substr_find(&s, h, sizeof(h) - 1), sizeof(h) - 1);
	assert_int_equal(substr_find(&s, h, sizeof(h)), 0);
	substr_init(&s, (const uint8_t *)"q", 1, false);
	assert_int_equal(substr_find(&s, h, 0), 0);
}

/* Random haystacks and needles over small alphabets, where near-misses abound. */
static void substr_matches_memmem_on_random_input(void **state)
{
	static const char *alphabets[] = { "ab", "abc", "aA_", "NUL_x\n", "aAbBzZ@`[{" };
	uint8_t h[1200], n[80];
	unsigned seed = 12345;

	(void)state;
	for (int iter = 0; iter < 40000; iter++) {
		const char *al = alphabets[iter % 5];
		size_t al_len = strlen(al), len, n_len;
		bool is_icase = (iter / 5) % 2;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % (iter % 7 == 0 ? sizeof(h) : 150);
		seed = seed * 1103515245u + 12345u;
		n_len = 1 + (seed >> 8) % (iter % 3 == 0 ? 79 : 6);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			h[i] = (uint8_t)al[(seed >> 16) % al_len];
		}
		for (size_t i = 0; i < n_len; i++) {
			seed = seed * 1103515245u + 12345u;
			n[i] = (uint8_t)al[(seed >> 16) % al_len];
			if (is_icase)
				n[i] = lower(n[i]);
		}
		/* Half the time, plant the needle so that long needles are found too. */
		if (iter % 2 && len >= n_len) {
			size_t at = (seed >> 4) % (len - n_len + 1);

			memcpy(h + at, n, n_len);
		}
		check(h, len, n, n_len, is_icase);
	}
}

/*
 * substr_find_ascii: the same offsets as substr_find; when it says the text passed is ASCII,
 * it is, up to the offset returned; when it says it is not, there is a byte above 0x7f. Random
 * haystacks ending at a guard page, with a high byte planted anywhere or nowhere.
 */
static void find_ascii_tells_whether_the_text_passed_is_ascii(void **state)
{
	struct guarded g;
	unsigned seed = 7;
	int high_before = 0, high_after = 0, clean = 0;

	(void)state;
	guarded_init(&g);
	for (int it = 0; it < 20000; it++) {
		size_t len = (size_t)(rand_r(&seed) % 400), n_len = 1 + (size_t)(rand_r(&seed) % 12);
		uint8_t *h = guarded_end(&g) - len, n[16];
		bool is_icase = rand_r(&seed) % 2;

		for (size_t i = 0; i < len; i++)
			h[i] = (uint8_t)"abcAB_\n"[rand_r(&seed) % 7];
		for (size_t i = 0; i < n_len; i++)
			n[i] = (uint8_t)"abc_"[rand_r(&seed) % 4];
		if (len && rand_r(&seed) % 2)
			h[rand_r(&seed) % len] = (uint8_t)(0x80 + rand_r(&seed) % 0x80);
		for (size_t k = 0; k < N_PATHS; k++) {
			struct substr s;
			bool is_high = true, any = false, before = false;
			size_t want = oracle(h, len, n, n_len, is_icase), got;

			substr_init(&s, n, n_len, is_icase);
			got = substr_find_ascii_with(&s, h, len, &is_high, paths[k]);
			assert_int_equal(got, want);
			for (size_t i = 0; i < len; i++) {
				any |= h[i] >= 0x80;
				before |= h[i] >= 0x80 && i < got;
			}
			if (before && !is_high)
				fail_msg("path %d: a high byte before %zu went unseen", (int)paths[k], got);
			if (is_high && !any)
				fail_msg("path %d: a high byte seen in ASCII text", (int)paths[k]);
			high_before += before;
			high_after += is_high && !before;
			clean += !any;
		}
	}
	guarded_dispose(&g);
	assert_true(high_before > 1000 && clean > 1000);
	(void)high_after;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(substr_finds_needles_at_every_alignment),
		cmocka_unit_test(find_ascii_tells_whether_the_text_passed_is_ascii),
		cmocka_unit_test(substr_handles_buffer_ends),
		cmocka_unit_test(substr_handles_repeated_bytes),
		cmocka_unit_test(substr_folds_ascii_case),
		cmocka_unit_test(substr_handles_empty_and_long_needles),
		cmocka_unit_test(substr_matches_memmem_on_random_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
