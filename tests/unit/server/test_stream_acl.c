/*
 * Unit tests for src/server/stream_acl.c: which repositories a running stream lost when its
 * caller's readable set changed, whether their results wait in its output, and what its summary
 * reports after the loss.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server/stream_acl.h"

/* An index's repositories, one per shard: b has two shards. */
static const char *const index_repos[] = { "a", "b", "b", "c", "d" };
#define N_INDEX (sizeof(index_repos) / sizeof(index_repos[0]))

static const char *const abc[] = { "a", "b", "c" };
static const char *const ac[] = { "a", "c" };
static const char *const abcd[] = { "a", "b", "c", "d" };
static const char *const ab_x[] = { "a", "b", "x" };

static struct search_repos set_of(const char *const *names, size_t n)
{
	return (struct search_repos){ .names = names, .n_names = n };
}

static void a_revoked_repository_is_lost_once(void **state)
{
	struct search_repos before = set_of(abc, 3), now = set_of(ac, 2);
	struct stream_acl_lost l = { 0 };

	(void)state;
	assert_int_equal(stream_acl_lost(&l, &before, &now, index_repos, N_INDEX), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.names[0], "b");
	stream_acl_lost_dispose(&l);
}

static void a_grown_or_unrelated_change_loses_nothing(void **state)
{
	struct search_repos before = set_of(ac, 2), grown = set_of(abcd, 4);
	struct search_repos ab = set_of(abc, 2), other = set_of(ab_x, 3);
	struct stream_acl_lost l = { 0 };

	(void)state;
	assert_int_equal(stream_acl_lost(&l, &before, &grown, index_repos, N_INDEX), 0);
	assert_int_equal(l.n, 0);
	/* d, which the stream never searched, and x, which the index lacks, change nothing. */
	assert_int_equal(stream_acl_lost(&l, &ab, &other, index_repos, N_INDEX), 0);
	assert_int_equal(l.n, 0);
	stream_acl_lost_dispose(&l);
}

static void an_administrator_demoted_loses_the_rest(void **state)
{
	struct search_repos all = { .is_all = true }, now = set_of(ac, 2), none = { 0 };
	struct stream_acl_lost l = { 0 };

	(void)state;
	assert_int_equal(stream_acl_lost(&l, &all, &now, index_repos, N_INDEX), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.names[0], "b");
	assert_string_equal(l.names[1], "d");
	assert_int_equal(stream_acl_lost(&l, &all, &all, index_repos, N_INDEX), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(stream_acl_lost(&l, &now, &none, index_repos, N_INDEX), 0);
	assert_int_equal(l.n, 2);
	stream_acl_lost_dispose(&l);
}

static void pending_finds_results_of_a_lost_repository_only(void **state)
{
	static const char *const lost_names[] = { "b\"q" };
	const struct stream_acl_lost l = { .names = (const char **)lost_names, .n = 1 };
	static const char theirs[] =
		"event: matches\ndata: "
		"[{\"type\":\"content\",\"repo\":\"b\\\"q\",\"path\":\"f\"}]\n\n";
	/* A line of another repository quoting the name, escaped as every string is. */
	static const char quoted[] =
		"event: matches\ndata: [{\"type\":\"content\",\"repo\":\"a\",\"path\":\"f\","
		"\"lines\":[{\"text\":\"\\\"repo\\\":\\\"b\\\\\\\"q\\\"\"}]}]\n\n";
	static const char prefix[] = "data: [{\"type\":\"repo\",\"repo\":\"b\\\"qq\"}]\n\n";

	(void)state;
	assert_true(stream_acl_pending(&l, theirs, strlen(theirs)));
	assert_false(stream_acl_pending(&l, quoted, strlen(quoted)));
	assert_false(stream_acl_pending(&l, prefix, strlen(prefix)));
	assert_false(stream_acl_pending(&l, theirs, 10));
}

/* The search's totals for a select:repo stream that sent a and b, then lost b. */
static struct search_stats totals(void)
{
	struct search_stats st = { 0 };

	st.lines = 759081;
	st.files = 7862;
	st.shards_total = st.shards_searched = 5;
	st.candidates = 9000;
	st.bytes_scanned = 1 << 20;
	st.elapsed_ms = 12.5;
	st.is_limit_hit = true;
	return st;
}

/* The counts of a summary, in the order of struct search_stats. */
static void check_counts(const struct search_stats *st, uint64_t lines, uint64_t files,
			 uint64_t shards, uint64_t candidates, uint64_t bytes)
{
	assert_int_equal(st->lines, lines);
	assert_int_equal(st->files, files);
	assert_int_equal(st->shards_total, shards);
	assert_int_equal(st->shards_searched, shards);
	assert_int_equal(st->candidates, candidates);
	assert_int_equal(st->bytes_scanned, bytes);
	/* What says how the search ended stays. */
	assert_true(st->is_limit_hit);
	assert_true(st->elapsed_ms == 12.5);
}

static void a_summary_after_a_loss_counts_what_was_sent(void **state)
{
	static const char *const lost_names[] = { "b" };
	const struct stream_acl_lost l = { .names = (const char **)lost_names, .n = 1 };
	const struct stream_acl_sent sent = { .lines = 0, .files = 2 };
	struct search_stats st = totals();

	(void)state;
	stream_acl_summary(&st, &l, 3, &sent);
	/* Not the search's totals, which count b's matches found after the loss. */
	check_counts(&st, 0, 2, 3, 0, 0);
}

static void a_summary_without_a_loss_is_the_searchs(void **state)
{
	const struct stream_acl_lost none = { 0 };
	const struct stream_acl_sent sent = { .lines = 1, .files = 1 };
	struct search_stats st = totals();

	(void)state;
	stream_acl_summary(&st, &none, 3, &sent);
	check_counts(&st, 759081, 7862, 5, 9000, 1 << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_revoked_repository_is_lost_once),
		cmocka_unit_test(a_grown_or_unrelated_change_loses_nothing),
		cmocka_unit_test(an_administrator_demoted_loses_the_rest),
		cmocka_unit_test(pending_finds_results_of_a_lost_repository_only),
		cmocka_unit_test(a_summary_after_a_loss_counts_what_was_sent),
		cmocka_unit_test(a_summary_without_a_loss_is_the_searchs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
