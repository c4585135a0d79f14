/*
 * Unit tests for compaction (build/compact.h): small repositories' shards packed into compound
 * ones, with their documents, contents and branches as they were (the overlay applied); what is
 * not worth packing, or too large, left alone; a sparse compound file packed again and deleted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "build/compact.h"
#include "index/shard.h"
#include "unit/testlib.h"
#include "util/error.h"
#include "util/file.h"

static const char *fresh_dir(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s", testlib_path(name));
	assert_int_equal(file_mkdirs(p), 0);
	return p;
}

struct doc {
	const char *path, *text;
	uint8_t bset; /* over the repository's branches; 0 for a directory's */
};

/*
 * Commits repository repo: one shard of docs, with branches names[0..nb) (the first the
 * default), and overlay entries deleting the documents listed in del.
 */
static void commit_repo(const char *dir, const char *repo, const char *const *names, size_t nb,
			const struct doc *docs, size_t n, const uint32_t *del, size_t n_del)
{
	char *name = index_shard_name(repo, 0), *path = file_join(dir, name);
	struct index_branch br[4] = { 0 };
	struct index_overlay ov[4] = { 0 };
	struct shard_writer *w = NULL;
	struct index_repo_entry e = { .name = (char *)repo, .shards = &name, .n_shards = 1,
				      .branches = br, .n_branches = nb, .overlay = ov,
				      .n_overlay = n_del, .n_base = 1, .max_file_size = 1 << 20 };

	assert_non_null(path);
	assert_int_equal(shard_writer_new(&w, path, repo), 0);
	if (nb)
		assert_int_equal(shard_writer_set_branches(w, (char *const *)names, nb), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(shard_writer_add_git(w, docs[i].path, strlen(docs[i].path),
						      (const uint8_t *)docs[i].text,
						      strlen(docs[i].text), strlen(docs[i].text),
						      DOC_INDEXED, 0, NULL,
						      nb ? &docs[i].bset : NULL, nb ? 1 : 0),
				 0);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	for (size_t b = 0; b < nb; b++) {
		br[b].name = (char *)names[b];
		snprintf(br[b].commit, sizeof(br[b].commit), "%040zu", b + 1);
		br[b].is_default = b == 0;
	}
	for (size_t k = 0; k < n_del; k++)
		ov[k] = (struct index_overlay){ .shard = 0, .doc = del[k] };
	assert_int_equal(index_commit_entry(dir, &e, NULL), 0);
	free(path);
	free(name);
}

/* Repository repo's live documents in ix, as "path=text@branches" lines. */
static void repo_docs(char *out, size_t cap, const struct index *ix, const char *repo)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < index_n_shards(ix); i++) {
		uint32_t lo, hi;

		if (strcmp(index_shard_repo(ix, i), repo) != 0)
			continue;
		index_shard_docs(ix, i, &lo, &hi);
		for (uint32_t id = lo; id < hi; id++) {
			struct shard_doc d;
			uint64_t set = 0;

			assert_int_equal(shard_doc(&d, index_shard(ix, i), id), 0);
			if (!index_doc_is_live(ix, i, id, &d))
				continue;
			index_doc_branches(&set, 1, ix, i, id, &d);
			used += (size_t)snprintf(out + used, cap - used, "%.*s=%.*s@%llu ",
						 (int)d.path_len, d.path, (int)d.content_len,
						 (const char *)d.content, (unsigned long long)set);
			assert_true(used < cap);
		}
	}
}

static size_t shard_files(const char *dir)
{
	struct index *ix = NULL;
	size_t n;

	assert_int_equal(index_open(&ix, dir), 0);
	n = index_n_files(ix);
	index_close(ix);
	return n;
}

static const char *const MAIN[] = { "main" }, *const MASTER[] = { "master" },
			   *const MAIN_DEV[] = { "main", "dev" };

static void packs_small_repositories_with_their_branches(void **state)
{
	const char *dir = fresh_dir("pack");
	static const struct doc a[] = { { "a1", "alpha one", 1 }, { "a2", "alpha two", 1 } };
	static const struct doc b[] = { { "b1", "beta", 1 } };
	static const struct doc c[] = { { "c1", "gamma both", 3 }, { "c2", "gamma dev", 2 },
					{ "c3", "gamma deleted", 1 } };
	static const struct doc d[] = { { "d1", "a directory's", 0 } };
	static const struct doc e[] = { { "e1", "another directory's", 0 } };
	static const uint32_t del[] = { 2 };
	struct compact_stats st;
	struct index *ix = NULL;
	char before[5][512], after[512];
	static const char *const repos[] = { "a", "b", "c", "d", "e" };

	(void)state;
	commit_repo(dir, "a", MAIN, 1, a, 2, NULL, 0);
	commit_repo(dir, "b", MASTER, 1, b, 1, NULL, 0);
	commit_repo(dir, "c", MAIN_DEV, 2, c, 3, del, 1);
	commit_repo(dir, "d", NULL, 0, d, 1, NULL, 0);
	commit_repo(dir, "e", NULL, 0, e, 1, NULL, 0);
	assert_int_equal(index_open(&ix, dir), 0);
	for (size_t k = 0; k < 5; k++)
		repo_docs(before[k], sizeof(before[k]), ix, repos[k]);
	index_close(ix);
	assert_string_equal(before[2], "c1=gamma both@3 c2=gamma dev@2 ");

	assert_int_equal(build_compact(&st, dir, NULL), 0);
	assert_int_equal(st.repos, 5);
	assert_int_equal(st.files, 2); /* the git repositories', the directories' */
	assert_int_equal(st.files_before, 5);
	assert_int_equal(shard_files(dir), 2);
	assert_int_equal(index_open(&ix, dir), 0);
	for (size_t k = 0; k < 5; k++) {
		repo_docs(after, sizeof(after), ix, repos[k]);
		assert_string_equal(after, before[k]);
	}
	/* The overlay's deletion is gone with the overlay: "c" has two documents. */
	for (size_t i = 0; i < index_n_shards(ix); i++) {
		const struct index_repo_entry *en = index_shard_entry(ix, i);
		uint32_t lo, hi;

		assert_int_equal(en->n_overlay, 0);
		assert_int_equal(en->n_shards, 1);
		index_shard_docs(ix, i, &lo, &hi);
		if (strcmp(en->name, "c") == 0)
			assert_int_equal(hi - lo, 2);
	}
	index_close(ix);
	/* Nothing more to do the second time. */
	assert_int_equal(build_compact(&st, dir, NULL), 0);
	assert_int_equal(st.repos, 0);
}

static void leaves_alone_what_is_large_or_alone(void **state)
{
	const char *dir = fresh_dir("alone");
	static const struct doc a[] = { { "a1", "alpha", 1 } };
	struct compact_opts tiny = { .small_bytes = 1 };
	struct compact_stats st;

	(void)state;
	commit_repo(dir, "a", MAIN, 1, a, 1, NULL, 0);
	assert_int_equal(build_compact(&st, dir, NULL), 0);
	assert_int_equal(st.repos, 0); /* one repository: nothing to share */
	commit_repo(dir, "b", MAIN, 1, a, 1, NULL, 0);
	assert_int_equal(build_compact(&st, dir, &tiny), 0);
	assert_int_equal(st.repos, 0); /* both over the size */
	assert_int_equal(shard_files(dir), 2);
	/* No index at all: nothing to do. */
	assert_int_equal(build_compact(&st, fresh_dir("none"), NULL), 0);
	assert_int_equal(st.repos, 0);
}

static void a_sparse_compound_file_is_packed_again_and_deleted(void **state)
{
	const char *dir = fresh_dir("sparse");
	static const struct doc x[] = { { "x", "text", 1 } };
	static const struct doc y[] = { { "y", "new text", 1 } };
	static const char *const names[] = { "r0", "r1", "r2", "r3" };
	struct compact_stats st;
	struct compact_opts o = { 0 };
	struct index *ix = NULL;
	char *first;
	struct stat sb;

	(void)state;
	for (size_t k = 0; k < 4; k++)
		commit_repo(dir, names[k], MAIN, 1, x, 1, NULL, 0);
	assert_int_equal(build_compact(&st, dir, NULL), 0);
	assert_int_equal(st.repos, 4);
	assert_int_equal(index_open(&ix, dir), 0);
	first = strdup(shard_file(index_file(ix, 0)));
	index_close(ix);
	assert_non_null(first);
	assert_int_equal(stat(first, &sb), 0);
	/* A target for which the file is not small: only sparseness makes it rewritable. */
	o.target_bytes = 2 * (uint64_t)sb.st_size;
	/* One re-indexed: three of four listed, not sparse; alone, it is not packed. */
	commit_repo(dir, "r0", MAIN, 1, y, 1, NULL, 0);
	assert_int_equal(build_compact(&st, dir, &o), 0);
	assert_int_equal(st.repos, 0);
	assert_int_equal(shard_files(dir), 2);
	/* Two: half listed, sparse: all four packed again, the old file deleted. */
	commit_repo(dir, "r1", MAIN, 1, y, 1, NULL, 0);
	assert_int_equal(build_compact(&st, dir, &o), 0);
	assert_int_equal(st.repos, 4);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.files_before, 3);
	assert_int_equal(shard_files(dir), 1);
	assert_int_equal(stat(first, &sb), -1);
	free(first);
}

static void small_compound_files_are_merged_until_large(void **state)
{
	const char *dir = fresh_dir("merge");
	static const struct doc x[] = { { "x", "text", 1 } };
	static const char *const names[] = { "r0", "r1", "r2", "r3", "r4", "r5" };
	struct compact_stats st;

	(void)state;
	for (size_t k = 0; k < 3; k++)
		commit_repo(dir, names[k], MAIN, 1, x, 1, NULL, 0);
	assert_int_equal(build_compact(&st, dir, NULL), 0);
	assert_int_equal(shard_files(dir), 1);
	/* The next run's repositories join the small file rather than make another. */
	for (size_t k = 3; k < 6; k++)
		commit_repo(dir, names[k], MAIN, 1, x, 1, NULL, 0);
	assert_int_equal(build_compact(&st, dir, NULL), 0);
	assert_int_equal(st.repos, 6);
	assert_int_equal(st.files_before, 4);
	assert_int_equal(shard_files(dir), 1);
}

static void kept_repositories_are_left_as_they_are(void **state)
{
	const char *dir = fresh_dir("keep");
	static const struct doc x[] = { { "x", "text", 1 } };
	static const char *const names[] = { "r0", "r1", "r2" };
	static const char *const keep[] = { "r1" };
	struct compact_opts o = { .keep = keep, .n_keep = 1 };
	struct index_repo_entry before, after;
	struct compact_stats st;

	(void)state;
	for (size_t k = 0; k < 3; k++)
		commit_repo(dir, names[k], MAIN, 1, x, 1, NULL, 0);
	assert_int_equal(index_read_repo(&before, dir, "r1"), 0);
	assert_int_equal(build_compact(&st, dir, &o), 0);
	assert_int_equal(st.repos, 2);
	assert_int_equal(index_read_repo(&after, dir, "r1"), 0);
	assert_int_equal(after.n_shards, 1);
	assert_string_equal(after.shards[0], before.shards[0]);
	index_repo_entry_dispose(&before);
	index_repo_entry_dispose(&after);
}

static void a_stale_expectation_fails_the_whole_commit(void **state)
{
	const char *dir = fresh_dir("expect");
	static const struct doc x[] = { { "x", "text", 1 } };
	struct index_repo_entry old = { 0 }, es[1];
	char *name = index_shard_name("r", 9);

	(void)state;
	commit_repo(dir, "r", MAIN, 1, x, 1, NULL, 0);
	assert_int_equal(index_read_repo(&old, dir, "r"), 0);
	commit_repo(dir, "r", MAIN, 1, x, 1, NULL, 0); /* another run committed meanwhile */
	es[0] = (struct index_repo_entry){ .name = "r", .shards = &name, .n_shards = 1 };
	assert_int_equal(index_commit_entries_expect(dir, es, &old, 1), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "changed in the index during this run"));
	index_repo_entry_dispose(&old);
	free(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(packs_small_repositories_with_their_branches),
		cmocka_unit_test(leaves_alone_what_is_large_or_alone),
		cmocka_unit_test(a_sparse_compound_file_is_packed_again_and_deleted),
		cmocka_unit_test(small_compound_files_are_merged_until_large),
		cmocka_unit_test(kept_repositories_are_left_as_they_are),
		cmocka_unit_test(a_stale_expectation_fails_the_whole_commit),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
