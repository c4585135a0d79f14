/*
 * Fixtures for the src/git unit tests: repositories built with libgit2 directly, including
 * trees no git command would write (names such as "..", control characters, missing objects),
 * by writing raw tree objects into the object database.
 */
#ifndef TRAWL_TESTS_UNIT_GIT_FIXTURE_H
#define TRAWL_TESTS_UNIT_GIT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "unit/testlib.h"

static inline int fx_setup(void **state)
{
	return testlib_setup(state) == 0 && gitrepo_global_init() == 0 ? 0 : -1;
}

static inline int fx_teardown(void **state)
{
	gitrepo_global_shutdown();
	return testlib_teardown(state);
}

/* A path under the test's temporary directory (static buffer, one at a time). */
static const char *fx_path(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s", testlib_path(name));
	return p;
}

/* A new repository (bare or with a work tree) at fx_path(name). */
static git_repository *fx_repo(const char *name, bool is_bare)
{
	git_repository *repo = NULL;

	assert_int_equal(git_repository_init(&repo, fx_path(name), is_bare), 0);
	return repo;
}

static inline git_oid fx_blob(git_repository *repo, const char *text)
{
	git_oid id;

	assert_int_equal(git_blob_create_from_buffer(&id, repo, text, strlen(text)), 0);
	return id;
}

struct fx_entry {
	const char *mode; /* "100644", "40000", "120000", "160000" ... */
	const char *name;
	size_t name_len;  /* 0: strlen(name) */
	git_oid id;
};

/* Writes a raw tree object, entries as given (any names, any order). */
static inline git_oid fx_tree(git_repository *repo, const struct fx_entry *e, size_t n)
{
	git_odb *odb = NULL;
	git_oid id;
	char *raw = NULL;
	size_t len = 0, cap = 0;

	for (size_t i = 0; i < n; i++) {
		size_t nl = e[i].name_len ? e[i].name_len : strlen(e[i].name);
		size_t ml = strlen(e[i].mode), need = ml + 1 + nl + 1 + GIT_OID_RAWSZ;

		if (len + need > cap) {
			cap = (len + need) * 2;
			raw = realloc(raw, cap);
			assert_non_null(raw);
		}
		memcpy(raw + len, e[i].mode, ml);
		raw[len + ml] = ' ';
		memcpy(raw + len + ml + 1, e[i].name, nl);
		raw[len + ml + 1 + nl] = '\0';
		memcpy(raw + len + ml + 1 + nl + 1, e[i].id.id, GIT_OID_RAWSZ);
		len += need;
	}
	assert_int_equal(git_repository_odb(&odb, repo), 0);
	assert_int_equal(git_odb_write(&id, odb, raw ? raw : "", len, GIT_OBJECT_TREE), 0);
	git_odb_free(odb);
	free(raw);
	return id;
}

/* A commit of tree on ref (e.g. "refs/heads/main"), with no parent. */
static inline git_oid fx_commit(git_repository *repo, git_oid tree_id, const char *ref)
{
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid id;

	assert_int_equal(git_signature_new(&sig, "t", "t@t", 1700000000, 0), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tree_id), 0);
	assert_int_equal(git_commit_create(&id, repo, ref, sig, sig, NULL, "c", tree, 0, NULL), 0);
	git_tree_free(tree);
	git_signature_free(sig);
	return id;
}

static inline git_oid fx_fake_oid(unsigned char b)
{
	git_oid id;

	memset(id.id, b, GIT_OID_RAWSZ);
	return id;
}

#endif
