/* Helpers shared by the unit tests; see testlib.h. */
#include "unit/testlib.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "index/shard.h"
#include "util/file.h"

#define N_PATHS 4

static char tmpdir[512];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int testlib_remove_tree(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int testlib_setup(void **state)
{
	const char *base = getenv("TMPDIR");
	int n;

	(void)state;
	if (!base || !*base)
		base = "/tmp";
	n = snprintf(tmpdir, sizeof(tmpdir), "%s/trawl-test-%s.XXXXXX", base,
		     program_invocation_short_name);
	if (n < 0 || (size_t)n >= sizeof(tmpdir) || !mkdtemp(tmpdir)) {
		tmpdir[0] = '\0';
		return -1;
	}
	return 0;
}

int testlib_teardown(void **state)
{
	int err;

	(void)state;
	if (!tmpdir[0])
		return 0;
	err = testlib_remove_tree(tmpdir);
	tmpdir[0] = '\0';
	return err;
}

const char *testlib_tmpdir(void)
{
	assert_true(tmpdir[0] != '\0');
	return tmpdir;
}

const char *testlib_path(const char *name)
{
	static char paths[N_PATHS][1024];
	static unsigned next;
	char *p = paths[next++ % N_PATHS];
	int n = snprintf(p, sizeof(paths[0]), "%s/%s", testlib_tmpdir(), name);

	assert_true(n > 0 && (size_t)n < sizeof(paths[0]));
	return p;
}

void testlib_write_file(const char *dir, const char *name, const char *content)
{
	char *p = file_join(dir, name);

	assert_non_null(p);
	assert_int_equal(file_write_atomic(p, content, strlen(content)), 0);
	free(p);
}

struct shard *testlib_shard_of(const char *path, const char *const *docs, size_t n)
{
	struct shard_writer *w = NULL;
	struct shard *sh = NULL;

	assert_int_equal(shard_writer_new(&w, path, "r"), 0);
	for (size_t i = 0; i < n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "d%zu", i);
		assert_int_equal(shard_writer_add(w, name, strlen(name), (const uint8_t *)docs[i],
						  strlen(docs[i]), strlen(docs[i]), DOC_INDEXED, 0),
				 0);
	}
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	assert_int_equal(shard_open(&sh, path), 0);
	return sh;
}

/* ---- the PostgreSQL pass ---- */

static const char *pg_url; /* TRAWL_TEST_DATABASE during the PostgreSQL pass */

bool testlib_pg_begin(void)
{
	const char *url = getenv("TRAWL_TEST_DATABASE");

	pg_url = url && *url ? url : NULL;
	/* What opens the store by its data directory (auth_open) finds it there: store_location. */
	if (pg_url)
		setenv("TRAWL_DATABASE", pg_url, 1);
	return pg_url != NULL;
}

bool testlib_pg_only(void)
{
	const char *v = getenv("TRAWL_TEST_PG_ONLY");

	return v && *v && getenv("TRAWL_TEST_DATABASE");
}

bool testlib_is_pg(void)
{
	return pg_url != NULL;
}

const char *testlib_pg_exec(const char *sql)
{
	static char out[4096];
	PGconn *c = PQconnectdb(pg_url);
	PGresult *res = NULL;
	ExecStatusType st;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("%s: %s", pg_url, PQerrorMessage(c));
	res = PQexec(c, sql);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	snprintf(out, sizeof(out), "%s",
		 st == PGRES_TUPLES_OK && PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(c);
	return out;
}

const char *testlib_fresh_db(const char *path)
{
	if (!pg_url)
		return path;
	testlib_pg_exec("SET client_min_messages = warning; DROP SCHEMA public CASCADE; "
			"CREATE SCHEMA public");
	return pg_url;
}

size_t testlib_pg_tests(struct CMUnitTest *out, const struct CMUnitTest *tests, size_t n,
			const char *const *skip)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		bool is_skipped = false;

		for (size_t j = 0; skip[j] && !is_skipped; j++)
			is_skipped = strcmp(tests[i].name, skip[j]) == 0;
		if (!is_skipped)
			out[k++] = tests[i];
	}
	return k;
}
