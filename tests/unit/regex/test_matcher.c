/*
 * Unit tests for the matcher: ripgrep's line semantics over Vectorscan.
 *
 * valgrind: no (large patterns compile in a helper, /proc/self/exe, which under Valgrind is
 * Valgrind's own tool)
 */
#include <dirent.h>
#include <hs/hs.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "regex/hscompile.h"
#include "regex/hsfix.h"
#include "regex/matcher.h"
#include "regex/matcher_int.h"
#include "util/buf.h"
#include "util/error.h"

struct collected {
	struct buf out; /* "start-end," per line */
	int stop_after;
	int n;
};

static int collect(size_t start, size_t end, void *arg)
{
	struct collected *c = arg;

	buf_printf(&c->out, "%zu-%zu,", start, end);
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

/*
 * The line spans that pattern (with flags) matches in text, as "s-e,s-e,", with the text given
 * as class text (MATCHER_TEXT_UNKNOWN: left to the matcher).
 */
static char *lines_as(const char *pattern, unsigned flags, const char *text, size_t len,
		      int stop_after, enum matcher_text cls)
{
	static char result[16384];
	struct collected c = { .stop_after = stop_after };
	struct regex *re = NULL;
	struct matcher *m = NULL;
	struct matcher_scratch *s = NULL;

	buf_init(&c.out, 1 << 16);
	assert_int_equal(regex_parse(&re, pattern, strlen(pattern), flags), 0);
	assert_int_equal(matcher_new(&m, re, 0), 0);
	assert_int_equal(matcher_scratch_new(&s), 0);
	assert_int_equal(matcher_lines(m, s, (const uint8_t *)text, len, cls, collect, &c), 0);
	snprintf(result, sizeof(result), "%s", c.out.ptr ? c.out.ptr : "");
	buf_dispose(&c.out);
	matcher_scratch_free(s);
	matcher_free(m);
	regex_free(re);
	return result;
}

/* lines_as() with the document classified first, as the search does. */
static char *lines_of(const char *pattern, unsigned flags, const char *text, size_t len,
		      int stop_after)
{
	return lines_as(pattern, flags, text, len, stop_after,
			matcher_classify((const uint8_t *)text, len));
}

#define LINES(p, f, t) lines_of(p, f, t, sizeof(t) - 1, 0)

static void lines_reports_each_matching_line_once(void **state)
{
	(void)state;
	assert_string_equal(LINES("a", 0, "aaa\nb\na a\n"), "0-3,6-9,");
}

static void empty_file_has_no_lines(void **state)
{
	(void)state;
	assert_string_equal(LINES("^", 0, ""), "");
	assert_string_equal(LINES("a*", 0, ""), "");
}

static void final_newline_does_not_start_a_line(void **state)
{
	(void)state;
	assert_string_equal(LINES("^", 0, "a\nb\n"), "0-1,2-3,");
	assert_string_equal(LINES("$", 0, "a\n\n"), "0-1,2-2,");
	assert_string_equal(LINES("^$", 0, "a\n\nb"), "2-2,");
}

static void last_line_without_newline_is_a_line(void **state)
{
	(void)state;
	assert_string_equal(LINES("b$", 0, "a\nb"), "2-3,");
}

static void crlf_dollar_does_not_match_before_cr(void **state)
{
	(void)state;
	assert_string_equal(LINES("x$", 0, "x\r\nx\n"), "3-4,");
	assert_string_equal(LINES("\\r$", 0, "x\r\nx\n"), "0-2,");
}

static void whitespace_class_never_crosses_a_newline(void **state)
{
	(void)state;
	assert_string_equal(LINES("a\\sb", 0, "a\nb\na b\n"), "4-7,");
	assert_string_equal(LINES("a[^x]b", 0, "a\nb\n"), "");
	assert_string_equal(LINES("a.*b", 0, "a\nb\n"), "");
}

/* Vectorscan 5.4.9's AVX-512 code missed this match (a single byte then a class, past 64). */
static void match_after_64_bytes_is_found(void **state)
{
	char text[200];

	(void)state;
	memset(text, 'b', 100);
	memcpy(text + 100, "a \n", 4);
	assert_string_equal(lines_of("a.", 0, text, 103, 0), "0-102,");
	assert_string_equal(lines_of("a\\s*", 0, text, 103, 0), "0-102,");
	{
		static const char t[] = "foo foo\xc3\xa9\nfoo\na-b a_b a b\ntest\ttest\n"
					"int integer print(int) uint\nx foo-\n";

		assert_string_equal(lines_of("xz?", 0, t, sizeof(t) - 1, 0), "64-70,");
	}
}

/* Vectorscan 5.4.9 missed `b$` here when another branch is anchored at the start (19-33 bytes). */
static void short_text_with_anchored_alternation(void **state)
{
	(void)state;
	assert_string_equal(LINES("^x|b$", 0, "on: push needle_github\n"), "0-22,");
	assert_string_equal(LINES("^x|b$", 0, "yyyyyyyyyyyyyyyyyyyyyyyyyb\n"), "0-26,");
}

/* Vectorscan 5.4.9's AVX2 code missed the empty last line of /usr/include/GL/freeglut_std.h. */
static void empty_last_line_of_a_real_header(void **state)
{
	struct buf t;
	char want[64];
	char *got;

	(void)state;
	buf_init(&t, 1 << 20);
	for (int i = 0; i < 2000; i++)
		buf_puts(&t, i % 7 ? "int x; /* filler */\n" : "\n");
	buf_puts(&t, "#endif /* __FREEGLUT_STD_H__ */\n\n");
	got = lines_of("^\\s*$", 0, t.ptr, t.len, 0);
	snprintf(want, sizeof(want), "%zu-%zu,", t.len - 1, t.len - 1);
	assert_true(strlen(got) >= strlen(want));
	assert_string_equal(got + strlen(got) - strlen(want), want);
	buf_dispose(&t);
}

/* Anchors inside the pattern are lifted to its edges (parse.c), so Vectorscan accepts them. */
static void embedded_anchors_are_lifted(void **state)
{
	(void)state;
	assert_string_equal(LINES("^foo", REGEX_WORD, "foo bar\nxfoo\n foo\nfoo\n"), "0-7,18-21,");
	assert_string_equal(LINES("a(^b|c)", 0, "ac\nb\nab\n"), "0-2,");
	assert_string_equal(LINES("(^|\\s)foo(\\s|$)", 0, "foo\nafoo\nx foo y\n"), "0-3,9-16,");
	assert_string_equal(LINES("x$y", 0, "x\nxy\n"), "");
	assert_string_equal(LINES("a?^b", 0, "b\nab\n"), "0-1,");
}

/* \b at the edges of a pattern is Unicode-aware on UTF-8 text, as ripgrep's (emit.c). */
static void unicode_word_boundary_at_edges(void **state)
{
	(void)state;
	assert_string_equal(LINES("\\bfoo\\b", 0, "\xc3\xa9" "foo foo\xc3\xa9\nfoo x\n"), "12-17,");
	assert_string_equal(LINES("\\b", 0, "\xe6\xbc\xa2\xe5\xad\x97\n--\n"), "0-6,");
	assert_string_equal(LINES("\\Bfoo", 0, "\xc3\xa9" "foo\n foo\n"), "0-5,");
	assert_string_equal(LINES("-\\b", 0, "\xc3\xa9-\xc3\xa9\n-+\n"), "0-5,");
}

/* Literals, anchored and ASCII case-insensitive ones included, skip Vectorscan (matcher.c). */
static void literal_fast_path_honours_anchors_and_case(void **state)
{
	(void)state;
	assert_string_equal(LINES("^foo", 0, "foo\nxfoo\nfoo x\n"), "0-3,9-14,");
	assert_string_equal(LINES("foo$", 0, "foo\nfoox\nx foo\n"), "0-3,9-14,");
	assert_string_equal(LINES("(?i)^FOO$", 0, "Foo\nfoo bar\nFOO\n"), "0-3,12-15,");
	assert_string_equal(LINES("(?i)mm/", 0, "MM/x\nm/\n"), "0-4,");
	/* k folds to the Kelvin sign: not an ASCII literal, still found. */
	assert_string_equal(LINES("(?i)k", 0, "\xe2\x84\xaa\n"), "0-3,");
}

#define KELVIN "\xe2\x84\xaa"
#define LONG_S "\xc5\xbf"

/*
 * A case-insensitive literal with k or s is searched as ASCII where the text holds neither the
 * Kelvin sign nor long s, and matched in full where it does, whatever class the caller says.
 */
static void wide_literal_finds_ascii_and_unicode_forms(void **state)
{
	static const char utf8[] = KELVIN LONG_S "tack\nKStack \xc3\xa9\nno\nkstack " KELVIN "\n";
	struct regex *re = NULL;
	struct matcher *m = NULL;
	unsigned lf;
	size_t len;

	(void)state;
	assert_int_equal(regex_parse(&re, "KStack", 6, REGEX_ICASE), 0);
	assert_int_equal(matcher_new(&m, re, 0), 0);
	assert_string_equal(matcher_literal(m, &len, &lf), "kstack");
	assert_int_equal(lf, REGEX_LITERAL_ICASE | REGEX_LITERAL_WIDE);
	matcher_free(m);
	regex_free(re);
	assert_string_equal(LINES("(?i)kstack", 0, "KSTACK\nkstack\nx\n"), "0-6,7-13,");
	assert_string_equal(LINES("(?i)kstack", 0, utf8), "0-9,10-19,23-33,");
	assert_string_equal(lines_as("(?i)kstack", 0, utf8, sizeof(utf8) - 1, 0,
				     MATCHER_TEXT_UNKNOWN), "0-9,10-19,23-33,");
	assert_string_equal(LINES("(?i)^stack$", 0, LONG_S "tack\nstack\nxstack\n"), "0-6,7-12,");
	assert_string_equal(LINES("(?i)s", 0, "x\n" LONG_S "\nS\n"), "2-4,5-6,");
}

static void wide_literal_ranges_cover_unicode_forms(void **state)
{
	static const char line[] = LONG_S "tack STACK " KELVIN;
	struct regex *re = NULL;
	struct matcher *m = NULL;
	struct matcher_scratch *s = NULL;
	struct match_range r[8];
	size_t n;

	(void)state;
	assert_int_equal(regex_parse(&re, "stack", 5, REGEX_ICASE), 0);
	assert_int_equal(matcher_new(&m, re, 0), 0);
	assert_int_equal(matcher_scratch_new(&s), 0);
	assert_int_equal(matcher_ranges(m, s, (const uint8_t *)line, sizeof(line) - 1,
					MATCHER_TEXT_UTF8, r, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].end, 6);
	assert_int_equal(r[1].start, 7);
	assert_int_equal(r[1].end, 12);
	assert_int_equal(matcher_ranges(m, s, (const uint8_t *)"a sTack", 7, MATCHER_TEXT_ASCII, r,
					8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].start, 2);
	matcher_scratch_free(s);
	matcher_free(m);
	regex_free(re);
}

/* The forms of the random texts below, and the letter each one folds to (0: none). */
static const struct {
	const char *utf8;
	char fold;
} wide_forms[] = {
	{ "k", 'k' }, { "K", 'k' }, { KELVIN, 'k' }, { "s", 's' },         { "S", 's' },
	{ LONG_S, 's' }, { "t", 't' }, { "T", 't' }, { "\xc3\xa9", 0 }, { "\n", 0 }, { "_", '_' },
};
#define N_WIDE_FORMS (sizeof(wide_forms) / sizeof(wide_forms[0]))

static unsigned long wide_rng = 99;

static unsigned wide_rnd(unsigned n)
{
	wide_rng = wide_rng * 6364136223846793005ul + 1442695040888963407ul;
	return (unsigned)((wide_rng >> 33) % n);
}

/* The lines (as "s-e,") of a text of forms f[0..n) holding lit, by Unicode simple folding. */
static void wide_reference(struct buf *out, const unsigned *f, size_t n, const char *lit)
{
	size_t lit_len = strlen(lit), line_start = 0, off = 0, line_first = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || strcmp(wide_forms[f[i]].utf8, "\n") == 0) {
			bool hit = false;

			for (size_t a = line_first; a + lit_len <= i && !hit; a++) {
				size_t k = 0;

				while (k < lit_len && wide_forms[f[a + k]].fold == lit[k])
					k++;
				hit = k == lit_len;
			}
			if (hit)
				buf_printf(out, "%zu-%zu,", line_start, off);
			if (i == n)
				break;
			line_first = i + 1;
			line_start = off + 1;
		}
		off += strlen(wide_forms[f[i]].utf8);
	}
}

static void wide_literal_agrees_with_unicode_folding(void **state)
{
	static const char letters[] = "kst_";
	int compared = 0, found = 0;

	(void)state;
	for (int it = 0; it < 300; it++) {
		char lit[8], pat[16];
		size_t lit_len = 1 + wide_rnd(5), n = 1 + wide_rnd(40), len = 0;
		unsigned f[48];
		char text[48 * 3 + 1];
		struct buf want;

		for (size_t i = 0; i < lit_len; i++)
			lit[i] = letters[wide_rnd(sizeof(letters) - 1)];
		lit[lit_len] = 0;
		snprintf(pat, sizeof(pat), "(?i)%s", lit);
		for (size_t i = 0; i < n; i++)
			f[i] = wide_rnd(N_WIDE_FORMS);
		if (it % 2 == 0 && n >= lit_len) {
			/* Half of the texts hold a planted match, in random forms. */
			size_t at = wide_rnd((unsigned)(n - lit_len + 1));

			for (size_t i = 0; i < lit_len; i++)
				do
					f[at + i] = wide_rnd(N_WIDE_FORMS);
				while (wide_forms[f[at + i]].fold != lit[i]);
		}
		for (size_t i = 0; i < n; i++) {
			memcpy(text + len, wide_forms[f[i]].utf8, strlen(wide_forms[f[i]].utf8));
			len += strlen(wide_forms[f[i]].utf8);
		}
		text[len] = 0;
		buf_init(&want, 1 << 16);
		wide_reference(&want, f, n, lit);
		found += want.len > 0;
		assert_string_equal(lines_of(pat, 0, text, len, 0), want.ptr ? want.ptr : "");
		assert_string_equal(lines_as(pat, 0, text, len, 0, MATCHER_TEXT_UNKNOWN),
				    want.ptr ? want.ptr : "");
		buf_dispose(&want);
		compared++;
	}
	assert_true(found > 100);
	(void)compared;
}

/* (?-i) ends case folding for the rest of its group, also inside a literal run. */
static void inline_case_flag_ends_folding(void **state)
{
	(void)state;
	assert_string_equal(LINES("(?i)a(?-i)bc", 0, "ABC\naBcD\nabc\nAbc\naBC\n"), "9-12,13-16,");
	assert_string_equal(LINES("(?i:a)bc", 0, "ABC\nAbc\n"), "4-7,");
	assert_string_equal(LINES("(?i)a(?-i)-1", 0, "A-1\na-1\n"), "0-3,4-7,");
}

/*
 * General categories include code points assigned since Vectorscan's own Unicode tables, in
 * every plane: U+1E94A ADLAM NUKTA is a Mark (Mn), U+1F3FF a modifier symbol (Sk), neither Other.
 */
static void categories_include_recent_and_supplementary_code_points(void **state)
{
	(void)state;
	const char text[] = "a\xf0\x9e\xa5\x8a" "b\n\xf0\x9f\x8f\xbf\n";

	assert_string_equal(lines_of("\\p{Mark}", 0, text, sizeof(text) - 1, 0), "0-6,");
	assert_string_equal(lines_of("\\pM", 0, text, sizeof(text) - 1, 0), "0-6,");
	assert_string_equal(lines_of("\\p{Symbol}", 0, text, sizeof(text) - 1, 0), "7-11,");
	assert_string_equal(lines_of("\\p{Other}", 0, text, sizeof(text) - 1, 0), "");
	assert_string_equal(lines_of("\\PC\\PC\\PC", 0, text, sizeof(text) - 1, 0), "0-6,");
}

/* (?-u)\b uses ASCII word characters: a non-ASCII letter next to it is not a word character. */
static void ascii_word_boundary_next_to_non_ascii(void **state)
{
	(void)state;
	assert_string_equal(LINES("(?-u)\\b(1|12)\\b", 0, "\xc3\xa9" "12\n12\xe4\xb8\xad\nx12\n"),
			    "0-4,5-10,");
	assert_string_equal(LINES("(?-u)x\\b", 0, "x\xe4\xb8\xad\nxy\n"), "0-4,");
	assert_string_equal(LINES("\\b(1|12)\\b", 0, "\xc3\xa9" "12\n12\xe4\xb8\xad\n 12\n"), "11-14,");
}

/*
 * A \b or \B between two parts of a pattern follows Unicode word rules next to non-ASCII
 * letters (the lines Vectorscan finds are verified, verify.h): no boundary between a CJK letter
 * and `u`, one between `=` and a CJK letter, and invalid UTF-8 is no word character.
 */
static void inner_word_boundary_is_unicode(void **state)
{
	(void)state;
	assert_string_equal(LINES(".\\bu64", 0, "\xe4\xb8\xadu64\n u64\n"), "7-11,");
	assert_string_equal(LINES("=.?\\bu64", 0, "=\xe4\xb8\xadu64\n=u64\n"), "8-12,");
	assert_string_equal(LINES(".\\b.", 0, "\xc3\xa9" "a\n\xc3\xa9 \n"), "4-7,");
	assert_string_equal(LINES("(?:x|\\b)cd", 0, "ab\xff" "cd\nabcd\n"), "0-5,");
	assert_string_equal(LINES("\\w\\b\\W\\w", 0, "a\xe4\xb8\xad" "b\na-b\n"), "6-9,");
}

static void inner_non_boundary_is_unicode(void **state)
{
	(void)state;
	assert_string_equal(LINES("x\\B\xc3\xa9", 0, "x\xc3\xa9x\nx \xc3\xa9\n"), "0-4,");
	assert_string_equal(LINES("\xc3\xa9\\Bx", 0, "x\xc3\xa9x\n\xc3\xa9 x\n"), "0-4,");
	assert_string_equal(LINES(".\\B.", 0, "\xc3\xa9" "a\n\xc3\xa9 \n- \n"), "0-3,8-10,");
	assert_string_equal(LINES("\\B", 0, "x\n1\n12\n\xc3\xa9\n\xc3\xa9\xc3\xa9\n"), "4-6,10-14,");
}

/* Anchors inside repetitions: Vectorscan refuses them, the verifier decides the lines. */
static void anchors_inside_repetitions(void **state)
{
	(void)state;
	assert_string_equal(LINES("(?:^|a)+", 0, "x\n\naa\n"), "0-1,2-2,3-5,");
	assert_string_equal(LINES("a^{2}", 0, "a\naa\n"), "");
	assert_string_equal(LINES("(?:^|x)+u", 0, "u\nxxu\nau\n"), "0-1,2-5,");
	assert_string_equal(LINES("a(?:$|b)*", 0, "a\nab\nc\n"), "0-1,2-4,");
	assert_string_equal(LINES("(?:a$|b)+", 0, "ba\nab\nx\n"), "0-2,3-5,");
}

/*
 * A count over the expanded-size limit at a free edge of the pattern: the lines are those of
 * its minimum (`^.{1,2500}` finds what `^.` finds) and each match range is its whole line.
 */
static void large_count_at_a_free_edge(void **state)
{
	const char *p = "^.{1,2500}";
	struct match_range r[4];
	struct regex *re = NULL;
	struct matcher *m = NULL;
	struct matcher_scratch *s = NULL;
	size_t n = 0;

	(void)state;
	assert_string_equal(LINES("^.{1,2500}", 0, "abc\n\nx\n"), "0-3,5-6,");
	assert_string_equal(LINES("a{1,3000}b", 0, "aab\nb\nab\n"), "0-3,6-8,");
	assert_string_equal(LINES("(?:ab){2,2600}", 0, "abab\nab\n"), "0-4,");
	assert_int_equal(regex_parse(&re, p, strlen(p), 0), 0);
	assert_true(regex_compile_weight(re) < 256); /* compiled in the search process */
	assert_int_equal(matcher_new(&m, re, 0), 0);
	assert_int_equal(matcher_scratch_new(&s), 0);
	assert_int_equal(matcher_ranges(m, s, (const uint8_t *)"abc", 3, MATCHER_TEXT_ASCII, r, 4, &n),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].end, 3);
	matcher_scratch_free(s);
	matcher_free(m);
	regex_free(re);
}

/*
 * Patterns too long for Vectorscan written out exactly (-w with three Unicode classes), and
 * text with invalid UTF-8 whose byte-level pattern is too large, are found as supersets and
 * verified: U+1E94A is a word character, an encoded surrogate is no character at all.
 */
static void long_patterns_and_invalid_text_are_exact(void **state)
{
	(void)state;
	assert_string_equal(LINES("\\w\\W\\w", REGEX_WORD, "a\xf0\x9e\xa5\x8a" "b nukta\na-b\n"),
			    "13-16,");
	assert_string_equal(LINES("\\p{Other}", REGEX_WORD, "\xed\xa0\x80 s\n\x01 s\n"), "6-9,");
}

static void stop_request_ends_the_scan(void **state)
{
	(void)state;
	assert_string_equal(lines_of("a", 0, "a\na\na\n", 6, 2), "0-1,2-3,");
}

static void invalid_utf8_bytes_match_nothing(void **state)
{
	(void)state;
	assert_string_equal(LINES("a.b", 0, "a\xff" "b\naxb\n"), "4-7,");
	assert_string_equal(LINES("a[^x]b", 0, "a\xff" "b\n"), "");
}

static void unicode_classes_in_utf8_text(void **state)
{
	(void)state;
	assert_string_equal(LINES("caf\\w", 0, "caf\xc3\xa9\n"), "0-5,");
	assert_string_equal(LINES("stra\xc3\x9f" "e", REGEX_ICASE, "STRA\xe1\xba\x9e" "E\n"), "0-8,");
}

static void classify_distinguishes_ascii_utf8_and_bytes(void **state)
{
	(void)state;
	assert_int_equal(matcher_classify((const uint8_t *)"plain ascii text", 16), MATCHER_TEXT_ASCII);
	assert_int_equal(matcher_classify((const uint8_t *)"caf\xc3\xa9", 5), MATCHER_TEXT_UTF8);
	assert_int_equal(matcher_classify((const uint8_t *)"caf\xc3", 4), MATCHER_TEXT_BYTES);
	assert_int_equal(matcher_classify((const uint8_t *)"\xed\xa0\x80", 3), MATCHER_TEXT_BYTES);
	assert_int_equal(matcher_classify((const uint8_t *)"\xc0\xaf", 2), MATCHER_TEXT_BYTES);
}

/* The byte-at-a-time classifier that the SIMD one replaced: the oracle. */
static enum matcher_text classify_slow(const uint8_t *p, size_t len)
{
	bool is_ascii = true;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80)
			continue;
		is_ascii = false;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return MATCHER_TEXT_BYTES;
		if (i + n >= len)
			return MATCHER_TEXT_BYTES;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return MATCHER_TEXT_BYTES;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return MATCHER_TEXT_BYTES;
		i += n;
	}
	return is_ascii ? MATCHER_TEXT_ASCII : MATCHER_TEXT_UTF8;
}

/*
 * Multi-byte characters, valid and broken, at every offset of ASCII runs of every length
 * around the 16- and 64-byte steps, and random mixtures.
 */
static void classify_agrees_with_bytewise_check(void **state)
{
	static const char *seqs[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3",
				      "\xe2\x82", "\x80", "\xff", "\xed\xa0\x80", "\xf4\x90\x80\x80",
				      "\xe0\x80\x80", "\xc3\xa9\xc3\xa9" };
	uint8_t buf[300];
	unsigned seed = 7;

	(void)state;
	for (size_t k = 0; k < sizeof(seqs) / sizeof(seqs[0]); k++) {
		size_t n = strlen(seqs[k]);

		for (size_t len = n; len <= 200; len++) {
			for (size_t at = 0; at + n <= len; at += (len > 140 ? 7 : 1)) {
				memset(buf, 'a', len);
				memcpy(buf + at, seqs[k], n);
				assert_int_equal(matcher_classify(buf, len), classify_slow(buf, len));
				/* A second character far behind the first: ASCII skipped in between. */
				if (len > at + n + 70) {
					buf[len - 1] = 0xc3;
					assert_int_equal(matcher_classify(buf, len), classify_slow(buf, len));
				}
			}
		}
	}
	for (int iter = 0; iter < 20000; iter++) {
		size_t len;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % sizeof(buf);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (seed >> 16) % 97 == 0 ? (uint8_t)(0x80 + (seed >> 24) % 128)
							: (uint8_t)('a' + (seed >> 20) % 26);
		}
		assert_int_equal(matcher_classify(buf, len), classify_slow(buf, len));
	}
	assert_int_equal(matcher_classify(buf, 0), MATCHER_TEXT_ASCII);
}

static void ranges_are_leftmost_longest_and_disjoint(void **state)
{
	struct regex *re = NULL;
	struct matcher *m = NULL;
	struct matcher_scratch *s = NULL;
	struct match_range r[8];
	size_t n;
	const char *line = "foo_bar baz x";

	(void)state;
	assert_int_equal(regex_parse(&re, "[a-z_]+", 7, 0), 0);
	assert_int_equal(matcher_new(&m, re, 0), 0);
	assert_int_equal(matcher_scratch_new(&s), 0);
	assert_int_equal(matcher_ranges(m, s, (const uint8_t *)line, strlen(line), MATCHER_TEXT_ASCII,
					r, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].end, 7);
	assert_int_equal(r[1].start, 8);
	assert_int_equal(r[1].end, 11);
	assert_int_equal(r[2].start, 12);
	assert_int_equal(r[2].end, 13);
	matcher_scratch_free(s);
	matcher_free(m);
	regex_free(re);
}

/* lines_of() with the document left unclassified (MATCHER_TEXT_UNKNOWN). */
static char *lines_unclassified(const char *pattern, unsigned flags, const char *text, size_t len)
{
	return lines_as(pattern, flags, text, len, 0, MATCHER_TEXT_UNKNOWN);
}

/* Whether pattern's matcher takes the required-string path (it then needs no text class). */
static bool has_required_string(const char *pattern)
{
	struct regex *re = NULL;
	struct matcher *m = NULL;
	bool yes;

	assert_int_equal(regex_parse(&re, pattern, strlen(pattern), 0), 0);
	assert_int_equal(matcher_new(&m, re, 0), 0);
	yes = matcher_is_text_blind(m);
	matcher_free(m);
	regex_free(re);
	return yes;
}

static void required_string_lines_are_verified_alone(void **state)
{
	(void)state;
	assert_true(has_required_string("lock\\(&\\w+->x"));
	assert_true(has_required_string("key\\d"));
	assert_false(has_required_string("ke\\d")); /* too short to be worth it */
	assert_false(has_required_string("a\\w|b\\w"));
	/* The string is on lines 1 to 3; only lines 1 and 3 match the whole pattern. */
	assert_string_equal(LINES("lock\\(&\\w+->x", 0, "a\nlock(&a->x)\nlock(&)\nb lock(&bb->x\n"),
			    "2-13,22-35,");
	/* ^, $ and \\b see a line scanned alone as they see it in the document. */
	assert_string_equal(LINES("^abc\\d$", 0, "xabc1\nabc2\nabc3x\nabc4"), "6-10,17-21,");
	assert_string_equal(LINES("\\babc\\w", 0, "xabcd\n abce\nabcf"), "6-11,12-16,");
	/* A required string that folds is found case-insensitively. */
	assert_string_equal(LINES("(?i)Foo\\d", 0, "FOO1\nfoo\nfOo2\n"), "0-4,9-13,");
	/* The stop request is honoured. */
	assert_string_equal(lines_of("abc\\d", 0, "abc1\nabc2\n", 10, 1), "0-4,");
}

static void required_string_everywhere_scans_the_rest_whole(void **state)
{
	char text[4096];
	char want[8192];
	size_t len = 0, wlen = 0;

	(void)state;
	/* 200 short lines holding "key": past 16 of them the rest is one Vectorscan pass. */
	for (int i = 0; i < 200; i++) {
		size_t start = len;

		len += (size_t)snprintf(text + len, sizeof(text) - len, "key%c\n",
					i % 3 == 0 ? '7' : 'x');
		if (i % 3 == 0)
			wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen, "%zu-%zu,", start,
						 len - 1);
	}
	assert_string_equal(lines_of("key\\d", 0, text, len, 0), want);
	assert_string_equal(lines_unclassified("key\\d", 0, text, len), want);
}

static void unclassified_lines_take_their_own_class(void **state)
{
	(void)state;
	/* \\w matches é on a valid UTF-8 line and nothing on a line with a stray byte. */
	assert_string_equal(lines_unclassified("caf\\w", 0, "caf\xc3\xa9\ncafx\ncaf\xff\n", 15),
			    "0-5,6-10,");
	assert_string_equal(lines_unclassified("\\w+", 0, "caf\xc3\xa9\n\xff\n", 8), "0-5,");
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Compiles pattern with a deadline; returns matcher_new's result. */
static int compile_by(const char *pattern, double deadline_ms)
{
	struct regex *re = NULL;
	struct matcher *m = NULL;
	int err;

	assert_int_equal(regex_parse(&re, pattern, strlen(pattern), 0), 0);
	err = matcher_new(&m, re, deadline_ms);
	matcher_free(m);
	regex_free(re);
	return err;
}

static void large_patterns_compile_in_the_helper_and_match(void **state)
{
	const char text[] = "x zqaaaaaaaaaa\nzqbbbbbbbbb\nzq\n";

	(void)state;
	/* 2 + 1000: compiled by the helper process (this program, as `__compile`). */
	assert_string_equal(lines_of("zq[ab]{1,1000}", 0, text, sizeof(text) - 1, 0), "0-14,15-26,");
	assert_string_equal(lines_of("zq(?:a{10}){1,99}$", 0, text, sizeof(text) - 1, 0), "0-14,");
}

static void compile_helper_is_stopped_at_its_time_limit(void **state)
{
	int err;

	(void)state;
	/* About 2 s of compilation (then refused by Vectorscan as too large). */
	hscompile_set_limits(50, 0);
	err = compile_by("((ab|cd)[a-z]{46}){100}", 0);
	hscompile_set_limits(0, 0);
	assert_int_equal(err, TRAWL_ELIMIT);
	assert_non_null(strstr(error_last(), "took longer than the limit of 50 ms"));
}

static void compile_helper_is_stopped_at_its_memory_limit(void **state)
{
	int err;

	(void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	skip(); /* no address-space limit under ASan or TSan */
#endif
	/* Less than the helper has mapped by then: a pattern that compiles in 30 ms fails. */
	hscompile_set_limits(0, (size_t)8 << 20);
	err = compile_by("(xy[a-z]{48}){20}", 0);
	hscompile_set_limits(0, 0);
	assert_int_equal(err, TRAWL_ELIMIT);
	assert_non_null(strstr(error_last(), "MiB"));
}

static void query_deadline_bounds_the_compilation(void **state)
{
	(void)state;
	assert_int_equal(compile_by("((ab|cf)[a-z]{46}){100}", mono_ms() + 50), TRAWL_ETIMEOUT);
	assert_non_null(strstr(error_last(), "timeout ran out"));
	/* A deadline already past: nothing is compiled. */
	assert_int_equal(compile_by("zq[ab]{1,999}x", mono_ms() - 1), TRAWL_ETIMEOUT);
}

static int count_lines(size_t start, size_t end, void *arg)
{
	(void)start;
	(void)end;
	(*(int *)arg)++;
	return 0;
}

/* A pattern light by expanded size but heavy to compile goes to the helper and its limits. */
static void unicode_heavy_patterns_compile_in_the_helper(void **state)
{
	const uint8_t text[] = "\xc3\xa9 x\n";
	struct regex *re = NULL;
	struct matcher *m = NULL;
	struct matcher_scratch *s = NULL;
	int err, n = 0;

	(void)state;
	setenv("TRAWL_CACHE_DIR", "off", 1); /* compiled here and now, not loaded */
	assert_int_equal(regex_parse(&re, "x(\\pL|\\pN){20}\\b", 17, 0), 0);
	assert_int_equal(matcher_new(&m, re, 0), 0); /* the ASCII database: quick */
	assert_int_equal(matcher_scratch_new(&s), 0);
	/* The UTF-8 database took 19 s in the search process before it was weighed. */
	hscompile_set_limits(50, 0);
	err = matcher_lines(m, s, text, sizeof(text) - 1, MATCHER_TEXT_UTF8, count_lines, &n);
	hscompile_set_limits(0, 0);
	assert_int_equal(err, TRAWL_ELIMIT);
	assert_non_null(strstr(error_last(), "took longer than the limit of 50 ms"));
	matcher_scratch_free(s);
	matcher_free(m);
	regex_free(re);
}

/* Helper processes alive now: the children of every thread of this process. */
static int count_children(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		char path[300], buf[4096];
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		while (fscanf(f, "%4095s", buf) == 1)
			n++;
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

static void *compile_slowly(void *arg)
{
	(void)arg;
	compile_by("((ab|cd)[a-z]{46}){100}", mono_ms() + 3000);
	return NULL;
}

/* However many searches compile at once, at most HSCOMPILE_MAX_HELPERS helpers run. */
static void helpers_are_bounded_in_number(void **state)
{
	pthread_t th[5];
	int most = 0;
	double until;

	(void)state;
	hscompile_set_limits(400, 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(pthread_create(&th[i], NULL, compile_slowly, NULL), 0);
	until = mono_ms() + 1500;
	while (mono_ms() < until) {
		int n = count_children();
		struct timespec ts = { 0, 5 * 1000000L };

		most = n > most ? n : most;
		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < 5; i++)
		pthread_join(th[i], NULL);
	hscompile_set_limits(0, 0);
	assert_true(most >= 1);
	assert_true(most <= HSCOMPILE_MAX_HELPERS);
}

/*
 * A database compiled while scanning (here the UTF-8 one, on the first UTF-8 text) is bound by
 * the search's deadline too, and running out of time is not remembered as the pattern's
 * failure: the next scan without a deadline compiles it.
 */
static void scan_time_compilation_has_the_scratch_deadline(void **state)
{
	const uint8_t text[] = "\xc3\xa9 zqaaaaaaaaaa\n";
	struct regex *re = NULL;
	struct matcher *m = NULL;
	struct matcher_scratch *s = NULL;
	int n = 0;

	(void)state;
	setenv("TRAWL_CACHE_DIR", "off", 1); /* compiled here and now, not loaded */
	assert_int_equal(regex_parse(&re, "zq[ab]{1,999}", 13, 0), 0);
	assert_int_equal(matcher_new(&m, re, 0), 0);
	assert_int_equal(matcher_scratch_new(&s), 0);
	matcher_scratch_set_deadline(s, mono_ms() - 1);
	assert_int_equal(matcher_lines(m, s, text, sizeof(text) - 1, MATCHER_TEXT_UTF8, count_lines,
				       &n), TRAWL_ETIMEOUT);
	matcher_scratch_set_deadline(s, 0);
	assert_int_equal(matcher_lines(m, s, text, sizeof(text) - 1, MATCHER_TEXT_UTF8, count_lines,
				       &n), 0);
	assert_int_equal(n, 1);
	matcher_scratch_free(s);
	matcher_free(m);
	regex_free(re);
}

/*
 * A pattern whose required string holds k or s is prefiltered by that string in ASCII text and
 * by the narrower one (or none) elsewhere: its lines agree with the same pattern in an
 * alternation, which has no required string, on random texts with the Kelvin sign and long s.
 */
static void wide_required_string_agrees_with_a_full_scan(void **state)
{
	static const char *const pats[] = {
		"(?i)kst\\w", "(?i)s_t[ak]", "(?i)\\bstack\\b", "(?i)ak+s_t", "(?i)^st?ack",
	};
	/* Matches of each, planted in half of the texts in random forms. */
	static const char *const plants[] = { "kstc", "s_ta", " stack ", "akks_t", "sack" };
	int found = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(pats) / sizeof(pats[0]); k++) {
		char alt[64];

		snprintf(alt, sizeof(alt), "(?:%s)|\\x{10FFFF}", pats[k]);
		assert_true(has_required_string(pats[k]));
		for (int it = 0; it < 200; it++) {
			size_t n = 1 + wide_rnd(40), len = 0;
			char text[64 * 3 + 1], want[16384];

			for (size_t i = 0; i < n; i++) {
				const char *f = wide_rnd(3) ? wide_forms[wide_rnd(N_WIDE_FORMS)].utf8
							    : (const char *[]){ "a", "c", " " }[wide_rnd(3)];

				memcpy(text + len, f, strlen(f));
				len += strlen(f);
			}
			for (const char *c = plants[k]; it % 2 == 0 && *c; c++) {
				/* k: k, K or the Kelvin sign; s: s, S or long s; else either case. */
				unsigned f = wide_rnd(3);
				char one[2] = { *c, 0 };
				const char *form = one;

				if (*c == 'k' || *c == 's')
					form = wide_forms[(*c == 's' ? 3 : 0) + f].utf8;
				else if (f && *c >= 'a' && *c <= 'z')
					one[0] = (char)(*c - 32);
				memcpy(text + len, form, strlen(form));
				len += strlen(form);
			}
			text[len] = 0;
			snprintf(want, sizeof(want), "%s", lines_of(alt, 0, text, len, 0));
			found += want[0] != 0;
			assert_string_equal(lines_of(pats[k], 0, text, len, 0), want);
			assert_string_equal(lines_unclassified(pats[k], 0, text, len), want);
		}
	}
	assert_true(found > 100);
}

/*
 * Texts placed so that reading one byte past their end is an error: at the end of a readable
 * mapping followed by a PROT_NONE page, where any read past the end faults in every build
 * (Vectorscan is not instrumented by AddressSanitizer, so only a fault shows its reads), and at
 * the end of a malloc'd block of exactly their size, which AddressSanitizer guards.
 */
struct edge_text {
	uint8_t *map;
	size_t map_len, page;
};

static void edge_init(struct edge_text *e, size_t max_len)
{
	long page = sysconf(_SC_PAGESIZE);

	e->page = page > 0 ? (size_t)page : 4096;
	e->map_len = (max_len + e->page - 1) / e->page * e->page + e->page;
	e->map = mmap(NULL, e->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(e->map != MAP_FAILED);
	assert_int_equal(mprotect(e->map + e->map_len - e->page, e->page, PROT_NONE), 0);
}

/* text[0..len) copied to end exactly at the guard page. */
static const uint8_t *edge_place(struct edge_text *e, const uint8_t *text, size_t len)
{
	uint8_t *p = e->map + (e->map_len - e->page) - len;

	memcpy(p, text, len);
	return p;
}

/* The lines and the ranges of each line of text[0..len), as "s-e:a-b;a-b,s-e:...,". */
static void lines_and_ranges(struct buf *out, struct matcher *m, struct matcher_scratch *s,
			     const uint8_t *text, size_t len)
{
	struct collected c = { .stop_after = 0 };
	const char *p;
	char *end;

	buf_init(&c.out, 1 << 20);
	assert_int_equal(matcher_lines(m, s, text, len, MATCHER_TEXT_UNKNOWN, collect, &c), 0);
	p = c.out.ptr ? c.out.ptr : "";
	while (*p) {
		struct match_range r[64];
		size_t start = strtoul(p, &end, 10), stop, n;

		assert_int_equal(*end, '-');
		stop = strtoul(end + 1, &end, 10);
		assert_int_equal(*end, ',');
		p = end + 1;
		/* The line alone, as the search highlights it: the last one ends where the text does. */
		assert_int_equal(matcher_ranges(m, s, text + start, stop - start,
						MATCHER_TEXT_UNKNOWN, r, 64, &n),
				 0);
		buf_printf(out, "%zu-%zu:", start, stop);
		for (size_t i = 0; i < n; i++)
			buf_printf(out, "%u-%u;", r[i].start, r[i].end);
		buf_putc(out, ',');
	}
	buf_dispose(&c.out);
}

static void scans_never_read_past_the_text(void **state)
{
	static const char *const patterns[] = {
		"(a|aa)*c", "a+$", "\\bfoo\\b", ".{2,}x", "^(a|b)+$", "\\w+\\b", "(?i)é+$", "[^x]*y",
	};
	/* Each text is repeated up to the length scanned, so it ends in a partial copy. */
	static const char *const fills[] = {
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
		"xx foo foo\nfoo",
		"abababababab\nbbb\naaa",
		"\xc3\xa9\xc3\xa9 x\n\xc3\xa9",
		"yyy foo\xff a",
	};
	static const size_t lens[] = { 1,   2,   15,   16,   17,   31,   32,  33,  63,
				       64,  65,  127,  128,  129,  130,  191, 192, 255,
				       256, 257, 1000, 4095, 4096, 4097, 9000 };
	struct edge_text e;
	uint8_t *text = malloc(9000);
	struct buf want, got;

	(void)state;
	/* Without it Vectorscan read `(a|aa)*c`'s lines as C strings and aborted from 255 bytes. */
	assert_true(hsfix_apply());
	assert_non_null(text);
	edge_init(&e, 9000);
	buf_init(&want, 1 << 24);
	buf_init(&got, 1 << 24);
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		struct regex *re = NULL;
		struct matcher *m = NULL;
		struct matcher_scratch *s = NULL;

		assert_int_equal(regex_parse(&re, patterns[i], strlen(patterns[i]), 0), 0);
		assert_int_equal(matcher_new(&m, re, 0), 0);
		assert_int_equal(matcher_scratch_new(&s), 0);
		for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
			size_t flen = strlen(fills[f]);

			for (size_t k = 0; k < 9000; k++)
				text[k] = (uint8_t)fills[f][k % flen];
			for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
				size_t len = lens[l];
				uint8_t *exact = malloc(len);

				assert_non_null(exact);
				memcpy(exact, text, len);
				buf_reset(&want);
				buf_reset(&got);
				/* The reference: the text inside a larger readable buffer. */
				lines_and_ranges(&want, m, s, text, len);
				lines_and_ranges(&got, m, s, edge_place(&e, text, len), len);
				if (strcmp(want.ptr ? want.ptr : "", got.ptr ? got.ptr : "") != 0)
					fail_msg("%s over %zu bytes of fill %zu before a guard page: "
						 "%.200s, not %.200s",
						 patterns[i], len, f, got.ptr, want.ptr);
				buf_reset(&got);
				lines_and_ranges(&got, m, s, exact, len);
				if (strcmp(want.ptr ? want.ptr : "", got.ptr ? got.ptr : "") != 0)
					fail_msg("%s over %zu bytes of fill %zu in a block of that "
						 "size",
						 patterns[i], len, f);
				free(exact);
			}
		}
		matcher_scratch_free(s);
		matcher_free(m);
		regex_free(re);
	}
	buf_dispose(&want);
	buf_dispose(&got);
	assert_int_equal(munmap(e.map, e.map_len), 0);
	free(text);
}

static int count_line(size_t start, size_t end, void *arg)
{
	size_t *n = arg;

	assert_true(start <= end && end <= 10);
	(*n)++;
	return 0;
}

/*
 * A damaged database (a forged cache entry) can report any offsets. The scan callbacks keep
 * only what lies in the text scanned: a match past it, or one starting after its end, is
 * dropped and makes the scan an error, so no caller indexes a line with it (rank.c read past
 * a line with such a range).
 */
static void engine_offsets_outside_the_text_are_an_error(void **state)
{
	static const uint8_t text[] = "0123456789";
	struct match_range r[4];
	struct range_scan rs = { .r = r, .max = 4, .len = 10, .scan_len = 128 };
	size_t n_lines = 0;
	struct line_scan ls = {
		.data = text, .len = 10, .scan_len = 128, .fn = count_line, .arg = &n_lines
	};

	(void)state;
	assert_int_equal(matcher_range_event(0, 2, 5, 0, &rs), 0);
	/* In the padding of a short text: dropped, as before. */
	assert_int_equal(matcher_range_event(0, 3, 20, 0, &rs), 0);
	assert_int_equal(rs.n_bad, 0);
	/* Outside what was scanned. */
	assert_int_equal(matcher_range_event(0, 200, 5, 0, &rs), 0);
	assert_int_equal(matcher_range_event(0, 0, 129, 0, &rs), 0);
	assert_int_equal(matcher_range_event(0, 0, ULLONG_MAX, 0, &rs), 0);
	assert_int_equal(matcher_range_event(0, ULLONG_MAX, ULLONG_MAX, 0, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(r[0].start, 2);
	assert_int_equal(r[0].end, 5);
	assert_int_equal(rs.n_bad, 4);
	assert_int_equal(matcher_scan_status(HS_SUCCESS, rs.n_bad), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "outside the scanned text"));
	assert_int_equal(matcher_scan_status(HS_SUCCESS, 0), 0);
	assert_int_equal(matcher_scan_status(HS_SCAN_TERMINATED, 0), 0);
	assert_int_equal(matcher_scan_status(HS_SCRATCH_IN_USE, 0), TRAWL_EIO);
	/* The lines database's match ends the same way. */
	assert_int_equal(matcher_line_event(0, 0, 4, 0, &ls), 0);
	assert_int_equal(n_lines, 1);
	assert_int_equal(matcher_line_event(0, 0, 129, 0, &ls), 0);
	assert_int_equal(matcher_line_event(0, 0, ULLONG_MAX, 0, &ls), 0);
	assert_int_equal(n_lines, 1);
	assert_int_equal(ls.n_bad, 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_reports_each_matching_line_once),
		cmocka_unit_test(empty_file_has_no_lines),
		cmocka_unit_test(final_newline_does_not_start_a_line),
		cmocka_unit_test(last_line_without_newline_is_a_line),
		cmocka_unit_test(crlf_dollar_does_not_match_before_cr),
		cmocka_unit_test(whitespace_class_never_crosses_a_newline),
		cmocka_unit_test(stop_request_ends_the_scan),
		cmocka_unit_test(match_after_64_bytes_is_found),
		cmocka_unit_test(short_text_with_anchored_alternation),
		cmocka_unit_test(empty_last_line_of_a_real_header),
		cmocka_unit_test(embedded_anchors_are_lifted),
		cmocka_unit_test(unicode_word_boundary_at_edges),
		cmocka_unit_test(literal_fast_path_honours_anchors_and_case),
		cmocka_unit_test(wide_literal_finds_ascii_and_unicode_forms),
		cmocka_unit_test(wide_literal_ranges_cover_unicode_forms),
		cmocka_unit_test(wide_literal_agrees_with_unicode_folding),
		cmocka_unit_test(wide_required_string_agrees_with_a_full_scan),
		cmocka_unit_test(inline_case_flag_ends_folding),
		cmocka_unit_test(categories_include_recent_and_supplementary_code_points),
		cmocka_unit_test(ascii_word_boundary_next_to_non_ascii),
		cmocka_unit_test(inner_word_boundary_is_unicode),
		cmocka_unit_test(inner_non_boundary_is_unicode),
		cmocka_unit_test(anchors_inside_repetitions),
		cmocka_unit_test(large_count_at_a_free_edge),
		cmocka_unit_test(long_patterns_and_invalid_text_are_exact),
		cmocka_unit_test(invalid_utf8_bytes_match_nothing),
		cmocka_unit_test(unicode_classes_in_utf8_text),
		cmocka_unit_test(classify_distinguishes_ascii_utf8_and_bytes),
		cmocka_unit_test(classify_agrees_with_bytewise_check),
		cmocka_unit_test(ranges_are_leftmost_longest_and_disjoint),
		cmocka_unit_test(scans_never_read_past_the_text),
		cmocka_unit_test(required_string_lines_are_verified_alone),
		cmocka_unit_test(required_string_everywhere_scans_the_rest_whole),
		cmocka_unit_test(unclassified_lines_take_their_own_class),
		cmocka_unit_test(large_patterns_compile_in_the_helper_and_match),
		cmocka_unit_test(compile_helper_is_stopped_at_its_time_limit),
		cmocka_unit_test(compile_helper_is_stopped_at_its_memory_limit),
		cmocka_unit_test(query_deadline_bounds_the_compilation),
		cmocka_unit_test(scan_time_compilation_has_the_scratch_deadline),
		cmocka_unit_test(unicode_heavy_patterns_compile_in_the_helper),
		cmocka_unit_test(helpers_are_bounded_in_number),
		cmocka_unit_test(engine_offsets_outside_the_text_are_an_error),
	};

	/* Large patterns are compiled by this program started again as the helper. */
	if (argc == 2 && strcmp(argv[1], "__compile") == 0)
		return hscompile_main();
	hscompile_serve_helpers();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
