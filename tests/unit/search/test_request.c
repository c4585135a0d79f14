/*
 * Unit tests for search_request_run, the one request path of the command line, the JSON API
 * and the stream: the readable set is required and applied, select: projects and count:
 * counts the selected results, and the alerts come in their order, the sink's own limits and
 * lateness included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "build/build.h"
#include "index/shard.h"
#include "query/query.h"
#include "search/request.h"
#include "search/search_json.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"
#include "unit/testlib.h"

static char ixdir[256];

/* Three repositories; every file holds "word" on three lines. */
static int setup(void **state)
{
	static const char *const repos[] = { "alpha", "beta", "hidden" };
	struct build_opts o = { BUILD_MAX_FILE_SIZE_DEFAULT, 1, NULL };
	struct build_stats st;

	if (testlib_setup(state) < 0)
		return -1;
	snprintf(ixdir, sizeof(ixdir), "%s/ix", testlib_tmpdir());
	for (size_t i = 0; i < 3; i++) {
		char dir[256];

		snprintf(dir, sizeof(dir), "%s/%s", testlib_tmpdir(), repos[i]);
		file_mkdirs(dir);
		testlib_write_file(dir, "a.txt", "word one\nword two\nword three\n");
		testlib_write_file(dir, "b.txt", "word four\nword five\nword six\n");
		testlib_write_file(dir, "c.txt", "word seven\nword eight\nword nine\n");
		if (build_dir(&st, ixdir, repos[i], dir, &o, NULL, NULL) < 0)
			return -1;
	}
	return 0;
}

/* A sink that records what it is given, and can stop, fill up or be late on demand. */
struct rec {
	struct search_sink sink;
	struct buf files;   /* "repo/path:kind;" each */
	struct buf alerts;  /* "kind:message;" each, in order */
	size_t n_files;
	size_t n_alerts_before_first_file;
	size_t n_alerts;
	size_t full_after;  /* with is_stop_full: is_full at this many files */
	size_t late_after;  /* with is_stop_late: is_late at this many files */
	bool is_stop_full;
	bool is_stop_late;
	bool is_flushed;
};

static int rec_file(struct search_sink *sk, const struct search_file *f)
{
	struct rec *r = (struct rec *)sk;

	if (r->is_stop_full && r->n_files == r->full_after) {
		sk->is_full = true;
		return 1;
	}
	if (r->is_stop_late && r->n_files == r->late_after) {
		sk->is_late = true;
		return 1;
	}
	if (r->n_files++ == 0)
		r->n_alerts_before_first_file = r->n_alerts;
	buf_printf(&r->files, "%s/%.*s:%d;", f->repo, (int)f->path_len, f->path, (int)f->kind);
	return 0;
}

static int rec_alert(struct search_sink *sk, enum search_alert a, const char *msg)
{
	struct rec *r = (struct rec *)sk;

	r->n_alerts++;
	buf_printf(&r->alerts, "%d:%s;", (int)a, msg);
	return 0;
}

static void rec_flush(struct search_sink *sk)
{
	((struct rec *)sk)->is_flushed = true;
}

static void rec_init(struct rec *r)
{
	*r = (struct rec){ .sink = { .file = rec_file, .alert = rec_alert, .flush = rec_flush } };
	buf_init(&r->files, 1 << 20);
	buf_init(&r->alerts, 1 << 20);
	buf_putc(&r->files, 0);
	buf_putc(&r->alerts, 0);
	r->files.len = r->alerts.len = 0;
}

static void rec_dispose(struct rec *r)
{
	buf_dispose(&r->files);
	buf_dispose(&r->alerts);
}

/* Runs qtext over the fixture as readable (NULL: every repository) into r. */
static bool is_raw_run; /* the next run() is a searcher's (search_request.is_select_raw) */

static int run(struct search_stats *st, struct rec *r, const char *qtext,
	       const struct search_repos *readable)
{
	static const struct search_repos all = { .is_all = true };
	struct query *q = NULL;
	struct index *ix = NULL;
	struct search_request rq = { .readable = readable ? readable : &all,
				     .is_select_raw = is_raw_run };
	int err;

	assert_int_equal(query_parse(&q, qtext, strlen(qtext)), 0);
	assert_int_equal(index_open(&ix, ixdir), 0);
	rq.opts = (struct search_opts){ .query = q, .want_lines = true, .n_threads = 2 };
	err = search_request_run(st, ix, &rq, &r->sink);
	index_close(ix);
	query_free(q);
	return err;
}

static size_t count_of(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void request_requires_the_readable_set(void **state)
{
	struct search_request rq = { .readable = NULL };
	struct search_stats st;
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(search_request_run(&st, NULL, &rq, &r.sink), TRAWL_EINVAL);
	assert_int_equal(r.n_files, 0);
	assert_int_equal(r.n_alerts, 0);
	rec_dispose(&r);
}

static void request_applies_the_readable_set_to_select(void **state)
{
	static const char *const names[] = { "alpha", "beta" };
	struct search_repos some = { .names = names, .n_names = 2 };
	struct search_stats st;
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&st, &r, "word select:repo count:all", &some), 0);
	assert_int_equal(r.n_files, 2);
	assert_null(strstr(r.files.ptr, "hidden"));
	assert_int_equal(st.files, 6); /* every file of the readable ones, none of the hidden */
	rec_dispose(&r);
}

/* select:file count:N counts files (it counted lines: count:2 gave one file of three lines). */
static void request_select_file_count_counts_files(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&st, &r, "word select:file count:2", NULL), 0);
	assert_int_equal(r.n_files, 2);
	assert_int_equal(count_of(r.files.ptr, ":1;"), 2); /* SEARCH_PATH, projected */
	assert_true(st.is_limit_hit);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.lines, 6);
	assert_non_null(strstr(r.alerts.ptr, "2:the result limit stopped the search"));
	rec_dispose(&r);
	/* As many as there are: no limit was hit. */
	rec_init(&r);
	assert_int_equal(run(&st, &r, "word select:file count:9", NULL), 0);
	assert_int_equal(r.n_files, 9);
	assert_false(st.is_limit_hit);
	assert_int_equal(r.n_alerts, 0);
	rec_dispose(&r);
}

static void request_select_repo_count_counts_repositories(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&st, &r, "word select:repo count:2", NULL), 0);
	assert_int_equal(r.n_files, 2);
	assert_int_equal(count_of(r.files.ptr, ":2;"), 2); /* SEARCH_REPO */
	assert_true(st.is_limit_hit);
	rec_dispose(&r);
	rec_init(&r);
	assert_int_equal(run(&st, &r, "word select:repo count:3", NULL), 0);
	assert_int_equal(r.n_files, 3);
	assert_false(st.is_limit_hit);
	rec_dispose(&r);
}

/*
 * A cluster's searcher (is_select_raw): count: still counts repositories, but the sink gets
 * the files behind them as found, lines off, and the stats count those files, as one process.
 */
static void request_select_raw_hands_on_the_files_behind(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	rec_init(&r);
	is_raw_run = true;
	assert_int_equal(run(&st, &r, "word select:repo count:2", NULL), 0);
	is_raw_run = false;
	assert_int_equal(r.n_files, 6); /* three files of each of two repositories */
	assert_int_equal(count_of(r.files.ptr, ":0;"), 6); /* SEARCH_CONTENT, unprojected */
	assert_int_equal(st.files, 6);
	assert_int_equal(st.lines, 18);
	assert_true(st.is_limit_hit);
	rec_dispose(&r);
}

/* Without select:, count: still counts matching lines. */
static void request_count_without_select_counts_lines(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&st, &r, "word count:4", NULL), 0);
	assert_int_equal(st.lines, 4);
	assert_true(st.is_limit_hit);
	rec_dispose(&r);
}

static void request_alerts_come_in_order(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	rec_init(&r);
	r.is_stop_full = true;
	r.full_after = 1;
	assert_int_equal(run(&st, &r, "word timeout:2m count:all", NULL), 0);
	/* The warning before the first result, the sink's output limit after the last. */
	assert_int_equal(r.n_alerts_before_first_file, 1);
	assert_int_equal(r.n_alerts, 2);
	assert_int_equal(strncmp(r.alerts.ptr, "0:timeout: is at most 60s", 25), 0);
	assert_non_null(strstr(r.alerts.ptr, ";4:the response size limit stopped the results"));
	/* The summary's limit_hit covers the sink's limit too. */
	assert_true(st.is_limit_hit);
	assert_true(r.is_flushed);
	rec_dispose(&r);
}

/*
 * repo: that matches no readable repository warns, the same whether the repository is hidden
 * from the caller or does not exist; repo:has.* and an OR that needs no repository do not.
 */
static void request_repo_matching_nothing_readable_warns(void **state)
{
	static const char *const names[] = { "alpha", "beta" };
	struct search_repos some = { .names = names, .n_names = 2 };
	static const char *const queries[] = { "word repo:^hidden$", "word repo:^nosuch$",
					       "word -repo:.", "word repo:hid -repo:alpha" };
	static const char *const quiet[] = { "word repo:^alpha$", "zzz repo:^beta$",
					     "word (repo:^hidden$ OR file:a)",
					     "word repo:has.path(nosuch)" };
	struct search_stats st;
	struct rec r;

	(void)state;
	for (size_t i = 0; i < sizeof(queries) / sizeof(*queries); i++) {
		rec_init(&r);
		assert_int_equal(run(&st, &r, queries[i], &some), 0);
		assert_int_equal(r.n_files, 0);
		assert_string_equal(r.alerts.ptr,
				    "7:repo: matches no repository you can read: no results;");
		assert_true(st.is_repo_none);
		rec_dispose(&r);
	}
	for (size_t i = 0; i < sizeof(quiet) / sizeof(*quiet); i++) {
		rec_init(&r);
		assert_int_equal(run(&st, &r, quiet[i], &some), 0);
		assert_null(strstr(r.alerts.ptr, "repo: matches"));
		assert_false(st.is_repo_none);
		rec_dispose(&r);
	}
	/* The test can fail: hidden is found by a caller who can read it. */
	rec_init(&r);
	assert_int_equal(run(&st, &r, "word repo:^hidden$", NULL), 0);
	assert_int_equal(r.n_files, 3);
	assert_int_equal(r.n_alerts, 0);
	rec_dispose(&r);
	assert_string_equal(search_alert_reason(SEARCH_ALERT_REPO_NONE), "repo");
	assert_string_equal(search_alert_kind(SEARCH_ALERT_REPO_NONE), "warning");
}

static void request_late_sink_is_a_timeout(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	rec_init(&r);
	r.is_stop_late = true;
	r.late_after = 1;
	assert_int_equal(run(&st, &r, "word count:all", NULL), 0);
	assert_true(st.is_timeout);
	assert_false(st.is_canceled);
	assert_non_null(strstr(r.alerts.ptr, "5:the time limit stopped the search"));
	rec_dispose(&r);
}

static int gone_file(struct search_sink *sk, const struct search_file *f)
{
	(void)f;
	sk->is_gone = true;
	sk->err = TRAWL_ECANCELED; /* ignored: nobody is there to tell */
	return 1;
}

static void request_gone_sink_gets_no_closing_alerts(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	rec_init(&r);
	r.sink.file = gone_file;
	assert_int_equal(run(&st, &r, "word count:1", NULL), 0);
	assert_true(st.is_canceled);
	assert_int_equal(r.n_alerts, 0);
	assert_false(r.is_flushed);
	rec_dispose(&r);
}

static int failing_file(struct search_sink *sk, const struct search_file *f)
{
	(void)f;
	sk->err = TRAWL_ENOMEM;
	return 1;
}

static void request_returns_the_sink_error(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	rec_init(&r);
	r.sink.file = failing_file;
	assert_int_equal(run(&st, &r, "word", NULL), TRAWL_ENOMEM);
	assert_int_equal(r.n_alerts, 0);
	rec_dispose(&r);
}

/*
 * select: shows each repository or file once, however many: 200,000 files (the keys are a
 * hashed set: a scan of the keys seen made select:file over a large corpus quadratic), every
 * one new the first time and seen the second, a repository and its files apart.
 */
static void select_shows_each_key_once(void **state)
{
	struct search_select fsel, rsel;
	struct search_file f = { .repo = "r", .kind = SEARCH_CONTENT }, out;
	char path[32];
	unsigned shown = 0, again = 0, repos = 0;

	(void)state;
	search_select_init(&fsel, QS_FILE);
	search_select_init(&rsel, QS_REPO);
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < 200000; i++) {
			f.path = path;
			f.path_len = (size_t)snprintf(path, sizeof(path), "d%u/f%u.c", i % 97, i);
			f.repo = i % 3 ? "alpha" : "beta";
			if (search_select_apply(&fsel, &out, &f))
				pass ? again++ : shown++;
			repos += search_select_apply(&rsel, &out, &f);
			assert_int_equal(out.kind, SEARCH_REPO);
			assert_null(out.lines);
		}
	assert_int_equal(shown, 200000);
	assert_int_equal(again, 0);
	assert_int_equal(repos, 2);
	/* "alpha" + "/x" is not the repository "alpha/x": keys hold the repository whole. */
	f.repo = "alpha/x";
	assert_true(search_select_apply(&rsel, &out, &f));
	search_select_dispose(&fsel);
	search_select_dispose(&rsel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_requires_the_readable_set),
		cmocka_unit_test(request_applies_the_readable_set_to_select),
		cmocka_unit_test(request_select_file_count_counts_files),
		cmocka_unit_test(request_select_repo_count_counts_repositories),
		cmocka_unit_test(request_repo_matching_nothing_readable_warns),
		cmocka_unit_test(request_select_raw_hands_on_the_files_behind),
		cmocka_unit_test(request_count_without_select_counts_lines),
		cmocka_unit_test(request_alerts_come_in_order),
		cmocka_unit_test(request_late_sink_is_a_timeout),
		cmocka_unit_test(request_gone_sink_gets_no_closing_alerts),
		cmocka_unit_test(request_returns_the_sink_error),
		cmocka_unit_test(select_shows_each_key_once),
	};

	return cmocka_run_group_tests(tests, setup, testlib_teardown);
}
