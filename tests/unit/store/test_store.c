/*
 * Unit tests for src/store/store.c: the schema is created from nothing and reopened unchanged, a
 * database from a newer trawl is refused and left alone, a file that is not a database is
 * refused, the repository rows (add, get, list, state changes, branches, removal) keep their
 * contracts, names and patterns unique, a registry of schema 1 loses the secrets its URLs
 * and names held, and the URL policy a repository was added under is kept with it (set from
 * the URL for one registered under schema 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"
#include "unit/testlib.h"
#include "util/error.h"

static char dbpath[256];
static int seq;

/* A fresh database path for each test. */
static const char *fresh_path(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/db%d", testlib_tmpdir(), ++seq);
	snprintf(dbpath, sizeof(dbpath), "%s", testlib_fresh_db(path));
	return dbpath;
}

static struct store *open_fresh(void)
{
	struct store *s = NULL;

	if (store_open(&s, fresh_path()) < 0)
		fail_msg("%s", error_last());
	return s;
}

static void migrations_create_the_schema_from_nothing(void **state)
{
	struct store *s = open_fresh();
	struct store_repo *v = NULL;
	size_t n = 99;
	int version = -1;

	(void)state;
	assert_int_equal(store_schema_version(s, &version), 0);
	assert_int_equal(version, STORE_SCHEMA_VERSION);
	assert_int_equal(store_repo_list(&v, &n, s), 0);
	assert_int_equal(n, 0);
	store_repos_free(v, n);
	store_close(s);
}

static void reopening_keeps_the_data(void **state)
{
	struct store *s = open_fresh();
	struct store_repo r;
	char *pats[] = { "main", "release/*" };
	int64_t id;
	int version = -1;

	(void)state;
	assert_int_equal(store_repo_add(&id, s, "proj", "https://example.com/proj.git", NULL, pats, 2), 0);
	store_close(s);
	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_schema_version(s, &version), 0);
	assert_int_equal(version, STORE_SCHEMA_VERSION);
	assert_int_equal(store_repo_get(&r, s, "proj"), 0);
	assert_int_equal(r.id, id);
	assert_string_equal(r.url, "https://example.com/proj.git");
	assert_int_equal(r.n_patterns, 2);
	assert_string_equal(r.patterns[0], "main");
	assert_string_equal(r.patterns[1], "release/*");
	assert_null(r.patterns[2]);
	store_repo_dispose(&r);
	store_close(s);
}

/* Sets user_version directly, as a newer trawl would have left it. */
static void set_version(const char *path, int v)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *sql = v == 99 ? "PRAGMA user_version = 99" : "PRAGMA user_version = 0";

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void a_newer_database_is_refused_and_untouched(void **state)
{
	struct store *s = open_fresh();
	int64_t id;

	(void)state;
	assert_int_equal(store_repo_add(&id, s, "kept", "https://example.com/k.git", NULL, NULL, 0), 0);
	store_close(s);
	set_version(dbpath, 99);
	assert_int_equal(store_open(&s, dbpath), TRAWL_EUNSUPPORTED);
	assert_null(s);
	assert_non_null(strstr(error_last(), "schema version 99 is newer"));
	assert_non_null(strstr(error_last(), dbpath));
	/* Nothing was changed: still version 99 when opened directly. */
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;

		assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 99);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

/*
 * Every connection distrusts the file's schema, which the confined server may have written:
 * defensive mode on (writable_schema has no effect, sqlite_schema stays read-only), the schema
 * untrusted, b-tree cells checked.
 */
static void a_connection_distrusts_the_schema(void **state)
{
	struct store *s = open_fresh();
	sqlite3 *db = db_sqlite_handle(s->db);
	sqlite3_stmt *st = NULL;
	int on = -1;

	(void)state;
	assert_non_null(db);
	assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, -1, &on), SQLITE_OK);
	assert_int_equal(on, 1);
	assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, -1, &on), SQLITE_OK);
	assert_int_equal(on, 0);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA cell_size_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, "PRAGMA writable_schema = ON", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db,
					  "UPDATE sqlite_schema SET sql = 'CREATE TABLE repos(x)' "
					  "WHERE name = 'repos'",
					  NULL, NULL, NULL),
			     SQLITE_OK);
	store_close(s);
}

static void a_file_that_is_not_a_database_is_refused(void **state)
{
	const char *p = fresh_path();
	struct store *s = NULL;
	FILE *f = fopen(p, "w");

	(void)state;
	assert_non_null(f);
	fputs("this is not an SQLite database, just some text that is long enough to look at.\n"
	      "this is not an SQLite database, just some text that is long enough to look at.\n",
	      f);
	fclose(f);
	assert_int_equal(store_open(&s, p), TRAWL_ECORRUPT);
	assert_null(s);
	assert_non_null(strstr(error_last(), p));
}

static void a_version_zero_database_is_migrated(void **state)
{
	struct store *s = open_fresh();
	int version = -1;

	(void)state;
	store_close(s);
	/* A version-0 database holding nothing runs every step again from the start. */
	unlink(dbpath);
	set_version(dbpath, 0);
	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_schema_version(s, &version), 0);
	assert_int_equal(version, STORE_SCHEMA_VERSION);
	store_close(s);
}

static void names_are_unique(void **state)
{
	struct store *s = open_fresh();
	struct store_repo *v = NULL;
	size_t n = 0;
	int64_t a, b;

	(void)state;
	assert_int_equal(store_repo_add(&a, s, "proj", "https://a/x.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_add(&b, s, "proj", "https://b/y.git", NULL, NULL, 0), TRAWL_EINVAL);
	assert_int_equal(b, 0);
	assert_non_null(strstr(error_last(), "already exists"));
	/* The failed add left nothing behind. */
	assert_int_equal(store_repo_list(&v, &n, s), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].url, "https://a/x.git");
	store_repos_free(v, n);
	store_close(s);
}

static void repo_names_are_sorted_like_strcmp(void **state)
{
	struct store *s = open_fresh();
	static const char *const names[] = { "b", "a/z", "B", "a", "a-b" };
	static const char *const sorted[] = { "B", "a", "a-b", "a/z", "b" };
	char **v = NULL;
	size_t n = 99;
	int64_t id;

	(void)state;
	assert_int_equal(store_repo_names(&v, &n, s), 0);
	assert_int_equal(n, 0);
	store_names_free(v, n);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(store_repo_add(&id, s, names[i], "https://a/x.git", NULL, NULL, 0),
				 0);
	assert_int_equal(store_repo_names(&v, &n, s), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(v[i], sorted[i]);
	store_names_free(v, n);
	store_close(s);
}

static void the_brief_list_has_the_rows_without_details(void **state)
{
	struct store *s = open_fresh();
	char *pats[] = { "main", "release/*" };
	struct store_repo *v = NULL;
	size_t n = 99;
	int64_t a, b;

	(void)state;
	assert_int_equal(store_repo_list_brief(&v, &n, s), 0);
	assert_int_equal(n, 0);
	store_repos_free(v, n);
	assert_int_equal(store_repo_add(&b, s, "b", "https://a/b.git", NULL, pats, 2), 0);
	assert_int_equal(store_repo_add(&a, s, "a", "https://a/a.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_set_syncing(s, b), 0);
	assert_int_equal(store_repo_list_brief(&v, &n, s), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "a");
	assert_int_equal(v[0].id, a);
	assert_int_equal(v[0].state, STORE_STATE_NEW);
	assert_string_equal(v[1].name, "b");
	assert_string_equal(v[1].url, "https://a/b.git");
	assert_int_equal(v[1].state, STORE_STATE_SYNCING);
	assert_int_equal(v[1].n_patterns, 0);
	assert_int_equal(v[1].n_branches, 0);
	store_repos_free(v, n);
	store_close(s);
}

static void named_repositories_come_with_their_branches(void **state)
{
	struct store *s = open_fresh();
	struct store_branch br[2] = {
		{ .name = "main", .commit = "0123456789012345678901234567890123456789",
		  .is_default = true },
		{ .name = "dev", .commit = "abcdefabcdefabcdefabcdefabcdefabcdefabcd" },
	};
	static const char *const names[] = { "a", "b", "b\"x", "c", "d" };
	static const char *const want[] = { "b", "b\"x", "d", "nothing" };
	char *pats[] = { "main" };
	struct store_repo *v = NULL;
	size_t n = 99;
	int64_t id[5];

	(void)state;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(store_repo_add(&id[i], s, names[i], "https://a/x.git", NULL, pats, 1),
				 0);
	/* Branches on repositories asked for and on those between them (c). */
	for (size_t i = 0; i < 5; i++)
		if (i != 2)
			assert_int_equal(store_repo_set_synced(s, id[i], 1700000000, 1, 1, 0, br,
							       i == 4 ? 1 : 2, true),
					 0);
	assert_int_equal(store_repo_named(&v, &n, s, want, 4), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "b");
	assert_string_equal(v[1].name, "b\"x");
	assert_string_equal(v[2].name, "d");
	assert_int_equal(v[0].n_branches, 2);
	/* By branch name, as store_repo_get has them. */
	assert_string_equal(v[0].branches[0].name, "dev");
	assert_string_equal(v[0].branches[1].name, "main");
	assert_true(v[0].branches[1].is_default);
	assert_string_equal(v[0].branches[1].commit, br[0].commit);
	assert_int_equal(v[1].n_branches, 0);
	assert_int_equal(v[2].n_branches, 1);
	assert_string_equal(v[2].branches[0].name, "main");
	assert_int_equal(v[0].n_patterns, 0);
	assert_int_equal(v[2].state, STORE_STATE_INDEXED);
	store_repos_free(v, n);
	assert_int_equal(store_repo_named(&v, &n, s, want + 3, 1), 0);
	assert_int_equal(n, 0);
	store_repos_free(v, n);
	store_close(s);
}

static void duplicate_patterns_are_refused_atomically(void **state)
{
	struct store *s = open_fresh();
	struct store_repo r;
	char *pats[] = { "main", "dev", "main" };
	int64_t id;

	(void)state;
	assert_int_equal(store_repo_add(&id, s, "proj", "https://a/x.git", NULL, pats, 3), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "given twice"));
	assert_int_equal(store_repo_get(&r, s, "proj"), TRAWL_ENOTFOUND);
	store_close(s);
}

static void names_are_data_not_sql(void **state)
{
	struct store *s = open_fresh();
	struct store_repo r, *v = NULL;
	const char *evil = "x'); DROP TABLE repos; --";
	size_t n = 0;
	int64_t id;

	(void)state;
	assert_int_equal(store_repo_add(&id, s, evil, "https://a/'\".git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_get(&r, s, evil), 0);
	assert_string_equal(r.name, evil);
	assert_string_equal(r.url, "https://a/'\".git");
	store_repo_dispose(&r);
	assert_int_equal(store_repo_list(&v, &n, s), 0);
	assert_int_equal(n, 1);
	store_repos_free(v, n);
	store_close(s);
}

static void sync_results_are_recorded(void **state)
{
	struct store *s = open_fresh();
	struct store_repo r;
	struct store_branch br[2] = {
		{ .name = "main", .commit = "0123456789012345678901234567890123456789",
		  .is_default = true },
		{ .name = "dev", .commit = "abcdefabcdefabcdefabcdefabcdefabcdefabcd" },
	};
	int64_t id;

	(void)state;
	assert_int_equal(store_repo_add(&id, s, "proj", "https://a/x.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_get(&r, s, "proj"), 0);
	assert_int_equal(r.state, STORE_STATE_NEW);
	assert_int_equal(r.last_sync, 0);
	assert_int_equal(r.last_success, 0);
	assert_null(r.last_error);
	assert_true(r.created > 1600000000);
	store_repo_dispose(&r);

	assert_int_equal(store_repo_set_syncing(s, id), 0);
	assert_int_equal(store_repo_set_synced(s, id, 1700000000, 12345, 10, 2, br, 2, true), 0);
	assert_int_equal(store_repo_get(&r, s, "proj"), 0);
	assert_int_equal(r.state, STORE_STATE_INDEXED);
	assert_string_equal(store_state_name(r.state), "indexed");
	assert_int_equal(r.last_sync, 1700000000);
	assert_int_equal(r.index_bytes, 12345);
	assert_int_equal(r.files, 10);
	assert_int_equal(r.skipped_count, 2);
	assert_int_equal(r.last_changed, 1700000000);
	assert_int_equal(r.n_branches, 2);
	assert_string_equal(r.branches[0].name, "dev"); /* by name */
	assert_false(r.branches[0].is_default);
	assert_string_equal(r.branches[1].name, "main");
	assert_string_equal(r.branches[1].commit, br[0].commit);
	assert_true(r.branches[1].is_default);
	store_repo_dispose(&r);

	/* A failure keeps the indexed branches (the previous shards stay searchable). */
	assert_int_equal(store_repo_set_syncing(s, id), 0);
	assert_int_equal(store_repo_set_failed(s, id, 1700000100, "fetch: connection refused"), 0);
	assert_int_equal(store_repo_get(&r, s, "proj"), 0);
	assert_int_equal(r.state, STORE_STATE_ERROR);
	assert_string_equal(r.last_error, "fetch: connection refused");
	assert_int_equal(r.n_branches, 2);
	/* The attempt is the failure; the last success stays the sync before it. */
	assert_int_equal(r.last_sync, 1700000100);
	assert_int_equal(r.last_success, 1700000000);
	store_repo_dispose(&r);

	/* The next success clears the error and replaces the branches; unchanged, it keeps when
	 * the repository last changed. */
	assert_int_equal(store_repo_set_synced(s, id, 1700000200, 1, 1, 0, br, 1, false), 0);
	assert_int_equal(store_repo_get(&r, s, "proj"), 0);
	assert_null(r.last_error);
	assert_int_equal(r.n_branches, 1);
	assert_int_equal(r.last_sync, 1700000200);
	assert_int_equal(r.last_success, 1700000200);
	assert_int_equal(r.last_changed, 1700000000);
	store_repo_dispose(&r);
	store_close(s);
}

/* Failures in a row push the next attempt back: 60 s doubling, at most an hour. */
static void failures_back_off_and_a_success_resets(void **state)
{
	static const int64_t want[] = { 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600 };
	struct store *s = open_fresh();
	struct store_repo r;
	int64_t id, when = 1700000000;

	(void)state;
	assert_int_equal(store_repo_add(&id, s, "proj", "https://a/x.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_get(&r, s, "proj"), 0);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.next_attempt, 0);
	store_repo_dispose(&r);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++, when += 10) {
		assert_int_equal(store_repo_set_failed(s, id, when, "fetch: refused"), 0);
		assert_int_equal(store_repo_get(&r, s, "proj"), 0);
		assert_int_equal(r.failures, i + 1);
		assert_int_equal(r.next_attempt - when, want[i]);
		store_repo_dispose(&r);
	}
	assert_int_equal(store_repo_set_synced(s, id, when, 1, 1, 0, NULL, 0, true), 0);
	assert_int_equal(store_repo_get(&r, s, "proj"), 0);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.next_attempt, 0);
	store_repo_dispose(&r);
	store_close(s);
}

static void removal_deletes_rows_and_never_reuses_ids(void **state)
{
	struct store *s = open_fresh();
	struct store_repo r;
	char *pats[] = { "main" };
	struct store_branch br = { .name = "main", .commit = "x" };
	int64_t a, b;

	(void)state;
	assert_int_equal(store_repo_add(&a, s, "proj", "https://a/x.git", NULL, pats, 1), 0);
	assert_int_equal(store_repo_set_synced(s, a, 1, 1, 1, 0, &br, 1, true), 0);
	assert_int_equal(store_repo_remove(s, a), 0);
	assert_int_equal(store_repo_get(&r, s, "proj"), TRAWL_ENOTFOUND);
	assert_non_null(strstr(error_last(), "no repository named \"proj\""));
	assert_int_equal(store_repo_remove(s, a), TRAWL_ENOTFOUND);
	assert_int_equal(store_repo_set_syncing(s, a), TRAWL_ENOTFOUND);
	assert_int_equal(store_repo_add(&b, s, "proj", "https://a/x.git", NULL, NULL, 0), 0);
	assert_true(b > a);
	/* The old branch rows went with the old repository. */
	assert_int_equal(store_repo_get(&r, s, "proj"), 0);
	assert_int_equal(r.n_branches, 0);
	assert_int_equal(r.n_patterns, 0);
	store_repo_dispose(&r);
	store_close(s);
}

static void list_is_sorted_by_name(void **state)
{
	struct store *s = open_fresh();
	struct store_repo *v = NULL;
	size_t n = 0;
	int64_t id;

	(void)state;
	assert_int_equal(store_repo_add(&id, s, "zeta", "https://a/z.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_add(&id, s, "alpha", "https://a/a.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_add(&id, s, "mid", "https://a/m.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_list(&v, &n, s), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "alpha");
	assert_string_equal(v[1].name, "mid");
	assert_string_equal(v[2].name, "zeta");
	store_repos_free(v, n);
	store_close(s);
}

static void overlong_urls_are_refused(void **state)
{
	struct store *s = open_fresh();
	char *url = malloc(STORE_URL_MAX + 2);
	int64_t id;

	(void)state;
	assert_non_null(url);
	memset(url, 'a', STORE_URL_MAX + 1);
	url[STORE_URL_MAX + 1] = 0;
	assert_int_equal(store_repo_add(&id, s, "p", url, NULL, NULL, 0), TRAWL_ELIMIT);
	free(url);
	store_close(s);
}

/* Runs one statement on the database file directly, as another program (or trawl) would. */
static void raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Runs one statement: SQLite's result of its step (SQLITE_DONE when it went through). */
static int raw_sql_rc(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc == SQLITE_DONE ? 0 : rc;
}

/* Takes a database this trawl made back to what schema 3 had (no accounts). */
static void downgrade_to_schema_3(const char *path)
{
	static const char *const drops[] = {
		"DROP TRIGGER repos_ins", "DROP TRIGGER repos_upd", "DROP TRIGGER repos_del",
		"DROP TABLE audit",       "DROP TABLE sessions",    "DROP TABLE tokens",
		"DROP TABLE repo_grants", "DROP TABLE repo_public", "DROP TABLE group_members",
		"DROP TABLE groups",      "DROP TABLE users",       "DROP TABLE acl_generation",
		"DROP TABLE acl_changes", "DROP TABLE audit_rows",  "PRAGMA user_version = 3",
	};

	raw_sql(path, "ALTER TABLE repos DROP COLUMN last_success");
	raw_sql(path, "ALTER TABLE repos DROP COLUMN sync_requested"); /* schema 12's */
	raw_sql(path, "ALTER TABLE repos DROP COLUMN last_changed"); /* schema 11's */
	raw_sql(path, "ALTER TABLE repos DROP COLUMN symbols");      /* schema 10's */
	raw_sql(path, "ALTER TABLE repos DROP COLUMN failures"); /* schema 9's */
	raw_sql(path, "ALTER TABLE repos DROP COLUMN next_attempt");
	raw_sql(path, "DROP TABLE notices"); /* schema 5's, which refers to users */
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		raw_sql(path, drops[i]);
}

/* Takes a database this trawl made back to what schema 2 had. */
static void downgrade_to_schema_2(const char *path)
{
	downgrade_to_schema_3(path);
	raw_sql(path, "ALTER TABLE repos DROP COLUMN allow_insecure");
	raw_sql(path, "ALTER TABLE repos DROP COLUMN allow_local");
	raw_sql(path, "ALTER TABLE repos DROP COLUMN allow_private");
	raw_sql(path, "PRAGMA user_version = 2");
}

static const struct store_repo *find(const struct store_repo *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	fail_msg("no repository named %s", name);
	return NULL;
}

static void schema_1_secrets_are_removed_and_query_names_retired(void **state)
{
	/* What trawl with schema 1 stored: it refused only "user:password@" in a URL. */
	static const char *const rows[][2] = {
		{ "y", "http://alice%3aPW-canary@host/y.git" },
		{ "z", "https://ghp_PW-canary@host/z.git" },
		{ "x.git?access_token=PW-canary", "https://host/x.git?access_token=PW-canary" },
		{ "x2", "https://other/x2.git" },
		{ "x2.git?t=PW-canary", "https://host/x2.git?t=PW-canary" },
		{ "mine", "https://host/m.git#PW-canary" },
		{ "ok", "git@host:team/ok.git" },
		{ "a?b", "/srv/a?b" },
	};
	struct store *s = open_fresh();
	struct store_repo *v = NULL;
	const struct store_repo *r;
	char **names = NULL;
	size_t n = 0;
	int64_t id, x2_id = 0;
	int version = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(store_repo_add(&id, s, rows[i][0], rows[i][1], NULL, NULL, 0), 0);
		if (strcmp(rows[i][0], "x2.git?t=PW-canary") == 0)
			x2_id = id;
	}
	store_close(s);
	downgrade_to_schema_2(dbpath);
	raw_sql(dbpath, "DROP TABLE retired_names");
	raw_sql(dbpath, "PRAGMA user_version = 1");

	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_schema_version(s, &version), 0);
	assert_int_equal(version, STORE_SCHEMA_VERSION);
	assert_int_equal(store_repo_list(&v, &n, s), 0);
	assert_int_equal(n, sizeof(rows) / sizeof(rows[0]));
	for (size_t i = 0; i < n; i++) {
		if (strstr(v[i].name, "canary") || strstr(v[i].url, "canary") ||
		    (v[i].last_error && strstr(v[i].last_error, "canary")))
			fail_msg("a secret is left: %s %s", v[i].name, v[i].url);
	}
	r = find(v, n, "y");
	assert_string_equal(r->url, "http://host/y.git");
	assert_int_equal(r->state, STORE_STATE_ERROR);
	assert_non_null(strstr(r->last_error, "DATA/credentials"));
	assert_string_equal(find(v, n, "z")->url, "https://host/z.git");
	/* Named after its query: renamed after its path, or NAME-ID when that is taken. */
	r = find(v, n, "x");
	assert_string_equal(r->url, "https://host/x.git");
	assert_non_null(strstr(r->last_error, "renamed"));
	{
		char want[64];

		snprintf(want, sizeof(want), "x2-%lld", (long long)x2_id);
		assert_string_equal(find(v, n, want)->url, "https://host/x2.git");
	}
	assert_string_equal(find(v, n, "x2")->url, "https://other/x2.git");
	/* A name the user chose stays, whatever the URL held. */
	assert_string_equal(find(v, n, "mine")->url, "https://host/m.git");
	/* Nothing to remove: untouched. */
	r = find(v, n, "ok");
	assert_string_equal(r->url, "git@host:team/ok.git");
	assert_int_equal(r->state, STORE_STATE_NEW);
	assert_null(r->last_error);
	r = find(v, n, "a?b");
	assert_string_equal(r->url, "/srv/a?b");
	assert_int_equal(r->state, STORE_STATE_NEW);
	store_repos_free(v, n);

	/* The old names wait for sync to drop their shards, then are forgotten. */
	assert_int_equal(store_retired_names(&names, &n, s), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "x.git?access_token=PW-canary");
	assert_string_equal(names[1], "x2.git?t=PW-canary");
	assert_int_equal(store_retired_name_forget(s, names[0]), 0);
	store_names_free(names, n);
	assert_int_equal(store_retired_names(&names, &n, s), 0);
	assert_int_equal(n, 1);
	store_names_free(names, n);
	store_close(s);
}

static void the_url_policy_is_stored_with_the_repository(void **state)
{
	static const struct store_policy local = { .allow_local = true, .allow_private = true };
	struct store *s = open_fresh();
	struct store_repo r;
	int64_t id;

	(void)state;
	assert_int_equal(store_repo_add(&id, s, "mine", "/srv/mine.git", &local, NULL, 0), 0);
	assert_int_equal(store_repo_add(&id, s, "plain", "https://a/p.git", NULL, NULL, 0), 0);
	store_close(s);
	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_repo_get(&r, s, "mine"), 0);
	assert_false(r.policy.allow_insecure);
	assert_true(r.policy.allow_local);
	assert_true(r.policy.allow_private);
	store_repo_dispose(&r);
	assert_int_equal(store_repo_get(&r, s, "plain"), 0);
	assert_false(r.policy.allow_insecure || r.policy.allow_local || r.policy.allow_private);
	store_repo_dispose(&r);
	store_close(s);
}

static void the_symbols_setting_is_stored_with_the_repository(void **state)
{
	struct store *s = open_fresh();
	struct store_repo r;
	int64_t id, other;

	(void)state;
	assert_int_equal(store_repo_add(&id, s, "mine", "/srv/mine.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_add(&other, s, "other", "/srv/other.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_get(&r, s, "mine"), 0);
	assert_int_equal(r.symbols, STORE_SYMBOLS_DEFAULT);
	store_repo_dispose(&r);
	assert_int_equal(store_repo_set_symbols(s, id, STORE_SYMBOLS_OFF), 0);
	store_close(s);
	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_repo_get(&r, s, "mine"), 0);
	assert_int_equal(r.symbols, STORE_SYMBOLS_OFF);
	store_repo_dispose(&r);
	assert_int_equal(store_repo_get(&r, s, "other"), 0);
	assert_int_equal(r.symbols, STORE_SYMBOLS_DEFAULT); /* only the one named */
	store_repo_dispose(&r);
	assert_int_equal(store_repo_set_symbols(s, id, STORE_SYMBOLS_ON), 0);
	assert_int_equal(store_repo_get(&r, s, "mine"), 0);
	assert_int_equal(r.symbols, STORE_SYMBOLS_ON);
	store_repo_dispose(&r);
	assert_int_equal(store_repo_set_symbols(s, id, 2), TRAWL_EINVAL);
	assert_int_equal(store_repo_set_symbols(s, id + 100, STORE_SYMBOLS_ON), TRAWL_ENOTFOUND);
	/* The schema refuses another value, whoever writes it. */
	store_close(s);
	assert_int_not_equal(raw_sql_rc(dbpath, "UPDATE repos SET symbols = 7"), 0);
	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_repo_get(&r, s, "mine"), 0);
	assert_int_equal(r.symbols, STORE_SYMBOLS_ON);
	store_repo_dispose(&r);
	store_close(s);
}

static void schema_2_repositories_get_the_policy_their_url_needed(void **state)
{
	static const char *const rows[][2] = {
		{ "path", "/srv/path.git" },
		{ "file", "FILE:///srv/file.git" },
		{ "http", "HTTP://127.0.0.1:9/http.git" },
		{ "https", "https://host/https.git" },
		{ "ssh", "git@host:team/ssh.git" },
	};
	struct store *s = open_fresh();
	struct store_repo *v = NULL;
	const struct store_repo *r;
	size_t n = 0;
	int64_t id;
	int version = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(store_repo_add(&id, s, rows[i][0], rows[i][1], NULL, NULL, 0), 0);
	store_close(s);
	downgrade_to_schema_2(dbpath);

	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_schema_version(s, &version), 0);
	assert_int_equal(version, STORE_SCHEMA_VERSION);
	assert_int_equal(store_repo_list(&v, &n, s), 0);
	assert_int_equal(n, sizeof(rows) / sizeof(rows[0]));
	r = find(v, n, "path");
	assert_true(r->policy.allow_local && !r->policy.allow_insecure && !r->policy.allow_private);
	r = find(v, n, "file");
	assert_true(r->policy.allow_local && !r->policy.allow_insecure && !r->policy.allow_private);
	r = find(v, n, "http");
	assert_true(r->policy.allow_insecure && !r->policy.allow_local && !r->policy.allow_private);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].name, "https") != 0 && strcmp(v[i].name, "ssh") != 0)
			continue;
		assert_false(v[i].policy.allow_insecure || v[i].policy.allow_local ||
			     v[i].policy.allow_private);
	}
	store_repos_free(v, n);
	store_close(s);
}

static void syncs_left_syncing_are_marked_interrupted(void **state)
{
	struct store *s = open_fresh();
	struct store_repo r;
	int64_t a, b;
	size_t n = 99;

	(void)state;
	assert_int_equal(store_repo_add(&a, s, "a", "https://a/a.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_add(&b, s, "b", "https://a/b.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repos_interrupted(s, &n), 0);
	assert_int_equal(n, 0);
	/* A killed sync left a syncing: only a is marked, b stays new. */
	assert_int_equal(store_repo_set_syncing(s, a), 0);
	assert_int_equal(store_repos_interrupted(s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_repo_get(&r, s, "a"), 0);
	assert_int_equal(r.state, STORE_STATE_ERROR);
	assert_non_null(strstr(r.last_error, "interrupted"));
	store_repo_dispose(&r);
	assert_int_equal(store_repo_get(&r, s, "b"), 0);
	assert_int_equal(r.state, STORE_STATE_NEW);
	assert_null(r.last_error);
	store_repo_dispose(&r);
	/* The next successful sync clears it. */
	assert_int_equal(store_repo_set_synced(s, a, 1700000000, 1, 1, 0, NULL, 0, true), 0);
	assert_int_equal(store_repo_get(&r, s, "a"), 0);
	assert_int_equal(r.state, STORE_STATE_INDEXED);
	assert_null(r.last_error);
	store_repo_dispose(&r);
	store_close(s);
}

/* Overwrites page 2 (counting from 1) of the database at path with garbage. */
static void damage_page(const char *path)
{
	unsigned char hdr[18], junk[512];
	FILE *f = fopen(path, "r+b");
	unsigned page;

	assert_non_null(f);
	assert_int_equal(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
	page = (unsigned)hdr[16] << 8 | hdr[17];
	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(fseek(f, (long)page, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
}

static void a_damaged_page_fails_the_check_with_the_advice(void **state)
{
	struct store *s = open_fresh();
	int64_t id;

	(void)state;
	assert_int_equal(store_check(s), 0);
	assert_int_equal(store_repo_add(&id, s, "proj", "https://a/x.git", NULL, NULL, 0), 0);
	/* Checkpointed into the main file, so that the damage below is what SQLite reads. */
	store_close(s);
	damage_page(dbpath);
	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_check(s), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), dbpath));
	assert_non_null(strstr(error_last(), "restore it from a backup"));
	assert_null(strchr(error_last(), '\n')); /* one line, as every error */
	store_close(s);
}

/* Migration 11: a repository synced under schema 10 counts as changed at its last sync. */
static void migration_11_takes_last_changed_from_last_sync(void **state)
{
	struct store *s = open_fresh();
	struct store_repo r;
	int64_t a, b;
	int version = -1;

	(void)state;
	assert_int_equal(store_repo_add(&a, s, "synced", "https://a/x.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_add(&b, s, "new", "https://a/y.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_set_synced(s, a, 1700000000, 1, 1, 0, NULL, 0, false), 0);
	store_close(s);
	raw_sql(dbpath, "ALTER TABLE repos DROP COLUMN last_success");
	raw_sql(dbpath, "ALTER TABLE repos DROP COLUMN sync_requested");
	raw_sql(dbpath, "ALTER TABLE repos DROP COLUMN last_changed");
	raw_sql(dbpath, "PRAGMA user_version = 10");

	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_schema_version(s, &version), 0);
	assert_int_equal(version, STORE_SCHEMA_VERSION);
	assert_int_equal(store_repo_get(&r, s, "synced"), 0);
	assert_int_equal(r.last_changed, 1700000000);
	store_repo_dispose(&r);
	assert_int_equal(store_repo_get(&r, s, "new"), 0);
	assert_int_equal(r.last_changed, 0);
	store_repo_dispose(&r);
	store_close(s);
}

/*
 * Migration 12: a repository indexed under schema 11 last succeeded at its last sync; of one in
 * error (its last sync a failure) and one never synced the last success is not known.
 */
static void migration_12_takes_last_success_from_an_indexed_last_sync(void **state)
{
	struct store *s = open_fresh();
	struct store_repo r;
	int64_t a, b, c;
	int version = -1;

	(void)state;
	assert_int_equal(store_repo_add(&a, s, "indexed", "https://a/x.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_add(&b, s, "failing", "https://a/y.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_add(&c, s, "new", "https://a/z.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_set_synced(s, a, 1700000000, 1, 1, 0, NULL, 0, true), 0);
	assert_int_equal(store_repo_set_synced(s, b, 1700000000, 1, 1, 0, NULL, 0, true), 0);
	assert_int_equal(store_repo_set_failed(s, b, 1700000500, "fetch: gone"), 0);
	store_close(s);
	raw_sql(dbpath, "ALTER TABLE repos DROP COLUMN last_success");
	raw_sql(dbpath, "ALTER TABLE repos DROP COLUMN sync_requested");
	raw_sql(dbpath, "PRAGMA user_version = 11");

	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_schema_version(s, &version), 0);
	assert_int_equal(version, STORE_SCHEMA_VERSION);
	assert_int_equal(store_repo_get(&r, s, "indexed"), 0);
	assert_int_equal(r.last_success, 1700000000);
	store_repo_dispose(&r);
	assert_int_equal(store_repo_get(&r, s, "failing"), 0);
	assert_int_equal(r.last_sync, 1700000500); /* the attempt is kept as it was */
	assert_int_equal(r.last_success, 0);
	store_repo_dispose(&r);
	assert_int_equal(store_repo_get(&r, s, "new"), 0);
	assert_int_equal(r.last_success, 0);
	store_repo_dispose(&r);
	store_close(s);
}

/* A sync request stays until a sync of the repository starts, which takes it. */
static void a_sync_request_is_taken_by_the_next_sync(void **state)
{
	struct store *s = open_fresh();
	struct store_repo r;
	int64_t id;

	(void)state;
	assert_int_equal(store_repo_add(&id, s, "proj", "https://a/x.git", NULL, NULL, 0), 0);
	assert_int_equal(store_repo_get(&r, s, "proj"), 0);
	assert_int_equal(r.sync_requested, 0);
	store_repo_dispose(&r);
	assert_int_equal(store_repo_request_sync(s, id, 1700000000), 0);
	assert_int_equal(store_repo_get(&r, s, "proj"), 0);
	assert_int_equal(r.sync_requested, 1700000000);
	store_repo_dispose(&r);
	assert_int_equal(store_repo_set_syncing(s, id), 0);
	assert_int_equal(store_repo_get(&r, s, "proj"), 0);
	assert_int_equal(r.sync_requested, 0);
	store_repo_dispose(&r);
	assert_int_equal(store_repo_request_sync(s, id + 1000, 1700000000), TRAWL_ENOTFOUND);
	store_close(s);
}

/*
 * The stamp stays while nothing commits and moves on a commit, this connection's or another's
 * (SQLite: data_version and the commit hook; PostgreSQL: the snapshot and the commit count).
 */
static void the_stamp_moves_with_every_commit(void **state)
{
	struct store *s = open_fresh(), *other = NULL;
	struct store_stamp a, b;
	int64_t id;

	(void)state;
	assert_int_equal(store_open(&other, dbpath), 0);
	assert_int_equal(store_stamp(s, &a), 0);
	assert_int_equal(store_stamp(s, &b), 0);
	assert_true(store_stamp_equal(&a, &b));
	assert_int_equal(store_repo_add(&id, other, "o", "https://example.com/o.git", NULL, NULL, 0),
			 0);
	assert_int_equal(store_stamp(s, &b), 0);
	assert_false(store_stamp_equal(&a, &b));
	a = b;
	assert_int_equal(store_repo_add(&id, s, "m", "https://example.com/m.git", NULL, NULL, 0), 0);
	assert_int_equal(store_stamp(s, &b), 0);
	assert_false(store_stamp_equal(&a, &b));
	store_close(other);
	store_close(s);
}

/* PostgreSQL: a schema_version above this binary's is refused and left as it was. */
static void pg_a_newer_schema_is_refused_and_untouched(void **state)
{
	struct store *s = open_fresh();

	(void)state;
	store_close(s);
	testlib_pg_exec("UPDATE schema_version SET version = 99");
	assert_int_equal(store_open(&s, dbpath), TRAWL_EUNSUPPORTED);
	assert_null(s);
	assert_non_null(strstr(error_last(), "schema version 99 is newer"));
	assert_string_equal(testlib_pg_exec("SELECT version FROM schema_version"), "99");
}

/* PostgreSQL: the schema refuses a symbols value outside -1, 0, 1 as SQLite's does. */
static void pg_the_schema_checks_symbols(void **state)
{
	struct store *s = open_fresh();
	int64_t id;

	(void)state;
	assert_int_equal(store_repo_add(&id, s, "mine", "https://example.com/m.git", NULL, NULL, 0),
			 0);
	store_close(s);
	testlib_pg_exec("DO $$ BEGIN UPDATE repos SET symbols = 7; RAISE 'accepted'; "
			"EXCEPTION WHEN check_violation THEN NULL; END $$");
	assert_string_equal(testlib_pg_exec("SELECT symbols FROM repos"), "-1");
}

/* A server that cannot be reached: the message names it; the password never shows. */
static void pg_an_unreachable_server_is_named(void **state)
{
	struct store *s = NULL;
	char url[512];

	(void)state;
	snprintf(url, sizeof(url), "postgres://u:sekrit@/nodb?host=%s/none&connect_timeout=2",
		 testlib_tmpdir());
	assert_int_equal(store_open(&s, url), TRAWL_EIO);
	assert_null(s);
	assert_non_null(strstr(error_last(), "connecting to PostgreSQL at"));
	assert_non_null(strstr(error_last(), "/none"));
	assert_null(strstr(error_last(), "sekrit"));
	assert_non_null(strstr(error_last(), "u:***@"));
}

/* Every spelling of a password in a libpq URI is hidden: userinfo without a path, a query. */
static void display_names_hide_every_password(void **state)
{
	static const char *const urls[] = {
		"postgres://trawl:sekrit@db",
		"postgres://trawl:sekrit@db:5432",
		"postgresql://trawl:sekrit@db?sslmode=require",
		"postgres://trawl@db/trawl?password=sekrit",
		"postgres://db/trawl?sslmode=require&password=sekrit&connect_timeout=5",
		"postgres://db/trawl?PASSWORD=sekrit",
		"postgres://trawl:sekrit@db/trawl?password=sekrit",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		char *d = store_display_name(urls[i]);

		assert_non_null(d);
		if (strstr(d, "sekrit"))
			fail_msg("%s shown as %s", urls[i], d);
		assert_non_null(strstr(d, "***"));
		free(d);
	}
	/* Nothing else changes. */
	char *d = store_display_name("postgres://trawl:sekrit@db/trawl?sslmode=require");
	assert_string_equal(d, "postgres://trawl:***@db/trawl?sslmode=require");
	free(d);
	d = store_display_name("postgres://db/trawl?sslmode=require&password=x&a=b");
	assert_string_equal(d, "postgres://db/trawl?sslmode=require&password=***&a=b");
	free(d);
}

/* The command line's copy is overwritten in place: the same length, every password starred. */
static void scrubbing_stars_every_password_in_place(void **state)
{
	char a[] = "postgres://trawl:sekrit@db/trawl?sslmode=require&password=pw2&x=1";
	char b[] = "postgres://trawl@db";
	char c[] = "sqlite:/tmp/a:b@c";

	(void)state;
	store_scrub_password(a);
	assert_string_equal(a, "postgres://trawl:******@db/trawl?sslmode=require&password=***&x=1");
	store_scrub_password(b);
	assert_string_equal(b, "postgres://trawl@db");
	store_scrub_password(c);
	assert_string_equal(c, "sqlite:/tmp/a:b@c");
}

/* The database password file is a secret file: readable by others, it is refused unread. */
static void a_password_file_others_may_read_is_refused(void **state)
{
	struct store *s = NULL;
	char path[512], url[512];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/pgpass-open", testlib_tmpdir());
	assert_non_null(f = fopen(path, "w"));
	fputs("sekrit-pw\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);
	snprintf(url, sizeof(url), "postgres://u@/nodb?host=%s/none&connect_timeout=2",
		 testlib_tmpdir());
	setenv("TRAWL_DATABASE_PASSWORD_FILE", path, 1);
	assert_int_equal(store_open(&s, url), TRAWL_EPERM);
	unsetenv("TRAWL_DATABASE_PASSWORD_FILE");
	assert_null(s);
	assert_non_null(strstr(error_last(), "accessible to group or others"));
	assert_non_null(strstr(error_last(), "chmod 600"));
	assert_null(strstr(error_last(), "sekrit-pw"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(migrations_create_the_schema_from_nothing),
		cmocka_unit_test(reopening_keeps_the_data),
		cmocka_unit_test(repo_names_are_sorted_like_strcmp),
		cmocka_unit_test(the_brief_list_has_the_rows_without_details),
		cmocka_unit_test(named_repositories_come_with_their_branches),
		cmocka_unit_test(a_newer_database_is_refused_and_untouched),
		cmocka_unit_test(a_file_that_is_not_a_database_is_refused),
		cmocka_unit_test(a_connection_distrusts_the_schema),
		cmocka_unit_test(a_version_zero_database_is_migrated),
		cmocka_unit_test(migration_11_takes_last_changed_from_last_sync),
		cmocka_unit_test(migration_12_takes_last_success_from_an_indexed_last_sync),
		cmocka_unit_test(a_sync_request_is_taken_by_the_next_sync),
		cmocka_unit_test(names_are_unique),
		cmocka_unit_test(duplicate_patterns_are_refused_atomically),
		cmocka_unit_test(names_are_data_not_sql),
		cmocka_unit_test(sync_results_are_recorded),
		cmocka_unit_test(failures_back_off_and_a_success_resets),
		cmocka_unit_test(removal_deletes_rows_and_never_reuses_ids),
		cmocka_unit_test(list_is_sorted_by_name),
		cmocka_unit_test(overlong_urls_are_refused),
		cmocka_unit_test(schema_1_secrets_are_removed_and_query_names_retired),
		cmocka_unit_test(the_url_policy_is_stored_with_the_repository),
		cmocka_unit_test(the_symbols_setting_is_stored_with_the_repository),
		cmocka_unit_test(schema_2_repositories_get_the_policy_their_url_needed),
		cmocka_unit_test(syncs_left_syncing_are_marked_interrupted),
		cmocka_unit_test(a_damaged_page_fails_the_check_with_the_advice),
		cmocka_unit_test(the_stamp_moves_with_every_commit),
		cmocka_unit_test(display_names_hide_every_password),
		cmocka_unit_test(scrubbing_stars_every_password_in_place),
		cmocka_unit_test(a_password_file_others_may_read_is_refused),
	};

	/* The PostgreSQL pass: every test but those that edit an SQLite file directly. */
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test(migrations_create_the_schema_from_nothing),
		cmocka_unit_test(reopening_keeps_the_data),
		cmocka_unit_test(repo_names_are_sorted_like_strcmp),
		cmocka_unit_test(the_brief_list_has_the_rows_without_details),
		cmocka_unit_test(named_repositories_come_with_their_branches),
		cmocka_unit_test(pg_a_newer_schema_is_refused_and_untouched),
		cmocka_unit_test(pg_the_schema_checks_symbols),
		cmocka_unit_test(pg_an_unreachable_server_is_named),
		cmocka_unit_test(a_sync_request_is_taken_by_the_next_sync),
		cmocka_unit_test(names_are_unique),
		cmocka_unit_test(duplicate_patterns_are_refused_atomically),
		cmocka_unit_test(names_are_data_not_sql),
		cmocka_unit_test(sync_results_are_recorded),
		cmocka_unit_test(failures_back_off_and_a_success_resets),
		cmocka_unit_test(removal_deletes_rows_and_never_reuses_ids),
		cmocka_unit_test(list_is_sorted_by_name),
		cmocka_unit_test(overlong_urls_are_refused),
		cmocka_unit_test(the_url_policy_is_stored_with_the_repository),
		cmocka_unit_test(syncs_left_syncing_are_marked_interrupted),
		cmocka_unit_test(the_stamp_moves_with_every_commit),
	};
	int failed = 0;

	if (!testlib_pg_only())
		failed = cmocka_run_group_tests_name("store (SQLite)", tests, testlib_setup,
						     testlib_teardown);

	if (testlib_pg_begin())
		failed += cmocka_run_group_tests_name("store (PostgreSQL)", pg_tests, testlib_setup,
						      testlib_teardown);
	return failed;
}
