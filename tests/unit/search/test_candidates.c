/*
 * Unit tests for a content pattern's candidates (candidates.c, cand_pattern): a case-insensitive
 * literal with k or s (a wide literal: the Kelvin sign, long s) keeps every document that holds
 * a match, in ASCII or with those forms (a brute-force check over random documents), while its
 * ASCII part is narrowed by the posting masks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "index/shard.h"
#include "regex/patcache.h"
#include "search/search_int.h"
#include "util/error.h"

static char tmpdir[] = "/tmp/trawl-test-candidates.XXXXXX";
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
	patcache_clear();
	unlink(path);
	return rmdir(tmpdir);
}

static struct shard *shard_of(const char *const *docs, size_t n)
{
	struct shard_writer *w = NULL;
	struct shard *sh = NULL;

	assert_int_equal(shard_writer_new(&w, path, "r"), 0);
	for (size_t i = 0; i < n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "d%zu", i);
		assert_int_equal(shard_writer_add(w, name, strlen(name), (const uint8_t *)docs[i],
						  strlen(docs[i]), strlen(docs[i]), DOC_INDEXED, 0),
				 0);
	}
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	assert_int_equal(shard_open(&sh, path), 0);
	return sh;
}

/* The candidates of pattern (with flags) as a bitmask over document ids (< 64). */
static uint64_t cands(const struct shard *sh, const char *pattern, unsigned flags)
{
	const struct pattern *p = NULL;
	struct docset d = { .is_all = false };
	uint64_t bits = 0;

	assert_int_equal(patcache_get(&p, pattern, strlen(pattern), flags, true, 0), 0);
	assert_int_equal(cand_pattern(&d, sh, p), 0);
	if (d.is_all)
		bits = ~(uint64_t)0;
	for (size_t i = 0; i < d.ids.len; i++) {
		if (i > 0)
			assert_true(d.ids.v[i - 1] < d.ids.v[i]);
		bits |= (uint64_t)1 << d.ids.v[i];
	}
	docset_dispose(&d);
	patcache_release(p);
	return bits;
}

#define KELVIN "\xe2\x84\xaa"
#define LONG_S "\xc5\xbf"

static void wide_literal_keeps_unicode_forms_and_uses_the_masks(void **state)
{
	static const char *const docs[] = {
		"the KSTACK is here\n",    /* 0: ASCII, another case */
		KELVIN "STACK only\n",     /* 1: the Kelvin sign */
		"k" LONG_S "tack\n",       /* 2: long s */
		"kstaa  tack\n",           /* 3: every trigram, at the wrong distances */
		"kstac k\n",               /* 4: not every trigram */
		"K" LONG_S "TA\n",         /* 5: a variant's trigram, not the rest */
	};
	struct shard *sh = shard_of(docs, sizeof(docs) / sizeof(docs[0]));
	uint64_t c = cands(sh, "kstack", REGEX_FIXED | REGEX_ICASE);

	(void)state;
	assert_int_equal(c & 0x07, 0x07);
	assert_false(c & (1u << 3)); /* the masks: a trigram query alone keeps it */
	assert_false(c & (1u << 4));
	/* Long s with its next letter: doc 5 holds "ſt", a candidate the verifier then drops. */
	assert_true(c & (1u << 5));
	/* case:yes is an exact literal: only the lower-case form. */
	assert_int_equal(cands(sh, "KSTACK", REGEX_FIXED), 0x01);
	/* A pattern with no k or s stays an ASCII literal: no variants at all. */
	assert_int_equal(cands(sh, "tac", REGEX_FIXED | REGEX_ICASE) & 0x3f, 0x1f);
	shard_close(sh);
}

/* ---- soundness on random documents ---- */

static unsigned long rng = 4242;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ul + 1442695040888963407ul;
	return (unsigned)((rng >> 33) % n);
}

/* The forms of each letter of the literals below, and the code point class they fold to. */
static const struct {
	const char *utf8;
	char fold;
} forms[] = {
	{ "k", 'k' }, { "K", 'k' }, { KELVIN, 'k' }, { "s", 's' }, { "S", 's' }, { LONG_S, 's' },
	{ "t", 't' }, { "T", 't' }, { "a", 'a' },    { "_", '_' }, { "\xc3\xa9", 0 }, { "\n", 0 },
	{ " ", 0 },
};
#define N_FORMS (sizeof(forms) / sizeof(forms[0]))

/* Whether the document (a sequence of form indexes) holds lit, folding as Unicode does. */
static bool holds(const unsigned *doc, size_t n, const char *lit)
{
	size_t len = strlen(lit);

	for (size_t i = 0; i + len <= n; i++) {
		size_t k = 0;

		while (k < len && forms[doc[i + k]].fold == lit[k])
			k++;
		if (k == len)
			return true;
	}
	return false;
}

static void wide_literal_candidates_are_sound(void **state)
{
	static const char letters[] = "ksta_";
	int held = 0, wide_held = 0;

	(void)state;
	for (int round = 0; round < 60; round++) {
		char lit[8];
		size_t lit_len = 3 + rnd(4);
		unsigned docs_f[48][24];
		size_t docs_n[48];
		char *texts[48];
		struct shard *sh;
		uint64_t c;

		for (size_t i = 0; i < lit_len; i++)
			lit[i] = letters[rnd(sizeof(letters) - 1)];
		lit[lit_len] = 0;
		for (size_t d = 0; d < 48; d++) {
			size_t n = 0, len = 0;

			texts[d] = malloc(24 * 4 + 1);
			assert_non_null(texts[d]);
			/* Half of the documents hold a planted match, in random forms. */
			if (d % 2 == 0) {
				size_t at = rnd(24 - lit_len);

				for (size_t i = 0; i < at; i++)
					docs_f[d][n++] = rnd(N_FORMS);
				for (size_t i = 0; i < lit_len; i++) {
					unsigned f;

					do
						f = rnd(N_FORMS);
					while (forms[f].fold != lit[i]);
					docs_f[d][n++] = f;
				}
			}
			while (n < 24)
				docs_f[d][n++] = rnd(N_FORMS);
			docs_n[d] = n;
			for (size_t i = 0; i < n; i++) {
				size_t l = strlen(forms[docs_f[d][i]].utf8);

				memcpy(texts[d] + len, forms[docs_f[d][i]].utf8, l);
				len += l;
			}
			texts[d][len] = 0;
		}
		sh = shard_of((const char *const *)texts, 48);
		c = cands(sh, lit, REGEX_FIXED | REGEX_ICASE);
		for (size_t d = 0; d < 48; d++) {
			if (holds(docs_f[d], docs_n[d], lit)) {
				held++;
				wide_held += strstr(texts[d], KELVIN) || strstr(texts[d], LONG_S);
				if (!(c & ((uint64_t)1 << d)))
					fail_msg("\"%s\" dropped document %zu \"%s\", which holds it", lit,
						 d, texts[d]);
			}
			free(texts[d]);
		}
		shard_close(sh);
	}
	assert_true(held > 1000);
	assert_true(wide_held > 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wide_literal_keeps_unicode_forms_and_uses_the_masks),
		cmocka_unit_test(wide_literal_candidates_are_sound),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
