/*
 * Unit tests for build_commit with a work directory (build/build.h): what the index worker
 * wrote is linked only when every check passes. Each bad output (a name outside the work
 * directory, a symlink, a hard link, a corrupt shard, another repository's shard, kept shards
 * or an overlay the index does not have) is refused and leaves the index exactly as it was.
 */
#include <dirent.h>
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
#include "unit/testlib.h"
#include "util/error.h"
#include "util/file.h"

static char index_dir[512], work_dir[512];
static struct index_repo_entry old; /* the repository's entry before each test */
static const char *const branch_names[] = { "main" };

/* Writes a one-document shard of repo with branch "main" into dir; returns its new name. */
static char *make_shard(const char *dir, const char *repo)
{
	char *name = index_shard_name(repo, 0), *path;
	struct shard_writer *w = NULL;
	const uint8_t set = 1;

	assert_non_null(name);
	path = file_join(dir, name);
	assert_non_null(path);
	assert_int_equal(shard_writer_new(&w, path, repo), 0);
	assert_int_equal(shard_writer_set_branches(w, (char *const *)branch_names, 1), 0);
	assert_int_equal(shard_writer_add_git(w, "f.txt", 5, (const uint8_t *)"hello", 5, 5,
					      DOC_INDEXED, 0, NULL, &set, 1),
			 0);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	free(path);
	return name;
}

/* An output naming the given new files (after kept copies of old's when is_incremental). */
static void output(struct build_git_output *out, const char *repo, char **files, size_t n,
		   bool is_incremental)
{
	size_t k = 0;

	*out = (struct build_git_output){ 0 };
	out->res.branches = calloc(1, sizeof(*out->res.branches));
	assert_non_null(out->res.branches);
	out->res.branches[0].name = strdup("main");
	snprintf(out->res.branches[0].commit, sizeof(out->res.branches[0].commit), "%040d", 7);
	out->res.branches[0].is_default = true;
	out->res.n_branches = 1;
	out->e.name = strdup(repo);
	out->e.shards = calloc(old.n_shards + n + 1, sizeof(char *));
	assert_non_null(out->e.shards);
	if (is_incremental)
		for (; k < old.n_shards; k++)
			out->e.shards[k] = strdup(old.shards[k]);
	out->n_kept = k;
	for (size_t i = 0; i < n; i++)
		out->e.shards[k++] = strdup(files[i]);
	out->e.n_shards = k;
	out->e.n_base = is_incremental ? old.n_base : k;
}

static int setup(void **state)
{
	struct build_git_output out;
	char *name;

	if (testlib_setup(state) < 0)
		return -1;
	snprintf(index_dir, sizeof(index_dir), "%s", testlib_path("index"));
	if (mkdir(index_dir, 0700) < 0)
		return -1;
	/* The repository's first index, committed as the one-process path does. */
	name = make_shard(index_dir, "repo");
	output(&out, "repo", &name, 1, false);
	if (build_commit(index_dir, NULL, &out, NULL) < 0)
		return -1;
	build_git_output_dispose(&out, NULL);
	free(name);
	return index_read_repo(&old, index_dir, "repo");
}

static int teardown(void **state)
{
	index_repo_entry_dispose(&old);
	return testlib_teardown(state);
}

static int new_work(void **state)
{
	char *w = NULL;

	(void)state;
	if (index_work_dir_new(&w, index_dir, "repo") < 0)
		return -1;
	snprintf(work_dir, sizeof(work_dir), "%s", w);
	free(w);
	return 0;
}

static int remove_work(void **state)
{
	(void)state;
	index_work_dir_remove(work_dir);
	return 0;
}

/* The index lists exactly old's shards, and its directory holds no other shard file. */
static void assert_index_untouched(void)
{
	struct index_repo_entry now = { 0 };
	size_t n_files = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;

	assert_int_equal(index_read_repo(&now, index_dir, "repo"), 0);
	assert_int_equal(now.n_shards, old.n_shards);
	for (size_t k = 0; k < now.n_shards; k++)
		assert_string_equal(now.shards[k], old.shards[k]);
	index_repo_entry_dispose(&now);
	/* Besides MANIFEST, LOCK, WRITERS and work/: exactly the listed shard files. */
	d = opendir(index_dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		n_files += strlen(de->d_name) > 6 &&
			   strcmp(de->d_name + strlen(de->d_name) - 6, ".shard") == 0;
	closedir(d);
	assert_int_equal(n_files, old.n_shards);
	assert_int_equal(stat(index_dir, &st), 0);
}

/* build_commit of out from the work directory: its result; out disposed. */
static int commit(struct build_git_output *out)
{
	int err = build_commit(index_dir, work_dir, out, &old);

	build_git_output_dispose(out, NULL);
	return err;
}

static void a_good_shard_is_linked_and_committed(void **state)
{
	struct build_git_output out;
	struct index_repo_entry now = { 0 };
	char *name = make_shard(work_dir, "repo"), *path;
	struct stat st;

	(void)state;
	output(&out, "repo", &name, 1, false);
	assert_int_equal(commit(&out), 0);
	assert_int_equal(index_read_repo(&now, index_dir, "repo"), 0);
	assert_int_equal(now.n_shards, 1);
	assert_string_equal(now.shards[0], name);
	path = file_join(index_dir, name);
	assert_int_equal(stat(path, &st), 0);
	free(path);
	/* The new entry is the next test's "old". */
	index_repo_entry_dispose(&old);
	old = now;
	free(name);
}

static void a_name_outside_the_work_dir_is_refused(void **state)
{
	const char *bad[] = { "../x.shard", "sub/x.shard", ".hidden.shard", "MANIFEST", ".." };
	struct build_git_output out;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *name = (char *)bad[i];

		output(&out, "repo", &name, 1, false);
		assert_int_equal(commit(&out), TRAWL_ECORRUPT);
		assert_non_null(strstr(error_last(), "not a shard file name"));
		assert_index_untouched();
	}
}

static void a_symlink_is_refused(void **state)
{
	struct build_git_output out;
	char *target = make_shard(testlib_tmpdir(), "repo"), *link_path, *tpath;
	char *name = index_shard_name("repo", 1);

	(void)state;
	tpath = file_join(testlib_tmpdir(), target);
	link_path = file_join(work_dir, name);
	assert_int_equal(symlink(tpath, link_path), 0);
	output(&out, "repo", &name, 1, false);
	assert_int_equal(commit(&out), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "symlink"));
	assert_index_untouched();
	unlink(tpath);
	free(tpath);
	free(link_path);
	free(target);
	free(name);
}

static void a_hard_link_is_refused(void **state)
{
	struct build_git_output out;
	char *src = file_join(index_dir, old.shards[0]), *name = index_shard_name("repo", 2);
	char *dst = file_join(work_dir, name);

	(void)state;
	/* The index's own shard, linked into the work directory under a new name. */
	assert_int_equal(link(src, dst), 0);
	output(&out, "repo", &name, 1, false);
	assert_int_equal(commit(&out), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "one link"));
	assert_index_untouched();
	free(src);
	free(dst);
	free(name);
}

static void a_corrupt_shard_is_refused(void **state)
{
	struct build_git_output out;
	char *name = make_shard(work_dir, "repo"), *path = file_join(work_dir, name);
	struct stat st;
	FILE *f;

	(void)state;
	/* One byte of the content flipped: only shard_verify's checksums see it. */
	assert_int_equal(stat(path, &st), 0);
	f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 64, SEEK_SET), 0);
	{
		int c = fgetc(f);

		assert_int_equal(fseek(f, 64, SEEK_SET), 0);
		fputc(c ^ 0x55, f);
	}
	fclose(f);
	output(&out, "repo", &name, 1, false);
	assert_int_equal(commit(&out), TRAWL_ECORRUPT);
	assert_index_untouched();
	/* A truncated one, too. */
	assert_int_equal(truncate(path, st.st_size / 2), 0);
	output(&out, "repo", &name, 1, false);
	assert_int_equal(commit(&out), TRAWL_ECORRUPT);
	assert_index_untouched();
	free(path);
	free(name);
}

static void another_repositorys_shard_is_refused(void **state)
{
	struct build_git_output out;
	char *name = make_shard(work_dir, "other");

	(void)state;
	output(&out, "repo", &name, 1, false);
	assert_int_equal(commit(&out), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "another repository"));
	assert_index_untouched();
	free(name);
}

static void kept_shards_must_be_the_index_s(void **state)
{
	struct build_git_output out;
	char *name = make_shard(work_dir, "repo");

	(void)state;
	output(&out, "repo", &name, 1, true);
	free(out.e.shards[0]);
	out.e.shards[0] = strdup("stolen-0000000000000000-0.shard");
	assert_int_equal(commit(&out), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "kept shard"));
	assert_index_untouched();
	/* Fewer kept than the index lists. */
	output(&out, "repo", &name, 1, true);
	out.n_kept = 0;
	out.e.n_base = 1;
	assert_int_equal(commit(&out), TRAWL_ECORRUPT);
	assert_index_untouched();
	free(name);
}

static void an_overlay_beyond_a_kept_shard_is_refused(void **state)
{
	struct build_git_output out;
	char *name = make_shard(work_dir, "repo");

	(void)state;
	output(&out, "repo", &name, 1, true);
	out.e.overlay = calloc(1, sizeof(*out.e.overlay));
	assert_non_null(out.e.overlay);
	out.e.overlay[0] = (struct index_overlay){ .shard = 0, .doc = 5 };
	out.e.n_overlay = 1;
	assert_int_equal(commit(&out), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "document 5"));
	assert_index_untouched();
	/* An overlay on a new shard (not a kept one) is refused too. */
	output(&out, "repo", &name, 1, true);
	out.e.overlay = calloc(1, sizeof(*out.e.overlay));
	assert_non_null(out.e.overlay);
	out.e.overlay[0] = (struct index_overlay){ .shard = 1, .doc = 0 };
	out.e.n_overlay = 1;
	assert_int_equal(commit(&out), TRAWL_ECORRUPT);
	assert_index_untouched();
	free(name);
}

static void an_incremental_entry_with_a_good_delta_is_committed(void **state)
{
	struct build_git_output out;
	struct index_repo_entry now = { 0 };
	char *name = make_shard(work_dir, "repo");

	(void)state;
	output(&out, "repo", &name, 1, true);
	out.e.overlay = calloc(1, sizeof(*out.e.overlay));
	assert_non_null(out.e.overlay);
	out.e.overlay[0] = (struct index_overlay){ .shard = 0, .doc = 0 }; /* deleted */
	out.e.n_overlay = 1;
	assert_int_equal(commit(&out), 0);
	assert_int_equal(index_read_repo(&now, index_dir, "repo"), 0);
	assert_int_equal(now.n_shards, old.n_shards + 1);
	assert_string_equal(now.shards[old.n_shards], name);
	assert_int_equal(now.n_overlay, 1);
	index_repo_entry_dispose(&old);
	old = now;
	free(name);
}

static void the_sweep_removes_work_directories(void **state)
{
	int fd = -1;
	struct stat st;

	(void)state;
	testlib_write_file(work_dir, "left-0000000000000000-0.shard", "half");
	assert_int_equal(index_writer_begin(&fd, index_dir), 0);
	index_writer_end(fd, index_dir, true);
	assert_int_equal(stat(work_dir, &st), -1);
	assert_index_untouched();
}

#define T(f) cmocka_unit_test_setup_teardown(f, new_work, remove_work)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_good_shard_is_linked_and_committed),
		T(a_name_outside_the_work_dir_is_refused),
		T(a_symlink_is_refused),
		T(a_hard_link_is_refused),
		T(a_corrupt_shard_is_refused),
		T(another_repositorys_shard_is_refused),
		T(kept_shards_must_be_the_index_s),
		T(an_overlay_beyond_a_kept_shard_is_refused),
		T(an_incremental_entry_with_a_good_delta_is_committed),
		T(the_sweep_removes_work_directories),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
