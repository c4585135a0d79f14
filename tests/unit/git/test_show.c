/*
 * Unit tests for src/git/show.c: one path of one commit of a repository (the show worker's
 * read): a file's content, a directory's entries with their kinds and sizes, a commit the
 * repository does not hold or an id that names no commit, a path missing at the commit, a
 * symlink or submodule (no content), a blob over the size limit (its size only), a directory
 * over the entry limit (truncated), and ids that are no full commit id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "git/repo.h"
#include "git/show.h"
#include "util/error.h"

#include "unit/git/fixture.h"

/* A repository "r" whose one commit holds a.txt, src/b.c, link, sub and big.txt. */
static void fixture(char hex[GIT_OID_HEXSZ + 1], git_oid *tree_out)
{
	git_repository *repo = fx_repo("r", true);
	struct fx_entry src[] = { { "100644", "b.c", 0, fx_blob(repo, "int b;\n") } };
	git_oid src_id = fx_tree(repo, src, 1);
	struct fx_entry root[] = {
		{ "100644", "a.txt", 0, fx_blob(repo, "hello\n") },
		{ "100644", "big.txt", 0, fx_blob(repo, "0123456789abcdef") },
		{ "120000", "link", 0, fx_blob(repo, "a.txt") },
		{ "40000", "src", 0, src_id },
		{ "160000", "sub", 0, fx_fake_oid(0x42) },
	};
	git_oid tree = fx_tree(repo, root, 5), c = fx_commit(repo, tree, "refs/heads/main");

	git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &c);
	if (tree_out)
		*tree_out = tree;
	git_repository_free(repo);
}

static void files_and_directories(void **state)
{
	char hex[GIT_OID_HEXSZ + 1];
	struct gitshow_result r;

	(void)state;
	fixture(hex, NULL);
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "a.txt", 100, 100), 0);
	assert_int_equal(r.kind, GITSHOW_FILE);
	assert_int_equal(r.size, 6);
	assert_memory_equal(r.content, "hello\n", 6);
	gitshow_result_dispose(&r);
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "src/b.c", 100, 100), 0);
	assert_int_equal(r.kind, GITSHOW_FILE);
	assert_memory_equal(r.content, "int b;\n", 7);
	gitshow_result_dispose(&r);
	/* The root: every entry in the tree's order, with its kind and a file's size. */
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "", 100, 100), 0);
	assert_int_equal(r.kind, GITSHOW_DIR);
	assert_int_equal(r.n_entries, 5);
	assert_false(r.is_truncated);
	assert_string_equal(r.entries[0].name, "a.txt");
	assert_int_equal(r.entries[0].type, GITSHOW_E_FILE);
	assert_int_equal(r.entries[0].size, 6);
	assert_int_equal(r.entries[2].type, GITSHOW_E_SYMLINK);
	assert_string_equal(r.entries[3].name, "src");
	assert_int_equal(r.entries[3].type, GITSHOW_E_DIR);
	assert_int_equal(r.entries[4].type, GITSHOW_E_SUBMODULE);
	gitshow_result_dispose(&r);
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "src", 100, 100), 0);
	assert_int_equal(r.kind, GITSHOW_DIR);
	assert_int_equal(r.n_entries, 1);
	assert_string_equal(r.entries[0].name, "b.c");
	gitshow_result_dispose(&r);
}

static void limits(void **state)
{
	char hex[GIT_OID_HEXSZ + 1];
	struct gitshow_result r;

	(void)state;
	fixture(hex, NULL);
	/* Over the size limit: its size, no content (never loaded). */
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "big.txt", 15, 100), 0);
	assert_int_equal(r.kind, GITSHOW_FILE);
	assert_true(r.is_too_large);
	assert_int_equal(r.size, 16);
	assert_null(r.content);
	gitshow_result_dispose(&r);
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "big.txt", 16, 100), 0);
	assert_false(r.is_too_large);
	gitshow_result_dispose(&r);
	/* Over the entry limit: the first ones, and truncated. */
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "", 100, 2), 0);
	assert_int_equal(r.n_entries, 2);
	assert_true(r.is_truncated);
	gitshow_result_dispose(&r);
}

static void missing_commits_and_paths(void **state)
{
	char hex[GIT_OID_HEXSZ + 1], tree_hex[GIT_OID_HEXSZ + 1];
	struct gitshow_result r;
	git_oid tree;

	(void)state;
	fixture(hex, &tree);
	git_oid_tostr(tree_hex, sizeof(tree_hex), &tree);
	assert_int_equal(gitshow_read(&r, fx_path("r"), "0123456789012345678901234567890123456789",
				      "a.txt", 100, 100), 0);
	assert_int_equal(r.kind, GITSHOW_NO_COMMIT);
	gitshow_result_dispose(&r);
	/* A tree's id is no commit's. */
	assert_int_equal(gitshow_read(&r, fx_path("r"), tree_hex, "a.txt", 100, 100), 0);
	assert_int_equal(r.kind, GITSHOW_NO_COMMIT);
	gitshow_result_dispose(&r);
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "nope", 100, 100), 0);
	assert_int_equal(r.kind, GITSHOW_NO_PATH);
	gitshow_result_dispose(&r);
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "a.txt/x", 100, 100), 0);
	assert_int_equal(r.kind, GITSHOW_NO_PATH);
	gitshow_result_dispose(&r);
	/* A symlink or a submodule has no content to show. */
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "link", 100, 100), 0);
	assert_int_equal(r.kind, GITSHOW_NO_PATH);
	gitshow_result_dispose(&r);
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "sub", 100, 100), 0);
	assert_int_equal(r.kind, GITSHOW_NO_PATH);
	gitshow_result_dispose(&r);
}

static void only_full_commit_ids(void **state)
{
	char hex[GIT_OID_HEXSZ + 1];
	struct gitshow_result r;

	(void)state;
	fixture(hex, NULL);
	hex[12] = '\0';
	assert_int_equal(gitshow_read(&r, fx_path("r"), hex, "a.txt", 100, 100), TRAWL_EINVAL);
	gitshow_result_dispose(&r);
	assert_int_equal(gitshow_read(&r, fx_path("r"), "HEAD", "a.txt", 100, 100), TRAWL_EINVAL);
	gitshow_result_dispose(&r);
	assert_int_equal(gitshow_read(&r, fx_path("r"), "main", "a.txt", 100, 100), TRAWL_EINVAL);
	gitshow_result_dispose(&r);
	assert_int_equal(gitshow_read(&r, fx_path("nowhere"), "0123456789012345678901234567890123456789",
				      "a.txt", 100, 100), TRAWL_ENOTFOUND);
	gitshow_result_dispose(&r);
}

/*
 * SECURITY (attack s29, finding 3): libgit2 reads a bare repository's objects through the
 * directory its `commondir` file names. A fetch worker taken over could leave one in its own
 * mirror naming another repository's: the show worker (whose Landlock rules would stop it only
 * where Landlock is enforced) must not show that repository's commits as this one's.
 */
static void a_commondir_naming_another_repository_is_refused(void **state)
{
	char hex[GIT_OID_HEXSZ + 1], other[512];
	git_repository *repo;
	struct gitshow_result r;
	FILE *f;

	(void)state;
	fixture(hex, NULL); /* "r": the other repository, with the commit */
	snprintf(other, sizeof(other), "%s", fx_path("r"));
	repo = fx_repo("mine", true);
	git_repository_free(repo);
	assert_non_null(f = fopen(fx_path("mine/commondir"), "w"));
	fprintf(f, "%s\n", other);
	fclose(f);
	assert_int_equal(gitshow_read(&r, fx_path("mine"), hex, "a.txt", 100, 100), TRAWL_EPERM);
	assert_null(r.content);
	gitshow_result_dispose(&r);
}

/* A hostile tree's "." and ".." entries are not listed (attack s29; walk.c skips them too). */
static void dot_entries_are_not_listed(void **state)
{
	git_repository *repo = fx_repo("dots", true);
	git_oid a = fx_blob(repo, "x\n");
	struct fx_entry in[] = { { "100644", "passwd", 0, a } };
	git_oid sub = fx_tree(repo, in, 1);
	struct fx_entry top[] = { { "40000", "..", 0, sub }, { "40000", ".", 0, sub },
				  { "100644", "a.txt", 0, a } };
	git_oid c = fx_commit(repo, fx_tree(repo, top, 3), "refs/heads/main");
	char hex[GIT_OID_HEXSZ + 1];
	struct gitshow_result r;

	(void)state;
	git_oid_tostr(hex, sizeof(hex), &c);
	git_repository_free(repo);
	assert_int_equal(gitshow_read(&r, fx_path("dots"), hex, "", 100, 100), 0);
	assert_int_equal(r.kind, GITSHOW_DIR);
	assert_int_equal(r.n_entries, 1);
	assert_string_equal(r.entries[0].name, "a.txt");
	gitshow_result_dispose(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(files_and_directories, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(limits, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(missing_commits_and_paths, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(only_full_commit_ids, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(a_commondir_naming_another_repository_is_refused,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(dot_entries_are_not_listed, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
