/*
 * The SYMBOLS section (src/symbols/symsec.c) and its place in a shard (symbols.c, the shard
 * writer's extension, shard_verify): built, read back, looked up in every mode, and refused or
 * survived when damaged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "index/shard.h"
#include "index/shard_int.h"
#include "symbols/symbols.h"
#include "symbols/symsec.h"
#include "unit/index/shard_bytes.h"
#include "unit/testlib.h"
#include "util/error.h"
#include "util/file.h"

struct want {
	uint32_t doc, line;
	const char *name, *kind, *scope, *scope_kind, *lang, *signature;
};

/* Names with a control character and HTML: stored and returned as bytes, never interpreted. */
#define NASTY "<b>x</b>\x01\x1b[31m"

static const struct want sample[] = {
	{ 0, 3, "main", "function", NULL, NULL, "C", "(int argc, char **argv)" },
	{ 0, 9, "Foo", "struct", NULL, NULL, "C", NULL },
	{ 0, 10, "x", "member", "Foo", "struct", "C", NULL },
	{ 2, 1, "foo", "function", NULL, NULL, "Go", "()" },
	{ 2, 5, "foobar", "function", NULL, NULL, "Go", "(a int)" },
	{ 2, 7, "bar", "variable", NULL, NULL, "Go", NULL },
	{ 3, 2, "foo", "method", "Foo", "class", "Python", "(self)" },
	{ 3, 4, NASTY, "chapter", NULL, NULL, "Markdown", NULL },
};
#define N_SAMPLE (sizeof(sample) / sizeof(sample[0]))
#define N_DOCS 5u

static size_t len0(const char *s)
{
	return s ? strlen(s) : 0;
}

static void add_sample(struct symsec_builder *b)
{
	uint32_t doc = UINT32_MAX;

	for (size_t i = 0; i < N_SAMPLE; i++) {
		const struct want *w = &sample[i];
		struct symsec_in in = { .name = w->name, .name_len = strlen(w->name),
					.kind = w->kind, .scope = w->scope,
					.scope_len = len0(w->scope), .scope_kind = w->scope_kind,
					.lang = w->lang, .signature = w->signature,
					.signature_len = len0(w->signature), .line = w->line };

		if (w->doc != doc) {
			doc = w->doc;
			assert_int_equal(symsec_builder_doc(b, doc, SYMSEC_OK), 0);
		}
		assert_int_equal(symsec_builder_add(b, &in), 0);
	}
}

/* The sample's section bytes (caller disposes out). */
static void build_sample(struct buf *out)
{
	struct symsec_builder *b = NULL;
	uint32_t count;

	assert_int_equal(symsec_builder_new(&b), 0);
	add_sample(b);
	buf_init(out, UINT32_MAX);
	assert_int_equal(symsec_builder_finish(b, out, &count, N_DOCS), 0);
	assert_int_equal(count, N_SAMPLE);
	symsec_builder_free(b);
}

static uint32_t rd32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Where GRAMS starts in a section: the end of STRINGS. */
static size_t grams_at(const uint8_t *p)
{
	return SYMSEC_HEADER_SIZE + (size_t)rd32le(p + SYMSEC_H_N_DOCS) * SYMSEC_DOC_SIZE +
	       (size_t)rd32le(p + SYMSEC_H_N_SYMBOLS) * (SYMSEC_SYM_SIZE + SYMSEC_POST_SIZE) +
	       (size_t)rd32le(p + SYMSEC_H_N_NAMES) * SYMSEC_NAME_SIZE +
	       (size_t)(rd32le(p + SYMSEC_H_N_KINDS) + rd32le(p + SYMSEC_H_N_LANGS)) *
		       SYMSEC_REF_SIZE +
	       rd32le(p + SYMSEC_H_STRINGS_LEN);
}

/* The section in as a trawl before GRAMS wrote it: the flag clear, nothing after STRINGS. */
static void copy_without_grams(struct buf *out, const struct buf *in)
{
	const uint8_t *p = (const uint8_t *)in->ptr;

	assert_int_equal(rd32le(p + SYMSEC_H_FLAGS), SYMSEC_F_GRAMS);
	buf_init(out, UINT32_MAX);
	assert_int_equal(buf_put(out, in->ptr, grams_at(p)), 0);
	memset(out->ptr + SYMSEC_H_FLAGS, 0, 4);
}

static void assert_str(const char *want, const char *got, size_t len)
{
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
}

static void assert_sym(const struct want *w, const struct symsec_sym *y)
{
	assert_int_equal(y->doc, w->doc);
	assert_str(w->name, y->name, y->name_len);
	assert_str(w->kind, y->kind, y->kind_len);
	assert_str(w->scope, y->scope, y->scope_len);
	assert_str(w->scope_kind, y->scope_kind, y->scope_kind_len);
	assert_str(w->lang, y->lang, y->lang_len);
	assert_str(w->signature, y->signature, y->signature_len);
	assert_int_equal(y->line, w->line);
}

static void section_round_trip_keeps_every_field(void **state)
{
	struct symsec s;
	struct buf out;
	enum symsec_status st;
	uint32_t first, n;

	(void)state;
	build_sample(&out);
	assert_int_equal(symsec_open(&s, (const uint8_t *)out.ptr, out.len, N_SAMPLE, N_DOCS), 0);
	assert_int_equal(symsec_verify(&s), 0);
	assert_int_equal(s.n_symbols, N_SAMPLE);
	assert_int_equal(s.n_names, 7); /* main Foo x foo foobar bar NASTY: foo twice */
	for (uint32_t i = 0; i < N_SAMPLE; i++) {
		struct symsec_sym y;

		assert_int_equal(symsec_symbol(&y, &s, i), 0);
		assert_sym(&sample[i], &y);
	}
	/* Documents 1 and 4 were never started: not parsed, no symbols. */
	assert_int_equal(symsec_doc(&first, &n, &st, &s, 1), 0);
	assert_int_equal(n, 0);
	assert_int_equal(st, SYMSEC_NOT_PARSED);
	assert_int_equal(symsec_doc(&first, &n, &st, &s, 2), 0);
	assert_int_equal(first, 3);
	assert_int_equal(n, 3);
	assert_int_equal(st, SYMSEC_OK);
	assert_int_equal(symsec_doc(&first, &n, &st, &s, 4), 0);
	assert_int_equal(st, SYMSEC_NOT_PARSED);
	assert_int_equal(symsec_doc(&first, &n, &st, &s, 5), TRAWL_EINVAL);
	buf_dispose(&out);
}

struct hits {
	char got[16][32];
	size_t n;
};

static int collect(void *arg, const struct symsec_sym *y)
{
	struct hits *h = arg;

	assert_true(h->n < 16);
	snprintf(h->got[h->n++], sizeof(h->got[0]), "%.*s@%u", (int)y->name_len, y->name, y->doc);
	return 0;
}

static bool has_ar(void *arg, const char *name, size_t len)
{
	(void)arg;
	return len >= 2 && memmem(name, len, "ar", 2) != NULL;
}

static void assert_lookup(const struct symsec *s, const char *pat, enum symsec_mode mode,
			  const char *const *want)
{
	struct hits h = { 0 };
	size_t n = 0;

	assert_int_equal(symsec_lookup(s, pat, strlen(pat), mode, has_ar, NULL, collect, &h), 0);
	for (; want[n]; n++) {
		if (n >= h.n)
			fail_msg("%s (mode %d): %zu hits, wanted %s next", pat, (int)mode, h.n, want[n]);
		assert_string_equal(h.got[n], want[n]);
	}
	assert_int_equal(h.n, n);
}

static void lookups_by_exact_prefix_case_and_test(void **state)
{
	static const char *const exact[] = { "foo@2", "foo@3", NULL };
	static const char *const exact_i[] = { "Foo@0", "foo@2", "foo@3", NULL };
	static const char *const prefix[] = { "foo@2", "foo@3", "foobar@2", NULL };
	static const char *const prefix_i[] = { "Foo@0", "foo@2", "foo@3", "foobar@2", NULL };
	static const char *const none[] = { NULL };
	static const char *const test[] = { "bar@2", "foobar@2", NULL };
	static const char *const nasty[] = { NASTY "@3", NULL };
	struct symsec s;
	struct buf out;

	(void)state;
	build_sample(&out);
	assert_int_equal(symsec_open(&s, (const uint8_t *)out.ptr, out.len, N_SAMPLE, N_DOCS), 0);
	assert_lookup(&s, "foo", SYMSEC_EXACT, exact);
	assert_lookup(&s, "FOO", SYMSEC_EXACT, none);
	assert_lookup(&s, "FOO", SYMSEC_EXACT_ICASE, exact_i);
	assert_lookup(&s, "foo", SYMSEC_PREFIX, prefix);
	assert_lookup(&s, "fO", SYMSEC_PREFIX_ICASE, prefix_i);
	assert_lookup(&s, "fO", SYMSEC_PREFIX, none);
	assert_lookup(&s, "zzz", SYMSEC_PREFIX_ICASE, none);
	assert_lookup(&s, "", SYMSEC_EXACT, none);
	assert_lookup(&s, "", SYMSEC_TEST, test);
	assert_lookup(&s, NASTY, SYMSEC_EXACT, nasty);
	assert_lookup(&s, "<B>", SYMSEC_PREFIX_ICASE, nasty);
	buf_dispose(&out);
}

static int stop_after_one(void *arg, const struct symsec_sym *y)
{
	(void)y;
	(*(int *)arg)++;
	return 1;
}

static void assert_substring(const struct symsec *s, const char *needle, bool is_icase,
			     symsec_test_fn test, const char *const *want)
{
	struct hits h = { 0 };
	size_t n = 0;

	assert_int_equal(symsec_lookup_substring(s, needle, strlen(needle), is_icase, test, NULL,
						 collect, &h), 0);
	for (; want[n]; n++) {
		if (n >= h.n)
			fail_msg("%s: %zu hits, wanted %s next", needle, h.n, want[n]);
		assert_string_equal(h.got[n], want[n]);
	}
	assert_int_equal(h.n, n);
}

static void substring_lookup_finds_parts_of_names(void **state)
{
	static const char *const fo[] = { "foo@2", "foo@3", "foobar@2", NULL };
	static const char *const oo_i[] = { "Foo@0", "foo@2", "foo@3", "foobar@2", NULL };
	static const char *const ar[] = { "bar@2", "foobar@2", NULL };
	static const char nasty_hit[] = NASTY "@3";
	static const char *const all[] = { nasty_hit, "bar@2", "Foo@0", "foo@2", "foo@3",
					   "foobar@2", "main@0", "x@0", NULL };
	static const char *const nasty[] = { NASTY "@3", NULL };
	static const char *const none[] = { NULL };
	struct symsec s;
	struct buf out;
	int calls = 0;

	(void)state;
	build_sample(&out);
	assert_int_equal(symsec_open(&s, (const uint8_t *)out.ptr, out.len, N_SAMPLE, N_DOCS), 0);
	assert_substring(&s, "fo", false, NULL, fo);
	assert_substring(&s, "Fo", false, NULL, (const char *const[]){ "Foo@0", NULL });
	assert_substring(&s, "oo", false, NULL, oo_i);
	assert_substring(&s, "fo", true, NULL, oo_i);
	assert_substring(&s, "OO", false, NULL, none);
	assert_substring(&s, "ar", true, NULL, ar);
	assert_substring(&s, "", false, NULL, all);
	/* The test decides among the names that hold the needle only. */
	assert_substring(&s, "o", false, has_ar, (const char *const[]){ "foobar@2", NULL });
	assert_substring(&s, "", true, has_ar, ar);
	assert_substring(&s, "</b>\x01", false, NULL, nasty);
	assert_substring(&s, "foobarbaz", true, NULL, none);
	assert_int_equal(symsec_lookup_substring(&s, "o", 1, false, NULL, NULL, stop_after_one,
						 &calls), 0);
	assert_int_equal(calls, 1);
	buf_dispose(&out);
}

/* A small deterministic generator (xorshift64): the same names and needles every run. */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The reference: a byte-by-byte search at every position, folded or not. */
struct naive {
	const char *needle;
	size_t len;
	bool is_icase;
	bool is_and_ar; /* also has_ar */
};

static bool naive_contains(void *arg, const char *name, size_t len)
{
	const struct naive *nv = arg;

	if (nv->is_and_ar && !has_ar(NULL, name, len))
		return false;
	for (size_t i = 0; i + nv->len <= len; i++) {
		size_t j = 0;

		while (j < nv->len &&
		       (nv->is_icase ? (name[i + j] >= 'A' && name[i + j] <= 'Z' ? name[i + j] + 32
										 : name[i + j])
				     : name[i + j]) == nv->needle[j])
			j++;
		if (j == nv->len)
			return true;
	}
	return false;
}

struct seq {
	uint32_t *idx;
	size_t n, cap;
};

static int collect_index(void *arg, const struct symsec_sym *y)
{
	struct seq *q = arg;

	assert_true(q->n < q->cap);
	q->idx[q->n++] = y->index;
	return 0;
}

/*
 * symsec_lookup_substring finds exactly what a SYMSEC_TEST scan with a naive search finds, in
 * the same order, over names of a small alphabet in both cases (many partial matches) with
 * long runs of one letter (the search's fallback to memmem) and names of the longest length.
 */
static void substring_lookup_agrees_with_a_naive_scan(void **state)
{
	static const char alpha[] = "aAbB_z\xc3\xa9";
	struct symsec_builder *b = NULL;
	char name[SYMSEC_STR_MAX], needle[24];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct seq got = { 0 }, want = { 0 }, got_old = { 0 };
	uint32_t count;
	struct symsec s, s_old;
	struct buf out, old;
	size_t n_found = 0, n_empty = 0;

	(void)state;
	assert_int_equal(symsec_builder_new(&b), 0);
	assert_int_equal(symsec_builder_doc(b, 0, SYMSEC_OK), 0);
	for (int i = 0; i < 3000; i++) {
		struct symsec_in in = { .name = name, .kind = "function", .lang = "C", .line = 1 };
		size_t len = 1 + rnd(&x) % (i % 50 == 0 ? SYMSEC_STR_MAX : 24);
		bool is_run = rnd(&x) % 4 == 0;

		for (size_t k = 0; k < len; k++)
			name[k] = is_run && k + 1 < len ? 'a' : alpha[rnd(&x) % (sizeof(alpha) - 1)];
		in.name_len = len;
		if (i % 300 == 0)
			assert_int_equal(symsec_builder_doc(b, (uint32_t)(i / 300 + 1), SYMSEC_OK), 0);
		assert_int_equal(symsec_builder_add(b, &in), 0);
	}
	buf_init(&out, UINT32_MAX);
	assert_int_equal(symsec_builder_finish(b, &out, &count, 12), 0);
	assert_int_equal(symsec_open(&s, (const uint8_t *)out.ptr, out.len, count, 12), 0);
	assert_int_equal(symsec_verify(&s), 0);
	assert_true(s.has_grams);
	/* The same section as written before GRAMS existed: answered by the scan. */
	copy_without_grams(&old, &out);
	assert_int_equal(symsec_open(&s_old, (const uint8_t *)old.ptr, old.len, count, 12), 0);
	assert_int_equal(symsec_verify(&s_old), 0);
	assert_false(s_old.has_grams);
	got.cap = want.cap = got_old.cap = count;
	got.idx = calloc(count, sizeof(*got.idx));
	want.idx = calloc(count, sizeof(*want.idx));
	got_old.idx = calloc(count, sizeof(*got_old.idx));
	assert_non_null(got.idx);
	assert_non_null(want.idx);
	assert_non_null(got_old.idx);
	for (int t = 0; t < 1000; t++) {
		size_t len = 1 + rnd(&x) % (t % 10 == 0 ? sizeof(needle) : 8);
		bool is_run = t % 7 == 0;
		struct naive nv = { .needle = needle, .len = len, .is_icase = rnd(&x) % 2,
				    .is_and_ar = t % 5 == 0 };

		for (size_t k = 0; k < len; k++) {
			needle[k] = is_run && k + 1 < len ? 'a' : alpha[rnd(&x) % (sizeof(alpha) - 1)];
			if (nv.is_icase && needle[k] >= 'A' && needle[k] <= 'Z')
				needle[k] = (char)(needle[k] + 32);
		}
		got.n = want.n = got_old.n = 0;
		assert_int_equal(symsec_lookup(&s, NULL, 0, SYMSEC_TEST, naive_contains, &nv,
					       collect_index, &want), 0);
		assert_int_equal(symsec_lookup_substring(&s, needle, len, nv.is_icase,
							 nv.is_and_ar ? has_ar : NULL, NULL,
							 collect_index, &got), 0);
		assert_int_equal(symsec_lookup_substring(&s_old, needle, len, nv.is_icase,
							 nv.is_and_ar ? has_ar : NULL, NULL,
							 collect_index, &got_old), 0);
		assert_int_equal(got.n, want.n);
		assert_memory_equal(got.idx, want.idx, got.n * sizeof(*got.idx));
		assert_int_equal(got_old.n, want.n);
		assert_memory_equal(got_old.idx, want.idx, got.n * sizeof(*got.idx));
		if (len >= 3)
			*(want.n ? &n_found : &n_empty) += 1;
	}
	/* Needles of the index's length both found and not found. */
	assert_true(n_found > 100);
	assert_true(n_empty > 100);
	free(got.idx);
	free(want.idx);
	free(got_old.idx);
	symsec_builder_free(b);
	buf_dispose(&out);
	buf_dispose(&old);
}

static void lookup_callback_stops_it(void **state)
{
	struct symsec s;
	struct buf out;
	int calls = 0;

	(void)state;
	build_sample(&out);
	assert_int_equal(symsec_open(&s, (const uint8_t *)out.ptr, out.len, N_SAMPLE, N_DOCS), 0);
	assert_int_equal(symsec_lookup(&s, "f", 1, SYMSEC_PREFIX_ICASE, NULL, NULL, stop_after_one,
				       &calls), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(symsec_lookup(&s, "f", 1, SYMSEC_TEST, NULL, NULL, stop_after_one, &calls),
			 TRAWL_EINVAL);
	buf_dispose(&out);
}

static void failed_document_loses_its_symbols_and_names(void **state)
{
	struct symsec_builder *b = NULL;
	struct symsec_in a = { .name = "kept", .name_len = 4, .kind = "function", .lang = "C" };
	struct symsec_in z = { .name = "dropped", .name_len = 7, .kind = "function", .lang = "C" };
	struct symsec_in long_name = { .name = NULL, .kind = "function", .lang = "C" };
	char big[SYMSEC_STR_MAX + 2];
	struct symsec s;
	struct buf out;
	uint32_t count, first, n;
	enum symsec_status st;
	int hits = 0;

	(void)state;
	memset(big, 'a', sizeof(big));
	long_name.name = big;
	long_name.name_len = sizeof(big);
	assert_int_equal(symsec_builder_new(&b), 0);
	assert_int_equal(symsec_builder_add(b, &a), TRAWL_EINVAL); /* before any document */
	assert_int_equal(symsec_builder_doc(b, 0, SYMSEC_OK), 0);
	assert_int_equal(symsec_builder_add(b, &a), 0);
	assert_int_equal(symsec_builder_add(b, &long_name), 0); /* dropped, not an error */
	assert_int_equal(symsec_builder_doc_count(b), 1);
	assert_int_equal(symsec_builder_doc(b, 1, SYMSEC_OK), 0);
	assert_int_equal(symsec_builder_add(b, &z), 0);
	symsec_builder_doc_fail(b, SYMSEC_TIMEOUT);
	assert_int_equal(symsec_builder_doc(b, 1, SYMSEC_OK), TRAWL_EINVAL); /* out of order */
	buf_init(&out, UINT32_MAX);
	assert_int_equal(symsec_builder_finish(b, &out, &count, 1), TRAWL_EINVAL); /* 2 docs > 1 */
	assert_int_equal(symsec_builder_finish(b, &out, &count, 2), 0);
	assert_int_equal(count, 1);
	assert_int_equal(symsec_open(&s, (const uint8_t *)out.ptr, out.len, count, 2), 0);
	assert_int_equal(symsec_verify(&s), 0);
	assert_int_equal(s.n_names, 1);
	assert_int_equal(symsec_doc(&first, &n, &st, &s, 1), 0);
	assert_int_equal(st, SYMSEC_TIMEOUT);
	assert_int_equal(n, 0);
	assert_int_equal(symsec_lookup(&s, "dropped", 7, SYMSEC_EXACT, NULL, NULL, stop_after_one,
				       &hits), 0);
	assert_int_equal(hits, 0);
	assert_string_equal(symsec_status_name(SYMSEC_TIMEOUT), "ctags timed out");
	symsec_builder_free(b);
	buf_dispose(&out);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Opens a damaged copy: refused, or verified as damaged, or read without harm. */
static int open_and_read(const uint8_t *p, size_t len, uint32_t count, uint32_t n_docs)
{
	struct symsec s;
	struct hits h = { 0 };
	int err;

	if ((err = symsec_open(&s, p, len, count, n_docs)) < 0)
		return err;
	for (uint32_t i = 0; i < s.n_symbols; i++) {
		struct symsec_sym y;

		(void)symsec_symbol(&y, &s, i);
	}
	for (uint32_t d = 0; d < s.n_docs; d++) {
		uint32_t first, n;
		enum symsec_status st;

		(void)symsec_doc(&first, &n, &st, &s, d);
	}
	(void)symsec_lookup(&s, "foo", 3, SYMSEC_PREFIX_ICASE, NULL, NULL, collect, &h);
	h.n = 0;
	(void)symsec_lookup(&s, "", 0, SYMSEC_TEST, has_ar, NULL, collect, &h);
	h.n = 0;
	(void)symsec_lookup_substring(&s, "o", 1, true, NULL, NULL, collect, &h);
	h.n = 0;
	(void)symsec_lookup_substring(&s, "a", 1, false, has_ar, NULL, collect, &h);
	/* Three bytes and more: through GRAMS when the section has it. */
	h.n = 0;
	(void)symsec_lookup_substring(&s, "oob", 3, true, NULL, NULL, collect, &h);
	h.n = 0;
	(void)symsec_lookup_substring(&s, "Foo", 3, false, NULL, NULL, collect, &h);
	h.n = 0;
	(void)symsec_lookup_substring(&s, "bar", 3, false, has_ar, NULL, collect, &h);
	return symsec_verify(&s);
}

static void reader_refuses_damage(void **state)
{
	struct buf out;
	uint8_t *p;
	size_t len;
	uint32_t names_at;

	(void)state;
	build_sample(&out);
	p = (uint8_t *)out.ptr;
	len = out.len;
	assert_int_equal(open_and_read(p, len, N_SAMPLE, N_DOCS), 0);
	assert_int_equal(open_and_read(p, len, N_SAMPLE + 1, N_DOCS), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "section SYMBOLS"));
	assert_int_equal(open_and_read(p, len, N_SAMPLE, N_DOCS + 1), TRAWL_ECORRUPT);
	assert_int_equal(open_and_read(p, len - 1, N_SAMPLE, N_DOCS), TRAWL_ECORRUPT);
	assert_int_equal(open_and_read(p, 7, N_SAMPLE, N_DOCS), TRAWL_ECORRUPT);
	/* A symbol naming a name past the table. */
	{
		uint8_t *r = p + SYMSEC_HEADER_SIZE + (size_t)N_DOCS * SYMSEC_DOC_SIZE;
		uint32_t keep = r[0] | r[1] << 8 | r[2] << 16 | (uint32_t)r[3] << 24;

		wr32(r + SYMSEC_S_NAME, 1000);
		assert_int_equal(open_and_read(p, len, N_SAMPLE, N_DOCS), TRAWL_ECORRUPT);
		wr32(r + SYMSEC_S_NAME, keep);
	}
	/* The first two names swapped: the table is no longer sorted. */
	names_at = SYMSEC_HEADER_SIZE + N_DOCS * SYMSEC_DOC_SIZE + N_SAMPLE * SYMSEC_SYM_SIZE;
	{
		uint8_t a[4], *e = p + names_at;

		memcpy(a, e, 4);
		memcpy(e, e + SYMSEC_NAME_SIZE, 4);
		memcpy(e + SYMSEC_NAME_SIZE, a, 4);
		assert_int_equal(open_and_read(p, len, N_SAMPLE, N_DOCS), TRAWL_ECORRUPT);
		memcpy(e + SYMSEC_NAME_SIZE, e, 4);
		memcpy(e, a, 4);
		assert_int_equal(open_and_read(p, len, N_SAMPLE, N_DOCS), 0);
	}
	/* Huge counts in the header: refused by size, nothing allocated. */
	wr32(p + SYMSEC_H_N_SYMBOLS, UINT32_MAX);
	assert_int_equal(open_and_read(p, len, UINT32_MAX, N_DOCS), TRAWL_ECORRUPT);
	buf_dispose(&out);
}

/* A section written before GRAMS (flag clear, nothing after STRINGS) answers as before. */
static void old_format_section_still_answers(void **state)
{
	static const char *const oob[] = { "foobar@2", NULL };
	static const char *const foo_i[] = { "Foo@0", "foo@2", "foo@3", "foobar@2", NULL };
	static const char *const foo[] = { "foo@2", "foo@3", "foobar@2", NULL };
	static const char *const none[] = { NULL };
	struct symsec s, s_old;
	struct buf out, old;

	(void)state;
	build_sample(&out);
	copy_without_grams(&old, &out);
	assert_int_equal(symsec_open(&s, (const uint8_t *)out.ptr, out.len, N_SAMPLE, N_DOCS), 0);
	assert_int_equal(symsec_open(&s_old, (const uint8_t *)old.ptr, old.len, N_SAMPLE, N_DOCS),
			 0);
	assert_true(s.has_grams);
	assert_false(s_old.has_grams);
	assert_int_equal(symsec_verify(&s_old), 0);
	for (int i = 0; i < 2; i++) {
		const struct symsec *x = i ? &s_old : &s;

		assert_substring(x, "oob", false, NULL, oob);
		assert_substring(x, "foo", true, NULL, foo_i);
		assert_substring(x, "foo", false, NULL, foo);
		assert_substring(x, "FOO", false, NULL, none);
		assert_substring(x, "qqq", true, NULL, none);
		assert_substring(x, "oob", true, has_ar, oob);
		assert_substring(x, "oom", true, NULL, none); /* both trigrams exist, apart */
	}
	/* The old format with its length, but the new one's flag: refused (no GRAMS header). */
	memset(old.ptr + SYMSEC_H_FLAGS, 1, 1);
	assert_int_equal(symsec_open(&s_old, (const uint8_t *)old.ptr, old.len, N_SAMPLE, N_DOCS),
			 TRAWL_ECORRUPT);
	/* And the new bytes with the flag cleared: the length no longer adds up. */
	memset(out.ptr + SYMSEC_H_FLAGS, 0, 1);
	assert_int_equal(symsec_open(&s, (const uint8_t *)out.ptr, out.len, N_SAMPLE, N_DOCS),
			 TRAWL_ECORRUPT);
	buf_dispose(&out);
	buf_dispose(&old);
}

/* Opens and reads p with one u32 at off set to v: the error, the u32 put back. */
static int with_u32(uint8_t *p, size_t len, size_t off, uint32_t v)
{
	uint32_t keep = rd32le(p + off);
	int err;

	wr32(p + off, v);
	err = open_and_read(p, len, N_SAMPLE, N_DOCS);
	wr32(p + off, keep);
	return err;
}

/* A damaged GRAMS: refused by open (sizes) or verify (contents), never read outside. */
static void damaged_name_index_is_refused(void **state)
{
	struct buf out;
	uint8_t *p, *key, *lists;
	size_t len, g;
	uint32_t n_grams;

	(void)state;
	build_sample(&out);
	p = (uint8_t *)out.ptr;
	len = out.len;
	g = grams_at(p);
	n_grams = rd32le(p + g + SYMSEC_G_N_GRAMS);
	key = p + g + SYMSEC_GRAMS_HEADER_SIZE;
	lists = key + (size_t)n_grams * SYMSEC_GRAM_SIZE;
	assert_true(n_grams > 10);
	assert_int_equal(open_and_read(p, len, N_SAMPLE, N_DOCS), 0);
	/* Open: unknown flag, reserved field, sizes that do not add up. */
	assert_int_equal(with_u32(p, len, SYMSEC_H_FLAGS, 3), TRAWL_ECORRUPT);
	assert_int_equal(with_u32(p, len, g + SYMSEC_G_RESERVED, 1), TRAWL_ECORRUPT);
	assert_int_equal(with_u32(p, len, g + SYMSEC_G_N_GRAMS, n_grams + 1000), TRAWL_ECORRUPT);
	assert_int_equal(with_u32(p, len, g + SYMSEC_G_N_GRAMS, UINT32_MAX), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "section SYMBOLS: name index"));
	assert_int_equal(with_u32(p, len, g + SYMSEC_G_N_POSTINGS, 100000), TRAWL_ECORRUPT);
	assert_int_equal(with_u32(p, len, g + SYMSEC_G_N_POSTINGS + 4, 1), TRAWL_ECORRUPT);
	assert_int_equal(open_and_read(p, g + 8, N_SAMPLE, N_DOCS), TRAWL_ECORRUPT);
	assert_int_equal(open_and_read(p, len - 1, N_SAMPLE, N_DOCS), TRAWL_ECORRUPT);
	/* Verify: keys out of order, a trigram past 2^24, a count or offset off. */
	assert_int_equal(with_u32(p, len, (size_t)(key - p), rd32le(key + SYMSEC_GRAM_SIZE)),
			 TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "not sorted"));
	assert_int_equal(with_u32(p, len, (size_t)(key - p) + (size_t)(n_grams - 1) *
						SYMSEC_GRAM_SIZE, 1u << 24), TRAWL_ECORRUPT);
	assert_int_equal(with_u32(p, len, (size_t)(key - p) + 4, 0), TRAWL_ECORRUPT);
	assert_int_equal(with_u32(p, len, (size_t)(key - p) + 4, 1000), TRAWL_ECORRUPT);
	assert_int_equal(with_u32(p, len, (size_t)(key - p) + 8, 1), TRAWL_ECORRUPT);
	assert_int_equal(with_u32(p, len, (size_t)(key - p) + SYMSEC_GRAM_SIZE + 8, 1000),
			 TRAWL_ECORRUPT);
	/* A list: a name out of range, a gap of 0, an overlong varint, another name. */
	{
		uint8_t keep[2];

		memcpy(keep, lists, 2);
		lists[0] = 0x7f; /* name 127 of 7 */
		assert_int_equal(open_and_read(p, len, N_SAMPLE, N_DOCS), TRAWL_ECORRUPT);
		assert_non_null(strstr(error_last(), "out of range"));
		lists[0] = 0x80; /* a varint running into the next list */
		assert_int_equal(open_and_read(p, len, N_SAMPLE, N_DOCS), TRAWL_ECORRUPT);
		memcpy(lists, keep, 2);
	}
	/* The last list names another name than its own (in range, ascending): verify's sums. */
	{
		uint8_t keep = p[len - 1];

		p[len - 1] = (uint8_t)(p[len - 1] == 1 ? 2 : 1);
		assert_int_equal(open_and_read(p, len, N_SAMPLE, N_DOCS), TRAWL_ECORRUPT);
		p[len - 1] = keep;
	}
	assert_int_equal(open_and_read(p, len, N_SAMPLE, N_DOCS), 0);
	buf_dispose(&out);
}

/* Every byte of the section changed in turn: never a crash, an over-read or a hang. */
static void reader_survives_every_single_byte_change(void **state)
{
	struct buf out;
	uint8_t *p;
	size_t n_bad = 0;

	(void)state;
	build_sample(&out);
	p = (uint8_t *)out.ptr;
	for (size_t i = 0; i < out.len; i++) {
		static const uint8_t vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };

		for (size_t k = 0; k < sizeof(vals); k++) {
			uint8_t keep = p[i];

			if (keep == vals[k])
				continue;
			p[i] = vals[k];
			n_bad += open_and_read(p, out.len, N_SAMPLE, N_DOCS) < 0;
			p[i] = keep;
		}
	}
	assert_true(n_bad > out.len); /* most changes are caught */
	buf_dispose(&out);
}

/* --- in a shard ---------------------------------------------------------------------------- */

struct test_ext {
	struct symsec_builder *b;
	uint32_t n_docs_seen;
};

static int t_doc(void *arg, uint32_t doc, const char *path, size_t path_len,
		 const uint8_t *content, size_t content_len, enum doc_skip skip, uint16_t lang)
{
	struct test_ext *t = arg;
	struct symsec_in in = { .name = path, .name_len = path_len, .kind = "file", .lang = "Text",
				.line = 1 };
	int err;

	(void)content;
	(void)lang;
	t->n_docs_seen++;
	if (skip != DOC_INDEXED || content_len == 0)
		return symsec_builder_doc(t->b, doc, SYMSEC_NOT_PARSED);
	if ((err = symsec_builder_doc(t->b, doc, SYMSEC_OK)) < 0)
		return err;
	return symsec_builder_add(t->b, &in);
}

static int t_finish(void *arg, struct buf *out, uint32_t *count, uint32_t n_docs)
{
	struct test_ext *t = arg;

	return symsec_builder_finish(t->b, out, count, n_docs);
}

static void write_shard(const char *path, bool with_symbols)
{
	struct test_ext t = { 0 };
	struct shard_writer_ext ext = { .id = SEC_SYMBOLS, .doc = t_doc, .finish = t_finish,
					.arg = &t };
	struct shard_writer *w = NULL;

	assert_int_equal(symsec_builder_new(&t.b), 0);
	assert_int_equal(shard_writer_new_ext(&w, path, "proj", with_symbols ? &ext : NULL), 0);
	assert_int_equal(shard_writer_add(w, "a.c", 3, (const uint8_t *)"int a;", 6, 6,
					  DOC_INDEXED, 0), 0);
	assert_int_equal(shard_writer_add(w, "bin", 3, NULL, 0, 9, DOC_SKIP_BINARY, 0), 0);
	assert_int_equal(shard_writer_add(w, "Abc.c", 5, (const uint8_t *)"int b;", 6, 6,
					  DOC_INDEXED, 0), 0);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	assert_int_equal(t.n_docs_seen, with_symbols ? 3 : 0);
	symsec_builder_free(t.b);
}

static void shard_holds_symbols_as_an_optional_section(void **state)
{
	const char *path = testlib_path("sym.shard");
	struct shard *sh = NULL;
	struct symsec s;
	struct hits h = { 0 };
	const uint8_t *p;
	uint64_t len;
	uint32_t count;
	bool has;

	(void)state;
	write_shard(path, true);
	assert_int_equal(shard_open(&sh, path), 0);
	assert_int_equal(shard_verify(sh), 0);
	assert_int_equal(shard_n_unknown_sections(sh), 0);
	shard_section(&p, &len, &count, sh, SEC_SYMBOLS);
	assert_true(len > 0);
	assert_int_equal(count, 2);
	assert_int_equal(symbols_open(&s, &has, sh), 0);
	assert_true(has);
	assert_int_equal(symbols_lookup(sh, "abc.C", 5, SYMSEC_EXACT_ICASE, NULL, NULL, collect, &h),
			 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.got[0], "Abc.c@2");
	shard_close(sh);
}

static void shard_without_symbols_is_unchanged(void **state)
{
	const char *path = testlib_path("plain.shard");
	struct shard *sh = NULL;
	struct symsec s;
	struct hits h = { 0 };
	char *bytes;
	size_t n;
	bool has = true;

	(void)state;
	write_shard(path, false);
	assert_int_equal(file_read_all(&bytes, &n, path, 1 << 20), 0);
	assert_int_equal(le32((const uint8_t *)bytes + SHARD_H_N_SECTIONS), SHARD_N_SECTIONS_V3);
	free(bytes);
	assert_int_equal(shard_open(&sh, path), 0);
	assert_int_equal(symbols_open(&s, &has, sh), 0);
	assert_false(has);
	assert_int_equal(symbols_lookup(sh, "a.c", 3, SYMSEC_EXACT, NULL, NULL, collect, &h), 0);
	assert_int_equal(h.n, 0);
	shard_close(sh);
}

/* A SYMBOLS section whose checksum holds but whose contents are wrong: verify says so. */
static void shard_verify_checks_the_symbols_contents(void **state)
{
	const char *path = testlib_path("bad.shard");
	struct shard *sh = NULL;
	char *raw;
	uint8_t *bytes;
	size_t n;
	uint64_t off = 0;

	(void)state;
	write_shard(path, true);
	assert_int_equal(file_read_all(&raw, &n, path, 1 << 20), 0);
	bytes = (uint8_t *)raw;
	for (uint32_t k = 0; k < le32(bytes + SHARD_H_N_SECTIONS); k++) {
		const uint8_t *e = bytes + SHARD_HEADER_SIZE + (size_t)k * SHARD_TOC_ENTRY_SIZE;

		if (le32(e + SHARD_T_ID) == SEC_SYMBOLS) {
			assert_int_equal(le32(e + SHARD_T_FLAGS), SHARD_SEC_OPTIONAL);
			off = le64(e + SHARD_T_OFFSET);
		}
	}
	assert_true(off > 0);
	/* The first document's status byte: an unknown status. */
	bytes[off + SYMSEC_HEADER_SIZE + 4] = 0x7f;
	shard_bytes_reseal(bytes, n);
	assert_int_equal(file_write_atomic(path, bytes, n), 0);
	free(bytes);
	assert_int_equal(shard_open(&sh, path), 0); /* opening does not read the section */
	assert_int_equal(shard_verify(sh), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), path));
	assert_non_null(strstr(error_last(), "SYMBOLS"));
	shard_close(sh);
}

/* GRAMS damaged under a good checksum: the shard opens, shard_verify (trawl verify) refuses it. */
static void shard_verify_checks_the_name_index(void **state)
{
	const char *path = testlib_path("badgrams.shard");
	struct shard *sh = NULL;
	char *raw;
	uint8_t *bytes;
	size_t n, g;
	uint64_t off = 0;

	(void)state;
	write_shard(path, true);
	assert_int_equal(file_read_all(&raw, &n, path, 1 << 20), 0);
	bytes = (uint8_t *)raw;
	for (uint32_t k = 0; k < le32(bytes + SHARD_H_N_SECTIONS); k++) {
		const uint8_t *e = bytes + SHARD_HEADER_SIZE + (size_t)k * SHARD_TOC_ENTRY_SIZE;

		if (le32(e + SHARD_T_ID) == SEC_SYMBOLS)
			off = le64(e + SHARD_T_OFFSET);
	}
	assert_true(off > 0);
	g = grams_at(bytes + off);
	assert_int_equal(le32(bytes + off + SYMSEC_H_FLAGS), SYMSEC_F_GRAMS);
	/* The first key's trigram moved past the last: the keys are no longer sorted. */
	wr32(bytes + off + g + SYMSEC_GRAMS_HEADER_SIZE, 0xfffffe);
	shard_bytes_reseal(bytes, n);
	assert_int_equal(file_write_atomic(path, bytes, n), 0);
	free(bytes);
	assert_int_equal(shard_open(&sh, path), 0);
	assert_int_equal(shard_verify(sh), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), path));
	assert_non_null(strstr(error_last(), "name index"));
	shard_close(sh);
}

/* The example of docs/index-format.md ("SYMBOLS"), byte for byte. */
static void documented_example_is_byte_exact(void **state)
{
	static const uint8_t want[] = {
		1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, /* header: SYMSEC_F_GRAMS */
		1, 0, 0, 0, 1, 0, 0, 0, 0x22, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,                         /* DOCSYM */
		0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x13, 0, 0, 0, 0, 0xff, 0, 0, /* SYMS */
		0, 0, 0, 0, 0, 0, 0, 0,                         /* NAMES */
		0, 0, 0, 0,                                     /* POSTS */
		5, 0, 0, 0,                                     /* KINDS */
		0x0f, 0, 0, 0,                                  /* LANGS */
		3, 0, 'a', 'd', 'd', 8, 0, 'f', 'u', 'n', 'c', 't', 'i', 'o', 'n', 1, 0, 'C',
		14, 0, '(', 'i', 'n', 't', ' ', 'a', ',', ' ', 'i', 'n', 't', ' ', 'b', ')',
		1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, /* GRAMS: 1 trigram, 1 posting */
		0x64, 0x64, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0,    /* "add": 1 name, at 0 */
		0,                                              /* name 0 */
	};
	struct symsec_in in = { .name = "add", .name_len = 3, .kind = "function", .lang = "C",
				.signature = "(int a, int b)", .signature_len = 14, .line = 1 };
	struct symsec_builder *b = NULL;
	struct buf out;
	uint32_t count;

	(void)state;
	assert_int_equal(sizeof(want), 143);
	assert_int_equal(symsec_builder_new(&b), 0);
	assert_int_equal(symsec_builder_doc(b, 0, SYMSEC_OK), 0);
	assert_int_equal(symsec_builder_add(b, &in), 0);
	buf_init(&out, UINT32_MAX);
	assert_int_equal(symsec_builder_finish(b, &out, &count, 1), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.ptr, want, sizeof(want));
	symsec_builder_free(b);
	buf_dispose(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(section_round_trip_keeps_every_field),
		cmocka_unit_test(lookups_by_exact_prefix_case_and_test),
		cmocka_unit_test(lookup_callback_stops_it),
		cmocka_unit_test(substring_lookup_finds_parts_of_names),
		cmocka_unit_test(substring_lookup_agrees_with_a_naive_scan),
		cmocka_unit_test(failed_document_loses_its_symbols_and_names),
		cmocka_unit_test(reader_refuses_damage),
		cmocka_unit_test(reader_survives_every_single_byte_change),
		cmocka_unit_test(old_format_section_still_answers),
		cmocka_unit_test(damaged_name_index_is_refused),
		cmocka_unit_test(shard_holds_symbols_as_an_optional_section),
		cmocka_unit_test(shard_without_symbols_is_unchanged),
		cmocka_unit_test(shard_verify_checks_the_symbols_contents),
		cmocka_unit_test(shard_verify_checks_the_name_index),
		cmocka_unit_test(documented_example_is_byte_exact),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
