/* Unit tests for the regex parser: valid syntax, and every error with its position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "regex/regex.h"
#include "util/buf.h"
#include "util/error.h"

#define OK 0
#define INVAL TRAWL_EINVAL
#define UNSUP TRAWL_EUNSUPPORTED
#define LIMIT TRAWL_ELIMIT

struct parse_case {
	const char *pattern;
	unsigned flags;
	int err;       /* expected result */
	size_t pos;    /* expected error position */
	const char *describe; /* expected AST dump for valid patterns; NULL = not checked */
};

static const struct parse_case cases[] = {
	/* Literals and concatenation. */
	{ "a", 0, OK, 0, "(lit a)" },
	{ "abc", 0, OK, 0, "(cat (lit a) (lit b) (lit c))" },
	{ "", 0, OK, 0, "(empty)" },
	{ "é", 0, OK, 0, "(lit \\x{e9})" },
	{ "\\x41", 0, OK, 0, "(lit A)" },
	{ "\\x{1F600}", 0, OK, 0, "(lit \\x{1f600})" },
	{ "\\u0041", 0, OK, 0, "(lit A)" },
	{ "\\U0001F600", 0, OK, 0, "(lit \\x{1f600})" },
	{ "\\t\\r\\a\\f\\v", 0, OK, 0, NULL },
	{ "\\.\\+\\*\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$\\#\\&\\-\\~\\\\", 0, OK, 0, NULL },
	/* Classes. */
	{ "[abc]", 0, OK, 0, "(class [a-c])" },
	{ "[a-z0-9_]", 0, OK, 0, "(class [0-9_a-z])" },
	{ "[^a]", 0, OK, 0, "(class [\\x{0}-\\x{9}\\x{b}-`b-\\x{10ffff}])" },
	{ "[]a]", 0, OK, 0, "(class [\\x{5d}a])" },
	{ "[^]a]", 0, OK, 0, NULL },
	{ "[a-]", 0, OK, 0, "(class [\\x{2d}a])" },
	{ "[-a]", 0, OK, 0, "(class [\\x{2d}a])" },
	{ "[\\d]", 0, OK, 0, NULL },
	{ "[[:alpha:]]", 0, OK, 0, "(class [A-Za-z])" },
	{ "[[:^digit:]x]", 0, OK, 0, NULL },
	{ "[[:foo:]]", 0, OK, 0, "(class [:fo])" },
	{ "[a-z&&[^aeiou]]", 0, OK, 0, NULL },
	{ "[a-c--b]", 0, OK, 0, "(class [ac])" },
	{ "[a-c~~b-d]", 0, OK, 0, "(class [ad])" },
	{ "[[a][b]]", 0, OK, 0, "(class [a-b])" },
	{ "\\pL", 0, OK, 0, NULL },
	{ "\\p{Lu}", 0, OK, 0, NULL },
	{ "\\p{Greek}", 0, OK, 0, NULL },
	{ "\\p{Grek}\\p{sc=Greek}\\p{scx:Greek}\\p{Script_Extensions=Greek}", 0, OK, 0, NULL },
	{ "\\p{Emoji}\\p{Alphabetic}\\P{White Space}\\p{gc=Lu}", 0, OK, 0, NULL },
	{ "\\p{sc=Nope}", 0, INVAL, 0, NULL },
	/* Break properties, as Rust's regex-syntax has them (not their default value XX). */
	{ "\\p{gcb=Extend}\\p{Grapheme_Cluster_Break=ZWJ}\\p{wb=ALetter}\\p{wb=LE}", 0, OK, 0, NULL },
	{ "\\p{Word_Break=Numeric}\\p{sb=Upper}\\P{sb=SP}", 0, OK, 0, NULL },
	{ "\\p{gcb=XX}", 0, INVAL, 0, NULL },
	{ "\\p{wb=Other}", 0, INVAL, 0, NULL },
	{ "\\P{L}", 0, OK, 0, NULL },
	{ "\\p{^Letter}", 0, OK, 0, NULL },
	{ "\\p{Decimal_Number}", 0, OK, 0, NULL },
	{ "\\d\\D\\s\\S\\w\\W", 0, OK, 0, NULL },
	{ "(?i)[k]", 0, OK, 0, "(class [Kk\\x{212a}])" },
	{ "(?-u:\\w)", 0, OK, 0, "(group (class [0-9A-Z_a-z]))" },
	{ ".", 0, OK, 0, "(class [\\x{0}-\\x{9}\\x{b}-\\x{10ffff}])" },
	{ "(?s).", 0, OK, 0, "(class [\\x{0}-\\x{9}\\x{b}-\\x{10ffff}])" },
	/* Anchors and assertions. */
	{ "^a$", 0, OK, 0, "(cat (bol) (lit a) (eol))" },
	{ "\\Aa\\z", 0, OK, 0, "(cat (bol) (lit a) (eol))" },
	{ "\\bx\\B", 0, OK, 0, "(cat (wordb) (lit x) (nwordb))" },
	/* Alternation, groups, flags. */
	{ "a|b", 0, OK, 0, "(alt (lit a) (lit b))" },
	{ "a|", 0, OK, 0, "(alt (lit a) (empty))" },
	{ "|", 0, OK, 0, "(alt (empty) (empty))" },
	{ "(a)", 0, OK, 0, "(group (lit a))" },
	{ "(?:a)", 0, OK, 0, "(group (lit a))" },
	{ "(?P<name>a)", 0, OK, 0, "(group (lit a))" },
	{ "(?<name>a)", 0, INVAL, 2, NULL },
	{ "[\\w--\\d]", 0, OK, 0, NULL },
	{ "[a-z--c]", 0, OK, 0, NULL },
	{ "()", 0, OK, 0, "(group (empty))" },
	{ "(?i)a", 0, OK, 0, "(lit fold a)" },
	{ "(?i:a)b", 0, OK, 0, "(cat (group (lit fold a)) (lit b))" },
	{ "(?i)a(?-i)b", 0, OK, 0, "(cat (lit fold a) (lit b))" },
	{ "((?i)a)b", 0, OK, 0, "(cat (group (lit fold a)) (lit b))" },
	{ "(?x) a b # comment", 0, OK, 0, "(cat (lit a) (lit b))" },
	{ "(?x)a\\ b", 0, OK, 0, "(cat (lit a) (lit \\x{20}) (lit b))" },
	{ "(?imsUux)a", 0, OK, 0, NULL },
	{ "1", REGEX_ICASE, OK, 0, "(lit 1)" },
	/* Repetition. */
	{ "a*", 0, OK, 0, "(rep 0 inf (lit a))" },
	{ "a+?", 0, OK, 0, "(rep 1 inf (lit a))" },
	{ "a??", 0, OK, 0, "(rep 0 1 (lit a))" },
	{ "a{3}", 0, OK, 0, "(rep 3 3 (lit a))" },
	{ "a{2,}", 0, OK, 0, "(rep 2 inf (lit a))" },
	{ "a{2,5}", 0, OK, 0, "(rep 2 5 (lit a))" },
	{ "a{ 2 , 5 }", 0, OK, 0, "(rep 2 5 (lit a))" },
	{ "a**", 0, OK, 0, "(rep 0 inf (rep 0 inf (lit a)))" },
	{ "a{1,2}{3}", 0, OK, 0, NULL },
	{ "^*", 0, OK, 0, "(rep 0 inf (bol))" },
	{ "a{1000}", 0, OK, 0, NULL },
	/* Flags of the call. */
	{ "a.b", REGEX_FIXED, OK, 0, "(cat (lit a) (lit .) (lit b))" },
	{ "(", REGEX_FIXED, OK, 0, "(lit ()" },
	{ "ab", REGEX_WORD, OK, 0, NULL },
	{ "K", REGEX_ICASE, OK, 0, "(lit fold K)" },
	/* Errors with positions. */
	{ "(a", 0, INVAL, 0, NULL },
	{ "a)", 0, INVAL, 1, NULL },
	{ "[a", 0, INVAL, 0, NULL },
	{ "x[]", 0, INVAL, 1, NULL },
	{ "[^]", 0, INVAL, 0, NULL },
	{ "[z-a]", 0, INVAL, 1, NULL },
	{ "[a-\\d]", 0, INVAL, 3, NULL },
	{ "[\\w-z]", 0, INVAL, 1, NULL },
	{ "[a&&b]", 0, INVAL, 0, NULL },
	{ "*", 0, INVAL, 0, NULL },
	{ "a|*", 0, INVAL, 2, NULL },
	{ "+a", 0, INVAL, 0, NULL },
	{ "{", 0, INVAL, 0, NULL },
	{ "a{", 0, INVAL, 1, NULL },
	{ "a{2", 0, INVAL, 1, NULL },
	{ "a{,3}", 0, INVAL, 2, NULL },
	{ "a{3,2}", 0, INVAL, 1, NULL },
	{ "a{1001}", 0, OK, 0, NULL },     /* counts are bounded by the expanded size */
	{ "a{5001}", 0, LIMIT, 1, NULL },
	/* Over the expanded limit, answered when cut at a free edge: ^. finds the same lines. */
	{ "^.{1,2500}", 0, OK, 0, NULL },
	{ "x{0,99999}", 0, OK, 0, NULL },
	{ "^.{1,2500}$", 0, LIMIT, 2, NULL },
	{ "x{99999}", 0, LIMIT, 1, NULL },
	{ "a{1000001}", 0, LIMIT, 2, NULL },
	{ "\\1", 0, UNSUP, 0, NULL },
	{ "(a)\\1", 0, UNSUP, 3, NULL },
	{ "\\0", 0, UNSUP, 0, NULL },
	{ "ab\\k<x>", 0, UNSUP, 2, NULL },
	{ "(?=a)", 0, UNSUP, 0, NULL },
	{ "x(?!a)", 0, UNSUP, 1, NULL },
	{ "(?<=a)", 0, UNSUP, 0, NULL },
	{ "(?<!a)", 0, UNSUP, 0, NULL },
	{ "(?>a)", 0, UNSUP, 0, NULL },
	{ "(?P=n)", 0, UNSUP, 0, NULL },
	{ "\\e", 0, INVAL, 0, NULL },
	{ "ab\\/", 0, INVAL, 2, NULL },
	{ "\\", 0, INVAL, 0, NULL },
	{ "\\x", 0, INVAL, 0, NULL },
	{ "\\xZZ", 0, INVAL, 2, NULL },
	{ "\\x{110000}", 0, INVAL, 3, NULL },
	{ "\\x{d800}", 0, INVAL, 3, NULL },
	{ "\\x{41", 0, INVAL, 0, NULL },
	{ "\\p{", 0, INVAL, 0, NULL },
	{ "\\p{Foo}", 0, INVAL, 0, NULL },
	{ "\\p{Script=Greek}", 0, OK, 0, NULL },
	{ "(?i-i:a)", 0, INVAL, 4, NULL },
	{ "(?q)", 0, INVAL, 2, NULL },
	{ "(?)", 0, INVAL, 2, NULL },
	{ "(?P<1>a)", 0, INVAL, 4, NULL },
	{ "(?P<a>x)(?P<a>y)", 0, INVAL, 12, NULL },
	{ "(?P<a", 0, INVAL, 4, NULL },
	{ "a\\nb", 0, INVAL, 1, NULL },
	{ "[\\n]", 0, INVAL, 0, NULL },
	{ "a\nb", REGEX_FIXED, INVAL, 1, NULL },
	{ "\xff", 0, INVAL, 0, NULL },
	{ "ab\xc3", 0, INVAL, 2, NULL },
	{ "(?-u:\\xff)", 0, UNSUP, 5, NULL },
};

static void parser_table(void **state)
{
	struct buf b;
	int failures = 0;

	(void)state;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		struct regex *re = NULL;
		int err;

		error_clear();
		err = regex_parse(&re, c->pattern, strlen(c->pattern), c->flags);
		if (err != c->err) {
			fprintf(stderr, "case %zu /%s/: got %d (%s), want %d\n", i, c->pattern, err,
				error_last(), c->err);
			failures++;
		} else if (err < 0 && c->err != TRAWL_ENOMEM && error_pos() != c->pos) {
			fprintf(stderr, "case %zu /%s/: error \"%s\" at %zu, want %zu\n", i,
				c->pattern, error_last(), error_pos(), c->pos);
			failures++;
		} else if (err == 0 && c->describe) {
			buf_reset(&b);
			assert_int_equal(regex_describe(&b, re), 0);
			if (strcmp(b.ptr, c->describe) != 0) {
				fprintf(stderr, "case %zu /%s/: got %s, want %s\n", i, c->pattern,
					b.ptr, c->describe);
				failures++;
			}
		}
		if (err == 0 && c->err < 0)
			regex_free(re);
		else if (err == 0)
			regex_free(re);
	}
	buf_dispose(&b);
	assert_int_equal(failures, 0);
}

static void parser_rejects_too_long_pattern(void **state)
{
	char pat[REGEX_MAX_LEN + 2];
	struct regex *re = NULL;

	(void)state;
	memset(pat, 'a', sizeof(pat) - 1);
	pat[sizeof(pat) - 1] = 0;
	assert_int_equal(regex_parse(&re, pat, strlen(pat), 0), TRAWL_ELIMIT);
	assert_null(re);
	assert_int_equal(regex_parse(&re, pat, REGEX_MAX_LEN, 0), 0);
	regex_free(re);
}

/* A NUL byte in a class is a literal: two of them are not a "&&"-style operator. */
static void parser_takes_nul_bytes_in_a_class_literally(void **state)
{
	struct regex *re = NULL;

	(void)state;
	assert_int_equal(regex_parse(&re, "[a\0\0]", 5, 0), 0);
	regex_free(re);
	assert_int_equal(regex_parse(&re, "[a\0\0b]x", 7, 0), 0);
	regex_free(re);
}

static void parser_rejects_deep_nesting(void **state)
{
	char pat[2 * (REGEX_MAX_DEPTH + 10) + 1];
	size_t n = REGEX_MAX_DEPTH + 10;
	struct regex *re = NULL;

	(void)state;
	memset(pat, '(', n);
	memset(pat + n, ')', n);
	pat[2 * n] = 0;
	assert_int_equal(regex_parse(&re, pat, 2 * n, 0), TRAWL_ELIMIT);
	assert_true(strstr(error_last(), "nested") != NULL);
}

static void parser_rejects_nested_repeats_by_expanded_size(void **state)
{
	/* Each count is within REGEX_MAX_REPEAT; their product is not. */
	static const struct {
		const char *pat;
		size_t pos; /* of the repetition that crosses the limit */
	} v[] = {
		{ "(((a{1000}){1000}){1000})", 11 },
		{ "((((a{1000}){1000}){1000}){1000})", 12 },
		{ "(((a{500}){500}){500})", 10 },
		{ "a{1000}{1000}", 7 },
		{ "(a{100}){51}", 8 },
		{ "(x[a-z]{100}){100}", 13 },
		{ "x(?:ab|cd){1000}(?:ab|cd){1000}(?:ab|cd){1000}", 25 },
		{ ".{1000}.{1000}", 8 },       /* a class counts its widest UTF-8 member: 4 bytes */
		{ "(?i)(k{1000}){2}", 13 },     /* k folds to the 3-byte Kelvin sign */
		{ "(é{1000}){3}", 10 },
		{ "(a+b{1000}){5}x", 11 },
	};
	struct regex *re = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *p = v[i].pat;

		if (regex_parse(&re, p, strlen(p), 0) != TRAWL_ELIMIT)
			fail_msg("%s: not refused", p);
		if (error_pos() != v[i].pos)
			fail_msg("%s: refused at %zu, not %zu", p, error_pos(), v[i].pos);
		assert_non_null(strstr(error_last(), "the limit is 5000"));
		assert_null(re);
	}
}

/* Parses pat and checks its expanded size and automaton size (SIZE_MAX: not checked). */
static void expect_sizes(const char *pat, unsigned flags, size_t expanded, size_t states)
{
	struct regex *re = NULL;

	if (regex_parse(&re, pat, strlen(pat), flags) != 0)
		fail_msg("%s: %s", pat, error_last());
	if (regex_expanded_size(re) != expanded ||
	    (states != SIZE_MAX && regex_automaton_size(re) != states))
		fail_msg("%s: expanded %zu, states %zu; not %zu, %zu", pat, regex_expanded_size(re),
			 regex_automaton_size(re), expanded, states);
	regex_free(re);
}

static void parser_accepts_patterns_up_to_the_expanded_limit(void **state)
{
	static const struct {
		const char *pat;
		unsigned flags;
		size_t size;
	} v[] = {
		{ "(a{100}){50}", 0, 5000 },       { "\\w{1,1000}", 0, 4000 },
		{ ".{1,1000}", REGEX_WORD, 4008 }, { ".{1000}", 0, 4000 },
		{ "[a-z]{2}\\d", 0, 6 }, /* \d is Unicode: up to 4 bytes */
		{ "(?i)(k{800}){2}", 0, 4800 },    { "(x[a-z]{48}){100}", 0, 4900 },
		{ "a*b+c{3,}d{0,}", 0, 6 },        { "spin_lock_irqsave\\(&\\w+->lock", 0, 29 },
		{ "a{1000}{5}", 0, 5000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		expect_sizes(v[i].pat, v[i].flags, v[i].size, SIZE_MAX);
}

static void parser_rejects_too_many_nodes(void **state)
{
	char pat[4001];
	struct regex *re = NULL;

	(void)state;
	/* "a|" repeated: 2000 alternatives of a literal is fine... */
	for (size_t i = 0; i < 4000; i += 2)
		memcpy(pat + i, "a|", 2);
	pat[3999] = 'a';
	pat[4000] = 0;
	assert_int_equal(regex_parse(&re, pat, 4000, 0), 0);
	regex_free(re);
	/* ...but every class escape with (?i) adds nodes too; 4096 bytes of "[a]" stays bounded. */
	for (size_t i = 0; i + 3 <= 4000; i += 3)
		memcpy(pat + i, "[a]", 3);
	assert_int_equal(regex_parse(&re, pat, 3999, 0), 0);
	regex_free(re);
}

static void word_flag_wraps_in_nonword_context(void **state)
{
	struct regex *re = NULL;
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(regex_parse(&re, "x", 1, REGEX_WORD), 0);
	assert_int_equal(regex_describe(&b, re), 0);
	assert_true(strncmp(b.ptr, "(cat (alt (bol) (class [", 24) == 0);
	assert_true(strstr(b.ptr, "(group (lit x)) (alt (class [") != NULL);
	assert_true(strstr(b.ptr, "(eol)))") != NULL);
	assert_false(regex_can_match_empty(re));
	regex_free(re);
	buf_dispose(&b);
}

static void can_match_empty_is_exact(void **state)
{
	static const struct {
		const char *p;
		bool want;
	} t[] = {
		{ "", true },     { "a", false },    { "a*", true },   { "a?b", false },
		{ "^", true },    { "^$", true },    { "a|", true },   { "(a|b)+", false },
		{ "\\b", true },  { "[a]{0,3}", true }, { "a{0}", true }, { "(?:a*)+", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct regex *re = NULL;

		assert_int_equal(regex_parse(&re, t[i].p, strlen(t[i].p), 0), 0);
		if (regex_can_match_empty(re) != t[i].want)
			fail_msg("/%s/: can_match_empty %d", t[i].p, !t[i].want);
		regex_free(re);
	}
}

/* The required string of pattern (with flags), "~" prefixed when it is to be found icase. */
static char *required_of(const char *pattern, unsigned flags)
{
	static char result[256];
	struct regex *re = NULL;
	struct buf out;
	bool is_icase = true;

	buf_init(&out, 4096);
	assert_int_equal(regex_parse(&re, pattern, strlen(pattern), flags), 0);
	assert_int_equal(regex_required_literal(&out, &is_icase, re), 0);
	snprintf(result, sizeof(result), "%s%.*s", is_icase ? "~" : "", (int)out.len,
		 out.ptr ? out.ptr : "");
	buf_dispose(&out);
	regex_free(re);
	return result;
}

static void required_literal_is_the_longest_mandatory_run(void **state)
{
	static const struct {
		const char *pattern;
		unsigned flags;
		const char *want;
	} table[] = {
		{ "spin_lock_irqsave\\(&\\w+->lock", 0, "spin_lock_irqsave(&" },
		{ "^#\\s*define\\s+\\w+", 0, "define" },
		{ "x+abc", 0, "abc" },
		{ "[ab]cde{2}", 0, "cd" },           /* a repetition ends the run */
		{ "(?:ab)cd", 0, "abcd" },           /* groups are opened */
		{ "foo\\bbar", 0, "foobar" },        /* an assertion keeps neighbours adjacent */
		{ "^abc$", 0, "abc" },
		{ "caf\xc3\xa9\\w", 0, "caf\xc3\xa9" },
		{ "a|bcd", 0, "" },                  /* no string in every branch */
		{ "(?:abc|abd)x", 0, "x" },
		{ "a?bc", 0, "bc" },
		{ "\\w+", 0, "" },
		{ "", 0, "" },
		{ "Foo\\d", REGEX_ICASE, "~foo" },
		{ "AB(?i:Cd)e", 0, "~abcde" },       /* part folds: all of it is found icase */
		{ "(?i)kit", 0, "~it" },             /* k folds to the Kelvin sign */
		{ "(?i)best", 0, "~be" },            /* and s to the long s */
		{ "foo", REGEX_WORD, "foo" },        /* -w's context classes around it */
		{ "a.b.cde", REGEX_FIXED, "a.b.cde" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const char *got = required_of(table[i].pattern, table[i].flags);

		if (strcmp(got, table[i].want) != 0)
			fail_msg("pattern %s: required %s, want %s", table[i].pattern, got,
				 table[i].want);
	}
}

/*
 * The compile weight decides where a pattern compiles: Unicode classes and word boundaries weigh
 * what their UTF-8 automata cost, so patterns cheap by expanded size but slow to compile (19 s
 * for the first, measured) reach the limited helper; common patterns stay light.
 */
static void compile_weight_counts_unicode_classes(void **state)
{
	static const struct {
		const char *pat;
		bool is_heavy; /* at least 256: compiled in the helper (matcher.c) */
	} v[] = {
		{ "(\\pL|\\pN){20}\\b", true },
		{ "\\b(\\pL|\\pN){20}\\b", true },
		{ "(\\pL|\\pN|\\pS|\\pP){15}", true },
		{ "\\W{20}", true },
		{ "(a{100}){50}", true },
		{ "spin_lock_irqsave\\(&\\w+->lock", false },
		{ "[a-z]{2}\\d", false },
		{ "(?i)\\w+_\\w+_\\w+", false },
		{ "[[:alpha:]]{60}", false },
		{ "sys_pidfd_open", false },
	};
	struct regex *re = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *p = v[i].pat;

		if (regex_parse(&re, p, strlen(p), 0) != 0)
			fail_msg("%s: %s", p, error_last());
		if ((regex_compile_weight(re) >= 256) != v[i].is_heavy)
			fail_msg("%s: weight %zu", p, regex_compile_weight(re));
		regex_free(re);
	}
}

/*
 * The automaton size counts a class as its UTF-8 byte automaton, so a counted repetition of a
 * big Unicode class is refused at once, at the repetition, where Vectorscan's compiler spent
 * seconds before answering "Pattern is too large" (`(?i)\pL{40}`: 5 to 13 s, measured).
 */
static void automaton_size_refuses_big_unicode_repeats(void **state)
{
	static const struct {
		const char *pat;
		unsigned flags;
		size_t pos; /* of the repetition that crosses the limit */
	} bad[] = {
		{ "\\p{L}{40}", 0, 5 },
		{ "(?i)\\p{L}{40}", 0, 9 },
		{ "\\p{L}{50}", REGEX_ICASE, 5 },
		{ "\\w{100}", 0, 2 },
		{ "x\\w{1000}", 0, 3 },
		{ "(\\pL|\\pN){31}\\b", 0, 9 },
		{ "\\b(\\pL|\\pN){30}\\b", 0, 11 },
		{ "\\w{1,1000}", REGEX_WORD, 2 }, /* not at a free edge: -w puts \W or $ after */
		{ "((\\pL){5}){8}", 0, 10 },
	};
	static const struct {
		const char *pat;
		unsigned flags;
		size_t lo, hi; /* the states expected */
	} good[] = {
		{ "\\pL", 0, 1100, 1200 },        /* 1163: 786 byte sequences sharing prefixes */
		{ "\\w", 0, 1300, 1400 },
		{ "\\pL{25}", 0, 27500, 30000 }, /* compiles, in 3.5 s */
		{ "\\w{25}", 0, 32500, 35000 },  /* compiles, in 3.7 s */
		{ "\\w{10,1000}", 0, 13000, 14000 }, /* free edges are cut: as \w{10} */
		{ ".{1000}", 0, 27000, 27000 },    /* 27 states for `.`: 11 byte sequences */
		{ "[a-z]{1000}", 0, 1000, 1000 },  /* an ASCII class is one state */
		{ "(?i)k", 0, 5, 5 },              /* k, K and the 3-byte Kelvin sign */
		{ "spin_lock_irqsave\\(&\\w+->lock", 0, 1, 2000 },
	};
	struct regex *re = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = bad[i].pat;

		if (regex_parse(&re, p, strlen(p), bad[i].flags) != TRAWL_ELIMIT)
			fail_msg("%s: not refused", p);
		if (error_pos() != bad[i].pos)
			fail_msg("%s: refused at %zu, not %zu", p, error_pos(), bad[i].pos);
		assert_non_null(strstr(error_last(), "the limit is 40000 states"));
		assert_null(re);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *p = good[i].pat;
		size_t n;

		if (regex_parse(&re, p, strlen(p), good[i].flags) != 0)
			fail_msg("%s: %s", p, error_last());
		n = regex_automaton_size(re);
		if (n < good[i].lo || n > good[i].hi)
			fail_msg("%s: %zu states, not in [%zu, %zu]", p, n, good[i].lo, good[i].hi);
		regex_free(re);
	}
}

/*
 * Both sizes regex_parse() bounds on patterns with every kind of node, as measured before the
 * two walks became one (parse.c size_of): a change to one measure's leaves must not move the
 * other's. The automaton size is of the lines AST with its free edges cut.
 */
static void both_sizes_are_pinned(void **state)
{
	static const struct {
		const char *pat;
		unsigned flags;
		size_t expanded, states;
	} v[] = {
		{ "abc", 0, 3, 3 },
		{ "(?i)k", 0, 3, 5 }, /* the Kelvin sign: 3 bytes of 5 */
		{ "(?i)straße", 0, 9, 17 },
		{ "[a-z]{3}é", 0, 5, 5 },
		{ "\\pL", 0, 4, 1163 },
		{ "\\bfoo\\b", 0, 3, 67 }, /* a word boundary is REGEX_WEIGHT_WORDB states */
		{ "(a|bc)*d{2,5}", 0, 8, 8 },
		{ "^(ab|c)+$", 0, 3, 3 },
		{ "(^a|b)c{3}$", 0, 5, 5 },        /* anchors lifted: shared subtrees */
		{ "x\\w{1,1000}", 0, 4001, 1350 }, /* the free edge is cut for the states only */
		{ "^.{1,2500}", 0, 4, 27 },        /* over the expanded limit: its lines reduction */
		{ "foo", REGEX_WORD, 11, 2545 },
		{ "\\w+", REGEX_ICASE, 4, 1349 },
		{ "(\\pL|\\d){3}x", 0, 25, 3883 },
		{ "a\\B(?i:é)", 0, 3, 37 },
		{ "[^a]{2}$", 0, 8, 54 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		expect_sizes(v[i].pat, v[i].flags, v[i].expanded, v[i].states);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parser_table),
		cmocka_unit_test(parser_rejects_too_long_pattern),
		cmocka_unit_test(parser_takes_nul_bytes_in_a_class_literally),
		cmocka_unit_test(parser_rejects_deep_nesting),
		cmocka_unit_test(parser_rejects_too_many_nodes),
		cmocka_unit_test(parser_rejects_nested_repeats_by_expanded_size),
		cmocka_unit_test(parser_accepts_patterns_up_to_the_expanded_limit),
		cmocka_unit_test(compile_weight_counts_unicode_classes),
		cmocka_unit_test(automaton_size_refuses_big_unicode_repeats),
		cmocka_unit_test(both_sizes_are_pinned),
		cmocka_unit_test(word_flag_wraps_in_nonword_context),
		cmocka_unit_test(can_match_empty_is_exact),
		cmocka_unit_test(required_literal_is_the_longest_mandatory_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
