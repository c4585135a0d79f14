/*
 * Unit test for src/store/schema_pg.c: PostgreSQL's schema, created at once, holds the same
 * tables, columns and named indexes as SQLite's after its twelve migrations. Runs when
 * TRAWL_TEST_DATABASE names a PostgreSQL database (tests/pg/pgtest.sh), and is skipped
 * otherwise.
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

#include "store/store.h"
#include "store/store_int.h"
#include "unit/testlib.h"
#include "util/error.h"

/* What only PostgreSQL has: its version row's table and the patterns' insertion order. */
static bool pg_only(const char *row)
{
	return strncmp(row, "schema_version.", 15) == 0 || strcmp(row, "repo_branches.rowid") == 0;
}

/* The rows of sql ("table.column" or "index name", one text column) joined by newlines. */
static char *rows_text(struct store *s, const char *sql)
{
	struct db_stmt *st = NULL;
	char *out = calloc(1, 1);
	size_t len = 0;
	int rc;

	assert_non_null(out);
	if (store_prep(&st, s, sql) < 0)
		fail_msg("%s", error_last());
	while ((rc = db_step(st)) == DB_ROW) {
		const char *row = (const char *)db_column_text(st, 0);
		size_t n = strlen(row);

		if (pg_only(row))
			continue;
		out = realloc(out, len + n + 2);
		assert_non_null(out);
		memcpy(out + len, row, n);
		len += n;
		out[len++] = '\n';
		out[len] = '\0';
	}
	if (rc != DB_DONE)
		fail_msg("%s: %s", sql, db_errmsg(s->db));
	db_finalize(st);
	return out;
}

/* Fails naming the first line where SQLite's list a and PostgreSQL's b differ. */
static void same_lines(const char *a, const char *b, const char *what)
{
	size_t line = 1;

	while (*a && *b) {
		size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");

		if (na != nb || memcmp(a, b, na) != 0)
			fail_msg("%s, line %zu: SQLite has %.*s, PostgreSQL %.*s", what, line,
				 (int)na, a, (int)nb, b);
		a += na + (a[na] != '\0');
		b += nb + (b[nb] != '\0');
		line++;
	}
	if (*a || *b)
		fail_msg("%s: only %s has %.*s", what, *a ? "SQLite" : "PostgreSQL",
			 (int)strcspn(*a ? a : b, "\n"), *a ? a : b);
}

static struct store *open_at(const char *where)
{
	struct store *s = NULL;

	if (store_open(&s, where) < 0)
		fail_msg("%s", error_last());
	return s;
}

static void both_backends_hold_the_same_schema(void **state)
{
	struct store *lite = open_at(testlib_path("schema.db"));
	struct store *pg = open_at(testlib_fresh_db(NULL));
	char *a, *b;

	(void)state;
	/* Tables and their columns. */
	a = rows_text(lite, "SELECT m.name || '.' || p.name FROM sqlite_schema m, "
			    "pragma_table_info(m.name) p WHERE m.type = 'table' AND "
			    "m.name NOT LIKE 'sqlite_%' ORDER BY 1");
	b = rows_text(pg, "SELECT (table_name || '.' || column_name) COLLATE \"C\" FROM "
			  "information_schema.columns WHERE table_schema = current_schema() "
			  "ORDER BY 1");
	same_lines(a, b, "columns");
	free(a);
	free(b);
	/* Named indexes (the ones behind PRIMARY KEY and UNIQUE constraints are unnamed). */
	a = rows_text(lite, "SELECT name FROM sqlite_schema WHERE type = 'index' AND "
			    "name NOT LIKE 'sqlite_%' ORDER BY 1");
	b = rows_text(pg, "SELECT indexname::text COLLATE \"C\" FROM pg_indexes "
			  "WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' "
			  "AND indexname NOT LIKE '%_key' ORDER BY 1");
	same_lines(a, b, "indexes");
	free(a);
	free(b);
	/* Triggers, by name. */
	a = rows_text(lite, "SELECT name FROM sqlite_schema WHERE type = 'trigger' ORDER BY 1");
	b = rows_text(pg, "SELECT DISTINCT trigger_name::text COLLATE \"C\" FROM "
			  "information_schema.triggers WHERE trigger_schema = current_schema() "
			  "ORDER BY 1");
	same_lines(a, b, "triggers");
	free(a);
	free(b);
	store_close(lite);
	store_close(pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(both_backends_hold_the_same_schema),
	};

	if (!testlib_pg_begin()) {
		printf("skipped: TRAWL_TEST_DATABASE is not set (tests/pg/pgtest.sh sets it)\n");
		return 0;
	}
	return cmocka_run_group_tests_name("schema (SQLite and PostgreSQL)", tests, testlib_setup,
					   testlib_teardown);
}
