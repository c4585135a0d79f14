/*
 * The SYMBOLS section: builder, reader, verifier and lookups; see symsec.h and
 * docs/index-format.md ("SYMBOLS").
 *
 * DESIGN: a symbol record is 20 bytes of fixed fields; every string (names, scopes, signatures,
 * kind and language names) is stored once in STRINGS and referenced by offset, because scopes
 * and kinds repeat on almost every line of a file. Names are a table of the distinct names
 * sorted by their ASCII-folded bytes (then their raw bytes), each with its list of symbols: an
 * exact or prefix lookup, with or without case, is a binary search and a walk over adjacent
 * entries, and a regular expression is tested against each distinct name once. The document
 * of a symbol is found by a binary search of DOCSYM, so records do not repeat it.
 *
 * GRAMS, a trigram index of the distinct names (folded as content trigrams are), answers a
 * substring (a keyword, a regex's required literal) without reading every name: the lists of
 * the needle's rarest trigrams are intersected and only the names in all of them are read and
 * tested as the scan tests them. A list is the ascending name indices as delta varints: names
 * are sorted, so those sharing a trigram are often close and most gaps take one byte. There are
 * no skip pointers: a list is read from its start, and a list much longer than the rarest one
 * is left out of the intersection (its names are tested instead of decoding it).
 */
#include "symbols/symsec.h"

#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/error.h"
#include "util/trigram.h"

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Orders by folded bytes, then raw bytes; a prefix sorts first. */
static int cmp_fold(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t n = al < bl ? al : bl;

	for (size_t i = 0; i < n; i++)
		if (fold(a[i]) != fold(b[i]))
			return fold(a[i]) < fold(b[i]) ? -1 : 1;
	return (al > bl) - (al < bl);
}

static int cmp_name(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = cmp_fold(a, al, b, bl);
	size_t n = al < bl ? al : bl;

	if (c)
		return c;
	c = memcmp(a, b, n);
	return c ? c : (al > bl) - (al < bl);
}

/*
 * The distinct trigrams of s[0..n) (n <= SYMSEC_STR_MAX), ASCII letters folded, in the order
 * they first occur, into t (room for SYMSEC_STR_MAX): their number. Duplicates are found with
 * a small hash table sized to the name (linear probing, at most half full), so the work is
 * linear in n: sorting each name's trigrams cost verify and the builder more than the rest of
 * their work on the names.
 */
static size_t name_grams(uint32_t *t, const uint8_t *s, size_t n)
{
	uint32_t tab[2 * SYMSEC_STR_MAX]; /* trigram + 1; 0 empty */
	size_t m = 0, bits = 5;

	if (n < 3)
		return 0;
	while (((size_t)1 << bits) < 2 * (n - 2))
		bits++;
	memset(tab, 0, sizeof(*tab) << bits);
	for (size_t i = 0; i + 3 <= n; i++) {
		uint32_t g = trigram_make(s[i], s[i + 1], s[i + 2]);
		size_t k = (uint32_t)((g + 1) * 0x9e3779b1u) >> (32 - bits);

		for (; tab[k] && tab[k] != g + 1; k = (k + 1) & (((size_t)1 << bits) - 1))
			;
		if (!tab[k]) {
			tab[k] = g + 1;
			t[m++] = g;
		}
	}
	return m;
}

const char *symsec_status_name(enum symsec_status st)
{
	switch (st) {
	case SYMSEC_OK: return "ok";
	case SYMSEC_NOT_PARSED: return "not parsed";
	case SYMSEC_TIMEOUT: return "ctags timed out";
	case SYMSEC_CRASHED: return "ctags crashed";
	case SYMSEC_TOO_MUCH: return "too many symbols";
	case SYMSEC_UNAVAILABLE: return "ctags unavailable";
	}
	return "unknown";
}

/* --- builder ------------------------------------------------------------------------------- */

struct bsym {
	uint32_t name; /* name id before sorting */
	uint32_t line;
	uint32_t scope, signature; /* STRINGS offset + 1, 0 none */
	uint8_t kind, scope_kind, lang;
};

/* An interning table: open addressing over (STRINGS offset + 1, value). */
struct itab {
	uint32_t *off1;
	uint32_t *val;
	size_t cap, n;
};

struct symsec_builder {
	struct buf strings;
	struct itab strs;  /* every string: value unused */
	struct itab names; /* names: value = name id */
	uint32_t *name_off; /* per name id, its STRINGS offset */
	size_t n_names, cap_names;
	uint32_t kinds[SYMSEC_KINDS_MAX], langs[SYMSEC_LANGS_MAX];
	uint32_t n_kinds, n_langs;
	struct bsym *syms;
	size_t n_syms, cap_syms;
	uint32_t *doc_first;
	uint8_t *doc_status;
	size_t n_docs, cap_first, cap_status;
};

static uint64_t hash(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static const uint8_t *str_bytes(const struct buf *b, uint32_t off, size_t *len)
{
	const uint8_t *p = (const uint8_t *)b->ptr + off;

	*len = rd16(p);
	return p + 2;
}

static int itab_grow(struct itab *t, const struct buf *strings)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	uint32_t *off1 = calloc(cap, sizeof(*off1)), *val = calloc(cap, sizeof(*val));

	if (!off1 || !val) {
		free(off1);
		free(val);
		return error_nomem("collecting symbols");
	}
	for (size_t i = 0; i < t->cap; i++) {
		size_t len, k;
		const uint8_t *p;

		if (!t->off1[i])
			continue;
		p = str_bytes(strings, t->off1[i] - 1, &len);
		for (k = hash(p, len) & (cap - 1); off1[k]; k = (k + 1) & (cap - 1))
			;
		off1[k] = t->off1[i];
		val[k] = t->val[i];
	}
	free(t->off1);
	free(t->val);
	t->off1 = off1;
	t->val = val;
	t->cap = cap;
	return 0;
}

/* The slot of s in t: *found says whether it holds s, else it is the empty slot for it. */
static size_t itab_find(const struct itab *t, const struct buf *strings, const char *s,
			size_t len, bool *found)
{
	size_t k = hash(s, len) & (t->cap - 1);

	for (; t->off1[k]; k = (k + 1) & (t->cap - 1)) {
		size_t l;
		const uint8_t *p = str_bytes(strings, t->off1[k] - 1, &l);

		if (l == len && memcmp(p, s, len) == 0) {
			*found = true;
			return k;
		}
	}
	*found = false;
	return k;
}

/* The STRINGS offset of s (1..SYMSEC_STR_MAX bytes), adding it when new. */
static int intern(uint32_t *off, struct symsec_builder *b, const char *s, size_t len)
{
	uint8_t le[2] = { (uint8_t)len, (uint8_t)(len >> 8) };
	bool found;
	size_t k;
	int err;

	if (b->strs.n * 2 >= b->strs.cap && (err = itab_grow(&b->strs, &b->strings)) < 0)
		return err;
	k = itab_find(&b->strs, &b->strings, s, len, &found);
	if (found) {
		*off = b->strs.off1[k] - 1;
		return 0;
	}
	if (b->strings.len + 2 + len > UINT32_MAX - 1) {
		error_set("more than 4 GiB of symbol strings in one shard");
		return TRAWL_ELIMIT;
	}
	*off = (uint32_t)b->strings.len;
	if ((err = buf_put(&b->strings, le, 2)) < 0 || (err = buf_put(&b->strings, s, len)) < 0)
		return err;
	b->strs.off1[k] = *off + 1;
	b->strs.n++;
	return 0;
}

static int intern_name(uint32_t *id, struct symsec_builder *b, const char *s, size_t len)
{
	uint32_t off;
	bool found;
	size_t k;
	int err;

	if ((err = intern(&off, b, s, len)) < 0)
		return err;
	if (b->names.n * 2 >= b->names.cap && (err = itab_grow(&b->names, &b->strings)) < 0)
		return err;
	k = itab_find(&b->names, &b->strings, s, len, &found);
	if (found) {
		*id = b->names.val[k];
		return 0;
	}
	if ((err = ARRAY_GROW(&b->name_off, &b->cap_names, b->n_names + 1)) < 0)
		return err;
	b->name_off[b->n_names] = off;
	*id = (uint32_t)b->n_names++;
	b->names.off1[k] = off + 1;
	b->names.val[k] = *id;
	b->names.n++;
	return 0;
}

/* The index of a kind or language name in its small table (at most 255 entries). */
static int intern_small(uint8_t *idx, struct symsec_builder *b, uint32_t *tab, uint32_t *n,
			const char *s, const char *what)
{
	size_t len = strlen(s);
	uint32_t off;
	int err;

	if (len == 0 || len > SYMSEC_STR_MAX) {
		error_set("symbol %s name of %zu bytes", what, len);
		return TRAWL_EINVAL;
	}
	if ((err = intern(&off, b, s, len)) < 0)
		return err;
	for (uint32_t i = 0; i < *n; i++)
		if (tab[i] == off) {
			*idx = (uint8_t)i;
			return 0;
		}
	if (*n >= SYMSEC_KINDS_MAX) {
		error_set("more than %u symbol %ss in one shard", SYMSEC_KINDS_MAX, what);
		return TRAWL_ELIMIT;
	}
	tab[*n] = off;
	*idx = (uint8_t)(*n)++;
	return 0;
}

int symsec_builder_new(struct symsec_builder **out)
{
	struct symsec_builder *b = calloc(1, sizeof(*b));
	int err;

	*out = NULL;
	if (!b)
		return error_nomem("collecting symbols");
	buf_init(&b->strings, UINT32_MAX - 1);
	if ((err = itab_grow(&b->strs, &b->strings)) < 0 ||
	    (err = itab_grow(&b->names, &b->strings)) < 0) {
		symsec_builder_free(b);
		return err;
	}
	*out = b;
	return 0;
}

int symsec_builder_doc(struct symsec_builder *b, uint32_t doc, enum symsec_status st)
{
	int err;

	if (doc < b->n_docs || (unsigned)st > SYMSEC_STATUS_MAX) {
		error_set("symbols: document %u out of order (or status %d)", doc, (int)st);
		return TRAWL_EINVAL;
	}
	if ((err = ARRAY_GROW(&b->doc_first, &b->cap_first, (size_t)doc + 1)) < 0 ||
	    (err = ARRAY_GROW(&b->doc_status, &b->cap_status, (size_t)doc + 1)) < 0)
		return err;
	for (; b->n_docs <= doc; b->n_docs++) {
		b->doc_first[b->n_docs] = (uint32_t)b->n_syms;
		b->doc_status[b->n_docs] = SYMSEC_NOT_PARSED;
	}
	b->doc_status[doc] = (uint8_t)st;
	return 0;
}

uint32_t symsec_builder_doc_count(const struct symsec_builder *b)
{
	return b->n_docs ? (uint32_t)(b->n_syms - b->doc_first[b->n_docs - 1]) : 0;
}

void symsec_builder_doc_fail(struct symsec_builder *b, enum symsec_status st)
{
	if (!b->n_docs)
		return;
	/* The strings and names it interned stay: unreferenced names are dropped at finish. */
	b->n_syms = b->doc_first[b->n_docs - 1];
	b->doc_status[b->n_docs - 1] = (uint8_t)st;
}

int symsec_builder_add(struct symsec_builder *b, const struct symsec_in *s)
{
	struct bsym y = { .line = s->line, .scope_kind = SYMSEC_NONE };
	int err;

	if (!b->n_docs) {
		error_set("symbols: a symbol before any document");
		return TRAWL_EINVAL;
	}
	if (s->name_len == 0 || s->name_len > SYMSEC_STR_MAX || !s->kind || !s->kind[0] ||
	    !s->lang || !s->lang[0])
		return 0;
	if (b->n_syms >= SYMSEC_SYMBOLS_MAX) {
		error_set("more than %u symbols in one shard", SYMSEC_SYMBOLS_MAX);
		return TRAWL_ELIMIT;
	}
	if ((err = intern_name(&y.name, b, s->name, s->name_len)) < 0 ||
	    (err = intern_small(&y.kind, b, b->kinds, &b->n_kinds, s->kind, "kind")) < 0 ||
	    (err = intern_small(&y.lang, b, b->langs, &b->n_langs, s->lang, "language")) < 0)
		return err;
	if (s->scope_kind && s->scope_kind[0] &&
	    (err = intern_small(&y.scope_kind, b, b->kinds, &b->n_kinds, s->scope_kind,
				"kind")) < 0)
		return err;
	if (s->scope_len && s->scope_len <= SYMSEC_STR_MAX) {
		if ((err = intern(&y.scope, b, s->scope, s->scope_len)) < 0)
			return err;
		y.scope++;
	}
	if (s->signature_len && s->signature_len <= SYMSEC_STR_MAX) {
		if ((err = intern(&y.signature, b, s->signature, s->signature_len)) < 0)
			return err;
		y.signature++;
	}
	if ((err = ARRAY_GROW(&b->syms, &b->cap_syms, b->n_syms + 1)) < 0)
		return err;
	b->syms[b->n_syms++] = y;
	return 0;
}

static int cmp_ids(const void *x, const void *y, void *arg)
{
	const struct symsec_builder *b = arg;
	size_t al, bl;
	const uint8_t *a = str_bytes(&b->strings, b->name_off[*(const uint32_t *)x], &al);
	const uint8_t *c = str_bytes(&b->strings, b->name_off[*(const uint32_t *)y], &bl);

	return cmp_name(a, al, c, bl);
}

static int put32(struct buf *out, uint32_t v)
{
	uint8_t le[4];

	wr32(le, v);
	return buf_put(out, le, 4);
}

/* The key index of trigram g among those set in bits (rank: keys before each word). */
static uint32_t gram_key(const uint64_t *bits, const uint32_t *rank, uint32_t g)
{
	uint64_t below = bits[g >> 6] & ((UINT64_C(1) << (g & 63)) - 1);

	return rank[g >> 6] + (uint32_t)__builtin_popcountll(below);
}

/* The ascending ids[0..n) as delta varints. ELIMIT past the buffer's maximum, ENOMEM. */
static int put_list(struct buf *b, const uint32_t *ids, uint32_t n)
{
	int err = 0;

	for (uint32_t j = 0; j < n && err == 0; j++)
		err = buf_put_uvarint(b, j ? ids[j] - ids[j - 1] : ids[0]);
	return err;
}

/*
 * GRAMS of the n_used distinct names (name k is name id order[k]) into gb (header, keys,
 * lists). Each name's distinct trigrams are found once, into flat (name k's from start[k]),
 * while a bitmap of all 2^24 trigrams marks those that occur (and a bitmap of its non-zero
 * words, so that a small section does not walk all 2^18 of them); ranking the bitmap numbers
 * the keys, flat becomes key numbers, and a counting sort by key gives each list its names in
 * ascending order. *is_fit is false (gb empty) when the lists pass GPOSTS' 4 GiB of u32
 * offsets: the section is then written without GRAMS, and answers by scanning.
 */
static int build_grams(struct buf *gb, bool *is_fit, const struct symsec_builder *b,
		       const uint32_t *order, size_t n_used)
{
	const size_t n_words = TRIGRAM_SPACE / 64;
	uint64_t *bits = calloc(n_words, sizeof(*bits)), *top = calloc(n_words / 64, sizeof(*top));
	uint32_t *rank = malloc(n_words * sizeof(*rank)), *cnt = NULL, *at = NULL, *ids = NULL;
	uint32_t *flat = NULL, *start = malloc((n_used + 1) * sizeof(*start));
	uint8_t h[SYMSEC_GRAMS_HEADER_SIZE] = { 0 };
	size_t n_grams = 0, n_post = 0, cap = 0;
	struct buf lists;
	int err = 0;

	*is_fit = true;
	buf_init(&lists, UINT32_MAX);
	if (!bits || !top || !rank || !start) {
		err = error_nomem("indexing symbol names");
		goto out;
	}
	for (size_t k = 0; k < n_used; k++) {
		size_t len;
		const uint8_t *name = str_bytes(&b->strings, b->name_off[order[k]], &len);

		/* A name has at most len - 2 trigrams; lists hold a byte per name at least. */
		if (n_post + len > UINT32_MAX) {
			*is_fit = false;
			goto out;
		}
		if ((err = ARRAY_GROW(&flat, &cap, n_post + len)) < 0)
			goto out;
		start[k] = (uint32_t)n_post;
		n_post += name_grams(flat + n_post, name, len);
	}
	start[n_used] = (uint32_t)n_post;
	for (size_t i = 0; i < n_post; i++) {
		bits[flat[i] >> 6] |= UINT64_C(1) << (flat[i] & 63);
		top[flat[i] >> 12] |= UINT64_C(1) << ((flat[i] >> 6) & 63);
	}
	/* rank[w] is set for the words in use only: the only ones gram_key reads. */
	for (size_t tw = 0; tw < n_words / 64; tw++)
		for (uint64_t y = top[tw]; y; y &= y - 1) {
			size_t w = tw * 64 + (size_t)__builtin_ctzll(y);

			rank[w] = (uint32_t)n_grams;
			n_grams += (size_t)__builtin_popcountll(bits[w]);
		}
	cnt = calloc(n_grams + 1, sizeof(*cnt));
	at = malloc((n_grams + 1) * sizeof(*at));
	ids = malloc((n_post + 1) * sizeof(*ids));
	if (!cnt || !at || !ids) {
		err = error_nomem("indexing symbol names");
		goto out;
	}
	for (size_t i = 0; i < n_post; i++) {
		flat[i] = gram_key(bits, rank, flat[i]);
		cnt[flat[i]]++;
	}
	for (size_t i = 0, sum = 0; i < n_grams; i++) {
		at[i] = (uint32_t)sum;
		sum += cnt[i];
	}
	for (size_t k = 0; k < n_used; k++)
		for (uint32_t i = start[k]; i < start[k + 1]; i++)
			ids[at[flat[i]]++] = (uint32_t)k;
	/* at[i] is now the end of list i: its start is at[i] - cnt[i]. */
	wr32(h + SYMSEC_G_N_GRAMS, (uint32_t)n_grams);
	wr32(h + SYMSEC_G_N_POSTINGS, (uint32_t)n_post);
	wr32(h + SYMSEC_G_N_POSTINGS + 4, (uint32_t)((uint64_t)n_post >> 32));
	if ((err = buf_put(gb, h, sizeof(h))) < 0 ||
	    (err = buf_reserve(gb, n_grams * SYMSEC_GRAM_SIZE)) < 0 ||
	    (err = buf_reserve(&lists, n_post)) < 0)
		goto out;
	for (size_t tw = 0, i = 0; tw < n_words / 64; tw++) {
		for (uint64_t y = top[tw]; y; y &= y - 1) {
			size_t w = tw * 64 + (size_t)__builtin_ctzll(y);

			for (uint64_t x = bits[w]; x; x &= x - 1, i++) {
				uint8_t e[SYMSEC_GRAM_SIZE];

				wr32(e, (uint32_t)(w * 64 + (size_t)__builtin_ctzll(x)));
				wr32(e + 4, cnt[i]);
				wr32(e + 8, (uint32_t)lists.len);
				if ((err = buf_put(gb, e, sizeof(e))) < 0)
					goto out;
				err = put_list(&lists, ids + at[i] - cnt[i], cnt[i]);
				if (err == TRAWL_ELIMIT) {
					/* Past u32 offsets: no index rather than no section. */
					*is_fit = false;
					buf_reset(gb);
					err = 0;
					goto out;
				}
				if (err < 0)
					goto out;
			}
		}
	}
	err = buf_put(gb, lists.ptr, lists.len);
out:
	buf_dispose(&lists);
	free(bits);
	free(top);
	free(rank);
	free(start);
	free(flat);
	free(cnt);
	free(at);
	free(ids);
	return err;
}

int symsec_builder_finish(struct symsec_builder *b, struct buf *out, uint32_t *count,
			  uint32_t n_docs)
{
	uint32_t *order = NULL, *rank = NULL, *n_per = NULL, *first = NULL, *posts = NULL;
	uint8_t h[SYMSEC_HEADER_SIZE] = { 0 };
	size_t n_used = 0;
	struct buf gb;
	bool has_grams;
	int err;

	*count = 0;
	buf_init(&gb, (size_t)UINT32_MAX + SYMSEC_GRAMS_HEADER_SIZE +
			      (size_t)SYMSEC_GRAMS_MAX * SYMSEC_GRAM_SIZE);
	if (b->n_docs > n_docs) {
		error_set("symbols: %zu documents, the shard has %u", b->n_docs, n_docs);
		return TRAWL_EINVAL;
	}
	if (n_docs > b->n_docs && (err = symsec_builder_doc(b, n_docs - 1, SYMSEC_NOT_PARSED)) < 0)
		return err;
	/* Names that lost their symbols (symsec_builder_doc_fail) are dropped: count first. */
	n_per = calloc(b->n_names + 1, sizeof(*n_per));
	order = malloc((b->n_names + 1) * sizeof(*order));
	rank = malloc((b->n_names + 1) * sizeof(*rank));
	first = malloc((b->n_names + 1) * sizeof(*first));
	posts = calloc(b->n_syms + 1, sizeof(*posts));
	if (!n_per || !order || !rank || !first || !posts) {
		err = error_nomem("writing symbols");
		goto out;
	}
	for (size_t i = 0; i < b->n_syms; i++)
		n_per[b->syms[i].name]++;
	for (uint32_t id = 0; id < b->n_names; id++)
		if (n_per[id])
			order[n_used++] = id;
	qsort_r(order, n_used, sizeof(*order), cmp_ids, b);
	for (size_t k = 0, at = 0; k < n_used; k++) {
		rank[order[k]] = (uint32_t)k;
		first[k] = (uint32_t)at;
		at += n_per[order[k]];
	}
	/* n_per becomes each name's cursor into POSTS: symbols go in ascending order. */
	for (size_t k = 0; k < n_used; k++)
		n_per[order[k]] = first[k];
	for (size_t i = 0; i < b->n_syms; i++)
		posts[n_per[b->syms[i].name]++] = (uint32_t)i;
	if ((err = build_grams(&gb, &has_grams, b, order, n_used)) < 0)
		goto out;
	wr32(h + SYMSEC_H_FLAGS, has_grams ? SYMSEC_F_GRAMS : 0);
	wr32(h + SYMSEC_H_N_DOCS, n_docs);
	wr32(h + SYMSEC_H_N_SYMBOLS, (uint32_t)b->n_syms);
	wr32(h + SYMSEC_H_N_NAMES, (uint32_t)n_used);
	wr32(h + SYMSEC_H_N_KINDS, b->n_kinds);
	wr32(h + SYMSEC_H_N_LANGS, b->n_langs);
	wr32(h + SYMSEC_H_STRINGS_LEN, (uint32_t)b->strings.len);
	if ((err = buf_put(out, h, sizeof(h))) < 0)
		goto out;
	for (uint32_t d = 0; d < n_docs; d++) {
		uint8_t r[SYMSEC_DOC_SIZE] = { 0 };

		wr32(r, b->doc_first[d]);
		r[4] = b->doc_status[d];
		if ((err = buf_put(out, r, sizeof(r))) < 0)
			goto out;
	}
	for (size_t i = 0; i < b->n_syms; i++) {
		const struct bsym *y = &b->syms[i];
		uint8_t r[SYMSEC_SYM_SIZE] = { 0 };

		wr32(r + SYMSEC_S_NAME, rank[y->name]);
		wr32(r + SYMSEC_S_LINE, y->line);
		wr32(r + SYMSEC_S_SCOPE, y->scope);
		wr32(r + SYMSEC_S_SIGNATURE, y->signature);
		r[SYMSEC_S_KIND] = y->kind;
		r[SYMSEC_S_SCOPE_KIND] = y->scope_kind;
		r[SYMSEC_S_LANG] = y->lang;
		if ((err = buf_put(out, r, sizeof(r))) < 0)
			goto out;
	}
	for (size_t k = 0; k < n_used; k++)
		if ((err = put32(out, b->name_off[order[k]])) < 0 || (err = put32(out, first[k])) < 0)
			goto out;
	for (size_t i = 0; i < b->n_syms; i++)
		if ((err = put32(out, posts[i])) < 0)
			goto out;
	for (uint32_t i = 0; i < b->n_kinds; i++)
		if ((err = put32(out, b->kinds[i])) < 0)
			goto out;
	for (uint32_t i = 0; i < b->n_langs; i++)
		if ((err = put32(out, b->langs[i])) < 0)
			goto out;
	if ((err = buf_put(out, b->strings.ptr, b->strings.len)) < 0 ||
	    (err = buf_put(out, gb.ptr, gb.len)) < 0)
		goto out;
	*count = (uint32_t)b->n_syms;
out:
	buf_dispose(&gb);
	free(n_per);
	free(order);
	free(rank);
	free(first);
	free(posts);
	return err;
}

void symsec_builder_free(struct symsec_builder *b)
{
	if (!b)
		return;
	buf_dispose(&b->strings);
	free(b->strs.off1);
	free(b->strs.val);
	free(b->names.off1);
	free(b->names.val);
	free(b->name_off);
	free(b->syms);
	free(b->doc_first);
	free(b->doc_status);
	free(b);
}

/* --- reader -------------------------------------------------------------------------------- */

static int corrupt(const char *what, unsigned long long a)
{
	error_set("section SYMBOLS: %s %llu", what, a);
	return TRAWL_ECORRUPT;
}

/* GRAMS, the rest of the section from g: its header and sizes (constant time). */
static int open_grams(struct symsec *s, const uint8_t *g, uint64_t len)
{
	uint64_t keys;

	if (len < SYMSEC_GRAMS_HEADER_SIZE)
		return corrupt("name index shorter than its header:", len);
	if (rd32(g + SYMSEC_G_RESERVED) != 0)
		return corrupt("name index reserved field not zero:", rd32(g + SYMSEC_G_RESERVED));
	s->n_grams = rd32(g + SYMSEC_G_N_GRAMS);
	s->n_gram_postings = (uint64_t)rd32(g + SYMSEC_G_N_POSTINGS) |
			     (uint64_t)rd32(g + SYMSEC_G_N_POSTINGS + 4) << 32;
	if (s->n_grams > SYMSEC_GRAMS_MAX || (s->n_names == 0 && s->n_grams))
		return corrupt("name index trigrams:", s->n_grams);
	keys = (uint64_t)s->n_grams * SYMSEC_GRAM_SIZE;
	if (keys > len - SYMSEC_GRAMS_HEADER_SIZE)
		return corrupt("name index keys past the section:", s->n_grams);
	len -= SYMSEC_GRAMS_HEADER_SIZE + keys;
	/* Each list holds one name at least, and each name takes a byte at least. */
	if (len > UINT32_MAX || s->n_gram_postings > len || s->n_gram_postings < s->n_grams)
		return corrupt("name index lists of a bad size:", len);
	s->grams = g + SYMSEC_GRAMS_HEADER_SIZE;
	s->gposts = s->grams + keys;
	s->gposts_len = (uint32_t)len;
	return 0;
}

int symsec_open(struct symsec *s, const uint8_t *p, uint64_t len, uint32_t count,
		uint32_t n_docs)
{
	uint64_t want;
	int err;

	memset(s, 0, sizeof(*s));
	if (len < SYMSEC_HEADER_SIZE)
		return corrupt("shorter than its header:", len);
	if ((rd32(p + SYMSEC_H_FLAGS) & ~SYMSEC_F_GRAMS) != 0 ||
	    rd32(p + SYMSEC_H_RESERVED) != 0) {
		error_set("section SYMBOLS: unknown flags or reserved field not zero");
		return TRAWL_ECORRUPT;
	}
	*s = (struct symsec){ .p = p, .len = len,
			      .n_docs = rd32(p + SYMSEC_H_N_DOCS),
			      .n_symbols = rd32(p + SYMSEC_H_N_SYMBOLS),
			      .n_names = rd32(p + SYMSEC_H_N_NAMES),
			      .n_kinds = rd32(p + SYMSEC_H_N_KINDS),
			      .n_langs = rd32(p + SYMSEC_H_N_LANGS),
			      .strings_len = rd32(p + SYMSEC_H_STRINGS_LEN) };
	if (s->n_docs != n_docs) {
		error_set("section SYMBOLS: %u documents, the shard has %u", s->n_docs, n_docs);
		return TRAWL_ECORRUPT;
	}
	if (s->n_symbols != count) {
		error_set("section SYMBOLS: %u symbols, the table of contents says %u",
			  s->n_symbols, count);
		return TRAWL_ECORRUPT;
	}
	if (s->n_symbols > SYMSEC_SYMBOLS_MAX)
		return corrupt("symbols, more than allowed:", s->n_symbols);
	if (s->n_names > s->n_symbols || (s->n_symbols && !s->n_names))
		return corrupt("names for its symbols:", s->n_names);
	if (s->n_kinds > SYMSEC_KINDS_MAX || s->n_langs > SYMSEC_LANGS_MAX)
		return corrupt("kinds or languages:", (unsigned long long)s->n_kinds + s->n_langs);
	/* Each term is a u32 times at most 20: no overflow in 64 bits. */
	want = SYMSEC_HEADER_SIZE + (uint64_t)s->n_docs * SYMSEC_DOC_SIZE +
	       (uint64_t)s->n_symbols * (SYMSEC_SYM_SIZE + SYMSEC_POST_SIZE) +
	       (uint64_t)s->n_names * SYMSEC_NAME_SIZE +
	       (uint64_t)(s->n_kinds + s->n_langs) * SYMSEC_REF_SIZE + s->strings_len;
	s->has_grams = rd32(p + SYMSEC_H_FLAGS) & SYMSEC_F_GRAMS;
	if (s->has_grams ? want > len : want != len) {
		error_set("section SYMBOLS: its tables take %llu bytes, the section has %llu",
			  (unsigned long long)want, (unsigned long long)len);
		return TRAWL_ECORRUPT;
	}
	if (s->has_grams && (err = open_grams(s, p + want, len - want)) < 0)
		return err;
	s->docs = p + SYMSEC_HEADER_SIZE;
	s->syms = s->docs + (size_t)s->n_docs * SYMSEC_DOC_SIZE;
	s->names = s->syms + (size_t)s->n_symbols * SYMSEC_SYM_SIZE;
	s->posts = s->names + (size_t)s->n_names * SYMSEC_NAME_SIZE;
	s->kinds = s->posts + (size_t)s->n_symbols * SYMSEC_POST_SIZE;
	s->langs = s->kinds + (size_t)s->n_kinds * SYMSEC_REF_SIZE;
	s->strings = s->langs + (size_t)s->n_langs * SYMSEC_REF_SIZE;
	return 0;
}

/* The string at STRINGS offset off, checked. */
static int str_at(const char **out, size_t *len, const struct symsec *s, uint32_t off)
{
	size_t l;

	if (s->strings_len < 2 || off > s->strings_len - 2)
		return corrupt("string offset out of range:", off);
	l = rd16(s->strings + off);
	if (l == 0 || l > SYMSEC_STR_MAX || l > s->strings_len - 2 - off)
		return corrupt("string of a bad length at offset", off);
	*out = (const char *)s->strings + off + 2;
	*len = l;
	return 0;
}

/* Name entry k: its string and its list [*first, *end) within POSTS, checked. */
static int name_at(const char **name, size_t *len, uint32_t *first, uint32_t *end,
		   const struct symsec *s, uint32_t k)
{
	const uint8_t *e = s->names + (size_t)k * SYMSEC_NAME_SIZE;
	int err;

	if ((err = str_at(name, len, s, rd32(e))) < 0)
		return err;
	*first = rd32(e + 4);
	*end = k + 1 < s->n_names ? rd32(e + SYMSEC_NAME_SIZE + 4) : s->n_symbols;
	if (*first >= *end || *end > s->n_symbols)
		return corrupt("name with a bad list:", k);
	return 0;
}

int symsec_doc(uint32_t *first, uint32_t *n, enum symsec_status *st, const struct symsec *s,
	       uint32_t doc)
{
	const uint8_t *r;
	uint32_t end;

	if (doc >= s->n_docs) {
		error_set("section SYMBOLS: document %u out of range", doc);
		return TRAWL_EINVAL;
	}
	r = s->docs + (size_t)doc * SYMSEC_DOC_SIZE;
	*first = rd32(r);
	end = doc + 1 < s->n_docs ? rd32(r + SYMSEC_DOC_SIZE) : s->n_symbols;
	if (*first > end || end > s->n_symbols)
		return corrupt("document with a bad symbol range:", doc);
	if (r[4] > SYMSEC_STATUS_MAX || r[5] || rd16(r + 6))
		return corrupt("document with an unknown status:", doc);
	*n = end - *first;
	*st = (enum symsec_status)r[4];
	return 0;
}

/* The document holding symbol i: the last whose first symbol is at most i. */
static int doc_of(uint32_t *doc, const struct symsec *s, uint32_t i)
{
	uint32_t lo = 0, hi = s->n_docs, first, n;
	enum symsec_status st;
	int err;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (rd32(s->docs + (size_t)mid * SYMSEC_DOC_SIZE) <= i)
			lo = mid;
		else
			hi = mid;
	}
	if (s->n_docs == 0)
		return corrupt("symbol without a document:", i);
	if ((err = symsec_doc(&first, &n, &st, s, lo)) < 0)
		return err;
	if (i < first || i - first >= n)
		return corrupt("symbol outside every document's range:", i);
	*doc = lo;
	return 0;
}

int symsec_symbol(struct symsec_sym *out, const struct symsec *s, uint32_t i)
{
	const uint8_t *r;
	uint32_t name, first, end, scope, sig;
	int err;

	memset(out, 0, sizeof(*out));
	if (i >= s->n_symbols) {
		error_set("section SYMBOLS: symbol %u out of range", i);
		return TRAWL_EINVAL;
	}
	r = s->syms + (size_t)i * SYMSEC_SYM_SIZE;
	name = rd32(r + SYMSEC_S_NAME);
	scope = rd32(r + SYMSEC_S_SCOPE);
	sig = rd32(r + SYMSEC_S_SIGNATURE);
	if (name >= s->n_names)
		return corrupt("symbol with a name out of range:", i);
	if (r[SYMSEC_S_KIND] >= s->n_kinds || r[SYMSEC_S_LANG] >= s->n_langs ||
	    (r[SYMSEC_S_SCOPE_KIND] != SYMSEC_NONE && r[SYMSEC_S_SCOPE_KIND] >= s->n_kinds) ||
	    r[SYMSEC_S_RESERVED])
		return corrupt("symbol with a bad kind or language:", i);
	if ((err = name_at(&out->name, &out->name_len, &first, &end, s, name)) < 0 ||
	    (err = str_at(&out->kind, &out->kind_len, s,
			  rd32(s->kinds + (size_t)r[SYMSEC_S_KIND] * SYMSEC_REF_SIZE))) < 0 ||
	    (err = str_at(&out->lang, &out->lang_len, s,
			  rd32(s->langs + (size_t)r[SYMSEC_S_LANG] * SYMSEC_REF_SIZE))) < 0 ||
	    (r[SYMSEC_S_SCOPE_KIND] != SYMSEC_NONE &&
	     (err = str_at(&out->scope_kind, &out->scope_kind_len, s,
			   rd32(s->kinds + (size_t)r[SYMSEC_S_SCOPE_KIND] * SYMSEC_REF_SIZE))) < 0) ||
	    (scope && (err = str_at(&out->scope, &out->scope_len, s, scope - 1)) < 0) ||
	    (sig && (err = str_at(&out->signature, &out->signature_len, s, sig - 1)) < 0) ||
	    (err = doc_of(&out->doc, s, i)) < 0)
		return err;
	out->index = i;
	out->line = rd32(r + SYMSEC_S_LINE);
	return 0;
}

static int verify_grams(const struct symsec *s);

int symsec_verify(const struct symsec *s)
{
	const char *prev = NULL, *name;
	size_t prev_len = 0, len;
	uint32_t at = 0;
	int err;

	/* STRINGS: back-to-back strings filling it exactly. */
	while (at < s->strings_len) {
		if ((err = str_at(&name, &len, s, at)) < 0)
			return err;
		at += 2 + (uint32_t)len;
	}
	for (uint32_t d = 0; d < s->n_docs; d++) {
		uint32_t first, n;
		enum symsec_status st;

		if ((err = symsec_doc(&first, &n, &st, s, d)) < 0)
			return err;
		if (d == 0 && first != 0)
			return corrupt("first document does not start at symbol", 0);
	}
	if (s->n_docs == 0 && s->n_symbols)
		return corrupt("symbols without documents:", s->n_symbols);
	for (uint32_t i = 0; i < s->n_symbols; i++) {
		struct symsec_sym y;

		if ((err = symsec_symbol(&y, s, i)) < 0)
			return err;
	}
	for (uint32_t k = 0; k < s->n_names; k++) {
		uint32_t first, end, last = 0;

		if ((err = name_at(&name, &len, &first, &end, s, k)) < 0)
			return err;
		if (k == 0 && first != 0)
			return corrupt("first name does not start at", 0);
		if (prev && cmp_name((const uint8_t *)prev, prev_len, (const uint8_t *)name,
				     len) >= 0)
			return corrupt("names not sorted at entry", k);
		for (uint32_t j = first; j < end; j++) {
			uint32_t sym = rd32(s->posts + (size_t)j * SYMSEC_POST_SIZE);

			if (sym >= s->n_symbols || (j > first && sym <= last))
				return corrupt("name list out of order at", j);
			if (rd32(s->syms + (size_t)sym * SYMSEC_SYM_SIZE + SYMSEC_S_NAME) != k)
				return corrupt("name list holds another name's symbol:", sym);
			last = sym;
		}
		prev = name;
		prev_len = len;
	}
	for (uint32_t i = 0; i < s->n_kinds + s->n_langs; i++)
		if ((err = str_at(&name, &len, s, rd32(s->kinds + (size_t)i * SYMSEC_REF_SIZE))) < 0)
			return err;
	return s->has_grams ? verify_grams(s) : 0;
}

/* The first name entry not below pattern in folded order (a binary search). */
static uint32_t lower_bound(const struct symsec *s, const uint8_t *pat, size_t len)
{
	uint32_t lo = 0, hi = s->n_names;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint32_t off = rd32(s->names + (size_t)mid * SYMSEC_NAME_SIZE);
		const char *name;
		size_t nl;

		/* A damaged entry sorts last: the search stays bounded and may only miss. */
		if (str_at(&name, &nl, s, off) < 0 ||
		    cmp_fold((const uint8_t *)name, nl, pat, len) >= 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static bool name_matches(const char *name, size_t len, const char *pat, size_t pat_len,
			 enum symsec_mode mode, bool *is_past)
{
	bool is_prefix = mode == SYMSEC_PREFIX || mode == SYMSEC_PREFIX_ICASE;
	size_t n = is_prefix ? pat_len : len;

	*is_past = len < pat_len || (!is_prefix && len != pat_len) ||
		   cmp_fold((const uint8_t *)name, n, (const uint8_t *)pat, pat_len) != 0;
	if (*is_past)
		return false;
	return mode == SYMSEC_EXACT_ICASE || mode == SYMSEC_PREFIX_ICASE ||
	       memcmp(name, pat, pat_len) == 0;
}

static int emit_name(const struct symsec *s, uint32_t first, uint32_t end, symsec_match_fn fn,
		     void *arg)
{
	for (uint32_t j = first; j < end; j++) {
		struct symsec_sym y;
		int err = symsec_symbol(&y, s, rd32(s->posts + (size_t)j * SYMSEC_POST_SIZE));

		if (err == 0)
			err = fn(arg, &y);
		if (err)
			return err;
	}
	return 0;
}

/*
 * A scan reads the names in the table's order, whose strings lie all over STRINGS (in the
 * order they were first met): each is a cache miss. Asking for the one PREFETCH_AHEAD entries
 * ahead lets those misses overlap instead of following one another.
 */
#define PREFETCH_AHEAD 16u

static void prefetch_name(const struct symsec *s, uint32_t k)
{
	uint32_t off;

	if (k + PREFETCH_AHEAD >= s->n_names)
		return;
	off = rd32(s->names + (size_t)(k + PREFETCH_AHEAD) * SYMSEC_NAME_SIZE);
	if (off < s->strings_len)
		__builtin_prefetch(s->strings + off);
}

int symsec_lookup(const struct symsec *s, const char *pattern, size_t pattern_len,
		  enum symsec_mode mode, symsec_test_fn test, void *test_arg, symsec_match_fn fn,
		  void *arg)
{
	uint32_t k = 0;
	int err;

	if (mode == SYMSEC_TEST && !test) {
		error_set("symbols: a test lookup without a test");
		return TRAWL_EINVAL;
	}
	if (mode != SYMSEC_TEST)
		k = lower_bound(s, (const uint8_t *)pattern, pattern_len);
	for (; k < s->n_names; k++) {
		const char *name;
		size_t len;
		uint32_t first, end;
		bool is_past = false, is_match;

		if (mode == SYMSEC_TEST)
			prefetch_name(s, k);
		if ((err = name_at(&name, &len, &first, &end, s, k)) < 0)
			return err;
		if (mode == SYMSEC_TEST)
			is_match = test(test_arg, name, len);
		else
			is_match = name_matches(name, len, pattern, pattern_len, mode, &is_past);
		if (is_past)
			break;
		if (is_match && (err = emit_name(s, first, end, fn, arg)) != 0)
			return err < 0 ? err : 0;
	}
	return 0;
}

/* ASCII folding as a table: one load per byte in the scan's inner loop. */
static const uint8_t fold_tab[256] = {
#define F1(c) ((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
#define F4(c) F1(c), F1((c) + 1), F1((c) + 2), F1((c) + 3)
#define F16(c) F4(c), F4((c) + 4), F4((c) + 8), F4((c) + 12)
#define F64(c) F16(c), F16((c) + 16), F16((c) + 32), F16((c) + 48)
	F64(0), F64(64), F64(128), F64(192)
#undef F64
#undef F16
#undef F4
#undef F1
};

/*
 * Whether s[0..n) contains pat[0..m) (0 < m <= n), comparing folded bytes when is_icase. A
 * byte-by-byte search from each place the first byte matches: names are short and a miss on
 * the first byte is the common case. Its comparisons are counted: past 4 n of them (a name
 * like "aaaa...a" against "aa...ab") the rest goes to memmem, linear, on a folded copy.
 */
static bool has_substring(const uint8_t *s, size_t n, const uint8_t *pat, size_t m, bool is_icase)
{
	uint8_t low[SYMSEC_STR_MAX];
	size_t work = 0, i;

	if (is_icase) {
		for (i = 0; i + m <= n; i++) {
			size_t j = 1;

			if (fold_tab[s[i]] != pat[0])
				continue;
			while (j < m && fold_tab[s[i + j]] == pat[j])
				j++;
			if (j == m)
				return true;
			if ((work += j) > 4 * n)
				break;
		}
		if (i + m > n)
			return false;
		/* Names are at most SYMSEC_STR_MAX bytes (checked by str_at). */
		for (size_t k = i; k < n; k++)
			low[k - i] = fold_tab[s[k]];
		return memmem(low, n - i, pat, m) != NULL;
	}
	for (i = 0; i + m <= n; i++) {
		size_t j = 1;

		if (s[i] != pat[0])
			continue;
		while (j < m && s[i + j] == pat[j])
			j++;
		if (j == m)
			return true;
		if ((work += j) > 4 * n)
			break;
	}
	return i + m <= n && memmem(s + i, n - i, pat, m) != NULL;
}

/*
 * Name k if it contains pat[0..m) (every name when m is 0) and test accepts it: its symbols to
 * fn. 0 to go on, else fn's stop (1) or an error.
 */
static int try_name(const struct symsec *s, uint32_t k, const uint8_t *pat, size_t m,
		    bool is_icase, symsec_test_fn test, void *test_arg, symsec_match_fn fn,
		    void *arg)
{
	const char *name;
	size_t len;
	uint32_t first, end;
	int err;

	if ((err = name_at(&name, &len, &first, &end, s, k)) < 0)
		return err;
	if (m && (m > len || !has_substring((const uint8_t *)name, len, pat, m, is_icase)))
		return 0;
	if (test && !test(test_arg, name, len))
		return 0;
	return emit_name(s, first, end, fn, arg);
}

/* A reader of one GRAMS list: the name indices of a key, ascending. */
struct gcur {
	const uint8_t *p, *end;
	uint32_t left; /* indices not read yet */
	uint32_t id;   /* the last one read */
	bool is_started;
};

/* Key k's list, checked: 1 .. n_names indices inside GPOSTS, a byte each at least. */
static int gram_list(struct gcur *c, const struct symsec *s, uint32_t k)
{
	const uint8_t *e = s->grams + (size_t)k * SYMSEC_GRAM_SIZE;
	uint32_t count = rd32(e + 4), off = rd32(e + 8);
	uint32_t end = k + 1 < s->n_grams ? rd32(e + SYMSEC_GRAM_SIZE + 8) : s->gposts_len;

	if (count == 0 || count > s->n_names || off > end || end > s->gposts_len ||
	    end - off < count)
		return corrupt("name index key with a bad list:", k);
	*c = (struct gcur){ .p = s->gposts + off, .end = s->gposts + end, .left = count };
	return 0;
}

/* A canonical varint of at most 32 bits (as POSTINGS' varints): 0, or -1. */
static int get_u32(uint32_t *v, const uint8_t **p, const uint8_t *end)
{
	uint32_t x = 0;

	for (unsigned i = 0; i < 5 && *p < end; i++) {
		uint8_t c = *(*p)++;

		if (i == 4 && c > 0x0f)
			return -1;
		x |= (uint32_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			if (i > 0 && c == 0)
				return -1; /* overlong */
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* The next index of c's list into c->id: 1, 0 at the list's end, or ECORRUPT. */
static int gcur_next(struct gcur *c, const struct symsec *s)
{
	uint32_t v;

	if (c->left == 0)
		return 0;
	if (get_u32(&v, &c->p, c->end) < 0)
		return corrupt("name index list with a bad varint at",
			       (unsigned long long)(c->p - s->gposts));
	if (c->is_started) {
		if (v == 0 || v > UINT32_MAX - c->id)
			return corrupt("name index list out of order at",
				       (unsigned long long)(c->p - s->gposts));
		v += c->id;
	}
	if (v >= s->n_names)
		return corrupt("name index list holds a name out of range:", v);
	c->id = v;
	c->is_started = true;
	c->left--;
	return 1;
}

/* The key of trigram g (a binary search: a damaged, unsorted table only misses). */
static bool gram_find(uint32_t *k, const struct symsec *s, uint32_t g)
{
	uint32_t lo = 0, hi = s->n_grams;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint32_t t = rd32(s->grams + (size_t)mid * SYMSEC_GRAM_SIZE);

		if (t == g) {
			*k = mid;
			return true;
		}
		if (t < g)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * At most GRAM_LISTS lists are intersected, the rarest; one more than GRAM_RATIO times the
 * rarest's length is left out: decoding it would cost more than testing the names it would
 * rule out (a varint is a few ns, a name read a cache miss).
 */
#define GRAM_LISTS 8u
#define GRAM_RATIO 32u

/* symsec_lookup_substring through GRAMS, for a needle of 3 bytes or more. */
static int lookup_grams(const struct symsec *s, const uint8_t *pat, size_t m, bool is_icase,
			symsec_test_fn test, void *test_arg, symsec_match_fn fn, void *arg)
{
	uint32_t g[SYMSEC_STR_MAX], cand;
	struct gcur c[GRAM_LISTS];
	size_t n = 0, ng;
	int err;

	if (m > SYMSEC_STR_MAX)
		return 0; /* longer than any name */
	ng = name_grams(g, pat, m);
	for (size_t i = 0; i < ng; i++) {
		struct gcur x;
		uint32_t k;
		size_t j;

		if (!gram_find(&k, s, g[i]))
			return 0; /* no name holds this trigram */
		if ((err = gram_list(&x, s, k)) < 0)
			return err;
		/* c stays sorted by length; when full, x replaces the longest if shorter. */
		if (n == GRAM_LISTS && x.left >= c[n - 1].left)
			continue;
		j = n < GRAM_LISTS ? n++ : n - 1;
		for (; j > 0 && c[j - 1].left > x.left; j--)
			c[j] = c[j - 1];
		c[j] = x;
	}
	if (n == 0)
		return 0; /* not reached: a needle of 3 bytes has a trigram */
	while (n > 1 && c[n - 1].left / GRAM_RATIO > c[0].left)
		n--;
	for (size_t i = 0; i < n; i++)
		if ((err = gcur_next(&c[i], s)) <= 0)
			return err;
	/* Leapfrog: each list in turn moves to the candidate; one past it is the next one. */
	cand = c[0].id;
	for (;;) {
		size_t i;

		for (i = 0; i < n; i++) {
			while (c[i].id < cand)
				if ((err = gcur_next(&c[i], s)) <= 0)
					return err;
			if (c[i].id > cand)
				break;
		}
		if (i < n) {
			cand = c[i].id;
			continue;
		}
		if ((err = try_name(s, cand, pat, m, is_icase, test, test_arg, fn, arg)) != 0)
			return err < 0 ? err : 0;
		if ((err = gcur_next(&c[0], s)) <= 0)
			return err;
		cand = c[0].id;
	}
}

int symsec_lookup_substring(const struct symsec *s, const char *needle, size_t needle_len,
			    bool is_icase, symsec_test_fn test, void *test_arg, symsec_match_fn fn,
			    void *arg)
{
	const uint8_t *pat = (const uint8_t *)needle;
	int err;

	if (s->has_grams && needle_len >= 3)
		return lookup_grams(s, pat, needle_len, is_icase, test, test_arg, fn, arg);
	for (uint32_t k = 0; k < s->n_names; k++) {
		prefetch_name(s, k);
		if ((err = try_name(s, k, pat, needle_len, is_icase, test, test_arg, fn, arg)) != 0)
			return err < 0 ? err : 0;
	}
	return 0;
}

/* A posting (trigram g, name id) hashed (splitmix64's finaliser) for verify_grams' sums. */
static uint64_t mix(uint32_t g, uint32_t id)
{
	uint64_t z = ((uint64_t)g << 32 | id) + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * GRAMS in full: keys strictly ascending below 2^24; the lists back to back in key order from
 * offset 0 to the end of GPOSTS, each exactly its count of canonical varints, ascending name
 * indices below n_names, n_postings in all; and the lists hold what the names hold: as many
 * postings as the names have distinct trigrams, and the same sum of mix(trigram, name) over
 * both (a 64-bit hash of the two sets: a name lost or gained by a list, or a list under
 * another trigram, changes it). Allocates nothing: the names are read in table order.
 */
static int verify_grams(const struct symsec *s)
{
	uint64_t n_post = 0, n_want = 0, sum_lists = 0, sum_names = 0;
	uint32_t g[SYMSEC_STR_MAX], prev = 0;
	int err;

	if (s->n_grams == 0 && s->gposts_len != 0)
		return corrupt("name index lists without keys:", s->gposts_len);
	for (uint32_t k = 0; k < s->n_grams; k++) {
		const uint8_t *e = s->grams + (size_t)k * SYMSEC_GRAM_SIZE;
		uint32_t t = rd32(e);
		struct gcur c;

		if (t >= SYMSEC_GRAMS_MAX || (k > 0 && t <= prev))
			return corrupt("name index keys not sorted at", k);
		if (k == 0 && rd32(e + 8) != 0)
			return corrupt("name index's first list does not start at", 0);
		if ((err = gram_list(&c, s, k)) < 0)
			return err;
		while ((err = gcur_next(&c, s)) > 0) {
			sum_lists += mix(t, c.id);
			n_post++;
		}
		if (err < 0)
			return err;
		if (c.p != c.end)
			return corrupt("name index list with bytes after its names:", k);
		prev = t;
	}
	if (n_post != s->n_gram_postings)
		return corrupt("name index postings, not as its header says:", n_post);
	for (uint32_t k = 0; k < s->n_names; k++) {
		const char *name;
		size_t len, m;
		uint32_t first, end;

		prefetch_name(s, k);
		if ((err = name_at(&name, &len, &first, &end, s, k)) < 0)
			return err;
		m = name_grams(g, (const uint8_t *)name, len);
		n_want += m;
		for (size_t i = 0; i < m; i++)
			sum_names += mix(g[i], k);
	}
	if (n_want != n_post || sum_names != sum_lists)
		return corrupt("name index does not hold the names' trigrams: postings", n_post);
	return 0;
}

const char *symsec_doc_failure(const struct symsec *s, uint32_t doc)
{
	uint32_t first, n;
	enum symsec_status st;

	if (!s || symsec_doc(&first, &n, &st, s, doc) < 0 || st == SYMSEC_OK ||
	    st == SYMSEC_NOT_PARSED)
		return NULL;
	return symsec_status_name(st);
}
