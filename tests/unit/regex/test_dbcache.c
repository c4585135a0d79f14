/* Unit tests for the memory table and the disk cache of compiled databases (dbcache.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "regex/dbcache.h"

static hs_database_t *compile(const char *pattern)
{
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;

	assert_int_equal(hs_compile(pattern, 0, HS_MODE_BLOCK, NULL, &db, &cerr), HS_SUCCESS);
	return db;
}

/* Flags unlikely to collide with another test's entries in the process-wide table. */
#define F 0x40000000u

static void mem_shares_one_database_per_key(void **state)
{
	hs_database_t *a, *b, *got;

	(void)state;
	assert_null(dbcache_mem_get("abc", 3, F));
	a = dbcache_mem_put("abc", 3, F, compile("abc"));
	assert_non_null(a);
	got = dbcache_mem_get("abc", 3, F);
	assert_ptr_equal(got, a);
	/* The same key from another compilation: the first database wins, the second is freed. */
	b = dbcache_mem_put("abc", 3, F, compile("abc"));
	assert_ptr_equal(b, a);
	/* Another key or other flags are other entries. */
	assert_null(dbcache_mem_get("abd", 3, F));
	assert_null(dbcache_mem_get("abc", 3, F | 1));
	assert_null(dbcache_mem_get("ab", 2, F));
	dbcache_release(a);
	dbcache_release(got);
	dbcache_release(b);
	/* Released, but kept for the next query. */
	got = dbcache_mem_get("abc", 3, F);
	assert_ptr_equal(got, a);
	dbcache_release(got);
}

static void mem_evicts_least_recently_used_unheld(void **state)
{
	char key[32];
	hs_database_t *held, *db;

	(void)state;
	held = dbcache_mem_put("held", 4, F, compile("held"));
	for (int i = 0; i < DBCACHE_MEM_ENTRIES * 2; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		db = dbcache_mem_put(key, strlen(key), F, compile(key));
		dbcache_release(db);
	}
	/* The first unheld keys were evicted; the newest and the held one stay. */
	assert_null(dbcache_mem_get("k0", 2, F));
	snprintf(key, sizeof(key), "k%d", DBCACHE_MEM_ENTRIES * 2 - 1);
	db = dbcache_mem_get(key, strlen(key), F);
	assert_non_null(db);
	dbcache_release(db);
	assert_ptr_equal(dbcache_mem_get("held", 4, F), held);
	dbcache_release(held);
	dbcache_release(held);
}

static void mem_full_of_held_databases_leaves_new_ones_to_caller(void **state)
{
	hs_database_t *dbs[DBCACHE_MEM_ENTRIES], *extra;
	char key[32];

	(void)state;
	for (int i = 0; i < DBCACHE_MEM_ENTRIES; i++) {
		snprintf(key, sizeof(key), "h%d", i);
		dbs[i] = dbcache_mem_put(key, strlen(key), F, compile(key));
	}
	/* Every slot is held: the new database is not kept, and release frees it (ASan). */
	extra = dbcache_mem_put("extra", 5, F, compile("extra"));
	assert_non_null(extra);
	assert_null(dbcache_mem_get("extra", 5, F));
	dbcache_release(extra);
	for (int i = 0; i < DBCACHE_MEM_ENTRIES; i++)
		dbcache_release(dbs[i]);
	dbcache_release(NULL);
}

/* ---- the disk cache, in a directory of its own ---- */

static char disk_dir[64];
static char disk_link[80]; /* a symlink to disk_dir, for the tests that make one */

static int disk_setup(void **state)
{
	(void)state;
	snprintf(disk_dir, sizeof(disk_dir), "/tmp/trawl-dbcache.XXXXXX");
	if (!mkdtemp(disk_dir))
		return -1;
	snprintf(disk_link, sizeof(disk_link), "%s.link", disk_dir);
	setenv("TRAWL_CACHE_DIR", disk_dir, 1);
	return 0;
}

static int disk_teardown(void **state)
{
	DIR *d = opendir(disk_dir);
	struct dirent *de;

	(void)state;
	unlink(disk_link);
	chmod(disk_dir, 0700);
	while (d && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".swept") == 0)
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	rmdir(disk_dir);
	dbcache_set_disk_limits(0, 0);
	return 0;
}

/* Entries in the directory, their total size, and how many have an mtime of at least since. */
static size_t disk_entries(uint64_t *total, time_t since, size_t *n_recent)
{
	DIR *d = opendir(disk_dir);
	struct dirent *de;
	struct stat st;
	size_t n = 0;

	*total = 0;
	if (n_recent)
		*n_recent = 0;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (!strstr(de->d_name, ".hsdb") || fstatat(dirfd(d), de->d_name, &st, 0) < 0)
			continue;
		n++;
		*total += (uint64_t)st.st_size;
		if (n_recent && st.st_mtime >= since)
			(*n_recent)++;
	}
	closedir(d);
	return n;
}

/* Sets the mtime of every entry to when (seconds since the epoch). */
static void disk_age_all(time_t when)
{
	struct timespec ts[2] = { { when, 0 }, { when, 0 } };
	DIR *d = opendir(disk_dir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".hsdb"))
			assert_int_equal(utimensat(dirfd(d), de->d_name, ts, 0), 0);
	closedir(d);
}

static bool disk_has(const char *pattern)
{
	hs_database_t *db = dbcache_load(pattern, strlen(pattern), F);

	hs_free_database(db);
	return db != NULL;
}

static void disk_evicts_least_recently_used_over_the_cap(void **state)
{
	static const char *keys[] = { "aaa0", "bbb1", "ccc2", "ddd3", "eee4" };
	time_t now = time(NULL);
	uint64_t total, keep = 0;
	size_t n_recent;
	hs_database_t *db;

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		db = compile(keys[i]);
		dbcache_store(keys[i], 4, F, db);
		hs_free_database(db);
	}
	assert_int_equal(disk_entries(&total, 0, NULL), 5);
	/* Everything last used an hour ago; then two entries are used. */
	disk_age_all(now - 3600);
	assert_true(disk_has("aaa0"));
	assert_true(disk_has("ccc2"));
	assert_int_equal(disk_entries(&total, now, &n_recent), 5);
	assert_int_equal(n_recent, 2);
	/* A cap that holds about two entries keeps the two used last. */
	keep = total * 2 / 5 + total / 20;
	dbcache_set_disk_limits(keep, 0);
	dbcache_sweep();
	assert_true(disk_entries(&total, 0, NULL) <= 2);
	assert_true(total <= keep);
	assert_true(disk_has("aaa0"));
	assert_true(disk_has("ccc2"));
	assert_false(disk_has("bbb1"));
	assert_false(disk_has("ddd3"));
	assert_false(disk_has("eee4"));
}

static void disk_removes_entries_unused_for_the_age_limit(void **state)
{
	time_t now = time(NULL);
	uint64_t total;
	hs_database_t *db;

	(void)state;
	db = compile("old1");
	dbcache_store("old1", 4, F, db);
	dbcache_store("new2", 4, F, db);
	hs_free_database(db);
	disk_age_all(now - 31 * 24 * 3600);
	assert_true(disk_has("new2")); /* used now */
	dbcache_sweep();
	assert_int_equal(disk_entries(&total, 0, NULL), 1);
	assert_false(disk_has("old1"));
	assert_true(disk_has("new2"));
}

static void disk_store_sweeps_by_itself(void **state)
{
	char key[32];
	uint64_t total, cap = 0;
	hs_database_t *db = compile("x");

	(void)state;
	/* The size of one entry, then a cap of three. */
	dbcache_store("sz00", 4, F, db);
	disk_entries(&cap, 0, NULL);
	cap *= 3;
	dbcache_set_disk_limits(cap, 0);
	/* Enough stores that at least one sweep is due on the way: the cap holds at the end. */
	for (int i = 0; i < 64; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		dbcache_store(key, 4, F, db);
	}
	hs_free_database(db);
	/* Three kept by the last sweep, and at most the 16 stores until the next one. */
	assert_true(disk_entries(&total, 0, NULL) <= 3 + 16);
}

/* A database of a few hundred KiB: two thousand alternated words. */
static hs_database_t *compile_big(void)
{
	size_t cap = 2000 * 8 + 1, len = 0;
	char *pat = malloc(cap);
	hs_database_t *db;

	assert_non_null(pat);
	for (int i = 0; i < 2000; i++)
		len += (size_t)snprintf(pat + len, cap - len, "%sq%04dz", i ? "|" : "", i);
	db = compile(pat);
	free(pat);
	return db;
}

/* TRAWL_CACHE_MAX_MB sets the cap when a test has not; a value that is not a size is ignored. */
static void disk_cap_from_the_environment(void **state)
{
	char key[32];
	uint64_t total = 0;
	size_t n = 0;
	hs_database_t *db = compile_big();

	(void)state;
	/* Past 2 MiB in entries, with the default cap (256 MiB) nothing is swept. */
	while (total <= ((uint64_t)2 << 20)) {
		snprintf(key, sizeof(key), "big%04zu", n++);
		dbcache_store(key, strlen(key), F, db);
		assert_int_equal(disk_entries(&total, 0, NULL), n);
	}
	hs_free_database(db);
	setenv("TRAWL_CACHE_MAX_MB", "1x", 1);
	dbcache_sweep();
	assert_int_equal(disk_entries(&total, 0, NULL), n);
	setenv("TRAWL_CACHE_MAX_MB", "0", 1);
	dbcache_sweep();
	assert_int_equal(disk_entries(&total, 0, NULL), n);
	setenv("TRAWL_CACHE_MAX_MB", "1", 1);
	dbcache_sweep();
	assert_true(disk_entries(&total, 0, NULL) < n);
	assert_true(total <= ((uint64_t)1 << 20));
	unsetenv("TRAWL_CACHE_MAX_MB");
}

/* The name of the one entry in the directory, into name[32]. */
static void disk_only_entry(char *name)
{
	DIR *d = opendir(disk_dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (!strstr(de->d_name, ".hsdb"))
			continue;
		assert_true(strlen(de->d_name) < 32);
		memcpy(name, de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 1);
}

static void disk_dir_reached_through_a_symlink_is_not_used(void **state)
{
	/* A trailing slash or "." would make even an O_NOFOLLOW open follow the link. */
	static const char *suffixes[] = { "", "/", "//", "/." };
	hs_database_t *db = compile("sym1");
	char path[96];
	uint64_t total;

	(void)state;
	assert_int_equal(symlink(disk_dir, disk_link), 0);
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s%s", disk_link, suffixes[i]);
		setenv("TRAWL_CACHE_DIR", path, 1);
		dbcache_store("sym1", 4, F, db);
		dbcache_sweep();
	}
	/* Nothing was stored through the link. */
	assert_int_equal(disk_entries(&total, 0, NULL), 0);
	/* An entry stored in the directory itself is not loaded through the link either. */
	setenv("TRAWL_CACHE_DIR", disk_dir, 1);
	dbcache_store("sym1", 4, F, db);
	hs_free_database(db);
	assert_true(disk_has("sym1"));
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s%s", disk_link, suffixes[i]);
		setenv("TRAWL_CACHE_DIR", path, 1);
		assert_false(disk_has("sym1"));
	}
}

static void disk_entry_that_is_a_symlink_is_not_loaded(void **state)
{
	hs_database_t *db = compile("lnk1");
	char name[32], path[128], target[128];

	(void)state;
	dbcache_store("lnk1", 4, F, db);
	hs_free_database(db);
	assert_true(disk_has("lnk1"));
	/* The entry's bytes moved aside, and the entry's name made a symlink to them. */
	disk_only_entry(name);
	snprintf(path, sizeof(path), "%s/%s", disk_dir, name);
	snprintf(target, sizeof(target), "%s/target", disk_dir);
	assert_int_equal(rename(path, target), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_false(disk_has("lnk1"));
}

static void disk_group_writable_dir_is_not_used(void **state)
{
	hs_database_t *db = compile("grp1");
	uint64_t total;

	(void)state;
	dbcache_store("grp1", 4, F, db);
	assert_true(disk_has("grp1"));
	assert_int_equal(chmod(disk_dir, 0770), 0);
	assert_false(disk_has("grp1"));
	dbcache_store("grp2", 4, F, db);
	assert_int_equal(chmod(disk_dir, 0702), 0);
	assert_false(disk_has("grp1"));
	dbcache_store("grp3", 4, F, db);
	hs_free_database(db);
	assert_int_equal(disk_entries(&total, 0, NULL), 1);
	/* The mode alone was the reason: narrowed again, the directory is used. */
	assert_int_equal(chmod(disk_dir, 0700), 0);
	assert_true(disk_has("grp1"));
	assert_false(disk_has("grp2"));
}

static void disk_entry_not_ours_alone_is_not_loaded(void **state)
{
	hs_database_t *db = compile("own1");
	char name[32], path[128];
	struct stat st;

	(void)state;
	dbcache_store("own1", 4, F, db);
	hs_free_database(db);
	disk_only_entry(name);
	snprintf(path, sizeof(path), "%s/%s", disk_dir, name);
	/* Entries are written private: they hold the pattern text. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	/* Writable by the group or by anyone: not trusted. */
	assert_int_equal(chmod(path, 0660), 0);
	assert_false(disk_has("own1"));
	assert_int_equal(chmod(path, 0602), 0);
	assert_false(disk_has("own1"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_true(disk_has("own1"));
	/* Another user's file (only root can make one here). */
	if (geteuid() != 0)
		return;
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_false(disk_has("own1"));
}

/* Removes the server's cache directory under disk_dir and what it holds. */
static void disk_remove_server_dir(void)
{
	char path[128];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/%s", disk_dir, DBCACHE_SERVER_SUBDIR);
	d = opendir(path);
	while (d && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	rmdir(path);
}

/*
 * The confined server may write its cache, so a CLI process must never load from it: the
 * server's is a directory of its own, and an entry there, even under the very name the CLI
 * computes for a pattern (here a forged one: another pattern's database), is not the CLI's.
 */
static void disk_server_cache_is_never_loaded_by_the_cli(void **state)
{
	hs_database_t *other = compile("other");
	char want[128], *dir;

	(void)state;
	dbcache_set_role(DBCACHE_ROLE_SERVER);
	snprintf(want, sizeof(want), "%s/%s", disk_dir, DBCACHE_SERVER_SUBDIR);
	dir = dbcache_dir();
	assert_string_equal(dir, want);
	free(dir);
	dbcache_store("srv1", 4, F, other);
	hs_free_database(other);
	assert_true(disk_has("srv1")); /* the server reads its own */
	dbcache_set_role(DBCACHE_ROLE_CLI);
	dir = dbcache_dir();
	assert_string_equal(dir, disk_dir);
	free(dir);
	assert_false(disk_has("srv1"));
	/* Nor does the server read the CLI's. */
	other = compile("cli1");
	dbcache_store("cli1", 4, F, other);
	hs_free_database(other);
	assert_true(disk_has("cli1"));
	dbcache_set_role(DBCACHE_ROLE_SERVER);
	assert_false(disk_has("cli1"));
	dbcache_set_role(DBCACHE_ROLE_CLI);
	disk_remove_server_dir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mem_shares_one_database_per_key),
		cmocka_unit_test(mem_evicts_least_recently_used_unheld),
		cmocka_unit_test(mem_full_of_held_databases_leaves_new_ones_to_caller),
		cmocka_unit_test_setup_teardown(disk_evicts_least_recently_used_over_the_cap,
						disk_setup, disk_teardown),
		cmocka_unit_test_setup_teardown(disk_removes_entries_unused_for_the_age_limit,
						disk_setup, disk_teardown),
		cmocka_unit_test_setup_teardown(disk_cap_from_the_environment, disk_setup,
						disk_teardown),
		cmocka_unit_test_setup_teardown(disk_store_sweeps_by_itself, disk_setup,
						disk_teardown),
		cmocka_unit_test_setup_teardown(disk_dir_reached_through_a_symlink_is_not_used,
						disk_setup, disk_teardown),
		cmocka_unit_test_setup_teardown(disk_entry_that_is_a_symlink_is_not_loaded,
						disk_setup, disk_teardown),
		cmocka_unit_test_setup_teardown(disk_group_writable_dir_is_not_used, disk_setup,
						disk_teardown),
		cmocka_unit_test_setup_teardown(disk_entry_not_ours_alone_is_not_loaded, disk_setup,
						disk_teardown),
		cmocka_unit_test_setup_teardown(disk_server_cache_is_never_loaded_by_the_cli,
						disk_setup, disk_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
