/*
 * Unit test for src/store/copy.c: a copy knows every table and column of the schema (the check
 * that fails when a migration adds one the copy does not), carries every row with its id and
 * its hashes' bytes, moves PostgreSQL's identities past the copied ids, keeps the audit row
 * count (paused on PostgreSQL during the copy) right, records itself in the target's audit
 * trail, refuses a target holding rows and writes nothing when a row fails.
 * The source is an SQLite file; the target one too, then (TRAWL_TEST_DATABASE) PostgreSQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/copy.h"
#include "store/store.h"
#include "store/store_int.h"
#include "unit/testlib.h"
#include "util/error.h"

static struct store *open_at(const char *where)
{
	struct store *s = NULL;

	if (store_open(&s, where) < 0)
		fail_msg("%s", error_last());
	return s;
}

/* Appends text to a growing string. */
static void put(char **out, size_t *len, const char *text)
{
	size_t n = strlen(text);

	*out = realloc(*out, *len + n + 1);
	assert_non_null(*out);
	memcpy(*out + *len, text, n + 1);
	*len += n;
}

/* Every row of the copied tables, each value with its type (blobs in hex), one row a line. */
static char *dump(struct store *s)
{
	size_t n, len = 0;
	const struct store_copy_table *t = store_copy_tables(&n);
	char *out = NULL;

	put(&out, &len, "");
	for (size_t i = 0; i < n; i++) {
		struct db_stmt *st = NULL;
		int rc;

		if (store_prep(&st, s, t[i].select) < 0)
			fail_msg("%s", error_last());
		while ((rc = db_step(st)) == DB_ROW) {
			put(&out, &len, t[i].name);
			for (int c = 0; c < db_column_count(st); c++) {
				char v[64];
				int type = db_column_type(st, c);

				put(&out, &len, c ? ", " : ": ");
				if (type == DB_TYPE_NULL) {
					put(&out, &len, "NULL");
				} else if (type == DB_TYPE_INTEGER) {
					snprintf(v, sizeof(v), "%lld", (long long)db_column_int64(st, c));
					put(&out, &len, v);
				} else if (type == DB_TYPE_BLOB) {
					const unsigned char *b = db_column_blob(st, c);

					put(&out, &len, "x'");
					for (int k = 0; k < db_column_bytes(st, c); k++) {
						snprintf(v, sizeof(v), "%02x", b[k]);
						put(&out, &len, v);
					}
					put(&out, &len, "'");
				} else {
					put(&out, &len, "'");
					put(&out, &len, (const char *)db_column_text(st, c));
					put(&out, &len, "'");
				}
			}
			put(&out, &len, "\n");
		}
		assert_int_equal(rc, DB_DONE);
		db_finalize(st);
	}
	return out;
}

/* Fails naming the first line where the source's dump a and the target's b differ. */
static void same_rows(const char *a, const char *b)
{
	while (*a && *b) {
		size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");

		if (na != nb || memcmp(a, b, na) != 0)
			fail_msg("the source has %.*s, the target %.*s", (int)na, a, (int)nb, b);
		a += na + (a[na] != '\0');
		b += nb + (b[nb] != '\0');
	}
	if (*a || *b)
		fail_msg("only the %s has %.*s", *a ? "source" : "target",
			 (int)strcspn(*a ? a : b, "\n"), *a ? a : b);
}

/* Runs one constant statement of a test, failing on error. */
static void exec(struct store *s, const char *sql)
{
	struct db_stmt *st = NULL;

	if (store_prep(&st, s, sql) < 0 || store_run(s, st, sql) < 0)
		fail_msg("%s", error_last());
	db_finalize(st);
}

static int64_t one_int(struct store *s, const char *sql)
{
	struct db_stmt *st = NULL;
	int64_t v;

	if (store_prep(&st, s, sql) < 0)
		fail_msg("%s", error_last());
	assert_int_equal(db_step(st), DB_ROW);
	v = db_column_int64(st, 0);
	db_finalize(st);
	return v;
}

/* A source holding a row in every copied table, ids with gaps (rows were removed). */
static struct store *filled_source(const char *name)
{
	struct store *s = open_at(testlib_path(name));

	exec(s, "INSERT INTO repos (id, name, url, created, last_error, state, symbols) VALUES "
		"(5, 'r1', 'https://example.com/r1.git', 100, NULL, 'indexed', 1), "
		"(9, 'r2', 'https://example.com/r2.git', 200, 'it failed', 'error', -1)");
	exec(s, "INSERT INTO repo_branches (repo_id, pattern) VALUES (5, 'rel/*'), (5, 'main')");
	exec(s, "INSERT INTO indexed_branches (repo_id, branch, commit_id, is_default) VALUES "
		"(5, 'main', '0123456789abcdef0123456789abcdef01234567', 1)");
	exec(s, "INSERT INTO retired_names (name) VALUES ('old')");
	exec(s, "INSERT INTO users (id, name, display_name, is_admin, password_hash, created_ms, "
		"source, issuer, subject) VALUES "
		"(3, 'alice', 'Alice', 1, '$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA', 10, "
		"'local', NULL, NULL), "
		"(7, 'bob', '', 0, NULL, 20, 'oidc', 'https://idp.example', 'sub-7')");
	exec(s, "INSERT INTO groups (id, name, source) VALUES (4, 'devs', 'local')");
	exec(s, "INSERT INTO group_members (group_id, user_id, source) VALUES (4, 7, 'sync')");
	exec(s, "INSERT INTO repo_public (repo) VALUES ('r2')");
	exec(s, "INSERT INTO repo_grants (repo, user_id, group_id) VALUES "
		"('r1', 7, NULL), ('r1', NULL, 4)");
	exec(s, "INSERT INTO tokens (id, user_id, label, hash, prefix, scope, created_ms, "
		"expires_ms, revoked) VALUES (11, 7, 'ci', x'00ff10', 'trawl_ab', 1, 30, 0, 0), "
		"(12, 3, 'old', x'deadbeef', 'trawl_cd', 2, 31, 99, 1)");
	exec(s, "INSERT INTO sessions (key, user_id, csrf, created_ms, last_seen_ms) VALUES "
		"(x'abcd00', 3, 'csrf-token', 40, 41)");
	exec(s, "INSERT INTO audit (id, ts_ms, event, actor, target, detail) VALUES "
		"(20, 50, 'user_created', 'cli', 'alice', '{}'), "
		"(23, 51, 'grant_added', 'alice', 'bob', '{\"repo\":\"r1\"}')");
	exec(s, "INSERT INTO notices (id, user_id, ts_ms, event, actor) VALUES "
		"(2, 7, 60, 'token_created', 'alice')");
	return s;
}

/* Every table of the live schema is copied with exactly its columns, or filled by triggers. */
static void copy_knows_every_table_and_column(void **state)
{
	struct store *s = open_at(testlib_path("schema.db"));
	struct db_stmt *st = NULL;
	size_t n, seen = 0;
	const struct store_copy_table *t = store_copy_tables(&n);
	int rc;

	(void)state;
	if (store_prep(&st, s, "SELECT m.name, group_concat(p.name, ', ') FROM sqlite_schema m, "
			       "pragma_table_info(m.name) p WHERE m.type = 'table' AND "
			       "m.name NOT LIKE 'sqlite_%' GROUP BY m.name ORDER BY m.name") < 0)
		fail_msg("%s", error_last());
	while ((rc = db_step(st)) == DB_ROW) {
		const char *name = (const char *)db_column_text(st, 0);
		const char *cols = (const char *)db_column_text(st, 1);
		const char *const *d = store_copy_derived();
		size_t i;

		for (i = 0; i < n && strcmp(t[i].name, name) != 0; i++)
			;
		if (i < n) {
			if (strcmp(t[i].columns, cols) != 0)
				fail_msg("table %s has columns %s; the copy knows %s", name, cols,
					 t[i].columns);
			seen++;
			continue;
		}
		while (*d && strcmp(*d, name) != 0)
			d++;
		if (!*d)
			fail_msg("table %s is in the schema but not in the copy (store/copy.c)", name);
	}
	assert_int_equal(rc, DB_DONE);
	assert_int_equal(seen, n);
	db_finalize(st);
	store_close(s);
}

static void copy_keeps_every_row_and_id(void **state)
{
	struct store *from = filled_source("from.db");
	struct store *to = open_at(testlib_fresh_db(testlib_path("to.db")));
	int64_t rows[32] = { 0 };
	char *a, *b;
	size_t n;

	(void)state;
	store_copy_tables(&n);
	if (store_copy(from, to, "cli", rows) < 0)
		fail_msg("%s", error_last());
	assert_int_equal(rows[0], 2);  /* repos */
	assert_int_equal(rows[9], 2);  /* tokens */
	assert_int_equal(rows[11], 2); /* audit */
	/* The target holds the source's rows and one more audit event: the copy's, id 24. */
	a = dump(from);
	b = dump(to);
	assert_non_null(strstr(b, "audit: 24, "));
	assert_non_null(strstr(b, ", 'store_copied', 'cli', '"));
	assert_non_null(strstr(b, "\"rows\":19"));
	{
		/* b without its store_copied line is a. */
		char *line = strstr(b, "audit: 24, "), *end = strchr(line, '\n');

		memmove(line, end + 1, strlen(end + 1) + 1);
	}
	same_rows(a, b);
	free(a);
	free(b);
	/* New rows get new ids, past the copied ones. */
	exec(to, "INSERT INTO users (name, created_ms) VALUES ('carol', 70)");
	assert_int_equal(one_int(to, "SELECT id FROM users WHERE name = 'carol'"), 8);
	exec(to, "INSERT INTO repos (name, url, created) VALUES ('r3', 'https://example.com/r3', 1)");
	assert_int_equal(one_int(to, "SELECT id FROM repos WHERE name = 'r3'"), 10);
	exec(to, "INSERT INTO notices (user_id, ts_ms, event) VALUES (8, 80, 'password_set')");
	assert_int_equal(one_int(to, "SELECT max(id) FROM notices"), 3);
	/* The triggers kept their tables: the audit count and the ACL generation moved. */
	assert_int_equal(one_int(to, "SELECT n FROM audit_rows"), 3);
	exec(to, "INSERT INTO audit (ts_ms, event) VALUES (90, 'sign_in')");
	assert_int_equal(one_int(to, "SELECT n FROM audit_rows"), 4);
	assert_true(one_int(to, "SELECT value FROM acl_generation") > 1);
	store_close(to);
	store_close(from);
}

static void copy_refuses_a_target_with_rows(void **state)
{
	struct store *from = filled_source("from2.db");
	struct store *to = open_at(testlib_fresh_db(testlib_path("to2.db")));
	int64_t rows[32] = { 0 };

	(void)state;
	exec(to, "INSERT INTO retired_names (name) VALUES ('x')");
	assert_int_equal(store_copy(from, to, "cli", rows), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "table retired_names already holds rows"));
	assert_int_equal(one_int(to, "SELECT count(*) FROM users"), 0);
	assert_int_equal(one_int(to, "SELECT count(*) FROM audit"), 0);
	store_close(to);
	store_close(from);
}

/* A row PostgreSQL refuses (text that is not UTF-8) names its table and row; nothing stays. */
static void copy_failing_row_writes_nothing(void **state)
{
	struct store *from = filled_source("from3.db");
	struct store *to = open_at(testlib_fresh_db(NULL));
	int64_t rows[32] = { 0 };

	(void)state;
	exec(from, "INSERT INTO retired_names (name) VALUES (CAST(x'ff' AS TEXT))");
	assert_true(store_copy(from, to, "cli", rows) < 0);
	if (!strstr(error_last(), "copying table retired_names, row 2"))
		fail_msg("%s", error_last());
	assert_int_equal(one_int(to, "SELECT count(*) FROM repos"), 0);
	assert_int_equal(one_int(to, "SELECT count(*) FROM audit"), 0);
	/* The audit table's row count, paused during the copy, counts again. */
	exec(to, "INSERT INTO audit (ts_ms, event) VALUES (90, 'sign_in')");
	assert_int_equal(one_int(to, "SELECT n FROM audit_rows"), 1);
	store_close(to);
	store_close(from);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(copy_knows_every_table_and_column),
		cmocka_unit_test(copy_keeps_every_row_and_id),
		cmocka_unit_test(copy_refuses_a_target_with_rows),
	};
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test(copy_keeps_every_row_and_id),
		cmocka_unit_test(copy_refuses_a_target_with_rows),
		cmocka_unit_test(copy_failing_row_writes_nothing),
	};
	int failed = 0;

	if (!testlib_pg_only())
		failed = cmocka_run_group_tests_name("copy (SQLite to SQLite)", tests, testlib_setup,
						     testlib_teardown);
	if (testlib_pg_begin())
		failed += cmocka_run_group_tests_name("copy (SQLite to PostgreSQL)", pg_tests,
						      testlib_setup, testlib_teardown);
	return failed;
}
