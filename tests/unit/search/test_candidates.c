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
#include "unit/testlib.h"
#include "util/trigram.h"

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
	return testlib_shard_of(path, docs, n);
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
		"the KSTACK is here\n", /* 0: ASCII, another case */
		KELVIN "STACK only\n",  /* 1: the Kelvin sign */
		"k" LONG_S "tack\n",    /* 2: long s */
		"kstaa  tack\n",        /* 3: every trigram, at the wrong distances */
		"kstac k\n",            /* 4: not every trigram */
		"K" LONG_S "TA\n",      /* 5: a variant's trigram, not the rest */
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
	{ "k", 'k' },      { "K", 'k' }, { KELVIN, 'k' }, { "s", 's' }, { "S", 's' },
	{ LONG_S, 's' },   { "t", 't' }, { "T", 't' },    { "a", 'a' }, { "_", '_' },
	{ "\xc3\xa9", 0 }, { "\n", 0 },  { " ", 0 },
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
					fail_msg("\"%s\" dropped document %zu \"%s\", which holds it",
						 lit, d, texts[d]);
			}
			free(texts[d]);
		}
		shard_close(sh);
	}
	assert_true(held > 1000);
	assert_true(wide_held > 500);
}

/* ---- trigram queries: nested AND and OR evaluated exactly ---- */

static struct tq *random_tq(int depth)
{
	struct tq *q = calloc(1, sizeof(*q));

	assert_non_null(q);
	if (depth > 2 || rnd(3) == 0) {
		q->op = TQ_TRIGRAM;
		q->trigram = trigram_make((uint8_t) "abc"[rnd(3)], (uint8_t) "abc"[rnd(3)],
					  (uint8_t) "abc"[rnd(3)]);
		return q;
	}
	q->op = rnd(2) ? TQ_AND : TQ_OR;
	q->n_sub = 2 + rnd(3);
	q->sub = calloc(q->n_sub, sizeof(struct tq *));
	assert_non_null(q->sub);
	for (size_t i = 0; i < q->n_sub; i++)
		q->sub[i] = random_tq(depth + 1);
	return q;
}

static bool tq_holds(const struct tq *q, const char *doc)
{
	char t[4];

	switch (q->op) {
	case TQ_TRIGRAM:
		t[0] = (char)(q->trigram >> 16);
		t[1] = (char)(q->trigram >> 8);
		t[2] = (char)q->trigram;
		t[3] = 0;
		return strstr(doc, t) != NULL;
	case TQ_AND:
		for (size_t i = 0; i < q->n_sub; i++)
			if (!tq_holds(q->sub[i], doc))
				return false;
		return true;
	case TQ_OR:
		for (size_t i = 0; i < q->n_sub; i++)
			if (tq_holds(q->sub[i], doc))
				return true;
		return false;
	default:
		return q->op == TQ_ALL;
	}
}

/* Shared lists, nested queries starting from what the enclosing AND left: the same sets. */
static void trigram_queries_are_evaluated_exactly(void **state)
{
	int nonempty = 0;

	(void)state;
	for (int round = 0; round < 20; round++) {
		char texts[40][24];
		const char *docs[40];
		struct shard *sh;

		for (size_t d = 0; d < 40; d++) {
			size_t n = 3 + rnd(18);

			for (size_t i = 0; i < n; i++)
				texts[d][i] = "abc"[rnd(3)];
			texts[d][n] = 0;
			docs[d] = texts[d];
		}
		sh = shard_of(docs, 40);
		for (int it = 0; it < 50; it++) {
			struct tq *q = random_tq(0);
			struct docset got = { .is_all = false };
			uint64_t want = 0, have = 0;

			for (size_t d = 0; d < 40; d++)
				if (tq_holds(q, docs[d]))
					want |= (uint64_t)1 << d;
			assert_int_equal(cand_tq_eval(&got, sh, q), 0);
			assert_false(got.is_all);
			for (size_t i = 0; i < got.ids.len; i++)
				have |= (uint64_t)1 << got.ids.v[i];
			assert_int_equal(have, want);
			nonempty += want != 0;
			docset_dispose(&got);
			tq_free(q);
		}
		shard_close(sh);
	}
	assert_true(nonempty > 200);
}

static struct tq *tq_trigram(uint32_t t)
{
	struct tq *q = calloc(1, sizeof(*q));

	assert_non_null(q);
	q->op = TQ_TRIGRAM;
	q->trigram = t;
	return q;
}

static struct tq *tq_node(enum tq_op op, size_t n)
{
	struct tq *q = calloc(1, sizeof(*q));

	assert_non_null(q);
	q->op = op;
	q->sub = calloc(n, sizeof(struct tq *));
	assert_non_null(q->sub);
	return q;
}

/* The documents of q in sh as a bitmask (ids < 64), checked against tq_holds on every one. */
static uint64_t check_tq(const struct shard *sh, const struct tq *q, const char *const *docs,
			 size_t n_docs)
{
	struct docset got = { .is_all = false };
	uint64_t want = 0, have = 0;

	for (size_t d = 0; d < n_docs; d++)
		if (tq_holds(q, docs[d]))
			want |= (uint64_t)1 << d;
	assert_int_equal(cand_tq_eval(&got, sh, q), 0);
	assert_false(got.is_all);
	for (size_t i = 0; i < got.ids.len; i++) {
		if (i > 0)
			assert_true(got.ids.v[i - 1] < got.ids.v[i]);
		have |= (uint64_t)1 << got.ids.v[i];
	}
	assert_int_equal(have, want);
	docset_dispose(&got);
	return want;
}

/*
 * Queries shaped like a case-insensitive plan with k or s: an AND of trigrams and of ORs whose
 * branches repeat a prefix of them and add their own, some branches holding trigrams no
 * document has. Whatever the enclosing ANDs left already holds a repeated trigram; the sets
 * must still be exact, also when the query names more trigrams than one evaluation keeps
 * (alphabet of 5 letters: up to 125).
 */
static void repeated_trigrams_in_nested_branches_are_evaluated_exactly(void **state)
{
	int nonempty = 0;

	(void)state;
	for (int round = 0; round < 30; round++) {
		size_t letters = round % 2 ? 3 : 5;
		char texts[48][40];
		const char *docs[48];
		struct shard *sh;

		for (size_t d = 0; d < 48; d++) {
			size_t n = 10 + rnd(29);

			for (size_t i = 0; i < n; i++)
				texts[d][i] = "abcdez"[rnd((unsigned)letters)];
			texts[d][n] = 0;
			docs[d] = texts[d];
		}
		sh = shard_of(docs, 48);
		for (int it = 0; it < 40; it++) {
			uint32_t spine[12];
			size_t n_spine = 2 + rnd(10), n_or = 1 + rnd(8);
			struct tq *q = tq_node(TQ_AND, n_spine + n_or);

			for (size_t i = 0; i < n_spine; i++) {
				spine[i] = trigram_make((uint8_t) "abcde"[rnd((unsigned)letters)],
							(uint8_t) "abcde"[rnd((unsigned)letters)],
							(uint8_t) "abcde"[rnd((unsigned)letters)]);
				q->sub[q->n_sub++] = tq_trigram(spine[i]);
			}
			for (size_t o = 0; o < n_or; o++) {
				struct tq *or = tq_node(TQ_OR, 4);

				for (size_t b = 0, n_b = 2 + rnd(3); b < n_b; b++) {
					size_t n_pre = rnd((unsigned)n_spine + 1), n_own = rnd(4);
					struct tq *and = tq_node(TQ_AND, n_pre + n_own + 1);

					for (size_t i = 0; i < n_pre; i++)
						and->sub[and->n_sub++] = tq_trigram(spine[i]);
					for (size_t i = 0; i < n_own; i++) {
						/* z: a byte no document has, as the Kelvin sign's */
						const char *al = rnd(5) ? "abcde" : "zzzzz";

						and->sub[and->n_sub++] = tq_trigram(trigram_make(
							(uint8_t)al[rnd((unsigned)letters)],
							(uint8_t)al[rnd((unsigned)letters)],
							(uint8_t)al[rnd((unsigned)letters)]));
					}
					if (and->n_sub == 0)
						and->sub[and->n_sub++] = tq_trigram(spine[0]);
					or->sub[or->n_sub++] = and;
				}
				q->sub[q->n_sub++] = or;
			}
			nonempty += check_tq(sh, q, docs, 48) != 0;
			tq_free(q);
		}
		shard_close(sh);
	}
	assert_true(nonempty > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wide_literal_keeps_unicode_forms_and_uses_the_masks),
		cmocka_unit_test(wide_literal_candidates_are_sound),
		cmocka_unit_test(trigram_queries_are_evaluated_exactly),
		cmocka_unit_test(repeated_trigrams_in_nested_branches_are_evaluated_exactly),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
