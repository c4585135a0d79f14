/*
 * Unit tests for src/auth/readable.c with the ACL copy kept up to date by the change log: every
 * kind of change, made by this struct auth, another one on the same DATA, or another program on
 * the database, applies to the very next lookup although a set was cached (Z4); a store failure
 * gives no set (Z5); a disabled or deleted user reads nothing; a set a search holds stays valid
 * while the copy changes under it.
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

#include "auth/auth.h"
#include "unit/testlib.h"
#include "util/error.h"

static int seq;
static char data_dir[256], db_path[300];

static struct auth *open_data(void)
{
	struct auth_config cfg = { .pwhash_cost = AUTH_PWHASH_TEST };
	struct auth *a = NULL;

	if (auth_open(&a, data_dir, &cfg) < 0)
		fail_msg("auth_open %s: %s", data_dir, error_last());
	return a;
}

static struct auth *open_fresh(void)
{
	snprintf(data_dir, sizeof(data_dir), "%s/readable%d", testlib_tmpdir(), ++seq);
	snprintf(db_path, sizeof(db_path), "%s/trawl.db", data_dir);
	testlib_fresh_db(NULL);
	return open_data();
}

/* Another program on the database: sql on a connection of its own. */
static void other_sql(const char *sql)
{
	static const char *const pre[] = { "PRAGMA foreign_keys = ON", NULL };
	sqlite3 *db = NULL;

	if (testlib_is_pg()) {
		testlib_pg_exec(sql);
		return;
	}
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	for (int i = 0; i < 2; i++) {
		const char *q = pre[i] ? pre[i] : sql;
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE)
			fail_msg("%s: %s", q, sqlite3_errmsg(db));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

/* A user and a principal for it, from an API token as a request presents it. */
static void user_principal(struct auth_principal *p, struct auth *a, const char *user)
{
	char secret[AUTH_TOKEN_LEN + 1], header[AUTH_TOKEN_LEN + 16];
	struct auth_origin from = { .address = "127.0.0.1" };

	if (auth_user_add(a, NULL, user, NULL, false, NULL, 0) < 0 ||
	    auth_token_create(NULL, secret, a, NULL, user, "t", AUTH_SCOPE_SEARCH, 0) < 0)
		fail_msg("making %s: %s", user, error_last());
	snprintf(header, sizeof(header), "Bearer %s", secret);
	if (auth_identify(p, a, NULL, header, &from) < 0)
		fail_msg("identifying %s: %s", user, error_last());
}

/* p's readable set as a comma-separated list ("*" for every repository). */
static const char *set_of(struct auth *a, const struct auth_principal *p)
{
	static char out[512];
	const struct search_repos *s = NULL;
	size_t len = 0;

	if (auth_readable_repos(&s, a, p, true) < 0)
		fail_msg("readable: %s", error_last());
	out[0] = '\0';
	if (s->is_all)
		snprintf(out, sizeof(out), "*");
	for (size_t i = 0; !s->is_all && i < s->n_names && len < sizeof(out); i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? "," : "",
					s->names[i]);
	auth_repos_release(a, s);
	return out;
}

/* Z4: each kind of change, by whom it may come, is seen by the next lookup of a cached set. */
static void every_change_applies_to_the_next_lookup(void **state)
{
	struct auth *a = open_fresh();
	struct auth *cli = open_data(); /* the command line on the same DATA */
	struct auth_principal alice, bob, anon = { .kind = AUTH_ANONYMOUS };

	(void)state;
	user_principal(&alice, a, "alice");
	user_principal(&bob, a, "bob");
	assert_int_equal(auth_group_add(a, NULL, "team"), 0);
	assert_int_equal(auth_group_member(a, NULL, "team", "alice", true), 0);
	assert_int_equal(auth_grant(a, NULL, "team-repo", NULL, "team", true), 0);
	assert_int_equal(auth_grant(a, NULL, "own", "alice", NULL, true), 0);
	assert_string_equal(set_of(a, &alice), "own,team-repo");
	assert_string_equal(set_of(a, &alice), "own,team-repo"); /* cached */

	assert_int_equal(auth_grant(cli, NULL, "new", "alice", NULL, true), 0);
	assert_string_equal(set_of(a, &alice), "new,own,team-repo");
	/* A group grant revoked. */
	assert_int_equal(auth_grant(cli, NULL, "team-repo", NULL, "team", false), 0);
	assert_string_equal(set_of(a, &alice), "new,own");
	/* A membership, both ways. */
	assert_int_equal(auth_grant(a, NULL, "team-repo", NULL, "team", true), 0);
	assert_string_equal(set_of(a, &bob), "");
	assert_int_equal(auth_group_member(cli, NULL, "team", "bob", true), 0);
	assert_string_equal(set_of(a, &bob), "team-repo");
	assert_int_equal(auth_group_member(cli, NULL, "team", "bob", false), 0);
	assert_string_equal(set_of(a, &bob), "");
	/* A public flag, on and off, for users and anonymous callers. */
	assert_string_equal(set_of(a, &anon), "");
	assert_int_equal(auth_repo_set_public(cli, NULL, "open", true), 0);
	assert_string_equal(set_of(a, &bob), "open");
	assert_string_equal(set_of(a, &anon), "open");
	assert_string_equal(set_of(a, &alice), "new,open,own,team-repo");
	assert_int_equal(auth_repo_set_public(cli, NULL, "open", false), 0);
	assert_string_equal(set_of(a, &anon), "");
	assert_string_equal(set_of(a, &bob), "");
	/* An administrator reads everything, and then no longer (root stays one). */
	assert_int_equal(auth_user_add(cli, NULL, "root", NULL, true, NULL, 0), 0);
	assert_int_equal(auth_user_set_admin(cli, NULL, "bob", true), 0);
	assert_string_equal(set_of(a, &bob), "*");
	assert_int_equal(auth_user_set_admin(cli, NULL, "bob", false), 0);
	assert_string_equal(set_of(a, &bob), "");
	/* A group removed takes its grants and members with it. */
	assert_int_equal(auth_group_remove(cli, NULL, "team"), 0);
	assert_string_equal(set_of(a, &alice), "new,own");
	/* Another program writing the tables directly. */
	other_sql("INSERT INTO repo_grants (repo, user_id) SELECT 'raw', id FROM users "
		  "WHERE name = 'bob'");
	assert_string_equal(set_of(a, &bob), "raw");
	other_sql("DELETE FROM repo_grants WHERE repo = 'raw'");
	assert_string_equal(set_of(a, &bob), "");
	auth_close(cli);
	auth_close(a);
}

/* A user disabled or deleted reads nothing from the next lookup on, though a set was cached. */
static void a_disabled_or_deleted_user_reads_nothing(void **state)
{
	struct auth *a = open_fresh();
	struct auth *cli = open_data();
	struct auth_principal alice, bob;

	(void)state;
	user_principal(&alice, a, "alice");
	user_principal(&bob, a, "bob");
	assert_int_equal(auth_repo_set_public(a, NULL, "open", true), 0);
	assert_int_equal(auth_grant(a, NULL, "r", "alice", NULL, true), 0);
	assert_int_equal(auth_grant(a, NULL, "r", "bob", NULL, true), 0);
	assert_string_equal(set_of(a, &alice), "open,r");
	assert_string_equal(set_of(a, &bob), "open,r");

	assert_int_equal(auth_user_set_disabled(cli, NULL, "alice", true), 0);
	assert_string_equal(set_of(a, &alice), "");
	assert_int_equal(auth_check_repo(a, &alice, true, "open"), TRAWL_EPERM);
	other_sql("DELETE FROM users WHERE name = 'bob'");
	assert_string_equal(set_of(a, &bob), "");
	assert_int_equal(auth_check_repo(a, &bob, true, "r"), TRAWL_EPERM);
	/* Enabled again, alice reads what she was granted. */
	assert_int_equal(auth_user_set_disabled(cli, NULL, "alice", false), 0);
	assert_string_equal(set_of(a, &alice), "open,r");
	auth_close(cli);
	auth_close(a);
}

/* Z5: a store failure while the copy is brought up to date gives no set, never the old one. */
static void a_store_failure_gives_no_set(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal alice;
	const struct search_repos *set = (const struct search_repos *)&set;

	(void)state;
	user_principal(&alice, a, "alice");
	assert_int_equal(auth_grant(a, NULL, "r", "alice", NULL, true), 0);
	assert_string_equal(set_of(a, &alice), "r");
	assert_int_equal(auth_grant(a, NULL, "s", "alice", NULL, true), 0);
	other_sql("DROP TABLE repo_grants");
	assert_int_equal(auth_readable_repos(&set, a, &alice, true), TRAWL_EIO);
	assert_null(set);
	assert_int_equal(auth_check_repo(a, &alice, true, "r"), TRAWL_EIO);
	/* Nothing half-applied is kept: the next lookup reads the tables whole, and fails too. */
	set = (const struct search_repos *)&set;
	assert_int_equal(auth_readable_repos(&set, a, &alice, true), TRAWL_EIO);
	assert_null(set);
	auth_close(a);
}

/* A broken change log costs a whole load, not a wrong set. */
static void a_broken_log_loads_everything(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal alice;
	const struct search_repos *set = (const struct search_repos *)&set;

	(void)state;
	user_principal(&alice, a, "alice");
	assert_string_equal(set_of(a, &alice), "");
	assert_int_equal(auth_grant(a, NULL, "a", "alice", NULL, true), 0);
	assert_int_equal(auth_grant(a, NULL, "b", "alice", NULL, true), 0);
	other_sql("DELETE FROM acl_changes WHERE repo = 'a'");
	assert_string_equal(set_of(a, &alice), "a,b");
	/* The log gone: the lookup that needs it fails, the next reads the tables whole. */
	assert_int_equal(auth_grant(a, NULL, "c", "alice", NULL, true), 0);
	other_sql("DROP TABLE acl_changes");
	assert_int_equal(auth_readable_repos(&set, a, &alice, true), TRAWL_EIO);
	assert_null(set);
	assert_string_equal(set_of(a, &alice), "a,b,c");
	auth_close(a);
}

/* A search holding a set keeps its names while changes rewrite the copy under it. */
static void a_held_set_outlives_changes(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal alice;
	const struct search_repos *held = NULL;
	char name[32];

	(void)state;
	user_principal(&alice, a, "alice");
	assert_string_equal(set_of(a, &alice), "");
	assert_int_equal(auth_grant(a, NULL, "added-after-the-load", "alice", NULL, true), 0);
	assert_int_equal(auth_readable_repos(&held, a, &alice, false), 0);
	assert_int_equal(auth_grant(a, NULL, "added-after-the-load", "alice", NULL, false), 0);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "churn%02d", i);
		assert_int_equal(auth_grant(a, NULL, name, "alice", NULL, true), 0);
		assert_int_equal(auth_check_repo(a, &alice, false, name), 0);
	}
	assert_int_equal(held->n_names, 1);
	assert_string_equal(held->names[0], "added-after-the-load");
	assert_true(search_repos_has(held, "added-after-the-load"));
	auth_repos_release(a, held);
	assert_int_equal(auth_check_repo(a, &alice, false, "added-after-the-load"), TRAWL_EPERM);
	auth_close(a);
}

/* A set merges the sorted runs (public, own, each group's) into one sorted list, each name once. */
static void sets_are_sorted_and_distinct(void **state)
{
	static const char *const grants[][3] = {
		{ "g1", "b", "e" }, { "g2", "a", "e" }, { "g3", "c", "f" },
		{ "g4", "a", "d" }, { "g5", "b", "g" },
	};
	struct auth *a = open_fresh();
	struct auth_principal alice;

	(void)state;
	user_principal(&alice, a, "alice");
	for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++) {
		assert_int_equal(auth_group_add(a, NULL, grants[i][0]), 0);
		assert_int_equal(auth_group_member(a, NULL, grants[i][0], "alice", true), 0);
		assert_int_equal(auth_grant(a, NULL, grants[i][1], NULL, grants[i][0], true), 0);
		assert_int_equal(auth_grant(a, NULL, grants[i][2], NULL, grants[i][0], true), 0);
	}
	assert_int_equal(auth_grant(a, NULL, "c", "alice", NULL, true), 0);
	assert_int_equal(auth_grant(a, NULL, "h", "alice", NULL, true), 0);
	assert_int_equal(auth_repo_set_public(a, NULL, "d", true), 0);
	assert_int_equal(auth_repo_set_public(a, NULL, "0", true), 0);
	assert_string_equal(set_of(a, &alice), "0,a,b,c,d,e,f,g,h");
	auth_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_change_applies_to_the_next_lookup),
		cmocka_unit_test(a_disabled_or_deleted_user_reads_nothing),
		cmocka_unit_test(a_store_failure_gives_no_set),
		cmocka_unit_test(a_broken_log_loads_everything),
		cmocka_unit_test(a_held_set_outlives_changes),
		cmocka_unit_test(sets_are_sorted_and_distinct),
	};

	int failed = 0;

	if (!testlib_pg_only())
		failed = cmocka_run_group_tests_name("readable (SQLite)", tests, testlib_setup,
						     testlib_teardown);

	if (testlib_pg_begin())
		failed += cmocka_run_group_tests_name("readable (PostgreSQL)", tests, testlib_setup,
						      testlib_teardown);
	return failed;
}
