/*
 * Unit tests for literal candidates through posting masks (litmask.h): no document that holds
 * the literal is ever dropped (a brute-force check over random documents and literals), and the
 * masks drop the documents that hold the trigrams in another case or at the wrong distances.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#include "index/shard.h"
#include "search/litmask.h"
#include "util/error.h"
#include "unit/testlib.h"
#include "util/vec.h"

static char tmpdir[] = "/tmp/trawl-test-litmask.XXXXXX";
static char path[300];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/t.shard", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(tmpdir);
}

static struct shard *shard_of(const char *const *docs, size_t n)
{
	return testlib_shard_of(path, docs, n);
}

/* The candidates of lit as a bitmask over document ids (< 64). */
static uint64_t cands(const struct shard *sh, const char *lit, bool is_icase)
{
	struct u32vec v;
	bool is_used = false;
	uint64_t bits = 0;

	u32vec_init(&v);
	assert_int_equal(litmask_candidates(&v, &is_used, sh, (const uint8_t *)lit, strlen(lit),
					    is_icase), 0);
	assert_true(is_used);
	for (size_t i = 0; i < v.len; i++) {
		if (i > 0)
			assert_true(v.v[i - 1] < v.v[i]);
		bits |= (uint64_t)1 << v.v[i];
	}
	u32vec_dispose(&v);
	return bits;
}

static void masks_drop_wrong_case_and_wrong_distance(void **state)
{
	static const char *const docs[] = {
		"x CONFIG_X y",                 /* 0: holds it */
		"x config_x y",                 /* 1: another case */
		"CONFIG_ 1234567 G_X",          /* 2: every trigram, apart */
		"\xef\xbb\xbf" "CONFIG_X",      /* 3: after a byte order mark */
		"xxaaaaxx",                     /* 4: a repeated trigram */
		"aaa.....aaa",                  /* 5: aaa twice, 8 apart: not "aaaa" */
		"CoNfIg_x",                     /* 6: mixed case */
	};
	struct shard *sh = shard_of(docs, sizeof(docs) / sizeof(docs[0]));

	(void)state;
	assert_int_equal(cands(sh, "CONFIG_X", false), (1u << 0) | (1u << 3));
	assert_int_equal(cands(sh, "config_x", true), (1u << 0) | (1u << 1) | (1u << 3) | (1u << 6));
	assert_int_equal(cands(sh, "aaaa", false), 1u << 4);
	assert_int_equal(cands(sh, "nothere", false), 0);
	shard_close(sh);
}

/*
 * Case-insensitive: each trigram in some case is not enough, the trigrams must agree on the
 * case of the letters they share.
 */
static void icase_masks_drop_trigrams_whose_cases_disagree(void **state)
{
	static const char *const docs[] = {
		"ABC__bcd",    /* 0: abc only as ABC, bcd only as bcd (at the right distance) */
		"x ABCD y",    /* 1: holds it */
		"x aBCd y",    /* 2: holds it */
		"ABc__bCD",    /* 3: both mixed, a class the masks do not split: kept */
		"ABc__BcD",    /* 4: ABc and BcD agree on B and c: a match could be ABcD */
		"abc__BCD",    /* 5: b lower in abc, upper in BCD */
		"Abc__bcd",    /* 6: Abc and bcd agree: a match could be Abcd */
	};
	struct shard *sh = shard_of(docs, sizeof(docs) / sizeof(docs[0]));

	(void)state;
	assert_int_equal(cands(sh, "abcd", true),
			 (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 6));
	/* Case-sensitive searches are as before: the literal's own case classes. */
	assert_int_equal(cands(sh, "abcd", false), 0);
	assert_int_equal(cands(sh, "ABCD", false), 1u << 1);
	shard_close(sh);
}

static void short_literals_and_unmasked_shards_are_left_to_the_trigram_query(void **state)
{
	static const char *const docs[] = { "abc" };
	struct shard *sh = shard_of(docs, 1);
	struct u32vec v;
	bool is_used = true;

	(void)state;
	u32vec_init(&v);
	assert_int_equal(litmask_candidates(&v, &is_used, sh, (const uint8_t *)"ab", 2, false), 0);
	assert_false(is_used);
	assert_int_equal(v.len, 0);
	u32vec_dispose(&v);
	shard_close(sh);
}

/* Whether hay holds needle, exactly or ASCII case-insensitively. */
static bool holds(const char *hay, const char *needle, bool is_icase)
{
	size_t n = strlen(needle);

	for (const char *p = hay; *p; p++)
		if (is_icase ? strncasecmp(p, needle, n) == 0 : strncmp(p, needle, n) == 0)
			return true;
	return false;
}

static void no_document_holding_the_literal_is_dropped(void **state)
{
	static const char alphabet[] = "abAB_ ";
	char buf[40][160];
	const char *docs[40];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 40; round++) {
		struct shard *sh;

		for (int d = 0; d < 40; d++) {
			int len = (int)(rand_r(&seed) % 150);

			for (int k = 0; k < len; k++)
				buf[d][k] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
			buf[d][len] = 0;
			docs[d] = buf[d];
		}
		sh = shard_of(docs, 40);
		for (int q = 0; q < 30; q++) {
			char lit[12];
			int len = 3 + (int)(rand_r(&seed) % 8);
			bool is_icase = rand_r(&seed) % 3 == 0;
			uint64_t got, want = 0;

			for (int k = 0; k < len; k++)
				lit[k] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
			lit[len] = 0;
			if (is_icase)
				for (int k = 0; k < len; k++)
					lit[k] = (char)(lit[k] >= 'A' && lit[k] <= 'Z' ? lit[k] + 32 : lit[k]);
			for (int d = 0; d < 40; d++)
				if (holds(docs[d], lit, is_icase))
					want |= (uint64_t)1 << d;
			got = cands(sh, lit, is_icase);
			if ((got & want) != want)
				fail_msg("round %d: \"%s\"%s: a holding document was dropped", round, lit,
					 is_icase ? " (icase)" : "");
		}
		shard_close(sh);
	}
}

/*
 * Case-insensitive literals only, many of them longer than the case rows kept (64 trigrams), in
 * documents of mixed case: none holding the literal is dropped, and the cases' agreement drops
 * some that only hold its trigrams.
 */
static void icase_literals_keep_every_holding_document(void **state)
{
	static const char alphabet[] = "abAB_";
	static char buf[32][400];
	const char *docs[32];
	unsigned seed = 777;
	int dropped = 0;

	(void)state;
	for (int round = 0; round < 40; round++) {
		struct shard *sh;

		for (int d = 0; d < 32; d++) {
			int len = 20 + (int)(rand_r(&seed) % 370);

			for (int k = 0; k < len; k++)
				buf[d][k] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
			buf[d][len] = 0;
			docs[d] = buf[d];
		}
		sh = shard_of(docs, 32);
		for (int q = 0; q < 40; q++) {
			char lit[100];
			int len = 3 + (int)(rand_r(&seed) % (q % 4 == 0 ? 90 : 9));
			uint64_t got, want = 0;

			if (q % 2 == 0) {
				/* a piece of a document, lowered: held at least there */
				const char *src = docs[rand_r(&seed) % 32];
				int from = (int)(rand_r(&seed) % 20), n = (int)strlen(src);

				if (from + len > n)
					len = n - from;
				for (int k = 0; k < len; k++)
					lit[k] = src[from + k];
			} else {
				for (int k = 0; k < len; k++)
					lit[k] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
			}
			lit[len] = 0;
			if (len < 3)
				continue;
			for (int k = 0; k < len; k++)
				lit[k] = (char)(lit[k] >= 'A' && lit[k] <= 'Z' ? lit[k] + 32 : lit[k]);
			for (int d = 0; d < 32; d++)
				if (holds(docs[d], lit, true))
					want |= (uint64_t)1 << d;
			got = cands(sh, lit, true);
			if ((got & want) != want)
				fail_msg("round %d: \"%s\": a holding document was dropped", round, lit);
			dropped += __builtin_popcountll(~got & 0xffffffffu);
		}
		shard_close(sh);
	}
	assert_true(dropped > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(masks_drop_wrong_case_and_wrong_distance),
		cmocka_unit_test(short_literals_and_unmasked_shards_are_left_to_the_trigram_query),
		cmocka_unit_test(no_document_holding_the_literal_is_dropped),
		cmocka_unit_test(icase_masks_drop_trigrams_whose_cases_disagree),
		cmocka_unit_test(icase_literals_keep_every_holding_document),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
