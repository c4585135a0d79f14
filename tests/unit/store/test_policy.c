/*
 * Unit tests for the URL policy files (store/policy.h): written 0600 in a 0700 directory and
 * read back the same; a missing file is ENOTFOUND, anything not written by store_policy_write
 * is ECORRUPT naming the file; the registry's repositories migrate into a directory that
 * appears whole; a file and a registry row that differ do not match.
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

#include "store/policy.h"
#include "store/store.h"
#include "unit/testlib.h"
#include "util/error.h"

static void written_files_read_back_the_same(void **state)
{
	const char *dir = testlib_path("p1");
	struct store_policy p = { .allow_local = true, .allow_private = true };
	struct store_policy_file f;
	char path[1024];
	struct stat st;

	(void)state;
	assert_int_equal(store_policy_write(dir, 7, "alpha", "/srv/git/a b\n\"c\"", &p), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/7", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(store_policy_read(&f, dir, 7), 0);
	assert_int_equal(f.id, 7);
	assert_string_equal(f.name, "alpha");
	assert_string_equal(f.url, "/srv/git/a b\n\"c\"");
	assert_false(f.policy.allow_insecure);
	assert_true(f.policy.allow_local);
	assert_true(f.policy.allow_private);
	store_policy_file_dispose(&f);
	/* Replaced whole. */
	p = (struct store_policy){ .allow_insecure = true };
	assert_int_equal(store_policy_write(dir, 7, "alpha", "http://h/x.git", &p), 0);
	assert_int_equal(store_policy_read(&f, dir, 7), 0);
	assert_string_equal(f.url, "http://h/x.git");
	assert_true(f.policy.allow_insecure);
	assert_false(f.policy.allow_local);
	store_policy_file_dispose(&f);
	assert_int_equal(store_policy_remove(dir, 7), 0);
	assert_int_equal(store_policy_read(&f, dir, 7), TRAWL_ENOTFOUND);
	store_policy_file_dispose(&f);
	assert_int_equal(store_policy_remove(dir, 7), 0); /* a missing one is fine */
}

static void anything_else_is_refused_naming_the_file(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{\"id\":3,\"name\":\"a\",\"url\":\"/x\"}",
		"{\"id\":4,\"name\":\"a\",\"url\":\"/x\",\"allow\":[]}",
		"{\"id\":3,\"name\":\"a\",\"url\":\"/x\",\"allow\":[\"everything\"]}",
		"{\"id\":3,\"name\":\"a\",\"url\":\"/x\",\"allow\":[1]}",
		"{\"id\":3,\"name\":\"\",\"url\":\"/x\",\"allow\":[]}",
		"{\"id\":3,\"name\":\"a\",\"url\":\"/x\\u0000y\",\"allow\":[]}",
		"{\"id\":3,\"name\":\"a\",\"url\":\"/x\",\"allow\":[],\"more\":1}",
		"{\"id\":3,\"name\":\"a\",\"name\":\"b\",\"url\":\"/x\",\"allow\":[]}",
		"{\"id\":\"3\",\"name\":\"a\",\"url\":\"/x\",\"allow\":[]}",
	};
	const char *dir = testlib_path("p2");
	struct store_policy_file f;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		testlib_write_file(dir, "3", bad[i]);
		assert_int_equal(store_policy_read(&f, dir, 3), TRAWL_ECORRUPT);
		assert_non_null(strstr(error_last(), "/3: not a URL policy file"));
		store_policy_file_dispose(&f);
	}
	testlib_write_file(dir, "3", "{\"id\":3,\"name\":\"a\",\"url\":\"/x\",\"allow\":[\"local\"]}");
	assert_int_equal(store_policy_read(&f, dir, 3), 0);
	assert_true(f.policy.allow_local);
	store_policy_file_dispose(&f);
}

static void registry_migrates_whole_once(void **state)
{
	const char *db = testlib_fresh_db(testlib_path("reg.db"));
	char dir[1024];
	struct store *s = NULL;
	struct store_policy local = { .allow_local = true };
	struct store_policy_file f;
	struct store_repo r = { 0 };
	int64_t a, b;
	size_t n = 99;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", testlib_path("policy"));
	assert_int_equal(store_open(&s, db), 0);
	assert_int_equal(store_repo_add(&a, s, "alpha", "/srv/a", &local, NULL, 0), 0);
	assert_int_equal(store_repo_add(&b, s, "beta", "https://example.com/b.git", NULL, NULL, 0),
			 0);
	assert_int_equal(store_policy_migrate(&n, s, dir), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_policy_read(&f, dir, a), 0);
	assert_string_equal(f.name, "alpha");
	assert_string_equal(f.url, "/srv/a");
	assert_true(f.policy.allow_local);
	assert_int_equal(store_repo_get(&r, s, "alpha"), 0);
	assert_true(store_policy_matches(&f, &r));
	/* The registry changed alone no longer matches its file. */
	r.policy.allow_private = true;
	assert_false(store_policy_matches(&f, &r));
	r.policy.allow_private = false;
	free(r.url);
	r.url = strdup("/etc");
	assert_false(store_policy_matches(&f, &r));
	store_repo_dispose(&r);
	store_policy_file_dispose(&f);
	assert_int_equal(store_policy_read(&f, dir, b), 0);
	assert_false(f.policy.allow_local || f.policy.allow_insecure || f.policy.allow_private);
	store_policy_file_dispose(&f);
	/* Once the directory exists, nothing is written again: the files stay what they say. */
	assert_int_equal(store_policy_remove(dir, b), 0);
	assert_int_equal(store_policy_migrate(&n, s, dir), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_policy_read(&f, dir, b), TRAWL_ENOTFOUND);
	store_policy_file_dispose(&f);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(written_files_read_back_the_same),
		cmocka_unit_test(anything_else_is_refused_naming_the_file),
		cmocka_unit_test(registry_migrates_whole_once),
	};

	/* The PostgreSQL pass: the one test that has a registry. */
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test(registry_migrates_whole_once),
	};
	int failed = 0;

	if (!testlib_pg_only())
		failed = cmocka_run_group_tests_name("policy (SQLite)", tests, testlib_setup,
						     testlib_teardown);

	if (testlib_pg_begin())
		failed += cmocka_run_group_tests_name("policy (PostgreSQL)", pg_tests, testlib_setup,
						      testlib_teardown);
	return failed;
}
