/*
 * Unit tests for src/cluster/wire.c: a searcher's answer round-trips (files with lines, match
 * ranges, branches, symbols, content for context lines with the far lines emptied, stats,
 * errors), bytes that are not UTF-8 arrive as they were, and hostile input (every truncation,
 * every byte changed, huge counts) is refused or decoded within bounds, never read past; what an
 * answer decodes to is bounded by the caller's budget, and a NaN score is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cluster/cluster.h"
#include "util/error.h"

static const char content[] = "line one\nline two \xff\xfe\nthree\nfour\nfive\nsix\nseven\n"
			      "eight\nnine\nten\n";

/* A content file matching on lines 2 and 9, two branches and a symbol. */
static void sample(struct search_file *f, struct search_line lines[2],
		   struct match_range ranges[3], struct search_symbol *sym)
{
	static const char *const branches[] = { "main", "release-1" };
	const char *l2 = strstr(content, "line two"), *l9 = strstr(content, "nine");

	ranges[0] = (struct match_range){ 0, 4 };
	ranges[1] = (struct match_range){ 5, 8 };
	ranges[2] = (struct match_range){ 0, 4 };
	lines[0] = (struct search_line){ 2, (const uint8_t *)l2, 11, ranges, 2 };
	lines[1] = (struct search_line){ 9, (const uint8_t *)l9, 4, ranges + 2, 1 };
	*sym = (struct search_symbol){ .name = "two", .name_len = 3, .kind = "function",
				       .kind_len = 8, .line = 2, .text = (const uint8_t *)l2,
				       .text_len = 11, .score = 12.5 };
	*f = (struct search_file){ .repo = "github.com/a/b", .path = "src/x.c", .path_len = 7,
				   .n_lines = 2, .lines = lines, .kind = SEARCH_CONTENT, .lang = 7,
				   .score = -3.25, .content = (const uint8_t *)content,
				   .content_len = sizeof(content) - 1, .branches = branches,
				   .n_branches = 2, .symbols = sym, .n_symbols = 1 };
}

static void encode(struct buf *b, unsigned context)
{
	struct search_file f;
	struct search_line lines[2];
	struct match_range ranges[3];
	struct search_symbol sym;
	struct search_stats st = { .lines = 2, .files = 1, .shards_total = 4, .is_limit_hit = true,
				   .is_repo_none = true, .elapsed_ms = 1.5, .rev_missing = 3 };

	snprintf(st.rev_warning, sizeof(st.rev_warning), "rev: v9 names no branch of x");
	sample(&f, lines, ranges, &sym);
	buf_init(b, BUF_MAX_DEFAULT);
	assert_int_equal(cluster_wire_begin(b), 0);
	assert_int_equal(cluster_wire_put_file(b, &f, context), 0);
	f.kind = SEARCH_PATH;
	f.lines = NULL;
	f.n_lines = 5; /* counted, not sent (a select:'s files, search_request.is_select_raw) */
	f.symbols = NULL;
	f.n_symbols = 0;
	assert_int_equal(cluster_wire_put_file(b, &f, context), 0);
	assert_int_equal(cluster_wire_put_progress(b, &(struct cluster_progress){ 70, 6, 3 }), 0);
	assert_int_equal(cluster_wire_put_stats(b, &st), 0);
}

static void answer_round_trips(void **state)
{
	struct buf b;
	struct cluster_answer a;
	const struct search_file *f;

	(void)state;
	encode(&b, 0);
	assert_int_equal(
		cluster_wire_decode(&a, (const uint8_t *)b.ptr, b.len, BUF_MAX_DEFAULT), 0);
	assert_int_equal(a.n_files, 2);
	f = &a.files[0];
	assert_string_equal(f->repo, "github.com/a/b");
	assert_int_equal(f->path_len, 7);
	assert_memory_equal(f->path, "src/x.c", 7);
	assert_true(f->score == -3.25);
	assert_int_equal(f->lang, 7);
	assert_int_equal(f->n_branches, 2);
	assert_string_equal(f->branches[1], "release-1");
	assert_int_equal(f->n_lines, 2);
	assert_int_equal(f->lines[0].lineno, 2);
	assert_memory_equal(f->lines[0].text, "line two \xff\xfe", 11); /* bytes as they were */
	assert_int_equal(f->lines[0].n_ranges, 2);
	assert_int_equal(f->lines[0].ranges[1].end, 8);
	assert_null(f->content); /* no context: no content */
	assert_int_equal(f->n_symbols, 1);
	assert_memory_equal(f->symbols[0].name, "two", 3);
	assert_null(f->symbols[0].scope);
	assert_true(f->symbols[0].score == 12.5);
	assert_int_equal(a.files[1].kind, SEARCH_PATH);
	assert_null(a.files[1].lines);
	assert_int_equal(a.files[1].n_lines, 5);
	assert_int_equal(a.progress.lines, 70);
	assert_int_equal(a.progress.files, 6);
	assert_int_equal(a.progress.shards, 3);
	assert_true(a.has_stats && a.stats.is_limit_hit && a.stats.is_repo_none &&
		    !a.stats.is_timeout);
	assert_int_equal(a.stats.shards_total, 4);
	assert_string_equal(a.stats.rev_warning, "rev: v9 names no branch of x");
	cluster_answer_dispose(&a);
	buf_dispose(&b);
}

static void context_content_keeps_line_numbers(void **state)
{
	struct buf b;
	struct cluster_answer a;
	const struct search_file *f;
	const char *c;

	(void)state;
	encode(&b, 1);
	assert_int_equal(
		cluster_wire_decode(&a, (const uint8_t *)b.ptr, b.len, BUF_MAX_DEFAULT), 0);
	f = &a.files[0];
	assert_non_null(f->content);
	c = (const char *)f->content;
	/* Lines 1-3 and 8-10 are kept, 4-7 emptied, every '\n' kept. */
	assert_int_equal(f->content_len, strlen("line one\nline two \xff\xfe\nthree\n\n\n\n\neight\n"
						"nine\nten\n"));
	assert_memory_equal(c, "line one\nline two \xff\xfe\nthree\n\n\n\n\neight\nnine\nten\n",
			    f->content_len);
	/* Each line's text points at its own line in the new content. */
	assert_ptr_equal(f->lines[0].text, f->content + 9);
	assert_memory_equal(f->lines[1].text, "nine", 4);
	cluster_answer_dispose(&a);
	buf_dispose(&b);
}

static void errors_round_trip(void **state)
{
	struct buf b;
	struct cluster_answer a;

	(void)state;
	buf_init(&b, BUF_MAX_DEFAULT);
	assert_int_equal(cluster_wire_begin(&b), 0);
	assert_int_equal(cluster_wire_put_error(&b, TRAWL_EINVAL, 4, "bad regex"), 0);
	assert_int_equal(
		cluster_wire_decode(&a, (const uint8_t *)b.ptr, b.len, BUF_MAX_DEFAULT), 0);
	assert_int_equal(a.err, TRAWL_EINVAL);
	assert_int_equal(a.err_pos, 4);
	assert_string_equal(a.err_msg, "bad regex");
	cluster_answer_dispose(&a);
	buf_dispose(&b);
}

static void hostile_input_is_refused_within_bounds(void **state)
{
	struct buf b;
	struct cluster_answer a;
	uint8_t *copy;

	(void)state;
	encode(&b, 2);
	copy = malloc(b.len + 1);
	assert_non_null(copy);
	/* Every truncation: refused (the stats record ends the answer). */
	for (size_t n = 0; n < b.len; n++) {
		memcpy(copy, b.ptr, n);
		if (cluster_wire_decode(&a, copy, n, BUF_MAX_DEFAULT) != TRAWL_ECORRUPT)
			fail_msg("a truncation at %zu was accepted", n);
		cluster_answer_dispose(&a);
	}
	/* Every byte changed, every way: refused or decoded, never read out of bounds (ASan). */
	for (size_t i = 0; i < b.len; i++)
		for (unsigned v = 0; v < 256; v += 17) {
			int err;

			memcpy(copy, b.ptr, b.len);
			copy[i] = (uint8_t)(copy[i] ^ (v | 1));
			err = cluster_wire_decode(&a, copy, b.len, BUF_MAX_DEFAULT);
			assert_true(err == 0 || err == TRAWL_ECORRUPT);
			cluster_answer_dispose(&a);
		}
	/* A count of a billion lines in a few bytes is refused before anything is allocated. */
	{
		static const uint8_t huge[] = { 'T', 'R', 'W', 'L', 'C', '1', 'F', 0, 0, 0, 0, 0,
						0, 0, 0, 0, 2, 'r', 0, 1, 0, 0, 0, 0x80, 0x94,
						0xeb, 0xdc, 0x03, 1 };

		assert_int_equal(cluster_wire_decode(&a, huge, sizeof(huge), BUF_MAX_DEFAULT),
				 TRAWL_ECORRUPT);
		cluster_answer_dispose(&a);
	}
	assert_int_equal(cluster_wire_decode(&a, (const uint8_t *)"HTTP/1.1", 8, BUF_MAX_DEFAULT),
			 TRAWL_ECORRUPT);
	cluster_answer_dispose(&a);
	free(copy);
	buf_dispose(&b);
}

/*
 * A file record of n lines, each the fewest bytes a line takes (no text, no range): a
 * compromised searcher's answer that decodes to about 13 times its size.
 */
static void put_many_lines(struct buf *b, size_t n)
{
	static const uint8_t head[] = { 'F', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 'r', 0, 2, 'p', 0,
					0, 0 };

	assert_int_equal(buf_put(b, head, sizeof(head)), 0);
	assert_int_equal(buf_put_uvarint(b, n), 0);
	assert_int_equal(buf_putc(b, 1), 0); /* has lines */
	for (size_t i = 0; i < n; i++) {
		static const uint8_t line[] = { 1, 0, 0 }; /* lineno 1, no text, no range */

		assert_int_equal(buf_put(b, line, sizeof(line)), 0);
	}
	assert_int_equal(buf_putc(b, 0), 0); /* no symbol */
}

/* SECURITY (attack s31): what an answer decodes to is bounded by the caller, not by its bytes. */
static void decoded_memory_is_bounded(void **state)
{
	struct search_stats st = { 0 };
	struct cluster_answer a;
	struct buf b;
	size_t n = 100000;

	(void)state;
	buf_init(&b, BUF_MAX_DEFAULT);
	assert_int_equal(cluster_wire_begin(&b), 0);
	put_many_lines(&b, n);
	assert_int_equal(cluster_wire_put_stats(&b, &st), 0);
	/* About 300 KB of lines, 4 MB of search_lines: refused under 1 MB, decoded under 8 MB. */
	assert_true(b.len < 400000 && n * sizeof(struct search_line) > 3900000);
	assert_int_equal(cluster_wire_decode(&a, (const uint8_t *)b.ptr, b.len, 1 << 20),
			 TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "larger than"));
	cluster_answer_dispose(&a);
	assert_int_equal(cluster_wire_decode(&a, (const uint8_t *)b.ptr, b.len, 8 << 20), 0);
	assert_int_equal(a.files[0].n_lines, n);
	cluster_answer_dispose(&a);
	buf_dispose(&b);
}

/* Writes a double as the wire does (IEEE, little-endian) at p. */
static void put_le_double(uint8_t *p, double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(u >> (8 * i));
}

/*
 * SECURITY (attack s31): a NaN score is refused: the merge's orders (cmp_pick, cmp_sym_pick)
 * compare scores, and NaN makes qsort's comparison inconsistent.
 */
static void nan_scores_are_refused(void **state)
{
	struct search_file f;
	struct search_line lines[2];
	struct match_range ranges[3];
	struct search_symbol sym;
	struct search_stats st = { 0 };
	struct cluster_answer a;
	double nan = strtod("nan", NULL);
	struct buf b;

	(void)state;
	for (int which = 0; which < 2; which++) {
		sample(&f, lines, ranges, &sym);
		if (which == 0)
			f.score = nan;
		else
			sym.score = nan;
		buf_init(&b, BUF_MAX_DEFAULT);
		assert_int_equal(cluster_wire_begin(&b), 0);
		assert_int_equal(cluster_wire_put_file(&b, &f, 0), 0);
		assert_int_equal(cluster_wire_put_stats(&b, &st), 0);
		assert_int_equal(cluster_wire_decode(&a, (const uint8_t *)b.ptr, b.len, 1 << 20),
				 TRAWL_ECORRUPT);
		cluster_answer_dispose(&a);
		buf_dispose(&b);
	}
	/* Infinities order consistently: they decode. */
	{
		uint8_t rec[] = { 'T', 'R', 'W', 'L', 'C', '1', 'F', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				  2, 'r', 0, 2, 'p', 0, 0, 0, 0, 0, 0 };

		put_le_double(rec + 9, -1.0 / 0.0);
		buf_init(&b, BUF_MAX_DEFAULT);
		assert_int_equal(buf_put(&b, rec, sizeof(rec)), 0);
		assert_int_equal(cluster_wire_put_stats(&b, &st), 0);
		assert_int_equal(cluster_wire_decode(&a, (const uint8_t *)b.ptr, b.len, 1 << 20), 0);
		cluster_answer_dispose(&a);
		buf_dispose(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answer_round_trips),
		cmocka_unit_test(context_content_keeps_line_numbers),
		cmocka_unit_test(errors_round_trip),
		cmocka_unit_test(hostile_input_is_refused_within_bounds),
		cmocka_unit_test(decoded_memory_is_bounded),
		cmocka_unit_test(nan_scores_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
