/* Unit tests of src/git/diff.c: tree-to-tree differences, commit trees and HEAD's branch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "git/diff.h"
#include "git/repo.h"
#include "util/error.h"

#include "unit/git/fixture.h"

struct seen {
	char path[16][64];
	struct gitdiff_entry e[16];
	size_t n;
};

static int collect(const struct gitdiff_entry *e, void *arg)
{
	struct seen *s = arg;

	if (s->n == 16)
		return TRAWL_ELIMIT;
	snprintf(s->path[s->n], sizeof(s->path[0]), "%s", e->path);
	s->e[s->n] = *e;
	s->e[s->n].path = s->path[s->n];
	s->n++;
	return 0;
}

static const struct gitdiff_entry *find(const struct seen *s, const char *path, bool has_new)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->path[i], path) == 0 && s->e[i].new_side.is_present == has_new)
			return &s->e[i];
	return NULL;
}

static struct gitrepo_oid to_oid(git_oid id)
{
	struct gitrepo_oid o;

	memcpy(o.id, id.id, sizeof(o.id));
	return o;
}

static void diff_reports_changes_only(void **state)
{
	git_repository *repo = fx_repo("diff", true);
	git_oid a = fx_blob(repo, "a\n"), b = fx_blob(repo, "b\n"), c = fx_blob(repo, "c\n");
	struct fx_entry same[] = { { "100644", "kept.c", 0, a } };
	git_oid sub = fx_tree(repo, same, 1);
	struct fx_entry t1[] = { { "100644", "edit.txt", 0, a }, { "100644", "gone.txt", 0, b },
				 { "100644", "type", 0, a }, { "40000", "unchanged", 0, sub } };
	struct fx_entry t2[] = { { "100644", "edit.txt", 0, b }, { "100644", "new.txt", 0, c },
				 { "120000", "type", 0, a }, { "40000", "unchanged", 0, sub } };
	struct gitrepo_oid o1 = to_oid(fx_tree(repo, t1, 4)), o2 = to_oid(fx_tree(repo, t2, 4));
	struct gitrepo *r = NULL;
	struct seen s = { 0 };
	const struct gitdiff_entry *e;

	(void)state;
	assert_int_equal(gitrepo_open(&r, fx_path("diff")), 0);
	assert_int_equal(gitdiff_trees(r, &o1, &o2, collect, &s), 0);
	/* edit, gone, new, and the type change as a deletion plus an addition: nothing else. */
	assert_int_equal(s.n, 5);
	assert_non_null(e = find(&s, "edit.txt", true));
	assert_true(e->old_side.is_present);
	assert_memory_equal(e->old_side.oid.id, a.id, 20);
	assert_memory_equal(e->new_side.oid.id, b.id, 20);
	assert_non_null(e = find(&s, "gone.txt", false));
	assert_true(e->old_side.is_present);
	assert_non_null(e = find(&s, "new.txt", true));
	assert_false(e->old_side.is_present);
	assert_non_null(e = find(&s, "type", true));
	assert_int_equal(e->new_side.kind, GITWALK_SYMLINK);
	assert_non_null(e = find(&s, "type", false));
	assert_int_equal(e->old_side.kind, GITWALK_BLOB);
	assert_null(find(&s, "unchanged/kept.c", true));
	/* From the empty tree: every entry is an addition. */
	s.n = 0;
	assert_int_equal(gitdiff_trees(r, NULL, &o2, collect, &s), 0);
	assert_int_equal(s.n, 4);
	for (size_t i = 0; i < s.n; i++)
		assert_false(s.e[i].old_side.is_present);
	/* The callback's error stops the diff and is returned. */
	s.n = 16;
	assert_int_equal(gitdiff_trees(r, &o1, &o2, collect, &s), TRAWL_ELIMIT);
	gitrepo_close(r);
	git_repository_free(repo);
}

static void commit_tree_and_head_branch(void **state)
{
	git_repository *repo = fx_repo("head", true);
	git_oid a = fx_blob(repo, "a\n");
	struct fx_entry t[] = { { "100644", "a", 0, a } };
	git_oid tree = fx_tree(repo, t, 1), commit = fx_commit(repo, tree, "refs/heads/work");
	struct gitrepo *r = NULL;
	struct gitrepo_oid got;
	char hex[41], *head = NULL;

	(void)state;
	assert_int_equal(git_repository_set_head(repo, "refs/heads/work"), 0);
	assert_int_equal(gitrepo_open(&r, fx_path("head")), 0);
	git_oid_tostr(hex, sizeof(hex), &commit);
	assert_int_equal(gitrepo_commit_tree(&got, r, hex), 0);
	assert_memory_equal(got.id, tree.id, 20);
	assert_int_equal(gitrepo_commit_tree(&got, r, "0123456789012345678901234567890123456789"),
			 TRAWL_ENOTFOUND);
	assert_int_equal(gitrepo_commit_tree(&got, r, "xyz"), TRAWL_EINVAL);
	assert_int_equal(gitrepo_head_branch(&head, r), 0);
	assert_string_equal(head, "work");
	free(head);
	gitrepo_close(r);
	/* A detached HEAD has no branch. */
	assert_int_equal(git_repository_set_head_detached(repo, &commit), 0);
	assert_int_equal(gitrepo_open(&r, fx_path("head")), 0);
	assert_int_equal(gitrepo_head_branch(&head, r), 0);
	assert_null(head);
	gitrepo_close(r);
	git_repository_free(repo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(diff_reports_changes_only),
		cmocka_unit_test(commit_tree_and_head_branch),
	};

	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
