/*
 * Unit tests for the in-memory ACL of src/store/accounts.c: store_acl_refresh, which applies the
 * change log (migration 5), always ends equal to a whole store_acl_load, whatever the changes,
 * whoever made them, and however many; it reads only the changed keys when it can; a failure
 * leaves the copy empty, never half updated.
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

#include <sqlite3.h>

#include "store/accounts.h"
#include "store/store.h"
#include "unit/testlib.h"
#include "util/error.h"

static char dbpath[256];
static int seq;
static int64_t uid; /* the id of the user added last */

static struct store *open_fresh(void)
{
	struct store *s = NULL;

	char path[256];

	snprintf(path, sizeof(path), "%s/acl%d", testlib_tmpdir(), ++seq);
	snprintf(dbpath, sizeof(dbpath), "%s", testlib_fresh_db(path));
	if (store_open(&s, dbpath) < 0)
		fail_msg("%s", error_last());
	return s;
}

/* The first column of sql's first row (0 if none). */
static int64_t step_one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return v;
}

/* Runs sql on a connection of its own, as another process would. */
static int64_t other_sql(const char *sql)
{
	sqlite3 *db = NULL;
	int64_t v;

	if (testlib_is_pg())
		return strtoll(testlib_pg_exec(sql), NULL, 10);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	step_one(db, "PRAGMA foreign_keys = ON");
	v = step_one(db, sql);
	sqlite3_close(db);
	return v;
}

static void pairs_equal(const struct store_acl_pair *x, size_t nx, const struct store_acl_pair *y,
			size_t ny, const char *what)
{
	if (nx != ny)
		fail_msg("%s: %zu rows, a whole load has %zu", what, nx, ny);
	for (size_t i = 0; i < nx; i++)
		if (x[i].id != y[i].id || x[i].group_id != y[i].group_id ||
		    ((x[i].repo || y[i].repo) &&
		     (!x[i].repo || !y[i].repo || strcmp(x[i].repo, y[i].repo) != 0)))
			fail_msg("%s: row %zu differs from a whole load's", what, i);
}

/* acl, refreshed, is what a whole load reads now. */
static void assert_as_loaded(const struct store_acl *acl, struct store *s)
{
	struct store_acl fresh;

	assert_int_equal(store_acl_load(&fresh, s), 0);
	assert_int_equal(acl->generation, fresh.generation);
	assert_int_equal(acl->n_users, fresh.n_users);
	for (size_t i = 0; i < acl->n_users; i++) {
		assert_int_equal(acl->users[i].id, fresh.users[i].id);
		assert_int_equal(acl->users[i].is_admin, fresh.users[i].is_admin);
		assert_int_equal(acl->users[i].is_disabled, fresh.users[i].is_disabled);
	}
	pairs_equal(acl->members, acl->n_members, fresh.members, fresh.n_members, "members");
	pairs_equal(acl->user_grants, acl->n_user_grants, fresh.user_grants, fresh.n_user_grants,
		    "user grants");
	pairs_equal(acl->group_grants, acl->n_group_grants, fresh.group_grants, fresh.n_group_grants,
		    "group grants");
	assert_int_equal(acl->n_public, fresh.n_public);
	for (size_t i = 0; i < acl->n_public; i++)
		assert_string_equal(acl->public_repos[i], fresh.public_repos[i]);
	store_acl_dispose(&fresh);
}

/* A small deterministic generator, so a failure replays. */
static unsigned next_rand(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16) & 0x7fff;
}

/* One random change of any kind, through this connection or another. */
static void random_change(struct store *s, unsigned *r)
{
	char user[16], group[16], repo[16], sql[160];
	bool on = next_rand(r) % 3 != 0;
	int err = 0;

	snprintf(user, sizeof(user), "u%u", next_rand(r) % 8);
	snprintf(group, sizeof(group), "g%u", next_rand(r) % 4);
	snprintf(repo, sizeof(repo), "r%u", next_rand(r) % 10);
	switch (next_rand(r) % 9) {
	case 0:
		err = store_grant(s, repo, user, NULL, on);
		break;
	case 1:
		err = store_grant(s, repo, NULL, group, on);
		break;
	case 2:
		err = store_group_member(s, group, user, on);
		break;
	case 3:
		err = store_repo_public(s, repo, on);
		break;
	case 4:
		err = store_user_set_flags(s, user, (int)(next_rand(r) % 2), (int)(next_rand(r) % 2));
		break;
	case 5: /* a group removed takes its members and grants; then made again */
		if ((err = store_group_remove(s, group)) == 0)
			err = store_group_add(s, group);
		break;
	case 6:
		err = store_repo_access_forget(s, repo);
		break;
	case 7: /* another process deletes a user, then one with the name is made again */
		snprintf(sql, sizeof(sql), "DELETE FROM users WHERE name = '%s'", user);
		other_sql(sql);
		err = store_user_add(&uid, s, user, NULL, false, NULL, 1);
		break;
	default: /* another process grants */
		snprintf(sql, sizeof(sql),
			 "INSERT INTO repo_grants (repo, group_id) "
			 "SELECT '%s', id FROM groups WHERE name = '%s' ON CONFLICT DO NOTHING",
			 repo, group);
		other_sql(sql);
		break;
	}
	if (err < 0 && err != TRAWL_EINVAL && err != TRAWL_ENOTFOUND)
		fail_msg("a random change: %s", error_last());
}

static void refreshing_equals_a_whole_load_after_any_changes(void **state)
{
	struct store *s = open_fresh();
	struct store_acl acl;
	unsigned r = 12345;
	char name[16];

	(void)state;
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		assert_int_equal(store_user_add(&uid, s, name, NULL, i == 0, NULL, 1), 0);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		assert_int_equal(store_group_add(s, name), 0);
	}
	assert_int_equal(store_acl_load(&acl, s), 0);
	for (int step = 0; step < 300; step++) {
		int n = 1 + (int)(next_rand(&r) % 3);

		for (int k = 0; k < n; k++)
			random_change(s, &r);
		assert_int_equal(store_acl_refresh(&acl, s), 0);
		assert_as_loaded(&acl, s);
	}
	store_acl_dispose(&acl);
	store_close(s);
}

/* A grant re-reads its own key only: the tables no change names are not read. */
static void a_change_rereads_only_its_key(void **state)
{
	struct store *s = open_fresh();
	struct store_acl acl;
	int64_t alice;

	(void)state;
	assert_int_equal(store_user_add(&alice, s, "alice", NULL, false, NULL, 1), 0);
	assert_int_equal(store_repo_public(s, "open", true), 0);
	assert_int_equal(store_acl_load(&acl, s), 0);
	assert_int_equal(store_grant(s, "new", "alice", NULL, true), 0);
	other_sql("DROP TABLE repo_public");
	assert_int_equal(store_acl_refresh(&acl, s), 0);
	assert_int_equal(acl.n_user_grants, 1);
	assert_int_equal(acl.user_grants[0].id, alice);
	assert_string_equal(acl.user_grants[0].repo, "new");
	assert_int_equal(acl.n_public, 1);
	/* A whole load would have failed. */
	struct store_acl fresh;

	assert_int_equal(store_acl_load(&fresh, s), TRAWL_EIO);
	store_acl_dispose(&acl);
	store_close(s);
}

/* A gap in the log (pruned, or damaged) and a burst of changes both load everything again. */
static void a_gap_or_a_burst_loads_everything(void **state)
{
	struct store *s = open_fresh();
	struct store_acl acl;

	(void)state;
	assert_int_equal(store_user_add(&uid, s, "alice", NULL, false, NULL, 1), 0);
	assert_int_equal(store_acl_load(&acl, s), 0);
	assert_int_equal(store_grant(s, "a", "alice", NULL, true), 0);
	assert_int_equal(store_grant(s, "b", "alice", NULL, true), 0);
	assert_int_equal(store_grant(s, "c", "alice", NULL, true), 0);
	other_sql("DELETE FROM acl_changes WHERE repo = 'b'");
	assert_int_equal(store_acl_refresh(&acl, s), 0);
	assert_int_equal(acl.n_user_grants, 3);
	assert_as_loaded(&acl, s);

	/* 5,000 grants in one statement: more than are applied one by one or kept. */
	other_sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
		  "INSERT INTO repo_grants (repo, user_id) SELECT 'burst' || i, "
		  "(SELECT id FROM users WHERE name = 'alice') FROM n");
	assert_int_equal(other_sql("SELECT count(*) FROM acl_changes"), 4096);
	assert_int_equal(store_acl_refresh(&acl, s), 0);
	assert_int_equal(acl.n_user_grants, 5003);
	assert_as_loaded(&acl, s);
	store_acl_dispose(&acl);
	store_close(s);
}

/* A store failure during a refresh leaves the copy empty, never half updated. */
static void a_failed_refresh_leaves_nothing(void **state)
{
	struct store *s = open_fresh();
	struct store_acl acl;

	(void)state;
	assert_int_equal(store_user_add(&uid, s, "alice", NULL, false, NULL, 1), 0);
	assert_int_equal(store_grant(s, "a", "alice", NULL, true), 0);
	assert_int_equal(store_acl_load(&acl, s), 0);
	assert_int_equal(store_repo_public(s, "open", true), 0);
	assert_int_equal(store_grant(s, "b", "alice", NULL, true), 0);
	other_sql("DROP TABLE repo_grants");
	assert_int_equal(store_acl_refresh(&acl, s), TRAWL_EIO);
	assert_int_equal(acl.generation, 0);
	assert_int_equal(acl.n_users, 0);
	assert_int_equal(acl.n_user_grants, 0);
	assert_int_equal(acl.n_public, 0);
	assert_null(acl.users);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refreshing_equals_a_whole_load_after_any_changes),
		cmocka_unit_test(a_change_rereads_only_its_key),
		cmocka_unit_test(a_gap_or_a_burst_loads_everything),
		cmocka_unit_test(a_failed_refresh_leaves_nothing),
	};

	int failed = 0;

	if (!testlib_pg_only())
		failed = cmocka_run_group_tests_name("acl (SQLite)", tests, testlib_setup,
						     testlib_teardown);

	if (testlib_pg_begin())
		failed += cmocka_run_group_tests_name("acl (PostgreSQL)", tests, testlib_setup,
						      testlib_teardown);
	return failed;
}
