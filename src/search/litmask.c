/* Literal candidates through posting masks; see litmask.h. */
#include "search/litmask.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/trigram.h"

/* One trigram of the literal: at offset off, with the case class bit it must have. */
struct occ {
	uint32_t trigram;
	uint32_t cost; /* documents holding it in this shard */
	uint32_t off;
	uint8_t case_bit;
};

static int cmp_occ(const void *a, const void *b)
{
	const struct occ *x = a, *y = b;

	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	if (x->trigram != y->trigram)
		return x->trigram < y->trigram ? -1 : 1;
	return (x->off > y->off) - (x->off < y->off);
}

/* The case class bit of the trigram at t (shard.h, MASK_CASE_*). */
static uint8_t case_bit(const uint8_t *t)
{
	return mask_case_bit((trigram_is_upper(t[0]) << 2) | (trigram_is_upper(t[1]) << 1) |
			     trigram_is_upper(t[2]));
}

/* x (4 bits) rotated right by k (0..3) within 4 bits. */
static uint8_t rotr4(uint8_t x, unsigned k)
{
	return (uint8_t)(((x >> k) | (x << ((4 - k) & 3))) & 0x0f);
}

/*
 * The literal start offsets (modulo 4, as bits) that one document's mask for the trigram of
 * g[0..n) (all the same trigram, at several offsets) allows; 0 when none.
 */
static uint8_t allowed(const struct occ *g, size_t n, uint8_t mask, bool is_icase)
{
	uint8_t a = 0x0f;

	for (size_t i = 0; i < n; i++) {
		if (!is_icase && !(mask & g[i].case_bit))
			return 0; /* the document never has the trigram in the literal's case */
		a &= rotr4((uint8_t)(mask >> 4), g[i].off & 3);
	}
	return a;
}

/*
 * The case classes a candidate holds each trigram of the literal in (struct case_rows): a row
 * of one byte per trigram place, the place's mask bits 0-3 once its list is read, all four
 * before. Kept for a case-insensitive literal of at most LITMASK_CASE_PLACES trigrams.
 */
#define LITMASK_CASE_PLACES 64

struct case_rows {
	uint8_t *v; /* NULL: not kept */
	size_t n;   /* places: the literal's length - 2 */
};

/* Candidate k's row becomes candidate i's, with mask m for the places of g[0..n). */
static void case_row_keep(struct case_rows *r, size_t k, size_t i, bool is_first,
			  const struct occ *g, size_t n, uint8_t m)
{
	uint8_t *row;

	if (!r->v)
		return;
	row = r->v + k * r->n;
	if (is_first)
		memset(row, 0x0f, r->n);
	else if (k != i)
		memcpy(row, r->v + i * r->n, r->n);
	for (size_t x = 0; x < n; x++)
		row[g[x].off] = m & 0x0f;
}

/* 1 when c (lower case) has an upper-case ASCII form, else 0. */
static unsigned has_upper(uint8_t c)
{
	return (unsigned)c - 'a' < 26u;
}

/*
 * Whether some choice of case for each letter of lit[0..len) (lower case), written in ASCII,
 * gives every trigram place a case class its row allows: a match in the document chooses one,
 * and its trigrams then occur in exactly those classes. The trigrams overlap, so the places
 * do not choose independently: a document holding each trigram in some case, but no two
 * neighbours in cases that agree, holds no match (a register header with CONFIG_, DEBUG_,
 * ATOMIC_ and SLEEP in capitals, and config, debug, atomic and sleep elsewhere in lower case).
 * Walks the places keeping which cases (upper or not) the two letters after the last one can
 * have: a set of four.
 */
static bool case_row_agrees(const uint8_t *row, const uint8_t *lit, size_t len)
{
	unsigned up1 = has_upper(lit[1]), up2, f = 0;

	/* State u << 1 | v: the case of the place's second and third byte. */
	for (unsigned u = 0; u <= has_upper(lit[0]); u++)
		for (unsigned v = 0; v <= up1; v++)
			f |= 1u << (u << 1 | v);
	for (size_t i = 0; i + 2 < len; i++) {
		unsigned nf = 0;

		up2 = has_upper(lit[i + 2]);
		for (unsigned s = 0; s < 4; s++) {
			if (!(f & (1u << s)))
				continue;
			for (unsigned c = 0; c <= up2; c++)
				if (row[i] & mask_case_bit(s << 1 | c))
					nf |= 1u << ((s & 1) << 1 | c);
		}
		if (!(f = nf))
			return false;
	}
	return true;
}

/*
 * Intersects the candidates (ids, with acc: the start offsets still possible, and their case
 * rows) with the list of group g[0..n); the first group starts them.
 */
static void apply_group(struct u32vec *ids, uint8_t *acc, struct case_rows *rows, bool is_first,
			const struct u32vec *list, const uint8_t *masks, const struct occ *g,
			size_t n, bool is_icase)
{
	size_t k = 0;

	if (is_first) {
		for (size_t j = 0; j < list->len; j++) {
			uint8_t a = allowed(g, n, masks[j], is_icase);

			if (a) {
				case_row_keep(rows, k, j, true, g, n, masks[j]);
				ids->v[k] = list->v[j];
				acc[k++] = a;
			}
		}
		ids->len = k;
		return;
	}
	for (size_t i = 0, j = 0; i < ids->len && j < list->len;) {
		if (ids->v[i] < list->v[j]) {
			i++;
		} else if (ids->v[i] > list->v[j]) {
			j++;
		} else {
			uint8_t a = acc[i] & allowed(g, n, masks[j], is_icase);

			if (a) {
				case_row_keep(rows, k, i, false, g, n, masks[j]);
				ids->v[k] = ids->v[i];
				acc[k++] = a;
			}
			i++;
			j++;
		}
	}
	ids->len = k;
}

/* Drops the candidates whose case rows no choice of case satisfies (case_row_agrees). */
static void apply_case_rows(struct u32vec *ids, const struct case_rows *rows, const uint8_t *lit,
			    size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < ids->len; i++)
		if (case_row_agrees(rows->v + i * rows->n, lit, len))
			ids->v[k++] = ids->v[i];
	ids->len = k;
}

/*
 * The cost model that decides when reading another list is not worth it: the cost of decoding
 * a posting against the cost of verifying a candidate (bench/design-measurements.md).
 */
#define DECODE_NS_PER_ID 3u
#define VERIFY_NS_PER_DOC 1000u
#define SCAN_BYTES_PER_NS 20u
#define COST_CHECK_MAX 64 /* candidates summed up; with more, the next list is read anyway */

/*
 * Whether reading a list of count ids costs more than verifying all the candidates it could
 * remove: then the remaining lists are left out (the candidates are verified anyway).
 */
static bool not_worth_reading(const struct shard *sh, const struct u32vec *ids, uint32_t count)
{
	uint64_t verify = 0;

	if (ids->len > COST_CHECK_MAX)
		return false;
	for (size_t i = 0; i < ids->len; i++) {
		struct shard_doc d;

		if (shard_doc(&d, sh, ids->v[i]) < 0)
			return false; /* the search reports the damaged record */
		verify += VERIFY_NS_PER_DOC + d.content_len / SCAN_BYTES_PER_NS;
	}
	return (uint64_t)count * DECODE_NS_PER_ID >= verify;
}

/*
 * The literal's trigram occurrences with their costs, rarest first, same trigrams together; none
 * (*n_out 0) as soon as one trigram is in no document (each lookup can fault in a page of the
 * dictionary: a zero-hit query reads as few as it can).
 */
static int occurrences(struct occ **out, size_t *n_out, const struct shard *sh,
		       const uint8_t *lit, size_t len)
{
	size_t n = len - 2;
	struct occ *v = malloc(n * sizeof(*v));

	*out = NULL;
	if (!v)
		return error_nomem(NULL);
	*out = v;
	*n_out = 0;
	for (size_t i = 0; i < n; i++) {
		v[i].trigram = trigram_make(lit[i], lit[i + 1], lit[i + 2]);
		v[i].cost = shard_trigram_count(sh, v[i].trigram);
		if (v[i].cost == 0)
			return 0;
		v[i].off = (uint32_t)i;
		v[i].case_bit = case_bit(lit + i);
	}
	qsort(v, n, sizeof(*v), cmp_occ);
	*n_out = n;
	return 0;
}

int litmask_candidates(struct u32vec *out, bool *is_used, const struct shard *sh,
		       const uint8_t *lit, size_t len, bool is_icase)
{
	struct occ *occ = NULL;
	struct u32vec list;
	struct case_rows rows = { .v = NULL, .n = 0 };
	uint8_t *acc = NULL;
	size_t n_occ = 0, lists = 0;
	int err;

	*is_used = false;
	if (len < 3 || !shard_has_masks(sh))
		return 0;
	*is_used = true;
	if ((err = occurrences(&occ, &n_occ, sh, lit, len)) < 0)
		return err;
	u32vec_init(&list);
	if (n_occ == 0)
		goto out; /* a trigram no document holds */
	for (size_t g = 0; g < n_occ && lists < LITMASK_MAX_LISTS; lists++) {
		const uint8_t *masks = NULL;
		size_t e = g + 1;

		while (e < n_occ && occ[e].trigram == occ[g].trigram)
			e++;
		if (g > 0 && not_worth_reading(sh, out, occ[g].cost))
			break;
		list.len = 0;
		if ((err = shard_postings_masked(&list, &masks, sh, occ[g].trigram)) < 0)
			break;
		if (!masks || list.len != occ[g].cost) {
			error_set("%s: trigram 0x%06x: list without masks in a shard that has them",
				  shard_file(sh), occ[g].trigram);
			err = TRAWL_ECORRUPT;
			break;
		}
		if (g == 0) {
			acc = malloc(list.len ? list.len : 1);
			if (!acc) {
				error_set("out of memory");
				err = TRAWL_ENOMEM;
				break;
			}
			if ((err = u32vec_reserve(out, list.len)) < 0)
				break;
			if (is_icase && len - 2 <= LITMASK_CASE_PLACES) {
				rows.n = len - 2;
				if (!(rows.v = malloc(list.len ? list.len * rows.n : 1))) {
					err = error_nomem(NULL);
					break;
				}
			}
		}
		apply_group(out, acc, &rows, g == 0, &list, masks, occ + g, e - g, is_icase);
		if (out->len == 0)
			break;
		g = e;
	}
	if (err == 0 && rows.v)
		apply_case_rows(out, &rows, lit, len);
out:
	u32vec_dispose(&list);
	free(rows.v);
	free(acc);
	free(occ);
	if (err < 0)
		out->len = 0;
	return err;
}
