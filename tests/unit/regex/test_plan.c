/* Unit tests for the trigram planner: expected queries, and soundness on random patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "regex/matcher.h"
#include "regex/regex.h"
#include "regex/tquery.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/trigram.h"

struct plan_case {
	const char *pattern;
	unsigned flags;
	const char *query;
};

static const struct plan_case cases[] = {
	{ "abc", 0, "\"abc\"" },
	{ "Abc", 0, "\"abc\"" },
	{ "abc", REGEX_ICASE, "\"abc\"" },
	{ "abcd", 0, "\"abc\" AND \"bcd\"" },
	{ "a", 0, "ALL" },
	{ "ab", 0, "ALL" },
	{ "", 0, "ALL" },
	{ "abc|def", 0, "\"abc\" OR \"def\"" },
	{ "ab|cd", 0, "ALL" },
	{ "abcd|ab", 0, "ALL" },
	{ "abc|", 0, "ALL" },
	{ "abc.*def", 0, "\"abc\" AND \"def\"" },
	{ "foo.*bar.*baz", 0, "\"foo\" AND \"bar\" AND \"baz\"" },
	{ "a[bc]d", 0, "\"abd\" OR \"acd\"" },
	{ "a[bB]d", 0, "\"abd\"" },
	{ "(abc)+", 0, "\"abc\"" },
	{ "(abc)*", 0, "ALL" },
	{ "(abc)?", 0, "ALL" },
	{ "abc?", 0, "ALL" },
	{ "abcd?", 0, "\"abc\"" },
	{ "a.c", 0, "ALL" },
	{ "[a-z]{2}\\d", 0, "ALL" },
	{ "[^a]bc", 0, "ALL" },
	{ "x{3}", 0, "\"xxx\"" },
	{ "x{5}", 0, "\"xxx\"" },
	{ "x{2}", 0, "ALL" },
	{ "(ab){2}", 0, "\"aba\" AND \"bab\"" },
	{ "(ab){3,}", 0, "\"aba\" AND \"bab\"" },
	{ "a{2,}bc", 0, "\"aab\" AND \"abc\"" },
	{ "ab{2}c", 0, "\"abb\" AND \"bbc\"" },
	{ "ab{0}c", 0, "ALL" },
	{ "^abc$", 0, "\"abc\"" },
	{ "\\babc\\b", 0, "\"abc\"" },
	{ "foo", REGEX_WORD, "\"foo\"" },
	{ "a.b", REGEX_FIXED, "\"a.b\"" },
	{ "return", 0, "\"ret\" AND \"etu\" AND \"tur\" AND \"urn\"" },
	{ "a(b|c)d(e|f)g", 0,
	  "((\"abd\" AND \"bde\") OR (\"abd\" AND \"bdf\") OR (\"acd\" AND \"cde\") OR "
	  "(\"acd\" AND \"cdf\")) AND (\"deg\" OR \"dfg\")" },
	{ "sys_pidfd_open", 0,
	  "\"sys\" AND \"ys_\" AND \"s_p\" AND \"_pi\" AND \"pid\" AND \"idf\" AND \"dfd\" AND "
	  "\"fd_\" AND \"d_o\" AND \"_op\" AND \"ope\" AND \"pen\"" },
	{ "lock\\(&\\w+->lock", 0,
	  "\"loc\" AND \"ock\" AND \"ck(\" AND \"k(&\" AND \"->l\" AND \">lo\"" },
	{ "\xc3\xa9\xc3\xa9\xc3\xa9", 0, "\"\\xc3\\xa9\\xc3\" AND \"\\xa9\\xc3\\xa9\"" },
	{ "\xc3\xa9" "a", REGEX_ICASE, "\"\\xc3\\x89a\" OR \"\\xc3\\xa9a\"" },
	{ "\xc3\xa9", 0, "ALL" },
	/* k and s have non-ASCII case variants (Kelvin sign, long s): both are searched. */
	{ "kab", REGEX_ICASE, "\"kab\" OR (\"\\xe2\\x84\\xaa\" AND \"\\x84\\xaaa\" AND \"\\xaaab\")" },
	{ "[k]ab", REGEX_ICASE, "\"kab\" OR (\"\\xe2\\x84\\xaa\" AND \"\\x84\\xaaa\" AND \"\\xaaab\")" },
	{ "(?i)Hello", 0, "\"hel\" AND \"ell\" AND \"llo\"" },
	{ "\\w+", 0, "ALL" },
	{ ".*", 0, "ALL" },
	{ "abc[^\\x00-\\x{10FFFF}&&x]", 0, "\"abc\"" },
};

/* The query of a pattern, rewritten so that top-level ORs of ANDs compare as printed. */
static char *plan_of(const char *pattern, unsigned flags)
{
	static char out[8192];
	struct regex *re = NULL;
	struct tq *q = NULL;
	struct buf b;
	int err;

	buf_init(&b, 1 << 20);
	err = regex_parse(&re, pattern, strlen(pattern), flags);
	if (err < 0) {
		snprintf(out, sizeof(out), "parse error: %s", error_last());
		buf_dispose(&b);
		return out;
	}
	assert_int_equal(regex_plan(&q, re), 0);
	assert_int_equal(tq_format(&b, q), 0);
	snprintf(out, sizeof(out), "%s", b.ptr ? b.ptr : "");
	tq_free(q);
	regex_free(re);
	buf_dispose(&b);
	return out;
}

static void planner_table(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = plan_of(cases[i].pattern, cases[i].flags);
		char want[2048];

		snprintf(want, sizeof(want), "%s", cases[i].query);
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "case %zu /%s/:\n  got  %s\n  want %s\n", i, cases[i].pattern,
				got, want);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void planned_query_is_simplified(void **state)
{
	struct regex *re = NULL;
	struct tq *q = NULL;

	(void)state;
	assert_int_equal(regex_parse(&re, "(abc|abc)(abc)", 14, 0), 0);
	assert_int_equal(regex_plan(&q, re), 0);
	/* Duplicates collapse and no AND holds an AND. */
	assert_int_equal(q->op, TQ_AND);
	for (size_t i = 0; i < q->n_sub; i++)
		assert_int_not_equal(q->sub[i]->op, TQ_AND);
	tq_free(q);
	regex_free(re);
}

/* ---- soundness: a document that matches always satisfies the query ---- */

static uint8_t seen[TRIGRAM_SPACE / 8];

static void index_text(const uint8_t *t, size_t n)
{
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i + 3 <= n; i++) {
		uint32_t g = trigram_make(t[i], t[i + 1], t[i + 2]);

		seen[g >> 3] |= (uint8_t)(1u << (g & 7));
	}
}

static bool eval(const struct tq *q)
{
	switch (q->op) {
	case TQ_ALL: return true;
	case TQ_NONE: return false;
	case TQ_TRIGRAM: return seen[q->trigram >> 3] & (1u << (q->trigram & 7));
	case TQ_AND:
		for (size_t i = 0; i < q->n_sub; i++)
			if (!eval(q->sub[i]))
				return false;
		return true;
	case TQ_OR:
		for (size_t i = 0; i < q->n_sub; i++)
			if (eval(q->sub[i]))
				return true;
		return false;
	}
	return false;
}

static int any_line(size_t s, size_t e, void *arg)
{
	(void)s;
	(void)e;
	*(int *)arg = 1;
	return 1;
}

static const char *const atoms[] = {
	"a", "b", "c", "ab", "abc", "A", "B", "k", "K", "s", "\xc3\xa9", "\xc3\x89", "[ab]", "[^a]",
	".", "\\w", "\\d", "x", "xy", "\\b", "\\s", "(?i)k", "[a-c]", "(?i:ab)", "1",
};
static const char alphabet[][4] = {
	"a", "b", "c", "A", "B", "k", "K", "\xe2\x84\xaa", "s", "S", "\xc3\xa9", "\xc3\x89", "x",
	"y", "1", " ", "\n", "_",
};

static unsigned long rng = 12345;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ul + 1442695040888963407ul;
	return (unsigned)((rng >> 33) % n);
}

static void gen_pattern(struct buf *b, int depth)
{
	unsigned k = depth > 2 ? 0 : rnd(8);

	switch (k) {
	case 0: case 1: case 2:
		buf_puts(b, atoms[rnd(sizeof(atoms) / sizeof(atoms[0]))]);
		break;
	case 3: case 4:
		gen_pattern(b, depth + 1);
		gen_pattern(b, depth + 1);
		break;
	case 5:
		buf_putc(b, '(');
		gen_pattern(b, depth + 1);
		buf_putc(b, '|');
		gen_pattern(b, depth + 1);
		buf_putc(b, ')');
		break;
	default:
		buf_putc(b, '(');
		gen_pattern(b, depth + 1);
		buf_puts(b, (const char *const[]){ ")*", ")+", ")?", "){2}", "){1,3}", "){3}" }[rnd(6)]);
		break;
	}
}

static void planner_is_sound_on_random_patterns(void **state)
{
	struct matcher_scratch *s = NULL;
	int checked = 0, matched = 0, refused = 0;

	(void)state;
	assert_int_equal(matcher_scratch_new(&s), 0);
	for (int it = 0; it < 400; it++) {
		struct buf pat, text;
		struct regex *re = NULL;
		struct matcher *m = NULL;
		struct tq *q = NULL;
		unsigned flags = rnd(3) == 0 ? REGEX_ICASE : 0;

		buf_init(&pat, 1 << 16);
		gen_pattern(&pat, 0);
		gen_pattern(&pat, 0);
		assert_int_equal(regex_parse(&re, pat.ptr, pat.len, flags), 0);
		assert_int_equal(regex_plan(&q, re), 0);
		if (matcher_new(&m, re, 0) < 0) {
			/* Not this test's business (test_emit covers refusals); count them. */
			if (getenv("VERBOSE"))
				fprintf(stderr, "refused /%s/: %s\n", pat.ptr, error_last());
			refused++;
			tq_free(q);
			regex_free(re);
			buf_dispose(&pat);
			continue;
		}
		for (int t = 0; t < 40; t++) {
			int hit = 0;
			unsigned n = 1 + rnd(12);

			buf_init(&text, 1 << 16);
			for (unsigned c = 0; c < n; c++)
				buf_puts(&text, alphabet[rnd(sizeof(alphabet) / sizeof(alphabet[0]))]);
			if (matcher_lines(m, s, (const uint8_t *)text.ptr, text.len,
					  matcher_classify((const uint8_t *)text.ptr, text.len), any_line,
					  &hit) < 0) {
				/* Refused for UTF-8 text only (e.g. an embedded `$`): counted below. */
				if (getenv("VERBOSE"))
					fprintf(stderr, "refused /%s/: %s\n", pat.ptr, error_last());
				refused++;
				buf_dispose(&text);
				break;
			}
			if (hit) {
				index_text((const uint8_t *)text.ptr, text.len);
				if (!eval(q)) {
					struct buf qs;

					buf_init(&qs, 1 << 20);
					tq_format(&qs, q);
					fail_msg("unsound: /%s/ (flags %u) matches \"%s\" but the query %s "
						 "rejects it", pat.ptr, flags, text.ptr, qs.ptr);
				}
				matched++;
			}
			checked++;
			buf_dispose(&text);
		}
		matcher_free(m);
		tq_free(q);
		regex_free(re);
		buf_dispose(&pat);
	}
	matcher_scratch_free(s);
	assert_true(matched > 500); /* the generator must produce matches to prove anything */
	if (refused > 20)
		fail_msg("the matcher refused %d of 400 random patterns", refused);
	(void)checked;
}

/* ---- wide literals (litfold.c) ---- */

/* regex_literal_wide's answer for pattern: "-" when it refuses, else "FLAGS:literal". */
static char *wide_of(const char *pattern, unsigned flags)
{
	static char out[256];
	struct regex *re = NULL;
	struct buf b;
	unsigned lf = 0;
	int r;

	buf_init(&b, 1 << 16);
	assert_int_equal(regex_parse(&re, pattern, strlen(pattern), flags), 0);
	r = regex_literal_wide(&b, &lf, re);
	assert_true(r == 0 || r == 1);
	if (r == 0)
		snprintf(out, sizeof(out), "-");
	else
		snprintf(out, sizeof(out), "%u:%.*s", lf, (int)b.len, b.ptr ? b.ptr : "");
	buf_dispose(&b);
	regex_free(re);
	return out;
}

static void wide_literals_are_ascii_literals_with_k_or_s(void **state)
{
	(void)state;
	/* ICASE | WIDE = 12, with BOL 13, EOL 14. */
	assert_string_equal(wide_of("lockdep_Assert", REGEX_ICASE), "12:lockdep_assert");
	assert_string_equal(wide_of("(?i)^Kmalloc$", 0), "15:kmalloc");
	assert_string_equal(wide_of("EXPORT_SYMBOL(__k", REGEX_ICASE | REGEX_FIXED),
			    "12:export_symbol(__k");
	/* regex_literal's: no letter folds beyond ASCII. */
	assert_string_equal(wide_of("foo_bar", REGEX_ICASE), "-");
	/* Case-sensitive, a letter keeping its case, a non-ASCII letter, not a literal. */
	assert_string_equal(wide_of("kmalloc", 0), "-");
	assert_string_equal(wide_of("(?i)k(?-i)mALLOC", 0), "-");
	assert_string_equal(wide_of("(?i)k-1", 0), "12:k-1");
	assert_string_equal(wide_of("sk\\x{e9}", REGEX_ICASE), "-");
	assert_string_equal(wide_of("sk[ab]", REGEX_ICASE), "-");
	assert_string_equal(wide_of("sk|b", REGEX_ICASE), "-");
}

static void wide_forms_are_listed_once(void **state)
{
	uint8_t f[4][4];
	size_t len[4];

	(void)state;
	assert_int_equal(regex_literal_wide_forms(f, len, 4, (const uint8_t *)"kiss_k", 6), 2);
	assert_int_equal(len[0], 3);
	assert_memory_equal(f[0], "\xe2\x84\xaa", 3);
	assert_int_equal(len[1], 2);
	assert_memory_equal(f[1], "\xc5\xbf", 2);
	assert_int_equal(regex_literal_wide_forms(f, len, 1, (const uint8_t *)"sk", 2), 2);
	assert_int_equal(regex_literal_wide_forms(f, len, 4, (const uint8_t *)"abc", 3), 0);
}

/* regex_required_literal_wide's string for pattern ("" when none). */
static char *wide_req_of(const char *pattern)
{
	static char out[256];
	struct regex *re = NULL;
	struct buf b;

	buf_init(&b, 1 << 16);
	assert_int_equal(regex_parse(&re, pattern, strlen(pattern), 0), 0);
	assert_int_equal(regex_required_literal_wide(&b, re), 0);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.ptr ? b.ptr : "");
	buf_dispose(&b);
	regex_free(re);
	return out;
}

static void wide_required_literal_keeps_k_and_s(void **state)
{
	(void)state;
	/* regex_required_literal breaks at k and s: "pin_lock_irq"; this keeps them. */
	assert_string_equal(wide_req_of("(?i)spin_lock_irqsave\\(&\\w+->lock"),
			    "spin_lock_irqsave(&");
	assert_string_equal(wide_req_of("(?i)\\bKmalloc\\(\\w"), "kmalloc(");
	/* A run without k or s: regex_required_literal's own. */
	assert_string_equal(wide_req_of("(?i)foo_bar\\w+k"), "");
	assert_string_equal(wide_req_of("spin_lock\\w"), "");
	/* Other folding beyond ASCII ends a run; case-sensitive parts join it lowered. */
	assert_string_equal(wide_req_of("(?i)s\\x{e9}kst(?-i)ACK"), "kstack");
}

static char *variants_of(const char *lit)
{
	static char out[1024];
	struct tq *q = NULL;
	struct buf b;

	buf_init(&b, 1 << 16);
	assert_int_equal(regex_literal_variants(&q, (const uint8_t *)lit, strlen(lit)), 0);
	assert_int_equal(tq_format(&b, q), 0);
	snprintf(out, sizeof(out), "%s", b.ptr ? b.ptr : "");
	buf_dispose(&b);
	tq_free(q);
	return out;
}

static void wide_literal_variants_are_the_forms_trigrams(void **state)
{
	(void)state;
	assert_string_equal(variants_of("abc"), "NONE");
	assert_string_equal(variants_of("kmalloc"), "\"\\xe2\\x84\\xaa\"");
	assert_string_equal(variants_of("kk"), "\"\\xe2\\x84\\xaa\"");
	/* Long s has two bytes: with the next letter's first byte, or the previous one's last. */
	assert_string_equal(variants_of("sa"), "\"\\xc5\\xbfa\"");
	assert_string_equal(variants_of("as"), "\"a\\xc5\\xbf\"");
	assert_string_equal(variants_of("ss"),
			    "\"\\xc5\\xbfs\" OR \"\\xc5\\xbf\\xc5\" OR \"s\\xc5\\xbf\" OR "
			    "\"\\xbf\\xc5\\xbf\"");
	assert_string_equal(variants_of("s"), "ALL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(planner_table),
		cmocka_unit_test(planned_query_is_simplified),
		cmocka_unit_test(planner_is_sound_on_random_patterns),
		cmocka_unit_test(wide_literals_are_ascii_literals_with_k_or_s),
		cmocka_unit_test(wide_forms_are_listed_once),
		cmocka_unit_test(wide_literal_variants_are_the_forms_trigrams),
		cmocka_unit_test(wide_required_literal_keeps_k_and_s),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
