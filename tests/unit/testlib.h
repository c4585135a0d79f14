/*
 * Helpers shared by the unit tests: one temporary directory per test program, removed with
 * everything in it at the end, paths inside it, and small fixture files.
 *
 * Use testlib_setup/testlib_teardown as the group setup and teardown of
 * cmocka_run_group_tests(), or call them from a test program's own; helpers that can fail fail
 * the running test through cmocka's assertions. Not thread-safe (tests are single-threaded).
 */
#ifndef TRAWL_TESTS_UNIT_TESTLIB_H
#define TRAWL_TESTS_UNIT_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Makes the program's temporary directory ($TMPDIR or /tmp, "trawl-test-<program>.XXXXXX").
 * A cmocka group setup: 0, or -1 when it cannot.
 */
int testlib_setup(void **state);

/* Removes the temporary directory and everything under it (symlinks are not followed). */
int testlib_teardown(void **state);

/* The temporary directory made by testlib_setup(). */
const char *testlib_tmpdir(void);

/*
 * The path of name under the temporary directory. The result lives in one of a few rotating
 * static buffers: keep it only until the fourth call after.
 */
const char *testlib_path(const char *name);

/* Writes content to dir/name (replacing it), failing the test when it cannot. */
void testlib_write_file(const char *dir, const char *name, const char *content);

/* Removes path and, for a directory, everything under it, without following symlinks. */
int testlib_remove_tree(const char *path);

/*
 * The store's tests run twice: against SQLite files, then, when TRAWL_TEST_DATABASE names a
 * PostgreSQL database (tests/pg/pgtest.sh starts one), against it. testlib_pg_begin starts the
 * second pass (false when the variable is unset: no second pass) and sets TRAWL_DATABASE, so
 * what opens the store by its data directory (auth_open) opens that database; testlib_is_pg
 * says which pass runs.
 */
bool testlib_pg_begin(void);
bool testlib_is_pg(void);
/* Whether TRAWL_TEST_PG_ONLY asks for the PostgreSQL pass alone (tests/e2e/test_pg.sh). */
bool testlib_pg_only(void);

/*
 * A database for a test that wants an empty one: path (an SQLite file not yet made) in the
 * SQLite pass; in the PostgreSQL pass the database emptied (its public schema dropped and made
 * again) and its URL. The result lives until the next call.
 */
const char *testlib_fresh_db(const char *path);

/*
 * Runs one statement on the PostgreSQL pass's database outside the store (a test's own setup
 * or check), failing the test on error; the first column of the first row, or "" without
 * rows, in a static buffer.
 */
const char *testlib_pg_exec(const char *sql);

struct CMUnitTest;

/*
 * Copies tests[0..n) into out (room for n), leaving out those named in skip (NULL-terminated):
 * the PostgreSQL pass of a program whose tests include SQLite-only ones (migrations, file
 * locks, backups). Returns how many it copied.
 */
size_t testlib_pg_tests(struct CMUnitTest *out, const struct CMUnitTest *tests, size_t n,
			const char *const *skip);

struct shard;

/*
 * Writes a shard of one repository "r" at path whose document i, named "d<i>", holds docs[i],
 * and opens it (shard_close() it), failing the test when it cannot.
 */
struct shard *testlib_shard_of(const char *path, const char *const *docs, size_t n);

#endif
