/*
 * Unit tests for the git tree walker (src/git/walk.c): every entry kind, names kept as bytes
 * (including ones git refuses to write), and the limits that bound a hostile tree: depth, path
 * length, files, directories, tree object size; a missing subtree is a counted skip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "git/repo.h"
#include "git/walk.h"
#include "util/error.h"

#include "unit/git/fixture.h"

struct seen {
	char *path[64];
	size_t len[64];
	enum gitwalk_kind kind[64];
	size_t n;
	uint64_t total; /* entries seen, including those not kept */
};

static int collect(const struct gitwalk_entry *e, void *arg)
{
	struct seen *s = arg;

	assert_int_equal(e->path[e->path_len], '\0');
	s->total++;
	if (s->n < 64) {
		s->path[s->n] = malloc(e->path_len + 1);
		assert_non_null(s->path[s->n]);
		memcpy(s->path[s->n], e->path, e->path_len + 1);
		s->len[s->n] = e->path_len;
		s->kind[s->n] = e->kind;
		s->n++;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void seen_sort(struct seen *s)
{
	qsort(s->path, s->n, sizeof(s->path[0]), cmp_str);
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->path[i]);
	memset(s, 0, sizeof(*s));
}

/* Opens name with src/git and walks tree with lim (or the defaults). */
static int walk(struct seen *s, struct gitwalk_stats *st, const char *name, git_oid tree,
		const struct gitwalk_limits *lim)
{
	struct gitrepo *r = NULL;
	struct gitwalk_limits def;
	struct gitrepo_oid root;
	int err;

	memset(s, 0, sizeof(*s));
	gitwalk_limits_default(&def, 1000000);
	memcpy(root.id, tree.id, GITREPO_OID_RAWSZ);
	assert_int_equal(gitrepo_open(&r, fx_path(name)), 0);
	err = gitwalk_run(st, r, &root, lim ? lim : &def, collect, s);
	gitrepo_close(r);
	return err;
}

static void walk_reports_every_kind(void **state)
{
	git_repository *repo = fx_repo("kinds", true);
	git_oid a = fx_blob(repo, "a\n"), link = fx_blob(repo, "/etc/passwd");
	struct fx_entry sub[] = { { "100644", "inner.c", 0, a } };
	git_oid subtree = fx_tree(repo, sub, 1);
	struct fx_entry top[] = {
		{ "100644", "a.txt", 0, a },
		{ "100755", "run.sh", 0, a },
		{ "120000", "passwd", 0, link },
		{ "160000", "module", 0, fx_fake_oid(0xab) }, /* a commit of another repository */
		{ "40000", "dir", 0, subtree },
	};
	struct gitwalk_stats st;
	struct seen s;

	(void)state;
	assert_int_equal(walk(&s, &st, "kinds", fx_tree(repo, top, 5), NULL), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(st.files, 5);
	assert_int_equal(st.trees, 2);
	assert_int_equal(st.trees_skipped, 0);
	for (size_t i = 0; i < s.n; i++) {
		enum gitwalk_kind want = strcmp(s.path[i], "run.sh") == 0    ? GITWALK_EXEC
					 : strcmp(s.path[i], "passwd") == 0  ? GITWALK_SYMLINK
					 : strcmp(s.path[i], "module") == 0  ? GITWALK_SUBMODULE
									     : GITWALK_BLOB;

		assert_int_equal(s.kind[i], want);
	}
	seen_sort(&s);
	assert_string_equal(s.path[0], "a.txt");
	assert_string_equal(s.path[1], "dir/inner.c");
	assert_string_equal(s.path[2], "module");
	seen_free(&s);
	git_repository_free(repo);
}

static void walk_keeps_hostile_names_as_bytes(void **state)
{
	git_repository *repo = fx_repo("names", true);
	git_oid a = fx_blob(repo, "x\n");
	char long_name[256];
	struct fx_entry in_dots[] = { { "100644", "passwd", 0, a } };
	git_oid dots;
	struct fx_entry top[7];
	struct gitwalk_stats st;
	struct seen s;

	(void)state;
	memset(long_name, 'n', 255);
	long_name[255] = '\0';
	dots = fx_tree(repo, in_dots, 1);
	top[0] = (struct fx_entry){ "40000", "..", 0, dots };
	top[1] = (struct fx_entry){ "40000", ".", 0, dots };
	top[2] = (struct fx_entry){ "100644", "new\nline", 0, a };
	top[3] = (struct fx_entry){ "100644", "-rf", 0, a };
	top[4] = (struct fx_entry){ "100644", "\x01\x1b[31m", 0, a };
	top[5] = (struct fx_entry){ "100644", long_name, 0, a };
	top[6] = (struct fx_entry){ "100644", "\xff\xfe not utf-8", 0, a };
	assert_int_equal(walk(&s, &st, "names", fx_tree(repo, top, 7), NULL), 0);
	/* "." and ".." are skipped (attack s29: a link to "x/../../admin" left /file/REPO/). */
	assert_int_equal(s.n, 5);
	assert_int_equal(st.bad_names, 2);
	seen_sort(&s);
	assert_string_equal(s.path[0], "\x01\x1b[31m");
	assert_string_equal(s.path[1], "-rf");
	assert_string_equal(s.path[2], "new\nline");
	assert_string_equal(s.path[3], long_name);
	assert_string_equal(s.path[4], "\xff\xfe not utf-8");
	seen_free(&s);
	git_repository_free(repo);
}

/* A chain of n nested directories "d/d/.../d/leaf.txt"; returns the top tree. */
static git_oid chain(git_repository *repo, size_t n)
{
	struct fx_entry leaf = { "100644", "leaf.txt", 0, fx_blob(repo, "leaf\n") };
	git_oid t = fx_tree(repo, &leaf, 1);

	for (size_t i = 0; i < n; i++) {
		struct fx_entry d = { "40000", "d", 0, t };

		t = fx_tree(repo, &d, 1);
	}
	return t;
}

static void walk_stops_at_the_depth_limit(void **state)
{
	git_repository *repo = fx_repo("deep", true);
	git_oid top = chain(repo, 10);
	struct gitwalk_limits lim;
	struct gitwalk_stats st;
	struct seen s;

	(void)state;
	gitwalk_limits_default(&lim, 1000);
	lim.max_depth = 5;
	assert_int_equal(walk(&s, &st, "deep", top, &lim), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.trees, 6); /* the root and 5 levels */
	assert_int_equal(st.trees_skipped, 1);
	seen_free(&s);
	lim.max_depth = 10;
	assert_int_equal(walk(&s, &st, "deep", top, &lim), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], 10 * 2 + strlen("leaf.txt"));
	seen_free(&s);
	git_repository_free(repo);
}

static void walk_is_not_recursive(void **state)
{
	/* 5000 levels: a recursive walk would need thousands of frames; this one needs none. */
	git_repository *repo = fx_repo("deeper", true);
	git_oid top = chain(repo, 5000);
	struct gitwalk_limits lim;
	struct gitwalk_stats st;
	struct seen s;

	(void)state;
	gitwalk_limits_default(&lim, 1000000);
	lim.max_depth = 10000;
	assert_int_equal(walk(&s, &st, "deeper", top, &lim), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(st.trees, 5001);
	seen_free(&s);
	/* With the default limit, the deep part is skipped, not an error. */
	assert_int_equal(walk(&s, &st, "deeper", top, NULL), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.trees_skipped, 1);
	seen_free(&s);
	git_repository_free(repo);
}

static void walk_skips_paths_over_the_length_limit(void **state)
{
	git_repository *repo = fx_repo("long", true);
	git_oid a = fx_blob(repo, "x\n");
	char name[101];
	struct fx_entry sub[] = { { "100644", "f", 0, a } };
	struct fx_entry top[3];
	struct gitwalk_limits lim;
	struct gitwalk_stats st;
	struct seen s;

	(void)state;
	memset(name, 'x', 100);
	name[100] = '\0';
	top[0] = (struct fx_entry){ "100644", name, 0, a };
	top[1] = (struct fx_entry){ "40000", name, 0, fx_tree(repo, sub, 1) };
	top[2] = (struct fx_entry){ "100644", "short", 0, a };
	gitwalk_limits_default(&lim, 1000);
	lim.max_path_len = 50;
	assert_int_equal(walk(&s, &st, "long", fx_tree(repo, top, 3), &lim), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.path[0], "short");
	assert_int_equal(st.paths_too_long, 2);
	seen_free(&s);
	git_repository_free(repo);
}

static void walk_refuses_more_files_than_the_limit(void **state)
{
	git_repository *repo = fx_repo("many", true);
	git_oid a = fx_blob(repo, "x\n");
	struct fx_entry top[10];
	char names[10][16];
	struct gitwalk_limits lim;
	struct gitwalk_stats st;
	struct seen s;

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		top[i] = (struct fx_entry){ "100644", names[i], 0, a };
	}
	gitwalk_limits_default(&lim, 5);
	assert_int_equal(walk(&s, &st, "many", fx_tree(repo, top, 10), &lim), TRAWL_ELIMIT);
	assert_non_null(strstr(error_last(), "more than 5 files"));
	assert_int_equal(s.total, 5);
	seen_free(&s);
	gitwalk_limits_default(&lim, 10);
	assert_int_equal(walk(&s, &st, "many", fx_tree(repo, top, 10), &lim), 0);
	assert_int_equal(s.total, 10);
	seen_free(&s);
	git_repository_free(repo);
}

static void walk_bounds_a_tree_repeated_everywhere(void **state)
{
	/*
	 * Trees are a DAG: one subtree named 8 times at each of 6 levels is 8^6 = 262144 paths
	 * from 7 small objects. The directory limit stops it long before.
	 */
	git_repository *repo = fx_repo("bomb", true);
	struct fx_entry leaf = { "100644", "x", 0, fx_blob(repo, "x\n") };
	git_oid t = fx_tree(repo, &leaf, 1);
	struct gitwalk_limits lim;
	struct gitwalk_stats st;
	struct seen s;

	(void)state;
	for (int level = 0; level < 6; level++) {
		struct fx_entry e[8];
		char names[8][16];

		for (int i = 0; i < 8; i++) {
			snprintf(names[i], sizeof(names[i]), "%c", 'a' + i);
			e[i] = (struct fx_entry){ "40000", names[i], 0, t };
		}
		t = fx_tree(repo, e, 8);
	}
	gitwalk_limits_default(&lim, 1000);
	assert_int_equal(walk(&s, &st, "bomb", t, &lim), TRAWL_ELIMIT);
	assert_non_null(strstr(error_last(), "directories"));
	assert_true(st.trees <= 1000);
	seen_free(&s);
	git_repository_free(repo);
}

static void walk_skips_missing_and_oversized_subtrees(void **state)
{
	git_repository *repo = fx_repo("holes", true);
	git_oid a = fx_blob(repo, "x\n");
	struct fx_entry big[40];
	char names[40][16];
	struct fx_entry top[4];
	struct gitwalk_limits lim;
	struct gitwalk_stats st;
	struct seen s;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "b%02d", i);
		big[i] = (struct fx_entry){ "100644", names[i], 0, a };
	}
	top[0] = (struct fx_entry){ "40000", "missing", 0, fx_fake_oid(0x11) };
	top[1] = (struct fx_entry){ "40000", "blob-as-dir", 0, a };
	top[2] = (struct fx_entry){ "40000", "big", 0, fx_tree(repo, big, 40) };
	top[3] = (struct fx_entry){ "100644", "ok.txt", 0, a };
	gitwalk_limits_default(&lim, 1000);
	lim.max_tree_bytes = 500; /* the 40-entry tree is about 1.3 KB */
	assert_int_equal(walk(&s, &st, "holes", fx_tree(repo, top, 4), &lim), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.path[0], "ok.txt");
	assert_int_equal(st.trees_skipped, 3);
	seen_free(&s);
	git_repository_free(repo);
}

static void walk_fails_on_a_missing_root(void **state)
{
	git_repository *repo = fx_repo("noroot", true);
	struct gitwalk_stats st;
	struct seen s;

	(void)state;
	assert_int_equal(walk(&s, &st, "noroot", fx_fake_oid(0x22), NULL), TRAWL_ENOTFOUND);
	assert_int_equal(s.n, 0);
	assert_int_equal(walk(&s, &st, "noroot", fx_blob(repo, "not a tree"), NULL),
			 TRAWL_ECORRUPT);
	git_repository_free(repo);
}

static int stop_at_second(const struct gitwalk_entry *e, void *arg)
{
	int *calls = arg;

	(void)e;
	return ++*calls == 2 ? TRAWL_EIO : 0;
}

static void walk_stops_on_a_callback_error(void **state)
{
	git_repository *repo = fx_repo("stop", true);
	git_oid a = fx_blob(repo, "x\n");
	struct fx_entry top[] = { { "100644", "1", 0, a }, { "100644", "2", 0, a },
				  { "100644", "3", 0, a } };
	git_oid t = fx_tree(repo, top, 3);
	struct gitrepo *r = NULL;
	struct gitwalk_limits lim;
	struct gitwalk_stats st;
	struct gitrepo_oid root;
	int calls = 0;

	(void)state;
	memcpy(root.id, t.id, GITREPO_OID_RAWSZ);
	gitwalk_limits_default(&lim, 100);
	assert_int_equal(gitrepo_open(&r, fx_path("stop")), 0);
	assert_int_equal(gitwalk_run(&st, r, &root, &lim, stop_at_second, &calls), TRAWL_EIO);
	assert_int_equal(calls, 2);
	gitrepo_close(r);
	git_repository_free(repo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_reports_every_kind),
		cmocka_unit_test(walk_keeps_hostile_names_as_bytes),
		cmocka_unit_test(walk_stops_at_the_depth_limit),
		cmocka_unit_test(walk_is_not_recursive),
		cmocka_unit_test(walk_skips_paths_over_the_length_limit),
		cmocka_unit_test(walk_refuses_more_files_than_the_limit),
		cmocka_unit_test(walk_bounds_a_tree_repeated_everywhere),
		cmocka_unit_test(walk_skips_missing_and_oversized_subtrees),
		cmocka_unit_test(walk_fails_on_a_missing_root),
		cmocka_unit_test(walk_stops_on_a_callback_error),
	};

	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
