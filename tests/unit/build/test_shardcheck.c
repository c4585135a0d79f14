/*
 * Unit tests for the record of verified shards (build/shardcheck.h): a shard verified once is
 * not read again while its file is unchanged; a file changed since (even with its modification
 * time put back) is verified again and its damage caught; a file that changed just before its
 * verification is not recorded; a damaged record is ignored; files gone leave the record.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "build/shardcheck.h"
#include "index/shard.h"
#include "unit/testlib.h"
#include "util/error.h"
#include "util/file.h"
#include "util/sanitizer.h"

static char index_dir[512], record[512];
static char *shard_name;

/* Writes a shard of repo with n_docs documents of doc_len bytes into index_dir; its name. */
static char *make_shard_sized(const char *repo, int n_docs, size_t doc_len)
{
	static const char *const branches[] = { "main" };
	char *name = index_shard_name(repo, 0), *path;
	struct shard_writer *w = NULL;
	const uint8_t set = 1;

	assert_non_null(name);
	path = file_join(index_dir, name);
	assert_non_null(path);
	assert_int_equal(shard_writer_new(&w, path, repo), 0);
	assert_int_equal(shard_writer_set_branches(w, (char *const *)branches, 1), 0);
	for (int i = 0; i < n_docs; i++) {
		char file[32], *text = malloc(doc_len + 64);
		int n;

		assert_non_null(text);
		n = snprintf(text, doc_len + 64, "line %d of a file with some text in it\n", i);
		/* Words of pseudo-random letters: many distinct trigrams, as in real text. */
		for (size_t k = 0; k < doc_len; k++)
			text[n++] = (k % 8 == 7) ? ' ' : (char)('a' + (k * 2654435761u >> 7) % 26);
		snprintf(file, sizeof(file), "f%02d.txt", i);
		assert_int_equal(shard_writer_add_git(w, file, strlen(file), (const uint8_t *)text,
						      (size_t)n, (uint64_t)n, DOC_INDEXED, 0, NULL,
						      &set, 1),
				 0);
		free(text);
	}
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	free(path);
	return name;
}

static char *make_shard(const char *repo)
{
	return make_shard_sized(repo, 20, 0);
}

static int setup(void **state)
{
	if (testlib_setup(state) < 0)
		return -1;
	snprintf(index_dir, sizeof(index_dir), "%s", testlib_path("index"));
	snprintf(record, sizeof(record), "%s", testlib_path("shards-verified"));
	if (mkdir(index_dir, 0700) < 0)
		return -1;
	shard_name = make_shard("repo");
	return 0;
}

static int teardown(void **state)
{
	free(shard_name);
	return testlib_teardown(state);
}

/* Opens the record, with files counted as settled at once (no wait in the tests). */
static void open_record(struct shardcheck *sc)
{
	assert_int_equal(shardcheck_open(sc, record), 0);
	sc->settle_s = -1;
}

/* Flips one byte at off of the shard, keeping its size (and, with keep_mtime, its mtime). */
static void damage(off_t off, bool keep_mtime)
{
	char *path = file_join(index_dir, shard_name);
	struct stat st;
	struct timespec times[2];
	uint8_t c;
	int fd;

	assert_non_null(path);
	assert_int_equal(stat(path, &st), 0);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x55;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
	if (keep_mtime) {
		times[0] = st.st_atim;
		times[1] = st.st_mtim;
		assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	}
	free(path);
}

static void a_verified_file_is_not_read_again(void **state)
{
	struct shardcheck sc;

	(void)state;
	unlink(record);
	open_record(&sc);
	assert_int_equal(shardcheck_verify(&sc, index_dir, shard_name), 0);
	assert_int_equal(sc.n_verified, 1);
	assert_int_equal(sc.n, 1);
	assert_int_equal(shardcheck_save(&sc, index_dir), 0);
	shardcheck_dispose(&sc);

	open_record(&sc);
	assert_int_equal(sc.n, 1);
	assert_int_equal(shardcheck_verify(&sc, index_dir, shard_name), 0);
	assert_int_equal(sc.n_skipped, 1);
	assert_int_equal(sc.n_verified, 0);
	shardcheck_dispose(&sc);
}

/* Damage past the sections shard_open reads: only a full verification finds it. */
static void a_changed_file_is_verified_again_and_caught(void **state)
{
	struct shardcheck sc;
	char *path = file_join(index_dir, shard_name);
	struct shard *sh = NULL;
	struct stat st;

	(void)state;
	assert_non_null(path);
	unlink(record);
	open_record(&sc);
	assert_int_equal(shardcheck_verify(&sc, index_dir, shard_name), 0);
	assert_int_equal(shardcheck_save(&sc, index_dir), 0);
	shardcheck_dispose(&sc);

	/* The middle of the file: inside a section shard_open does not check. */
	assert_int_equal(stat(path, &st), 0);
	damage(st.st_size / 2, true);
	assert_int_equal(shard_open(&sh, path), 0); /* opening alone does not see it */
	shard_close(sh);

	open_record(&sc);
	assert_int_equal(shardcheck_verify(&sc, index_dir, shard_name), TRAWL_ECORRUPT);
	assert_int_equal(sc.n_skipped, 0);
	assert_int_equal(sc.n, 0); /* forgotten */
	assert_int_equal(shardcheck_save(&sc, index_dir), 0);
	shardcheck_dispose(&sc);
	open_record(&sc);
	assert_int_equal(shardcheck_verify(&sc, index_dir, shard_name), TRAWL_ECORRUPT);
	shardcheck_dispose(&sc);
	damage(st.st_size / 2, false); /* repaired for the tests after this one */
	free(path);
}

static void a_file_that_just_changed_is_not_recorded(void **state)
{
	struct shardcheck sc;

	(void)state;
	unlink(record);
	assert_int_equal(shardcheck_open(&sc, record), 0);
	assert_int_equal(sc.settle_s, SHARDCHECK_SETTLE_S);
	sc.settle_s = 3600; /* as if it had been written a moment ago */
	assert_int_equal(shardcheck_verify(&sc, index_dir, shard_name), 0);
	assert_int_equal(sc.n_verified, 1);
	assert_int_equal(sc.n, 0);
	shardcheck_dispose(&sc);
}

/* tmpl with NAME replaced by the shard's name. */
static void fill(char *out, size_t size, const char *tmpl)
{
	const char *at = strstr(tmpl, "NAME");
	int n = at ? snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, shard_name, at + 4)
		   : snprintf(out, size, "%s", tmpl);

	assert_true(n > 0 && (size_t)n < size);
}

static void a_damaged_record_is_ignored(void **state)
{
	static const char *const bad[] = {
		"not a record\n",
		"trawl-shards-verified 1\nNAME 1 2 3\n",
		"trawl-shards-verified 1\n../x.shard 1 2 3 4 5 6 7 0000abcd\n",
		"trawl-shards-verified 1\nNAME 1 2 3 4 5 6 7 0000abcd", /* torn */
		"trawl-shards-verified 1\nNAME 1 2 3 4 5000000000 6 7 0000abcd\n",
		"trawl-shards-verified 1\nNAME 1 2 3 4 5 6 7 -000abcd\n",
		"trawl-shards-verified 2\nNAME 1 2 3 4 5 6 7 0000abcd\n",
	};
	struct shardcheck sc;
	char text[512];

	(void)state;
	/* The form the tests above wrote is read back. */
	fill(text, sizeof(text), "trawl-shards-verified 1\nNAME 1 2 3 4 5 6 7 0000abcd\n");
	assert_int_equal(file_write_atomic(record, text, strlen(text)), 0);
	open_record(&sc);
	assert_int_equal(sc.n, 1);
	assert_int_equal(sc.v[0].ctime_ns, 7);
	assert_int_equal(sc.v[0].crc, 0xabcd);
	shardcheck_dispose(&sc);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		fill(text, sizeof(text), bad[i]);
		assert_int_equal(file_write_atomic(record, text, strlen(text)), 0);
		open_record(&sc);
		assert_int_equal(sc.n, 0);
		assert_int_equal(shardcheck_verify(&sc, index_dir, shard_name), 0);
		assert_int_equal(sc.n_verified, 1);
		shardcheck_dispose(&sc);
	}
}

static void a_killed_writers_temporary_file_is_removed(void **state)
{
	struct shardcheck sc;
	char tmp[600], other[600];

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s.tmp.Ab12Cd", record);
	snprintf(other, sizeof(other), "%s-other.tmp.Ab12Cd", record);
	assert_int_equal(file_write_atomic(tmp, "x", 1), 0);
	assert_int_equal(file_write_atomic(other, "x", 1), 0);
	open_record(&sc);
	shardcheck_dispose(&sc);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(other, F_OK), 0); /* not its own */
	unlink(other);
}

static void files_gone_leave_the_record(void **state)
{
	struct shardcheck sc;
	char *other = make_shard("other"), *path;

	(void)state;
	unlink(record);
	open_record(&sc);
	assert_int_equal(shardcheck_verify(&sc, index_dir, shard_name), 0);
	assert_int_equal(shardcheck_verify(&sc, index_dir, other), 0);
	assert_int_equal(sc.n, 2);
	path = file_join(index_dir, other);
	assert_non_null(path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(shardcheck_save(&sc, index_dir), 0);
	shardcheck_dispose(&sc);
	open_record(&sc);
	assert_int_equal(sc.n, 1);
	assert_string_equal(sc.v[0].name, shard_name);
	assert_int_equal(shardcheck_verify(&sc, index_dir, other), TRAWL_ENOTFOUND);
	shardcheck_dispose(&sc);
	free(path);
	free(other);
}

/* The bytes of address space this process has mapped (VmSize), 0 when unknown. */
static uint64_t vm_size(void)
{
	char line[256];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmSize:", 7) == 0)
			kb = strtoull(line + 7, NULL, 10);
	if (f)
		fclose(f);
	return kb << 10;
}

/*
 * A shard that cannot be mapped for want of address space (sync's RLIMIT_AS) is ENOMEM, not
 * damage: sync then fails the repository instead of dropping it from the index to re-index it.
 */
static void a_shard_that_cannot_be_mapped_is_enomem_not_damage(void **state)
{
	char *big, *path;
	struct stat st;
	int status = -1;
	pid_t pid;

	(void)state;
	if (HAS_SHADOW)
		skip(); /* a sanitizer's shadow memory needs terabytes of address space */
	big = make_shard_sized("big", 8, 512 << 10);
	path = file_join(index_dir, big);
	assert_non_null(path);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 4 << 20);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct shardcheck sc;
		struct rlimit rl;
		int err;

		if (shardcheck_open(&sc, record) < 0 || vm_size() == 0)
			_exit(3);
		/* Room for what the call allocates, not for the file's mapping. */
		rl.rlim_cur = rl.rlim_max = (rlim_t)(vm_size() + (uint64_t)st.st_size / 2);
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(4);
		err = shardcheck_verify(&sc, index_dir, big);
		_exit(err == TRAWL_ENOMEM && strstr(error_last(), "Cannot allocate memory") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(unlink(path), 0);
	free(path);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_verified_file_is_not_read_again),
		cmocka_unit_test(a_changed_file_is_verified_again_and_caught),
		cmocka_unit_test(a_file_that_just_changed_is_not_recorded),
		cmocka_unit_test(a_damaged_record_is_ignored),
		cmocka_unit_test(files_gone_leave_the_record),
		cmocka_unit_test(a_killed_writers_temporary_file_is_removed),
		cmocka_unit_test(a_shard_that_cannot_be_mapped_is_enomem_not_damage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
