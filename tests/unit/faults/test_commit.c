/*
 * Allocation-failure injection (faultalloc.h) into an index commit of several repositories, each
 * expecting its entry (index_commit_entries_expect: sync's batch commit, compaction's group
 * commit). The contract its callers rely on: an error means nothing was committed, so that they
 * may unlink the new files they linked for it (sync_flush through build_commit_unlink,
 * compact.c's write_group); success means the new MANIFEST is in place. So after every run the
 * MANIFEST is the old one when the commit failed and the new one when it succeeded, and every
 * file the MANIFEST lists exists.
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

#include "index/shard.h"
#include "unit/faults/faultalloc.h"
#include "unit/testlib.h"
#include "util/error.h"
#include "util/file.h"

#define OLD_A "a-0000000000000001-0.shard"
#define OLD_B "b-0000000000000001-0.shard"
#define NEW_A "a-0000000000000002-0.shard"
#define NEW_B "b-0000000000000002-0.shard"

struct commit_case {
	char dir[512];
	char *before, *after; /* the MANIFEST before the commit, and after one that succeeded */
	size_t n_failed;      /* runs that failed */
};

static char *manifest_text(const char *dir)
{
	char *path = file_join(dir, "MANIFEST"), *text = NULL;
	size_t len = 0;

	assert_non_null(path);
	assert_int_equal(file_read_all(&text, &len, path, INDEX_MANIFEST_MAX), 0);
	free(path);
	return text;
}

static bool file_exists(const char *dir, const char *name)
{
	char *path = file_join(dir, name);
	struct stat sb;
	bool is = path && stat(path, &sb) == 0;

	free(path);
	return is;
}

/* The index of repositories a and b at their old files, and their new files linked beside. */
static void reset(struct commit_case *c)
{
	char *old_a[] = { OLD_A }, *old_b[] = { OLD_B };
	const struct index_repo_entry es[] = {
		{ .name = "a", .shards = old_a, .n_shards = 1, .n_base = 1 },
		{ .name = "b", .shards = old_b, .n_shards = 1, .n_base = 1 },
	};

	testlib_write_file(c->dir, OLD_A, "old a");
	testlib_write_file(c->dir, OLD_B, "old b");
	assert_int_equal(index_commit_entries(c->dir, es, 2), 0); /* unlinks the new files */
	testlib_write_file(c->dir, NEW_A, "new a");
	testlib_write_file(c->dir, NEW_B, "new b");
}

static int run_commit(void *arg)
{
	struct commit_case *c = arg;
	char *old_a[] = { OLD_A }, *old_b[] = { OLD_B }, *new_a[] = { NEW_A }, *new_b[] = { NEW_B };
	const struct index_repo_entry expects[] = {
		{ .name = "a", .shards = old_a, .n_shards = 1, .n_base = 1 },
		{ .name = "b", .shards = old_b, .n_shards = 1, .n_base = 1 },
	};
	/* Branches and a file-size limit: the MANIFEST's git keys are written too. */
	struct index_branch br[] = {
		{ .name = "main", .commit = "0123456789abcdef0123456789abcdef01234567",
		  .is_default = true },
		{ .name = "dev", .commit = "" },
	};
	const struct index_repo_entry es[] = {
		{ .name = "a", .shards = new_a, .n_shards = 1, .n_base = 1, .branches = br,
		  .n_branches = 2, .max_file_size = 1 << 20 },
		{ .name = "b", .shards = new_b, .n_shards = 1, .n_base = 1 },
	};

	return index_commit_entries_expect(c->dir, es, expects, 2);
}

static void check_commit(int err, bool is_injected, void *arg)
{
	struct commit_case *c = arg;
	char *now = manifest_text(c->dir);

	if (err < 0 && is_injected && err != TRAWL_ENOMEM)
		fail_msg("a failing commit ended in %d (%s), not ENOMEM", err, error_last());
	if (err < 0 && strcmp(now, c->before) != 0)
		fail_msg("the commit failed (%s) but wrote the new MANIFEST: its caller then unlinks "
			 "the files it lists",
			 error_last());
	if (err == 0 && strcmp(now, c->after) != 0)
		fail_msg("the commit succeeded without the new MANIFEST:\n%s", now);
	if (err == 0 && (!file_exists(c->dir, NEW_A) || !file_exists(c->dir, NEW_B)))
		fail_msg("a file the new MANIFEST lists is gone");
	c->n_failed += err < 0;
	free(now);
	reset(c);
}

static void batch_commit_fails_whole_or_succeeds_whole(void **state)
{
	static struct commit_case c;
	size_t n;

	(void)state;
	snprintf(c.dir, sizeof(c.dir), "%s", testlib_path("commit"));
	assert_int_equal(file_mkdirs(c.dir), 0);
	reset(&c);
	c.before = manifest_text(c.dir);
	assert_int_equal(run_commit(&c), 0);
	c.after = manifest_text(c.dir);
	assert_string_not_equal(c.before, c.after);
	reset(&c);
	n = faultalloc_sweep(run_commit, check_commit, &c);
	printf("batch commit: %zu allocations failed in turn, %zu runs failed\n", n, c.n_failed);
	assert_true(n > 0);
	free(c.before);
	free(c.after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(batch_commit_fails_whole_or_succeeds_whole),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
