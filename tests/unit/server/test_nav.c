/*
 * Unit tests for src/server/nav.c: the line and column parameters, the identifier at a
 * position (columns in UTF-16 units of the line as the file API shows it), the order of
 * definitions, and a frontend's merge of its searchers' definitions.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "server/nav.h"
#include "util/buf.h"
#include "util/error.h"

static int pos(uint32_t *v, const char *s)
{
	return nav_parse_pos(v, s, s ? strlen(s) : 0, "line");
}

static void parse_pos_takes_bounded_decimals(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(pos(&v, "1"), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pos(&v, "42"), 0);
	assert_int_equal(v, 42);
	assert_int_equal(pos(&v, "100000000"), 0);
	assert_int_equal(v, NAV_POS_MAX);
}

static void parse_pos_refuses_everything_else(void **state)
{
	static const char *const bad[] = { "",          "0",          "00",
					   "01",        "-1",         "+1",
					   " 1",        "1 ",         "1.5",
					   "1e3",       "0x10",       "100000001",
					   "999999999", "4294967297", "18446744073709551617",
					   "a" };
	uint32_t v = 7;

	(void)state;
	assert_int_equal(pos(&v, NULL), TRAWL_EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		assert_int_equal(pos(&v, bad[i]), TRAWL_EINVAL);
		assert_int_equal(v, 0);
		assert_string_equal(error_last(), "line must be a number from 1 to 100000000");
	}
	/* The length given is the parameter's: a digit past it is not read. */
	assert_int_equal(nav_parse_pos(&v, "12", 1, "col"), 0);
	assert_int_equal(v, 1);
}

/* The identifier at (line, col) of text, or NULL (its message in error_last) when none. */
static char *ident(const char *text, uint32_t line, uint32_t col)
{
	size_t start = 99, n = 99;
	char *out;

	if (nav_ident_at(&start, &n, (const uint8_t *)text, strlen(text), line, col) < 0) {
		assert_int_equal(start, 0);
		assert_int_equal(n, 0);
		return NULL;
	}
	out = strndup(text + start, n);
	assert_non_null(out);
	return out;
}

static void expect_ident(const char *text, uint32_t line, uint32_t col, const char *want)
{
	char *got = ident(text, line, col);
	bool is_same = want ? got && strcmp(got, want) == 0 : !got;

	if (!is_same)
		print_error("at %u:%u: got %s, want %s\n", line, col, got ? got : "none",
			    want ? want : "none");
	free(got);
	assert_true(is_same);
}

static void ident_at_finds_the_word_under_the_column(void **state)
{
	static const char text[] = "int main(void) { return parse_config(\"x\"); }\n"
				   "  cfg->x_1 = 0;\n";

	(void)state;
	expect_ident(text, 1, 1, "int");
	expect_ident(text, 1, 3, "int");
	expect_ident(text, 1, 4, "int"); /* the caret just after it */
	expect_ident(text, 1, 5, "main");
	expect_ident(text, 1, 25, "parse_config");
	expect_ident(text, 1, 36, "parse_config");
	expect_ident(text, 1, 37, "parse_config");
	expect_ident(text, 2, 3, "cfg");
	expect_ident(text, 2, 8, "x_1");
	expect_ident(text, 2, 10, "x_1");
}

static void ident_at_refuses_what_is_no_identifier(void **state)
{
	static const char text[] = "a = 0x1F + 12;\n\n  \t{}\nlast";

	(void)state;
	expect_ident(text, 1, 3, NULL); /* '=' after a space */
	expect_ident(text, 1, 5, NULL); /* a number */
	expect_ident(text, 1, 7, NULL);
	expect_ident(text, 1, 12, NULL);
	expect_ident(text, 2, 1, NULL); /* an empty line: only its end */
	expect_ident(text, 3, 5, NULL);
	assert_string_equal(error_last(), "no identifier at line 3, column 5");
	expect_ident(text, 4, 1, "last"); /* the last line has no '\n' */
	expect_ident(text, 4, 5, "last");
	expect_ident(text, 0, 1, NULL);
	expect_ident(text, 1, 0, NULL);
}

static void ident_at_refuses_positions_past_the_text(void **state)
{
	(void)state;
	expect_ident("ab\ncd\n", 4, 1, NULL);
	assert_string_equal(error_last(), "line 4 is past the end of the file");
	expect_ident("ab\ncd\n", 3, 1, NULL); /* the empty line after the last '\n' */
	expect_ident("ab\ncd", 2, 4, NULL);
	assert_string_equal(error_last(), "column 4 is past the end of line 2");
	expect_ident("ab\ncd", 2, 3, "cd");
	expect_ident("", 1, 1, NULL);
	expect_ident("x", NAV_POS_MAX, NAV_POS_MAX, NULL);
}

static void ident_at_counts_columns_in_utf16_units(void **state)
{
	(void)state;
	/* "é" is two bytes and one unit; U+1F600 four bytes and two units. */
	expect_ident("\xc3\xa9 abc", 1, 3, "abc");
	expect_ident("\xf0\x9f\x98\x80 abc", 1, 4, "abc");
	expect_ident("\xf0\x9f\x98\x80 abc", 1, 2, NULL); /* the pair's second half */
	/* Each byte that is not well-formed UTF-8 is one unit (a U+FFFD in the file API). */
	expect_ident("\xff\xfe abc", 1, 4, "abc");
	expect_ident("\xe2\x82 abc", 1, 4, "abc");
	/* A letter after a non-ASCII one is still an identifier of its own. */
	expect_ident("\xc3\xa9x", 1, 2, "x");
	/* CR before the end of the line is not part of the word; the caret after it is. */
	expect_ident("abc\r\n", 1, 4, "abc");
}

static void ident_at_bounds_the_length(void **state)
{
	static char text[NAV_IDENT_MAX + 2];
	char *got;
	size_t n;

	(void)state;
	memset(text, 'a', NAV_IDENT_MAX);
	text[NAV_IDENT_MAX] = 0;
	got = ident(text, 1, NAV_IDENT_MAX);
	n = got ? strlen(got) : 0;
	free(got);
	assert_int_equal(n, NAV_IDENT_MAX);
	text[NAV_IDENT_MAX] = 'a';
	text[NAV_IDENT_MAX + 1] = 0;
	got = ident(text, 1, 1);
	n = got ? strlen(got) : 0;
	free(got);
	assert_int_equal(n, 0);
	assert_string_equal(error_last(), "the identifier at line 1, column 1 is over 1024 bytes");
}

static void definitions_order_by_tier_then_place(void **state)
{
	struct nav_def v[] = {
		{ .tier = nav_def_tier(false, false, false),
		  .repo = "a",
		  .path = "z.py",
		  .path_len = 4,
		  .line = 1 },
		{ .tier = nav_def_tier(false, false, true),
		  .repo = "b",
		  .path = "x.c",
		  .path_len = 3,
		  .line = 9 },
		{ .tier = nav_def_tier(false, false, true),
		  .repo = "a",
		  .path = "y.c",
		  .path_len = 3,
		  .line = 5 },
		{ .tier = nav_def_tier(false, true, false),
		  .repo = "m",
		  .path = "k.h",
		  .path_len = 3,
		  .line = 2 },
		{ .tier = nav_def_tier(false, true, true),
		  .repo = "m",
		  .path = "b.c",
		  .path_len = 3,
		  .line = 7 },
		{ .tier = nav_def_tier(false, true, true),
		  .repo = "m",
		  .path = "b.c",
		  .path_len = 3,
		  .line = 3 },
		{ .tier = nav_def_tier(false, true, true),
		  .repo = "m",
		  .path = "b",
		  .path_len = 1,
		  .line = 30 },
		{ .tier = nav_def_tier(true, true, true),
		  .repo = "m",
		  .path = "z.c",
		  .path_len = 3,
		  .line = 40 },
	};
	static const char *const want[] = { "m/z.c:40", "m/b:30",  "m/b.c:3", "m/b.c:7",
					    "m/k.h:2",  "a/y.c:5", "b/x.c:9", "a/z.py:1" };

	(void)state;
	qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), nav_def_cmp);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char s[64];

		snprintf(s, sizeof(s), "%s/%.*s:%u", v[i].repo, (int)v[i].path_len, v[i].path,
			 v[i].line);
		assert_string_equal(s, want[i]);
	}
}

static int add(struct nav_merge *m, uint32_t searcher, const char *ans)
{
	return nav_merge_add(m, searcher, ans, strlen(ans));
}

/* A searcher's answer entry: tier, repository, and a symbol object naming both. */
#define DEF(t, r, p)                                                                   \
	"{\"tier\":" #t ",\"repo\":\"" r "\",\"json\":\"{\\\"repo\\\":\\\"" r "\\\",\\\"p\\\":\\\"" r \
	"/" p "\\\"}\"}"

static void merge_orders_as_one_process(void **state)
{
	struct nav_merge m = { 0 };
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	/* Each answer is sorted already; a repository is on one searcher only. */
	assert_int_equal(add(&m, 0,
			     "{\"found\":3,\"limit_hit\":false,\"defs\":[" DEF(1, "m", "b.c") "," DEF(
				     3, "a", "z.c") "," DEF(4, "c", "y.py") "]}"),
			 0);
	assert_int_equal(add(&m, 1,
			     "{\"found\":4,\"limit_hit\":false,\"defs\":[" DEF(0, "b", "x.c") "," DEF(
				     3, "b", "a.c") "," DEF(3, "b", "0.c") "," DEF(4, "a",
										   "q.py") "]}"),
			 0);
	assert_int_equal(nav_merge_put(&b, &m, "id", 2, 100, 0), 0);
	assert_string_equal(b.ptr, "{\"identifier\":\"id\",\"definitions\":["
				   "{\"repo\":\"b\",\"p\":\"b/x.c\"},{\"repo\":\"m\",\"p\":\"m/b.c\"},"
				   "{\"repo\":\"a\",\"p\":\"a/z.c\"},{\"repo\":\"b\",\"p\":\"b/a.c\"},"
				   "{\"repo\":\"b\",\"p\":\"b/0.c\"},{\"repo\":\"a\",\"p\":\"a/q.py\"},"
				   "{\"repo\":\"c\",\"p\":\"c/y.py\"}],\"limit_hit\":false}");
	nav_merge_dispose(&m);
	buf_dispose(&b);
}

static void merge_cuts_and_flags_the_limit(void **state)
{
	struct nav_merge m = { 0 };
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	/* Two found in all, one listed: more than max (1) were found. */
	assert_int_equal(add(&m, 0,
			     "{\"found\":1,\"limit_hit\":false,\"defs\":[" DEF(2, "a", "1") "]}"),
			 0);
	assert_int_equal(add(&m, 1,
			     "{\"found\":1,\"limit_hit\":false,\"defs\":[" DEF(1, "b", "2") "]}"),
			 0);
	assert_int_equal(nav_merge_put(&b, &m, "x", 1, 1, 2), 0);
	assert_string_equal(b.ptr, "{\"identifier\":\"x\",\"definitions\":["
				   "{\"repo\":\"b\",\"p\":\"b/2\"}],"
				   "\"limit_hit\":true,\"partial_searchers\":2}");
	nav_merge_dispose(&m);
	/* A searcher that stopped at its own limit: limit_hit, however few were listed. */
	buf_reset(&b);
	assert_int_equal(add(&m, 0, "{\"found\":0,\"limit_hit\":true,\"defs\":[]}"), 0);
	assert_int_equal(nav_merge_put(&b, &m, "x", 1, 100, 0), 0);
	assert_string_equal(b.ptr, "{\"identifier\":\"x\",\"definitions\":[],\"limit_hit\":true}");
	nav_merge_dispose(&m);
	buf_dispose(&b);
}

static void merge_refuses_malformed_answers(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"found\":1,\"limit_hit\":false}",
		"{\"found\":0,\"limit_hit\":false,\"defs\":[" DEF(1, "a", "b") "]}",
		"{\"found\":-1,\"limit_hit\":false,\"defs\":[]}",
		"{\"found\":1,\"limit_hit\":1,\"defs\":[]}",
		"{\"found\":1,\"limit_hit\":false,\"defs\":[{\"tier\":5,\"repo\":\"a\",\"json\":\"{}"
		"\"}]}",
		"{\"found\":1,\"limit_hit\":false,\"defs\":[{\"tier\":1,\"json\":\"{}\"}]}",
		"{\"found\":1,\"limit_hit\":false,\"defs\":[{\"tier\":1,\"repo\":\"a\",\"json\":\"{"
		"\"}]}",
		"{\"found\":1,\"limit_hit\":false,\"defs\":[{\"tier\":1,\"repo\":\"a\",\"json\":\"[]"
		"\"}]}",
		"{\"found\":2,\"limit_hit\":false,\"defs\":[" DEF(1, "a", "b") ",7]}",
		/* A symbol shown as another repository's than its entry's (attack s31). */
		"{\"found\":1,\"limit_hit\":false,\"defs\":[{\"tier\":1,\"repo\":\"a\",\"json\":"
		"\"{\\\"repo\\\":\\\"b\\\"}\"}]}",
		"{\"found\":1,\"limit_hit\":false,\"defs\":[{\"tier\":1,\"repo\":\"a\",\"json\":"
		"\"{\\\"p\\\":1}\"}]}",
	};
	struct nav_merge m = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error_clear();
		assert_int_equal(add(&m, 0, bad[i]), TRAWL_EINVAL);
		assert_true(error_last()[0] != 0);
		/* A refused answer adds nothing, not even its first good entries. */
		assert_int_equal(m.n, 0);
		assert_int_equal(m.found, 0);
	}
	nav_merge_dispose(&m);
}

/* What a frontend takes from a searcher's identifier answer (the references' query is of it). */
static void is_ident_takes_identifiers_only(void **state)
{
	char big[NAV_IDENT_MAX + 2];

	(void)state;
	assert_true(nav_is_ident("nav_common", 10));
	assert_true(nav_is_ident("_x9", 3));
	assert_false(nav_is_ident("", 0));
	assert_false(nav_is_ident("9x", 2));
	assert_false(nav_is_ident("x/ repo:secret /y", 17));
	assert_false(nav_is_ident("a b", 3));
	assert_false(nav_is_ident("a\xc3\xa9", 3));
	memset(big, 'a', sizeof(big));
	assert_true(nav_is_ident(big, NAV_IDENT_MAX));
	assert_false(nav_is_ident(big, NAV_IDENT_MAX + 1));
}

/*
 * SECURITY (attack s31): an answer of many small values (jansson allocates some 40 bytes for
 * each two-byte "0,") is refused before it is parsed; strings hold any bytes.
 */
static void merge_refuses_answers_of_many_values(void **state)
{
	struct nav_merge m = { 0 };
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_puts(&b, "{\"found\":0,\"limit_hit\":false,\"defs\":[],\"x\":[0"), 0);
	for (size_t i = 0; i < NAV_ANSWER_VALUES_MAX; i++)
		assert_int_equal(buf_puts(&b, ",0"), 0);
	assert_int_equal(buf_puts(&b, "]}"), 0);
	error_clear();
	assert_int_equal(nav_merge_add(&m, 0, b.ptr, b.len), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "values"));
	/* The same commas in a string are no values. */
	buf_reset(&b);
	assert_int_equal(buf_puts(&b, "{\"found\":0,\"limit_hit\":false,\"defs\":[],\"x\":\"\\\""),
			 0);
	for (size_t i = 0; i < NAV_ANSWER_VALUES_MAX; i++)
		assert_int_equal(buf_puts(&b, ",0"), 0);
	assert_int_equal(buf_puts(&b, "\"}"), 0);
	assert_int_equal(nav_merge_add(&m, 0, b.ptr, b.len), 0);
	/* A symbol object of many values. */
	buf_reset(&b);
	assert_int_equal(buf_puts(&b, "{\"found\":1,\"limit_hit\":false,\"defs\":[{\"tier\":1,"
				      "\"repo\":\"a\",\"json\":\"{\\\"repo\\\":\\\"a\\\",\\\"x\\\":[0"),
			 0);
	for (size_t i = 0; i < NAV_SYMBOL_VALUES_MAX; i++)
		assert_int_equal(buf_puts(&b, ",0"), 0);
	assert_int_equal(buf_puts(&b, "]}\"}]}"), 0);
	assert_int_equal(nav_merge_add(&m, 0, b.ptr, b.len), TRAWL_EINVAL);
	assert_int_equal(m.n, 0);
	nav_merge_dispose(&m);
	buf_dispose(&b);
}

static bool only_a(const void *arg, const char *repo)
{
	(void)arg;
	return strcmp(repo, "a") == 0;
}

/* SECURITY (attack s31): a definition of a repository the searcher was not asked for. */
static void merge_refuses_repositories_not_asked(void **state)
{
	struct nav_merge m = { .is_asked = only_a };

	(void)state;
	assert_int_equal(add(&m, 0, "{\"found\":2,\"limit_hit\":false,\"defs\":[" DEF(1, "a", "x")
				    "," DEF(1, "b", "y") "]}"),
			 TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "not asked for"));
	assert_int_equal(m.n, 0);
	assert_int_equal(m.found, 0);
	assert_int_equal(add(&m, 0, "{\"found\":1,\"limit_hit\":false,\"defs\":[" DEF(1, "a", "x")
				    "]}"),
			 0);
	assert_int_equal(m.n, 1);
	nav_merge_dispose(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_pos_takes_bounded_decimals),
		cmocka_unit_test(parse_pos_refuses_everything_else),
		cmocka_unit_test(ident_at_finds_the_word_under_the_column),
		cmocka_unit_test(ident_at_refuses_what_is_no_identifier),
		cmocka_unit_test(ident_at_refuses_positions_past_the_text),
		cmocka_unit_test(ident_at_counts_columns_in_utf16_units),
		cmocka_unit_test(ident_at_bounds_the_length),
		cmocka_unit_test(definitions_order_by_tier_then_place),
		cmocka_unit_test(merge_orders_as_one_process),
		cmocka_unit_test(merge_cuts_and_flags_the_limit),
		cmocka_unit_test(merge_refuses_malformed_answers),
		cmocka_unit_test(merge_refuses_repositories_not_asked),
		cmocka_unit_test(is_ident_takes_identifiers_only),
		cmocka_unit_test(merge_refuses_answers_of_many_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
