/*
 * Case-insensitive literals whose folding reaches beyond ASCII: `k` also matches the Kelvin sign
 * (U+212A) and `s` long s (U+017F), so regex_literal() refuses them, and almost every identifier
 * a user types holds one of the two.
 *
 * DESIGN: such a literal went to the trigram planner and Vectorscan. The planner's ORs over the
 * variants' trigrams were read in full and could not use the posting masks, which made
 * `lockdep_assert_held_write` cost four times as much as with case:yes (bench/README.md, "Keyword
 * queries"). Its matches split in two: those written in ASCII, which an ASCII case-insensitive
 * search finds exactly (posting masks, substr_find), and those holding a non-ASCII variant,
 * which must hold its UTF-8 bytes. The search finds the documents of the second kind through
 * the few trigrams of those bytes (regex_literal_variants), and the matcher trusts the ASCII
 * search only in text without them (matcher.c).
 */
#include <stdlib.h>
#include <string.h>

#include "regex/regex_int.h"
#include "regex/tquery.h"
#include "regex/unicode.h"
#include "util/error.h"
#include "util/trigram.h"
#include "util/utf8enc.h"

/* Whether ASCII cp's case folding orbit holds a code point outside ASCII. */
static bool folds_wide(uint32_t cp)
{
	for (uint32_t c = unicode_fold_next(cp); c != cp; c = unicode_fold_next(c))
		if (c >= 0x80)
			return true;
	return false;
}

int regex_literal_wide(struct buf *out, unsigned *lit_flags, const struct regex *re)
{
	struct re_node *const *v;
	size_t k = re_literal_spine(&v, lit_flags, re); /* line anchors as regex_literal() */
	bool is_wide = false;
	int err;

	for (size_t i = 0; i < k; i++) {
		const struct re_node *c = v[i];

		/* ASCII only: a non-ASCII letter's other case is not found by folding ASCII. */
		if (c->op != RE_LIT || c->cp >= 0x80)
			return 0;
		/* One search folds all or nothing: a letter that keeps its case is not for it. */
		if (!c->is_fold && unicode_fold_next(c->cp) != c->cp)
			return 0;
		is_wide |= c->is_fold && folds_wide(c->cp);
	}
	if (!is_wide)
		return 0; /* regex_literal() takes it, or it is not a literal */
	buf_reset(out);
	for (size_t i = 0; i < k; i++) {
		char c = (char)trigram_fold((uint8_t)v[i]->cp);

		if ((err = buf_putc(out, c)) < 0)
			return err;
	}
	*lit_flags |= REGEX_LITERAL_ICASE | REGEX_LITERAL_WIDE;
	return 1;
}

size_t regex_literal_wide_forms(uint8_t (*out)[4], size_t *out_len, size_t max, const uint8_t *lit,
				size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		for (uint32_t f = unicode_fold_next(lit[i]); f != lit[i]; f = unicode_fold_next(f)) {
			uint8_t s[4];
			size_t s_len, k = 0;

			if (f < 0x80)
				continue;
			s_len = utf8_encode(s, f);
			while (k < n && k < max &&
			       (out_len[k] != s_len || memcmp(out[k], s, s_len) != 0))
				k++;
			if (k < n)
				continue; /* seen */
			if (n < max) {
				memcpy(out[n], s, s_len);
				out_len[n] = s_len;
			}
			n++;
		}
	}
	return n;
}

/* The case variants of ASCII c, lower case first, as UTF-8: *n of them (at most 4). */
static void variants_of(uint8_t s[4][4], size_t len[4], size_t *n, uint8_t c)
{
	uint32_t f = c;

	*n = 0;
	do {
		len[*n] = utf8_encode(s[*n], f);
		(*n)++;
		f = unicode_fold_next(f);
	} while (f != c && *n < 4);
}

/* Adds trigram t to v[0..*n) unless it is there (v has room for one more). */
static void add_trigram(uint32_t *v, size_t *n, uint32_t t)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i] == t)
			return;
	v[(*n)++] = t;
}

int regex_literal_variants(struct tq **out, const uint8_t *lit, size_t len)
{
	/* Each place adds at most 3 variants times 4 neighbours. */
	uint32_t *v = NULL;
	struct tq *q = NULL;
	size_t n = 0;
	bool is_all = false;

	*out = NULL;
	if (len > SIZE_MAX / 12 / sizeof(*v) - 1 || !(v = malloc((12 * len + 1) * sizeof(*v))))
		return error_nomem(NULL);
	for (size_t i = 0; i < len && !is_all; i++) {
		uint8_t s[4][4], nb[4][4];
		size_t s_len[4], nb_len[4], n_s = 0, n_nb = 0;

		variants_of(s, s_len, &n_s, lit[i]);
		for (size_t a = 0; a < n_s; a++) {
			if (s_len[a] == 1)
				continue; /* ASCII: the posting masks' part */
			if (s_len[a] >= 3) {
				add_trigram(v, &n, trigram_make(s[a][0], s[a][1], s[a][2]));
				continue;
			}
			/*
			 * Two bytes: with the first byte of any variant of the next letter, or the
			 * last of the previous one.
			 */
			if (i + 1 < len) {
				variants_of(nb, nb_len, &n_nb, lit[i + 1]);
				for (size_t b = 0; b < n_nb; b++)
					add_trigram(v, &n, trigram_make(s[a][0], s[a][1], nb[b][0]));
			} else if (i > 0) {
				variants_of(nb, nb_len, &n_nb, lit[i - 1]);
				for (size_t b = 0; b < n_nb; b++)
					add_trigram(v, &n,
						    trigram_make(nb[b][nb_len[b] - 1], s[a][0],
								 s[a][1]));
			} else {
				is_all = true; /* the variant alone: under three bytes */
				break;
			}
		}
	}
	if (!(q = calloc(1, sizeof(*q))))
		goto nomem;
	if (is_all) {
		q->op = TQ_ALL;
	} else if (n == 0) {
		q->op = TQ_NONE;
	} else if (n == 1) {
		q->op = TQ_TRIGRAM;
		q->trigram = v[0];
	} else {
		q->op = TQ_OR;
		if (!(q->sub = calloc(n, sizeof(struct tq *))))
			goto nomem;
		for (size_t i = 0; i < n; i++) {
			struct tq *t = calloc(1, sizeof(*t));

			if (!t)
				goto nomem;
			t->op = TQ_TRIGRAM;
			t->trigram = v[i];
			q->sub[q->n_sub++] = t;
		}
	}
	free(v);
	*out = q;
	return 0;
nomem:
	free(v);
	tq_free(q);
	return error_nomem(NULL);
}

int regex_required_literal_wide(struct buf *out, const struct regex *re)
{
	bool is_icase, is_wide;
	int err = re_required_run(out, &is_icase, &is_wide, re, true);

	if (err == 0 && !is_wide)
		buf_reset(out);
	return err;
}
