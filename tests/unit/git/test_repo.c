/*
 * Unit tests for src/git/repo.c: which paths are repositories (no searching upwards), branch
 * names and patterns (V2: nothing starting with '-'), branch selection with globs, resolving
 * HEAD and branches, blobs over the size limit never loaded, and alternates never followed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "git/repo.h"
#include "util/error.h"

#include "unit/git/fixture.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void probe_tells_repositories_from_directories(void **state)
{
	git_repository *wt = fx_repo("work", false), *bare = fx_repo("bare.git", true);
	char sub[1024];

	(void)state;
	assert_int_equal(gitrepo_probe(fx_path("work")), GITREPO_OK);
	assert_int_equal(gitrepo_probe(fx_path("bare.git")), GITREPO_OK);
	/* A directory inside a work tree is not that repository: parents are never searched. */
	snprintf(sub, sizeof(sub), "%s/src", fx_path("work"));
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(gitrepo_probe(sub), GITREPO_NONE);
	assert_int_equal(mkdir(fx_path("plain"), 0755), 0);
	assert_int_equal(gitrepo_probe(fx_path("plain")), GITREPO_NONE);
	assert_int_equal(gitrepo_probe(fx_path("does-not-exist")), GITREPO_NONE);
	/* A stray .git that is no repository is reported, so the caller can warn and walk. */
	assert_int_equal(mkdir(fx_path("stray"), 0755), 0);
	assert_int_equal(mkdir(fx_path("stray/.git"), 0755), 0);
	assert_int_equal(mkdir(fx_path("stray/.git/objects"), 0755), 0);
	assert_int_equal(gitrepo_probe(fx_path("stray")), GITREPO_BROKEN);
	assert_non_null(strstr(error_last(), ".git"));
	git_repository_free(wt);
	git_repository_free(bare);
}

static void branch_names_are_validated(void **state)
{
	char long_name[GITREPO_BRANCH_MAX + 2];

	(void)state;
	assert_true(gitrepo_branch_name_valid("main"));
	assert_true(gitrepo_branch_name_valid("release/1.0"));
	assert_true(gitrepo_branch_name_valid("feature/caf\xc3\xa9"));
	/* V2: option-like names are refused, whatever they would do. */
	assert_false(gitrepo_branch_name_valid("-h"));
	assert_false(gitrepo_branch_name_valid("--upload-pack=touch /tmp/pwned"));
	assert_false(gitrepo_branch_name_valid("--output=x"));
	/* Not valid ref names. */
	assert_false(gitrepo_branch_name_valid(""));
	assert_false(gitrepo_branch_name_valid("a..b"));
	assert_false(gitrepo_branch_name_valid("a b"));
	assert_false(gitrepo_branch_name_valid("a\nb"));
	assert_false(gitrepo_branch_name_valid("a\x1b[31m"));
	assert_false(gitrepo_branch_name_valid("a:b"));
	assert_false(gitrepo_branch_name_valid("a~1"));
	assert_false(gitrepo_branch_name_valid("a^"));
	assert_false(gitrepo_branch_name_valid("a@{1}"));
	assert_false(gitrepo_branch_name_valid("x.lock"));
	assert_false(gitrepo_branch_name_valid("/abs"));
	assert_false(gitrepo_branch_name_valid("trailing/"));
	assert_false(gitrepo_branch_name_valid("back\\slash"));
	assert_false(gitrepo_branch_name_valid("glob*"));
	assert_false(gitrepo_branch_name_valid("\xff\xfe"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(gitrepo_branch_name_valid(long_name));
	long_name[GITREPO_BRANCH_MAX] = '\0';
	assert_true(gitrepo_branch_name_valid(long_name));
}

static void branch_patterns_are_validated(void **state)
{
	(void)state;
	assert_true(gitrepo_branch_pattern_valid("release/*"));
	assert_true(gitrepo_branch_pattern_valid("*"));
	assert_true(gitrepo_branch_pattern_valid("v[0-9]*"));
	assert_true(gitrepo_branch_pattern_valid("main"));
	assert_false(gitrepo_branch_pattern_valid("-*"));
	assert_false(gitrepo_branch_pattern_valid("*\n"));
	assert_false(gitrepo_branch_pattern_valid("a..b"));
	assert_false(gitrepo_branch_pattern_valid(""));
	assert_true(gitrepo_is_pattern("a?"));
	assert_false(gitrepo_is_pattern("release/1.0"));
}

/* A repository with branches main, dev, release/1, release/2 and a hostile "-h". */
static git_repository *branchy(const char *name)
{
	git_repository *repo = fx_repo(name, true);
	struct fx_entry e = { "100644", "f", 0, fx_blob(repo, "x\n") };
	git_oid tree = fx_tree(repo, &e, 1);
	git_oid c = fx_commit(repo, tree, "refs/heads/main");
	const char *refs[] = { "refs/heads/dev", "refs/heads/release/1", "refs/heads/release/2",
			       "refs/heads/-h" };

	for (size_t i = 0; i < 4; i++) {
		git_reference *ref = NULL;

		assert_int_equal(git_reference_create(&ref, repo, refs[i], &c, 0, NULL), 0);
		git_reference_free(ref);
	}
	assert_int_equal(git_repository_set_head(repo, "refs/heads/main"), 0);
	return repo;
}

static void branches_select_names_and_globs(void **state)
{
	git_repository *repo = branchy("branches");
	struct gitrepo *r = NULL;
	char **names = NULL;
	size_t n, n_invalid;
	char *glob[] = { "release/*" }, *all[] = { "*" }, *dup[] = { "dev", "d*", "dev" };
	char *missing[] = { "main", "nosuch" }, *none[] = { "nomatch/*" }, *bad[] = { "-h" };

	(void)state;
	assert_int_equal(gitrepo_open(&r, fx_path("branches")), 0);
	assert_int_equal(gitrepo_branches(&names, &n, &n_invalid, r, glob, 1), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "release/1");
	assert_string_equal(names[1], "release/2");
	assert_null(names[2]);
	gitrepo_names_free(names);
	/* "*" matches across '/'; the branch named "-h" is left out and counted. */
	assert_int_equal(gitrepo_branches(&names, &n, &n_invalid, r, all, 1), 0);
	assert_int_equal(n, 4);
	assert_int_equal(n_invalid, 1);
	assert_string_equal(names[0], "dev");
	assert_string_equal(names[3], "release/2");
	gitrepo_names_free(names);
	assert_int_equal(gitrepo_branches(&names, &n, &n_invalid, r, dup, 3), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "dev");
	gitrepo_names_free(names);
	assert_int_equal(gitrepo_branches(&names, &n, &n_invalid, r, missing, 2), TRAWL_ENOTFOUND);
	assert_non_null(strstr(error_last(), "nosuch"));
	assert_null(names);
	assert_int_equal(gitrepo_branches(&names, &n, &n_invalid, r, none, 1), TRAWL_ENOTFOUND);
	assert_int_equal(gitrepo_branches(&names, &n, &n_invalid, r, bad, 1), TRAWL_EINVAL);
	gitrepo_close(r);
	git_repository_free(repo);
}

static void resolve_finds_the_committed_tree(void **state)
{
	git_repository *repo = fx_repo("resolve", false);
	struct fx_entry e = { "100644", "f", 0, fx_blob(repo, "x\n") };
	git_oid tree = fx_tree(repo, &e, 1), c;
	char hex[GITREPO_OID_HEXSZ + 1], want[GITREPO_OID_HEXSZ + 1];
	struct gitrepo_oid got;
	struct gitrepo *r = NULL;

	(void)state;
	assert_int_equal(gitrepo_open(&r, fx_path("resolve")), 0);
	/* No commit yet: HEAD points to an unborn branch. */
	assert_int_equal(gitrepo_resolve(&got, hex, r, NULL), TRAWL_ENOTFOUND);
	assert_non_null(strstr(error_last(), "no commit"));
	c = fx_commit(repo, tree, "HEAD");
	git_oid_tostr(want, sizeof(want), &c);
	assert_int_equal(gitrepo_resolve(&got, hex, r, NULL), 0);
	assert_memory_equal(got.id, tree.id, GITREPO_OID_RAWSZ);
	assert_string_equal(hex, want);
	/* A detached HEAD works too. */
	assert_int_equal(git_repository_set_head_detached(repo, &c), 0);
	assert_int_equal(gitrepo_resolve(&got, hex, r, NULL), 0);
	assert_string_equal(hex, want);
	assert_int_equal(gitrepo_resolve(&got, hex, r, "nosuch"), TRAWL_ENOTFOUND);
	gitrepo_close(r);
	git_repository_free(repo);
}

static void resolve_refuses_a_branch_to_a_non_commit(void **state)
{
	git_repository *repo = fx_repo("badref", true);
	git_oid blob = fx_blob(repo, "not a commit\n");
	git_reference *ref = NULL;
	struct gitrepo_oid got;
	char hex[GITREPO_OID_HEXSZ + 1];
	struct gitrepo *r = NULL;

	(void)state;
	assert_int_equal(git_reference_create(&ref, repo, "refs/heads/odd", &blob, 0, NULL), 0);
	git_reference_free(ref);
	assert_int_equal(gitrepo_open(&r, fx_path("badref")), 0);
	assert_int_equal(gitrepo_resolve(&got, hex, r, "odd"), TRAWL_ECORRUPT);
	gitrepo_close(r);
	git_repository_free(repo);
}

static void blobs_over_the_limit_are_not_loaded(void **state)
{
	git_repository *repo = fx_repo("blobs", true);
	git_oid small = fx_blob(repo, "hello\n"), empty = fx_blob(repo, "");
	struct fx_entry e = { "100644", "f", 0, small };
	git_oid tree = fx_tree(repo, &e, 1);
	struct gitrepo_oid id;
	struct gitrepo_blob b;
	struct gitrepo *r = NULL;
	enum gitrepo_otype type;
	uint64_t size;

	(void)state;
	assert_int_equal(gitrepo_open(&r, fx_path("blobs")), 0);
	memcpy(id.id, small.id, GITREPO_OID_RAWSZ);
	assert_int_equal(gitrepo_object_header(&type, &size, r, &id), 0);
	assert_int_equal(type, GITREPO_OBJ_BLOB);
	assert_int_equal(size, 6);
	assert_int_equal(gitrepo_blob_read(&b, r, &id, 6), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "hello\n", 6);
	gitrepo_blob_dispose(&b);
	assert_int_equal(gitrepo_blob_read(&b, r, &id, 5), TRAWL_ELIMIT);
	assert_null(b.obj);
	gitrepo_blob_dispose(&b);
	memcpy(id.id, empty.id, GITREPO_OID_RAWSZ);
	assert_int_equal(gitrepo_blob_read(&b, r, &id, 0), 0);
	assert_int_equal(b.len, 0);
	gitrepo_blob_dispose(&b);
	memcpy(id.id, tree.id, GITREPO_OID_RAWSZ);
	assert_int_equal(gitrepo_blob_read(&b, r, &id, 100), TRAWL_ECORRUPT);
	memset(id.id, 0x33, GITREPO_OID_RAWSZ);
	assert_int_equal(gitrepo_blob_read(&b, r, &id, 100), TRAWL_ENOTFOUND);
	gitrepo_close(r);
	git_repository_free(repo);
}

static void alternates_are_not_followed(void **state)
{
	git_repository *lender = fx_repo("lender", true), *borrower = fx_repo("borrower", true);
	git_oid only_there = fx_blob(lender, "secret of another repository\n");
	char alt[1024], objects[1024];
	struct gitrepo_oid id;
	struct gitrepo_blob b;
	struct gitrepo *r = NULL;

	(void)state;
	snprintf(objects, sizeof(objects), "%s/objects\n", fx_path("lender"));
	snprintf(alt, sizeof(alt), "%s/objects/info/alternates", fx_path("borrower"));
	write_file(alt, objects);
	/* libgit2 itself would read the object through the alternate... */
	{
		git_repository *plain = NULL;
		git_blob *blob = NULL;

		assert_int_equal(git_repository_open(&plain, fx_path("borrower")), 0);
		assert_int_equal(git_blob_lookup(&blob, plain, &only_there), 0);
		git_blob_free(blob);
		git_repository_free(plain);
	}
	/* ...src/git does not, and says the repository has alternates. */
	assert_int_equal(gitrepo_open(&r, fx_path("borrower")), 0);
	assert_true(gitrepo_has_alternates(r));
	memcpy(id.id, only_there.id, GITREPO_OID_RAWSZ);
	assert_int_equal(gitrepo_blob_read(&b, r, &id, 1000), TRAWL_ENOTFOUND);
	gitrepo_close(r);
	assert_int_equal(gitrepo_open(&r, fx_path("lender")), 0);
	assert_false(gitrepo_has_alternates(r));
	gitrepo_close(r);
	git_repository_free(lender);
	git_repository_free(borrower);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(probe_tells_repositories_from_directories),
		cmocka_unit_test(branch_names_are_validated),
		cmocka_unit_test(branch_patterns_are_validated),
		cmocka_unit_test(branches_select_names_and_globs),
		cmocka_unit_test(resolve_finds_the_committed_tree),
		cmocka_unit_test(resolve_refuses_a_branch_to_a_non_commit),
		cmocka_unit_test(blobs_over_the_limit_are_not_loaded),
		cmocka_unit_test(alternates_are_not_followed),
	};

	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
