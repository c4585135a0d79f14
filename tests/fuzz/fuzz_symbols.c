/*
 * Fuzz target for the SYMBOLS section reader (src/symbols/symsec.c): the input is a section's
 * bytes. The document and symbol counts a shard would give (META's n_docs, the TOC count) are
 * taken from the input's own header, so mutations reach the tables rather than stopping at
 * that check. Opened, every symbol and document read, looked up in every mode, verified:
 * nothing may crash, read outside the input, allocate, or loop beyond the input's size.
 *
 * Substring lookups of 3 bytes and more go through the name index (GRAMS) when the section has
 * one, shorter ones and sections without it through the scan: both are tried, and compared
 * where the answer is known (try_names, and any input that verifies).
 *
 * The corpus (tests/fuzz/corpus/symbols/) holds sections written by the builder, with GRAMS
 * and without (written before it existed); the first input of a run also builds one, so a run
 * without a corpus starts from a valid section.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/symsec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int on_sym(void *arg, const struct symsec_sym *y)
{
	volatile uint8_t x = 0;

	(void)arg;
	/* Every string handed out lies inside the input: touch each byte. */
	for (size_t k = 0; k < y->name_len; k++)
		x = x ^ (uint8_t)y->name[k];
	for (size_t k = 0; k < y->kind_len; k++)
		x = x ^ (uint8_t)y->kind[k];
	for (size_t k = 0; y->scope && k < y->scope_len; k++)
		x = x ^ (uint8_t)y->scope[k];
	for (size_t k = 0; y->signature && k < y->signature_len; k++)
		x = x ^ (uint8_t)y->signature[k];
	return 0;
}

static bool any(void *arg, const char *name, size_t len)
{
	(void)arg;
	return len > 0 && (name[0] & 1);
}

/* The symbols found, as a count and an order-dependent hash of their indices. */
struct tally {
	uint64_t n, h;
};

static int on_tally(void *arg, const struct symsec_sym *y)
{
	struct tally *t = arg;

	t->n++;
	t->h = (t->h ^ y->index) * 1099511628211ull;
	return 0;
}

/*
 * A section that verifies answers a substring lookup through GRAMS exactly as the scan of its
 * names does (the same section read as if it had no GRAMS), in the same order.
 */
static void same_with_and_without_grams(const struct symsec *s, const char *const *pats,
					size_t n_pats)
{
	struct symsec scan = *s;

	scan.has_grams = false;
	for (size_t i = 0; i < n_pats; i++)
		for (int ic = 0; ic < 2; ic++) {
			struct tally a = { 0 }, b = { 0 };
			int ea = symsec_lookup_substring(s, pats[i], strlen(pats[i]), ic, NULL, NULL,
							 on_tally, &a);
			int eb = symsec_lookup_substring(&scan, pats[i], strlen(pats[i]), ic, NULL,
							 NULL, on_tally, &b);

			if (ea != eb || a.n != b.n || a.h != b.h)
				abort();
		}
}

static void try_section(const uint8_t *data, size_t size)
{
	static const char *const pats[] = { "", "a", "foo", "FOO", "\xff", "oob", "ooba",
					    "xyz", "ain", "\xc3\xa9t\xc3" };
	struct symsec s;

	if (size < SYMSEC_HEADER_SIZE)
		return;
	if (symsec_open(&s, data, size, rd32(data + SYMSEC_H_N_SYMBOLS),
			rd32(data + SYMSEC_H_N_DOCS)) < 0)
		return;
	for (uint32_t i = 0; i < s.n_symbols; i++) {
		struct symsec_sym y;

		if (symsec_symbol(&y, &s, i) == 0 && (y.doc >= s.n_docs || y.index != i))
			abort();
		if (symsec_symbol(&y, &s, i) == 0)
			on_sym(NULL, &y);
	}
	for (uint32_t d = 0; d < s.n_docs; d++) {
		uint32_t first, n;
		enum symsec_status st;

		if (symsec_doc(&first, &n, &st, &s, d) == 0 &&
		    ((uint64_t)first + n > s.n_symbols || (unsigned)st > SYMSEC_STATUS_MAX))
			abort();
	}
	for (size_t i = 0; i < sizeof(pats) / sizeof(*pats); i++) {
		for (int m = SYMSEC_EXACT; m <= SYMSEC_TEST; m++)
			(void)symsec_lookup(&s, pats[i], strlen(pats[i]), (enum symsec_mode)m, any,
					    NULL, on_sym, NULL);
		for (int ic = 0; ic < 2; ic++)
			(void)symsec_lookup_substring(&s, pats[i], strlen(pats[i]), ic,
						      (i + ic) % 3 ? NULL : any, NULL, on_sym, NULL);
	}
	if (symsec_verify(&s) == 0 && s.has_grams)
		same_with_and_without_grams(&s, pats, sizeof(pats) / sizeof(*pats));
}

/*
 * The first k bytes of name (len bytes), folded when is_icase, looked up in s through GRAMS and
 * in scan (s read as without it): the same symbols in the same order, at least one (the name's).
 */
static void same_found(const struct symsec *s, const struct symsec *scan, const uint8_t *name,
		       size_t k, size_t len, int is_icase)
{
	char needle[64];
	struct tally x = { 0 }, y = { 0 };

	if (k > len || k < 3)
		return;
	for (size_t j = 0; j < k; j++)
		needle[j] = (char)(is_icase && name[j] >= 'A' && name[j] <= 'Z' ? name[j] + 32
										  : name[j]);
	if (symsec_lookup_substring(s, needle, k, is_icase, NULL, NULL, on_tally, &x) != 0 ||
	    symsec_lookup_substring(scan, needle, k, is_icase, NULL, NULL, on_tally, &y) != 0 ||
	    x.n != y.n || x.h != y.h || x.n == 0)
		abort();
}

/*
 * The input as names too: its lines (at most 64, each cut at 64 bytes) built into a section
 * with the builder, which must verify; each line, and its first 3 and 5 bytes, then looked up as
 * a substring through GRAMS and by the scan, with and without case: the same symbols, in the
 * same order, at least one. This fuzzes the builder and the index against the scan on names of
 * any bytes.
 */
static void try_names(const uint8_t *data, size_t size)
{
	const uint8_t *line[64];
	size_t len[64], n = 0;
	struct symsec_builder *b = NULL;
	struct symsec s, scan;
	struct buf out;
	uint32_t count;

	for (size_t i = 0, at = 0; i <= size && n < 64; i++)
		if (i == size || data[i] == '\n') {
			line[n] = data + at;
			len[n] = i - at > 64 ? 64 : i - at;
			n += len[n] > 0;
			at = i + 1;
		}
	if (n == 0 || symsec_builder_new(&b) < 0)
		return;
	buf_init(&out, 1 << 20);
	if (symsec_builder_doc(b, 0, SYMSEC_OK) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct symsec_in in = { .name = (const char *)line[i], .name_len = len[i],
					.kind = "function", .lang = "C", .line = 1 };

		if (i == n / 2 && symsec_builder_doc(b, 1, SYMSEC_OK) < 0)
			goto out;
		if (symsec_builder_add(b, &in) < 0)
			goto out;
	}
	if (symsec_builder_finish(b, &out, &count, 2) < 0)
		goto out;
	if (symsec_open(&s, (const uint8_t *)out.ptr, out.len, count, 2) < 0 ||
	    symsec_verify(&s) < 0 || !s.has_grams)
		abort(); /* the builder wrote what its reader refuses */
	scan = s;
	scan.has_grams = false;
	for (size_t i = 0; i < n; i++)
		for (size_t m = 3; m <= 7; m += 2)
			for (int ic = 0; ic < 2; ic++)
				same_found(&s, &scan, line[i], m == 7 ? len[i] : m, len[i], ic);
out:
	buf_dispose(&out);
	symsec_builder_free(b);
}

/* A valid section to start from. */
static void seed(void)
{
	static const char *const names[] = { "main", "Foo", "foo", "foobar", "x",
					     "FooBarBaz", "\xc3\xa9t\xc3\xa9", "remain" };
	struct symsec_builder *b = NULL;
	struct buf out;
	uint32_t count;

	if (symsec_builder_new(&b) < 0)
		return;
	buf_init(&out, 1 << 20);
	for (uint32_t d = 0; d < 3; d++) {
		if (symsec_builder_doc(b, d, d == 1 ? SYMSEC_TIMEOUT : SYMSEC_OK) < 0)
			break;
		for (size_t i = 0; d != 1 && i < sizeof(names) / sizeof(*names); i++) {
			struct symsec_in in = { .name = names[i], .name_len = strlen(names[i]),
						.kind = i % 2 ? "function" : "struct",
						.scope = "Outer", .scope_len = 5,
						.scope_kind = "class", .lang = "C",
						.signature = "(void)", .signature_len = 6,
						.line = (uint32_t)i + 1 };

			(void)symsec_builder_add(b, &in);
		}
	}
	if (symsec_builder_finish(b, &out, &count, 4) == 0)
		try_section((const uint8_t *)out.ptr, out.len);
	buf_dispose(&out);
	symsec_builder_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int is_seeded;

	if (!is_seeded) {
		is_seeded = 1;
		seed();
	}
	try_section(data, size);
	if (size <= 4096)
		try_names(data, size);
	return 0;
}
