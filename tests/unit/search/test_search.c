/*
 * Unit tests for the executor: the repository set is applied before anything else (a canary in
 * an unreadable repository never shows, not even in counts), limits, and ordering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "build/build.h"
#include "index/shard.h"
#include "search/search.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"
#include "unit/testlib.h"

static char ixdir[256];
static bool is_compound_setup;

static int setup(void **state)
{
	char pub[256], priv[256];
	struct build_stats st;
	struct build_opts o = { BUILD_MAX_FILE_SIZE_DEFAULT, 1, NULL };

	if (testlib_setup(state) < 0)
		return -1;
	snprintf(pub, sizeof(pub), "%s/public", testlib_tmpdir());
	snprintf(priv, sizeof(priv), "%s/private", testlib_tmpdir());
	snprintf(ixdir, sizeof(ixdir), "%s/ix", testlib_tmpdir());
	file_mkdirs(pub);
	file_mkdirs(priv);
	testlib_write_file(pub, "a.txt", "shared word\nline two\nshared again\n");
	testlib_write_file(pub, "b.txt", "shared in b\n");
	testlib_write_file(priv, "secret.txt", "shared CANARY_7f3a9c\nshared\nshared\nshared\n");
	if (is_compound_setup) {
		/* One compound shard holding both: every test below must answer the same. */
		char *names[] = { "public", "private" }, *roots[] = { pub, priv };
		struct build_stats each[2];

		return build_dirs(each, &st, ixdir, names, roots, 2, &o, NULL, NULL) < 0 ? -1 : 0;
	}
	if (build_dir(&st, ixdir, "public", pub, &o, NULL, NULL) < 0 ||
	    build_dir(&st, ixdir, "private", priv, &o, NULL, NULL) < 0)
		return -1;
	return 0;
}

/* The same index as setup's, as one compound shard (shards of one repository each: setup). */
static int setup_compound(void **state)
{
	struct index *ix = NULL;
	int err;

	is_compound_setup = true;
	if ((err = setup(state)) < 0)
		return err;
	/* The layout under test: two repositories' shards, one file. */
	if (index_open(&ix, ixdir) < 0)
		return -1;
	err = index_n_shards(ix) == 2 && index_n_files(ix) == 1 ? 0 : -1;
	index_close(ix);
	return err;
}

struct seen {
	struct buf text;
	int files;
};

static int on_file(const struct search_file *f, void *arg)
{
	struct seen *s = arg;

	s->files++;
	buf_printf(&s->text, "%s/%.*s:%llu;", f->repo, (int)f->path_len, f->path,
		   (unsigned long long)f->n_lines);
	return 0;
}

static int run(struct search_stats *st, struct seen *s, const struct search_repos *repos,
	       const char *pattern, uint64_t limit, uint64_t max_per_file)
{
	struct index *ix = NULL;
	struct search_opts o = { .pattern = pattern, .pattern_len = strlen(pattern),
				 .want_lines = true, .limit = limit, .max_per_file = max_per_file,
				 .n_threads = 2 };
	int err;

	buf_init(&s->text, 1 << 20);
	s->files = 0;
	assert_int_equal(index_open(&ix, ixdir), 0);
	err = search_run(st, ix, repos, &o, on_file, s);
	index_close(ix);
	return err;
}

/* Runs a query (the query language) instead of a pattern. */
static int run_query(struct search_stats *st, struct seen *s, const struct search_repos *repos,
		     const char *text)
{
	struct index *ix = NULL;
	struct query *q = NULL;
	struct search_opts o = { .want_lines = true, .n_threads = 2 };
	int err;

	buf_init(&s->text, 1 << 20);
	s->files = 0;
	assert_int_equal(query_parse(&q, text, strlen(text)), 0);
	o.query = q;
	assert_int_equal(index_open(&ix, ixdir), 0);
	err = search_run(st, ix, repos, &o, on_file, s);
	index_close(ix);
	query_free(q);
	return err;
}

/* The order of callbacks: 'F' per file, 'P' per finished shard. */
struct trace {
	struct seen s;
	char ev[64];
	size_t n;
};

static int on_file_traced(const struct search_file *f, void *arg)
{
	struct trace *t = arg;

	if (t->n < sizeof(t->ev) - 1)
		t->ev[t->n++] = 'F';
	return on_file(f, &t->s);
}

static void on_progress_traced(const struct search_progress *p, void *arg)
{
	struct trace *t = arg;

	(void)p;
	if (t->n < sizeof(t->ev) - 1)
		t->ev[t->n++] = 'P';
}

static void run_traced(struct trace *t, const char *text, bool is_early)
{
	static const struct search_repos all = { .is_all = true };
	struct search_stats st;
	struct index *ix = NULL;
	struct query *q = NULL;
	struct search_opts o = { .want_lines = true, .n_threads = 2, .is_early = is_early,
				 .progress = on_progress_traced };

	memset(t, 0, sizeof(*t));
	buf_init(&t->s.text, 1 << 20);
	o.progress_arg = t;
	assert_int_equal(query_parse(&q, text, strlen(text)), 0);
	o.query = q;
	assert_int_equal(index_open(&ix, ixdir), 0);
	assert_int_equal(search_run(&st, ix, &all, &o, on_file_traced, t), 0);
	index_close(ix);
	query_free(q);
}

/* An index of 40 repositories (one shard each) of 1000 matching lines each, in TMP/many. */
static void make_many(char *out, size_t size)
{
	struct build_opts bo = { BUILD_MAX_FILE_SIZE_DEFAULT, 1, NULL };
	struct build_stats bs;
	struct buf text;
	struct stat sb;

	snprintf(out, size, "%s/many", testlib_tmpdir());
	if (stat(out, &sb) == 0)
		return;
	buf_init(&text, 1 << 20);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&text, "bulk line %d of filler text\n", i), 0);
	for (int r = 0; r < 40; r++) {
		char src[300], name[32];

		snprintf(src, sizeof(src), "%s/many-src/r%02d", testlib_tmpdir(), r);
		snprintf(name, sizeof(name), "r%02d", r);
		assert_int_equal(file_mkdirs(src), 0);
		testlib_write_file(src, "f.txt", text.ptr);
		assert_int_equal(build_dir(&bs, out, name, src, &bo, NULL, NULL), 0);
	}
	buf_dispose(&text);
}

/* Sleeps once, on the first file, as a client that reads slowly does. */
static int on_file_slow_once(const struct search_file *f, void *arg)
{
	struct seen *s = arg;
	struct timespec ts = { 0, 300 * 1000000L };

	if (s->files == 0)
		nanosleep(&ts, NULL);
	return on_file(f, s);
}

/* Sleeps on the first file for longer than the hand-out's grace after a short timeout. */
static int on_file_slow_twice(const struct search_file *f, void *arg)
{
	struct seen *s = arg;
	struct timespec ts = { 1, 300 * 1000000L };

	if (s->files == 0)
		nanosleep(&ts, NULL);
	return on_file(f, s);
}

static void run_many(struct search_stats *st, struct seen *s, const char *text, size_t mem_limit,
		     bool is_early, search_file_fn fn)
{
	static const struct search_repos all = { .is_all = true };
	char dir[300];
	struct index *ix = NULL;
	struct query *q = NULL;
	struct search_opts o = { .want_lines = true, .n_threads = 2, .is_early = is_early,
				 .mem_limit = mem_limit };

	make_many(dir, sizeof(dir));
	buf_init(&s->text, 1 << 22);
	s->files = 0;
	if (text[0] == '-') {
		o.pattern = text + 1; /* a ripgrep-style pattern: handed out shard by shard */
		o.pattern_len = strlen(text + 1);
	} else {
		assert_int_equal(query_parse(&q, text, strlen(text)), 0);
		o.query = q;
	}
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(search_run(st, ix, &all, &o, fn, s), 0);
	index_close(ix);
	query_free(q);
}

/*
 * A consumer that stops for a while (a stream whose client does not read) holds the workers
 * within a window of shards ahead of it: they do not collect the whole index meanwhile.
 */
static void workers_wait_for_a_slow_consumer(void **state)
{
	struct search_stats all_kept, early, unranked;
	struct seen s;

	(void)state;
	/* Ranked at the end: every shard's results are held at once. */
	run_many(&all_kept, &s, "count:all bulk", 0, false, on_file);
	assert_int_equal(s.files, 40);
	buf_dispose(&s.text);
	run_many(&early, &s, "count:all bulk", 0, true, on_file_slow_once);
	assert_int_equal(s.files, 40);
	buf_dispose(&s.text);
	run_many(&unranked, &s, "-bulk", 0, false, on_file_slow_once);
	assert_int_equal(s.files, 40);
	assert_int_equal(unranked.lines, 40000);
	buf_dispose(&s.text);
	/* A window of 2 x 2 threads shards (and the one being handed out) of 40. */
	assert_true(early.mem_peak * 4 < all_kept.mem_peak);
	assert_true(unranked.mem_peak * 4 < all_kept.mem_peak);
}

/* The memory limit stops the search with what it found, flagged, not with an error. */
static void memory_limit_stops_with_partial_results(void **state)
{
	struct search_stats st, all_kept;
	struct seen s;

	(void)state;
	run_many(&all_kept, &s, "count:all bulk", 0, false, on_file);
	buf_dispose(&s.text);
	run_many(&st, &s, "count:all bulk", all_kept.mem_peak / 4, false, on_file);
	assert_true(st.is_mem_limit);
	assert_false(st.is_limit_hit);
	assert_true(s.files > 0 && s.files < 40);
	assert_true(st.lines > 0 && st.lines < 40000);
	assert_true(st.mem_peak <= all_kept.mem_peak / 4);
	buf_dispose(&s.text);
	/* Without a limit nothing is flagged. */
	assert_false(all_kept.is_mem_limit);
}

/* A count-limited query (read best first across shards) stops at the memory limit the same way. */
static void memory_limit_stops_a_best_first_search(void **state)
{
	struct search_stats st, all_kept;
	struct seen s;

	(void)state;
	run_many(&all_kept, &s, "count:all bulk", 0, false, on_file);
	buf_dispose(&s.text);
	run_many(&st, &s, "count:30000 bulk", all_kept.mem_peak / 4, false, on_file);
	assert_true(st.is_mem_limit);
	assert_true(s.files > 0 && s.files < 30);
	assert_true(st.lines > 0 && st.lines < 30000);
	assert_true(st.mem_peak <= all_kept.mem_peak / 4);
	buf_dispose(&s.text);
	/* Without the limit: exactly the count, flagged as cut. */
	run_many(&st, &s, "count:30000 bulk", 0, false, on_file);
	assert_false(st.is_mem_limit);
	assert_int_equal(st.lines, 30000);
	assert_int_equal(s.files, 30);
	assert_true(st.is_limit_hit);
	buf_dispose(&s.text);
}

/* Handing results out counts against timeout: a slow consumer ends the search at its deadline. */
static void timeout_ends_the_hand_out(void **state)
{
	struct search_stats st;
	struct seen s;

	(void)state;
	run_many(&st, &s, "count:all timeout:100ms bulk", 0, false, on_file_slow_twice);
	assert_true(st.is_timeout);
	assert_int_equal(s.files, 1);
	buf_dispose(&s.text);
}

/* Sleeps after the first shard, past a 100 ms timeout. */
static void on_progress_slow_once(const struct search_progress *p, void *arg)
{
	struct timespec ts = { 0, 200 * 1000000L };

	(void)arg;
	if (p->shards_done == 1)
		nanosleep(&ts, NULL);
}

/* A search stopped by timeout: hands out what it found in time, flagged. */
static void timeout_hands_out_what_was_found(void **state)
{
	static const struct search_repos all = { .is_all = true };
	char dir[300];
	struct index *ix = NULL;
	struct query *q = NULL;
	struct search_stats st;
	struct seen s;
	struct search_opts o = { .want_lines = true, .n_threads = 1,
				 .progress = on_progress_slow_once };

	(void)state;
	make_many(dir, sizeof(dir));
	buf_init(&s.text, 1 << 22);
	s.files = 0;
	assert_int_equal(query_parse(&q, "count:all timeout:100ms bulk", 28), 0);
	o.query = q;
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(search_run(&st, ix, &all, &o, on_file, &s), 0);
	/* The first shard was searched in time; the rest were not; the first is the answer. */
	assert_true(st.is_timeout);
	assert_int_equal(s.files, 1);
	index_close(ix);
	query_free(q);
	buf_dispose(&s.text);
}

/* A run over its time budget gives up with EAGAIN (the server then runs it elsewhere). */
static void budget_gives_up_with_eagain(void **state)
{
	static const struct search_repos all = { .is_all = true };
	char dir[300];
	struct index *ix = NULL;
	struct query *q = NULL;
	struct search_stats st;
	struct seen s;
	struct search_opts o = { .want_lines = true, .n_threads = 2, .budget_ms = 1 };

	(void)state;
	make_many(dir, sizeof(dir));
	buf_init(&s.text, 1 << 22);
	s.files = 0;
	assert_int_equal(query_parse(&q, "count:all bulk", 14), 0);
	o.query = q;
	assert_int_equal(index_open(&ix, dir), 0);
	/* The slow consumer makes sure the run outlives the budget. */
	assert_int_equal(search_run(&st, ix, &all, &o, on_file_slow_once, &s), TRAWL_EAGAIN);
	o.budget_ms = 60000;
	s.files = 0;
	assert_int_equal(search_run(&st, ix, &all, &o, on_file, &s), 0);
	assert_int_equal(s.files, 40);
	index_close(ix);
	query_free(q);
	buf_dispose(&s.text);
}

/* Whether every "repo/path:n;" item of a is in b. */
static bool items_in(const char *a, const char *b)
{
	for (const char *p = a, *e; (e = strchr(p, ';')); p = e + 1) {
		char item[256];

		snprintf(item, sizeof(item), "%.*s", (int)(e - p + 1), p);
		if (!strstr(b, item))
			return false;
	}
	return true;
}

/* count:all with is_early: each shard's files before the next shard's progress, same files. */
static void early_emission_gives_the_same_files_per_shard(void **state)
{
	struct trace ranked, early, limited;

	(void)state;
	run_traced(&ranked, "count:all shared", false);
	run_traced(&early, "count:all shared", true);
	run_traced(&limited, "count:2 shared", true);
	/* Progress per shard, whether or not the repositories share a file. */
	assert_string_equal(ranked.ev, "PPFFF");
	assert_int_equal(early.s.files, 3);
	assert_true(strchr(early.ev, 'F') < strrchr(early.ev, 'P'));
	assert_true(items_in(ranked.s.text.ptr, early.s.text.ptr));
	assert_true(items_in(early.s.text.ptr, ranked.s.text.ptr));
	/* With a count limit the files are ranked across shards first. */
	assert_true(strchr(limited.ev, 'F') > strrchr(limited.ev, 'P'));
	buf_dispose(&ranked.s.text);
	buf_dispose(&early.s.text);
	buf_dispose(&limited.s.text);
}

/* SECURITY: no query shape reveals an unreadable repository: content, paths, names, counts. */
static void queries_never_reveal_unreadable_repositories(void **state)
{
	const char *names[] = { "public" };
	struct search_repos repos = { false, names, 1 };
	static const char *const queries[] = {
		"CANARY_7f3a9c", "canary_7f3a9c count:all", "type:repo private", "type:repo .",
		"type:path secret", "select:repo shared", "repo:private shared",
		"repo:. shared NOT CANARY", "file:secret", "-repo:public shared",
		"shared OR canary_7f3a9c",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		struct search_stats st;
		struct seen s;

		assert_int_equal(run_query(&st, &s, &repos, queries[i]), 0);
		if (s.text.ptr && (strstr(s.text.ptr, "private") || strstr(s.text.ptr, "secret")))
			fail_msg("query \"%s\" revealed: %s", queries[i], s.text.ptr);
		assert_true(st.lines <= 3);
		assert_int_equal(st.shards_searched, 1);
		buf_dispose(&s.text);
	}
}

static void query_count_limits_lines_and_says_so(void **state)
{
	struct search_repos all = { .is_all = true };
	struct search_stats st;
	struct seen s;

	(void)state;
	assert_int_equal(run_query(&st, &s, &all, "shared count:2"), 0);
	assert_int_equal(st.lines, 2);
	assert_true(st.is_limit_hit);
	buf_dispose(&s.text);
	assert_int_equal(run_query(&st, &s, &all, "shared count:all"), 0);
	assert_int_equal(st.lines, 7);
	assert_false(st.is_limit_hit);
	buf_dispose(&s.text);
}

static void canary_in_unreadable_repository_never_shows(void **state)
{
	const char *names[] = { "public" };
	struct search_repos repos = { false, names, 1 };
	struct search_stats st;
	struct seen s;

	(void)state;
	assert_int_equal(run(&st, &s, &repos, "CANARY_7f3a9c", 0, 0), 0);
	assert_int_equal(st.lines, 0);
	assert_int_equal(st.files, 0);
	assert_int_equal(st.candidates, 0);
	assert_int_equal(st.bytes_scanned, 0);
	assert_int_equal(st.shards_searched, 1);
	buf_dispose(&s.text);
}

static void limit_counts_only_readable_repositories(void **state)
{
	const char *names[] = { "public" };
	struct search_repos repos = { false, names, 1 };
	struct search_stats st;
	struct seen s;

	(void)state;
	/* The private repository has 4 matching lines: with it hidden, a limit of 3 is not hit. */
	assert_int_equal(run(&st, &s, &repos, "shared", 4, 0), 0);
	assert_int_equal(st.lines, 3);
	assert_false(st.is_limit_hit);
	assert_string_equal(s.text.ptr, "public/a.txt:2;public/b.txt:1;");
	buf_dispose(&s.text);
}

static void all_repositories_when_allowed(void **state)
{
	struct search_repos all = { .is_all = true };
	struct search_stats st;
	struct seen s;

	(void)state;
	assert_int_equal(run(&st, &s, &all, "CANARY_7f3a9c", 0, 0), 0);
	assert_int_equal(st.lines, 1);
	assert_string_equal(s.text.ptr, "private/secret.txt:1;");
	buf_dispose(&s.text);
}

static void limit_cuts_at_exactly_n_lines(void **state)
{
	struct search_repos all = { .is_all = true };
	struct search_stats st;
	struct seen s;

	(void)state;
	assert_int_equal(run(&st, &s, &all, "shared", 2, 0), 0);
	assert_int_equal(st.lines, 2);
	assert_true(st.is_limit_hit);
	buf_dispose(&s.text);
}

static void max_per_file_caps_each_file(void **state)
{
	struct search_repos all = { .is_all = true };
	struct search_stats st;
	struct seen s;

	(void)state;
	assert_int_equal(run(&st, &s, &all, "shared", 0, 1), 0);
	assert_int_equal(st.lines, 3);
	assert_int_equal(s.files, 3);
	buf_dispose(&s.text);
}

static void missing_repository_set_is_refused(void **state)
{
	struct index *ix = NULL;
	struct search_opts o = { .pattern = "x", .pattern_len = 1 };
	struct search_stats st;

	(void)state;
	assert_int_equal(index_open(&ix, ixdir), 0);
	assert_int_equal(search_run(&st, ix, NULL, &o, on_file, NULL), TRAWL_EINVAL);
	index_close(ix);
}

/* repo:has.*: a repository is kept when one of its files passes; its files are then searched. */
static void repo_predicates_keep_repositories_with_a_matching_file(void **state)
{
	struct search_repos all = { .is_all = true };
	static const struct {
		const char *query;
		const char *want;
	} cases[] = {
		{ "repo:has.path(b\\.txt) shared", "public/a.txt:2;public/b.txt:1;" },
		{ "repo:has.path(nothing) shared", "" },
		{ "-repo:has.path(b\\.txt) canary", "private/secret.txt:1;" },
		{ "repo:has.content(canary_7f3a9c) line", "" },
		{ "repo:has.content(line\\stwo) again", "public/a.txt:1;" },
		{ "repo:has.file(path:secret content:CANARY) count:all shared",
		  "private/secret.txt:4;" },
		{ "repo:has.file(path:b\\.txt content:CANARY) shared", "" },
		{ "type:repo repo:has.path(secret)", "private/:0;" },
		{ "file:has.content(again) shared", "public/a.txt:2;" },
		{ "-file:has.content(again) repo:public shared", "public/b.txt:1;" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct search_stats st;
		struct seen s;

		assert_int_equal(run_query(&st, &s, &all, cases[i].query), 0);
		if (strcmp(s.text.ptr ? s.text.ptr : "", cases[i].want) != 0)
			fail_msg("<%s>: got \"%s\", want \"%s\"", cases[i].query,
				 s.text.ptr ? s.text.ptr : "", cases[i].want);
		buf_dispose(&s.text);
	}
}

/* SECURITY: a predicate never looks into a repository the caller cannot read. */
static void repo_predicates_never_reveal_unreadable_repositories(void **state)
{
	const char *names[] = { "public" };
	struct search_repos repos = { false, names, 1 };
	static const char *const queries[] = {
		"repo:has.content(CANARY_7f3a9c) shared", "repo:has.path(secret) shared",
		"type:repo repo:has.content(canary)", "-repo:has.content(CANARY_7f3a9c) shared",
		"file:has.content(CANARY_7f3a9c)",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		struct search_stats st;
		struct seen s;

		assert_int_equal(run_query(&st, &s, &repos, queries[i]), 0);
		if (s.text.ptr && (strstr(s.text.ptr, "private") || strstr(s.text.ptr, "secret")))
			fail_msg("query \"%s\" revealed: %s", queries[i], s.text.ptr);
		assert_int_equal(st.shards_searched, 1);
		buf_dispose(&s.text);
	}
}

/* Searches dir for pattern with repos readable, two threads. */
static void run_in(struct search_stats *st, struct seen *s, const char *dir,
		   const struct search_repos *repos, const char *pattern)
{
	struct index *ix = NULL;
	struct search_opts o = {
		.pattern = pattern, .pattern_len = strlen(pattern), .want_lines = true, .n_threads = 2
	};

	buf_init(&s->text, 1 << 20);
	s->files = 0;
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(search_run(st, ix, repos, &o, on_file, s), 0);
	index_close(ix);
}

/*
 * A selective query over 40 repositories packed into one file goes from candidate to
 * candidate (index_run_find): it finds each one's repository, steps over a candidate in the
 * documents of a repository the MANIFEST no longer lists, and counts every readable
 * repository as searched, as a walk of every shard did.
 */
static void selective_query_over_a_compound_file_goes_by_candidate(void **state)
{
	struct build_opts bo = { BUILD_MAX_FILE_SIZE_DEFAULT, 1, NULL };
	struct build_stats bs, each[40];
	char *names[40], *roots[40], dir[300];
	const char *some[] = { "r05", "r10", "r30", "r31" }, *none[] = { "r10" };
	struct search_repos all = { .is_all = true }, some_of = { false, some, 4 },
			    none_of = { false, none, 1 };
	struct search_stats st;
	struct index *ix = NULL;
	struct seen s;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/sparse", testlib_tmpdir());
	for (int r = 0; r < 40; r++) {
		char src[300], text[64];

		snprintf(src, sizeof(src), "%s/sparse-src/r%02d", testlib_tmpdir(), r);
		assert_int_equal(file_mkdirs(src), 0);
		snprintf(text, sizeof(text), "filler %d\n", r);
		testlib_write_file(src, "f.txt", text);
		if (r == 5 || r == 17 || r == 30) {
			snprintf(text, sizeof(text), "needle_q7 in %d\n", r);
			testlib_write_file(src, "g.txt", text);
		}
		assert_non_null(names[r] = strdup(src + strlen(src) - 3));
		assert_non_null(roots[r] = strdup(src));
	}
	assert_int_equal(build_dirs(each, &bs, dir, names, roots, 40, &bo, NULL, NULL), 0);
	/* r17's documents stay in the file, listed by no entry: a candidate between two. */
	assert_int_equal(index_remove_repo(dir, "r17"), 0);
	assert_int_equal(index_open(&ix, dir), 0);
	assert_int_equal(index_n_files(ix), 1);
	assert_int_equal(index_n_shards(ix), 39);
	assert_int_equal(index_n_runs(ix), 1);
	assert_true(index_run_is_plain(ix, 0));
	index_close(ix);

	run_in(&st, &s, dir, &all, "needle_q7");
	assert_string_equal(s.text.ptr, "r05/g.txt:1;r30/g.txt:1;");
	assert_int_equal(st.shards_searched, 39);
	buf_dispose(&s.text);
	run_in(&st, &s, dir, &some_of, "needle_q7");
	assert_string_equal(s.text.ptr, "r05/g.txt:1;r30/g.txt:1;");
	assert_int_equal(st.shards_searched, 4);
	buf_dispose(&s.text);
	run_in(&st, &s, dir, &none_of, "needle_q7");
	assert_int_equal(s.files, 0);
	assert_int_equal(st.shards_searched, 1);
	buf_dispose(&s.text);
	for (int r = 0; r < 40; r++) {
		free(names[r]);
		free(roots[r]);
	}
}

/*
 * A compound file's repositories listed by the MANIFEST in another order than the file's (a
 * commit that replaces entries where they stand, as packing does): consecutive shards whose
 * documents go back. Each one's candidates are still found (the walk over the run looked for
 * them only forward, and passed over "ca" as empty).
 */
static void compound_shards_listed_out_of_order_keep_their_candidates(void **state)
{
	struct search_repos all = { .is_all = true };
	struct shard_writer *w = NULL;
	struct index_repo_entry es[2];
	struct search_stats st;
	struct index *ix = NULL;
	struct seen s;
	char dir[300], *file = index_shard_name("compound", 0), *path;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/backwards", testlib_tmpdir());
	assert_int_equal(file_mkdirs(dir), 0);
	assert_non_null(file);
	assert_non_null(path = file_join(dir, file));
	assert_int_equal(shard_writer_new_compound(&w, path, NULL), 0);
	assert_int_equal(shard_writer_begin_repo(w, "ca"), 0);
	assert_int_equal(shard_writer_add(w, "1", 1, (const uint8_t *)"one", 3, 3, DOC_INDEXED, 0),
			 0);
	assert_int_equal(shard_writer_add(w, "2", 1, (const uint8_t *)"two", 3, 3, DOC_INDEXED, 0),
			 0);
	assert_int_equal(shard_writer_begin_repo(w, "cc"), 0);
	assert_int_equal(shard_writer_add(w, "3", 1, (const uint8_t *)"three", 5, 5, DOC_INDEXED, 0),
			 0);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	/* "cc" (documents 2 to 3) listed before "ca" (0 to 2). */
	es[0] = (struct index_repo_entry){ .name = "cc", .shards = &file, .n_shards = 1, .n_base = 1 };
	es[1] = (struct index_repo_entry){ .name = "ca", .shards = &file, .n_shards = 1, .n_base = 1 };
	assert_int_equal(index_commit_entries(dir, es, 2), 0);
	assert_int_equal(index_open(&ix, dir), 0);
	assert_string_equal(index_shard_repo(ix, 0), "cc");
	assert_int_equal(index_n_runs(ix), 1);
	assert_false(index_run_is_plain(ix, 0));
	index_close(ix);

	run_in(&st, &s, dir, &all, "two");
	assert_string_equal(s.text.ptr, "ca/2:1;");
	assert_int_equal(st.shards_searched, 2);
	buf_dispose(&s.text);
	run_in(&st, &s, dir, &all, "t[wh]");
	assert_string_equal(s.text.ptr, "cc/3:1;ca/2:1;");
	buf_dispose(&s.text);
	free(path);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(canary_in_unreadable_repository_never_shows),
		cmocka_unit_test(early_emission_gives_the_same_files_per_shard),
		cmocka_unit_test(workers_wait_for_a_slow_consumer),
		cmocka_unit_test(memory_limit_stops_with_partial_results),
		cmocka_unit_test(memory_limit_stops_a_best_first_search),
		cmocka_unit_test(timeout_ends_the_hand_out),
		cmocka_unit_test(budget_gives_up_with_eagain),
		cmocka_unit_test(timeout_hands_out_what_was_found),
		cmocka_unit_test(limit_counts_only_readable_repositories),
		cmocka_unit_test(all_repositories_when_allowed),
		cmocka_unit_test(limit_cuts_at_exactly_n_lines),
		cmocka_unit_test(max_per_file_caps_each_file),
		cmocka_unit_test(missing_repository_set_is_refused),
		cmocka_unit_test(queries_never_reveal_unreadable_repositories),
		cmocka_unit_test(query_count_limits_lines_and_says_so),
		cmocka_unit_test(repo_predicates_keep_repositories_with_a_matching_file),
		cmocka_unit_test(repo_predicates_never_reveal_unreadable_repositories),
		cmocka_unit_test(selective_query_over_a_compound_file_goes_by_candidate),
		cmocka_unit_test(compound_shards_listed_out_of_order_keep_their_candidates),
	};

	return cmocka_run_group_tests_name("shards of one repository", tests, setup,
					   testlib_teardown) +
	       cmocka_run_group_tests_name("one compound shard", tests, setup_compound,
					   testlib_teardown);
}
