/*
 * Unit tests for src/auth/notice.c and src/store/notices.c: what is done to an account is told
 * to its user (A5) with when, by whom and from where; only changes count; a token is told of
 * only when someone else made it; each user sees only their own notices; marking read up to
 * an id keeps newer ones; the newest AUTH_NOTICES_MAX are listed; notices older than
 * AUTH_NOTICE_KEEP_S are dropped; no notice holds a secret.
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
#include "unit/auth/clock.h"
#include "unit/testlib.h"
#include "util/error.h"

#define PW_ALICE "plover-quartz-meadow-71"
#define PW_ROOT "granite-oboe-lantern-93"
#define PW_NEW "saffron-glacier-piano-08"

static int seq;
static char data_dir[256];

static const struct auth_actor by_root = { .name = "root", .address = "10.0.0.9" };

/* A new data directory with an administrator root and a user alice. */
static struct auth *open_fresh(void)
{
	struct auth_config cfg = { .clock = test_clock, .pwhash_cost = AUTH_PWHASH_TEST };
	struct auth *a = NULL;

	snprintf(data_dir, sizeof(data_dir), "%s/data%d", testlib_tmpdir(), ++seq);
	testlib_fresh_db(NULL);
	if (auth_open(&a, data_dir, &cfg) < 0)
		fail_msg("auth_open %s: %s", data_dir, error_last());
	if (auth_user_add(a, NULL, "root", NULL, true, PW_ROOT, strlen(PW_ROOT)) < 0 ||
	    auth_user_add(a, NULL, "alice", NULL, false, PW_ALICE, strlen(PW_ALICE)) < 0)
		fail_msg("adding users: %s", error_last());
	return a;
}

/* The principal of a signed-in user (only the fields notices use matter). */
static struct auth_principal who(struct auth *a, const char *name)
{
	struct auth_principal p = { .kind = AUTH_SESSION };
	struct auth_user u;

	assert_int_equal(auth_user_get(&u, a, name), 0);
	p.user_id = u.id;
	snprintf(p.name, sizeof(p.name), "%s", u.name);
	auth_user_dispose(&u);
	return p;
}

static size_t list(struct auth_notice v[AUTH_NOTICES_MAX], struct auth *a, const char *name)
{
	struct auth_principal p = who(a, name);
	size_t n = 99;

	assert_int_equal(auth_notice_list(v, &n, a, &p), 0);
	assert_true(n <= AUTH_NOTICES_MAX);
	return n;
}

static void set_password(struct auth *a, const struct auth_actor *by, const char *name,
			 const char *current, const char *pw)
{
	if (auth_user_set_password(a, by, name, current, current ? strlen(current) : 0, pw,
				   strlen(pw)) < 0)
		fail_msg("setting %s's password: %s", name, error_last());
}

static void a_password_set_is_told_with_who_when_and_where(void **state)
{
	struct auth *a = open_fresh();
	struct auth_actor by_alice = { .name = "alice", .address = "10.0.0.1" };
	struct auth_notice v[AUTH_NOTICES_MAX];

	(void)state;
	assert_int_equal(list(v, a, "alice"), 0);
	set_password(a, &by_root, "alice", NULL, PW_NEW);
	assert_int_equal(list(v, a, "alice"), 1);
	assert_string_equal(v[0].event, "password_changed");
	assert_int_equal(v[0].ts_ms, now_ms);
	assert_false(v[0].is_self);
	assert_string_equal(v[0].by, "root");
	assert_string_equal(v[0].address, "10.0.0.9");
	assert_string_equal(v[0].token, "");
	now_ms += 1000;
	set_password(a, NULL, "alice", NULL, PW_ALICE); /* `trawl user passwd` */
	now_ms += 1000;
	set_password(a, &by_alice, "alice", PW_ALICE, PW_NEW);
	assert_int_equal(list(v, a, "alice"), 3);
	assert_true(v[0].is_self);
	assert_string_equal(v[0].by, "alice");
	assert_string_equal(v[0].address, "10.0.0.1");
	assert_int_equal(v[0].ts_ms, now_ms);
	assert_false(v[1].is_self);
	assert_string_equal(v[1].by, "");
	assert_string_equal(v[1].address, "");
	assert_true(v[0].id > v[1].id && v[1].id > v[2].id);
	assert_int_equal(list(v, a, "root"), 0);
	auth_close(a);
}

static void each_user_sees_and_dismisses_only_their_own(void **state)
{
	struct auth *a = open_fresh();
	struct auth_notice v[AUTH_NOTICES_MAX];
	struct auth_principal root = who(a, "root"), local = { .kind = AUTH_LOCAL };
	size_t n = 99;

	(void)state;
	set_password(a, &by_root, "alice", NULL, PW_NEW);
	set_password(a, &by_root, "root", NULL, PW_NEW);
	assert_int_equal(list(v, a, "root"), 1);
	assert_true(v[0].is_self);
	assert_int_equal(auth_notice_read(a, &root, 0), 0);
	assert_int_equal(list(v, a, "root"), 0);
	assert_int_equal(list(v, a, "alice"), 1);
	assert_string_equal(v[0].by, "root");
	/* The local user of laptop mode, and anonymous callers, have no account and no notices. */
	assert_int_equal(auth_notice_list(v, &n, a, &local), 0);
	assert_int_equal(n, 0);
	assert_int_equal(auth_notice_read(a, &local, 0), 0);
	assert_int_equal(list(v, a, "alice"), 1);
	auth_close(a);
}

static void marking_read_up_to_an_id_keeps_newer_ones(void **state)
{
	struct auth *a = open_fresh();
	struct auth_notice v[AUTH_NOTICES_MAX];
	struct auth_principal alice = who(a, "alice");
	int64_t seen;

	(void)state;
	assert_int_equal(auth_user_set_disabled(a, &by_root, "alice", true), 0);
	assert_int_equal(auth_user_set_disabled(a, &by_root, "alice", false), 0);
	assert_int_equal(list(v, a, "alice"), 2);
	assert_string_equal(v[0].event, "user_enabled");
	assert_string_equal(v[1].event, "user_disabled");
	seen = v[0].id;
	/* A notice made after the page showed the others stays unread. */
	assert_int_equal(auth_user_set_admin(a, &by_root, "alice", true), 0);
	assert_int_equal(auth_notice_read(a, &alice, seen), 0);
	assert_int_equal(list(v, a, "alice"), 1);
	assert_string_equal(v[0].event, "admin_granted");
	assert_int_equal(auth_notice_read(a, &alice, 0), 0);
	assert_int_equal(list(v, a, "alice"), 0);
	auth_close(a);
}

static void only_changes_are_told(void **state)
{
	struct auth *a = open_fresh();
	struct auth_notice v[AUTH_NOTICES_MAX];

	(void)state;
	assert_int_equal(auth_user_set_admin(a, &by_root, "alice", false), 0);
	assert_int_equal(auth_user_set_disabled(a, &by_root, "alice", false), 0);
	assert_int_equal(list(v, a, "alice"), 0);
	assert_int_equal(auth_user_set_admin(a, &by_root, "alice", true), 0);
	assert_int_equal(auth_user_set_admin(a, &by_root, "alice", true), 0);
	assert_int_equal(list(v, a, "alice"), 1);
	assert_string_equal(v[0].event, "admin_granted");
	/* Taking the flag away is the administrators' business, not a warning to the user. */
	assert_int_equal(auth_user_set_admin(a, &by_root, "alice", false), 0);
	assert_int_equal(list(v, a, "alice"), 1);
	/* A refused change (the last administrator) is no change. */
	assert_int_equal(auth_user_set_admin(a, &by_root, "alice", false), 0);
	assert_int_equal(auth_user_set_disabled(a, &by_root, "root", true), TRAWL_EINVAL);
	assert_int_equal(list(v, a, "root"), 0);
	auth_close(a);
}

static void a_token_is_told_when_someone_else_made_it(void **state)
{
	struct auth *a = open_fresh();
	struct auth_actor by_alice = { .name = "alice", .address = "10.0.0.1" };
	struct auth_notice v[AUTH_NOTICES_MAX];
	char secret[AUTH_TOKEN_LEN + 1], other[AUTH_TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(auth_token_create(NULL, secret, a, &by_alice, "alice", "mine",
					   AUTH_SCOPE_SEARCH, 0),
			 0);
	assert_int_equal(list(v, a, "alice"), 0);
	assert_int_equal(auth_token_create(NULL, other, a, &by_root, "alice", "made-for-you",
					   AUTH_SCOPE_SEARCH, 0),
			 0);
	assert_int_equal(auth_token_create(NULL, secret, a, NULL, "alice", "", AUTH_SCOPE_SEARCH, 0),
			 0);
	assert_int_equal(list(v, a, "alice"), 2);
	assert_string_equal(v[0].event, "token_created");
	assert_string_equal(v[0].by, "");
	assert_string_equal(v[1].token, "made-for-you");
	assert_string_equal(v[1].by, "root");
	/* SECURITY: no part of the secret beyond what the token list shows anyone. */
	for (size_t i = 0; i < 2; i++) {
		assert_null(strstr(v[i].token, "trawl_"));
		assert_null(strstr(v[i].by, "trawl_"));
		assert_null(strstr(v[i].address, "trawl_"));
	}
	auth_close(a);
}

static void the_newest_are_listed_up_to_the_bound(void **state)
{
	struct auth *a = open_fresh();
	struct auth_notice v[AUTH_NOTICES_MAX];
	const int made = AUTH_NOTICES_MAX + 5;

	(void)state;
	for (int i = 0; i < made; i++) {
		now_ms += 1000;
		assert_int_equal(auth_user_set_disabled(a, &by_root, "alice", i % 2 == 0), 0);
	}
	assert_int_equal(list(v, a, "alice"), AUTH_NOTICES_MAX);
	assert_int_equal(v[0].ts_ms, now_ms);
	assert_string_equal(v[0].event, made % 2 ? "user_disabled" : "user_enabled");
	for (size_t i = 1; i < AUTH_NOTICES_MAX; i++)
		assert_true(v[i - 1].id > v[i].id);
	auth_close(a);
}

static int64_t rows(const char *dir)
{
	char path[300];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (testlib_is_pg())
		return strtoll(testlib_pg_exec("SELECT count(*) FROM notices"), NULL, 10);
	snprintf(path, sizeof(path), "%s/trawl.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM notices", -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void notices_older_than_the_limit_are_dropped(void **state)
{
	struct auth *a = open_fresh();
	struct auth_notice v[AUTH_NOTICES_MAX];

	(void)state;
	assert_int_equal(auth_user_set_admin(a, &by_root, "alice", true), 0);
	now_ms += (int64_t)AUTH_NOTICE_KEEP_S * 1000 - 1;
	assert_int_equal(list(v, a, "alice"), 1);
	now_ms += 2;
	assert_int_equal(list(v, a, "alice"), 0);
	assert_int_equal(rows(data_dir), 1);
	/* The next notice made, anyone's, drops the old rows. */
	assert_int_equal(auth_user_set_disabled(a, &by_root, "alice", true), 0);
	assert_int_equal(rows(data_dir), 1);
	assert_int_equal(list(v, a, "alice"), 1);
	assert_string_equal(v[0].event, "user_disabled");
	auth_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_password_set_is_told_with_who_when_and_where),
		cmocka_unit_test(each_user_sees_and_dismisses_only_their_own),
		cmocka_unit_test(marking_read_up_to_an_id_keeps_newer_ones),
		cmocka_unit_test(only_changes_are_told),
		cmocka_unit_test(a_token_is_told_when_someone_else_made_it),
		cmocka_unit_test(the_newest_are_listed_up_to_the_bound),
		cmocka_unit_test(notices_older_than_the_limit_are_dropped),
	};

	int failed = 0;

	if (!testlib_pg_only())
		failed = cmocka_run_group_tests_name("notice (SQLite)", tests, testlib_setup,
						     testlib_teardown);

	if (testlib_pg_begin())
		failed += cmocka_run_group_tests_name("notice (PostgreSQL)", tests, testlib_setup,
						      testlib_teardown);
	return failed;
}
