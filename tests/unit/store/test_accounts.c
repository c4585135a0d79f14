/*
 * Unit tests for src/store/accounts.c and migration 4: a schema-3 registry gains the accounts
 * tables and keeps its repositories; the ACL generation moves with every change a readable
 * set depends on (users' flags, groups, members, grants, public flags, repositories added or
 * removed) and not with last-seen times or tokens; removals cascade; the ACL snapshot is
 * sorted as the readable sets need; names stay data, not SQL. Migration 7: the audit table's
 * row count is kept by triggers (and counted once for an older table), and the refusals'
 * prune finds its rows through the partial index. Migration 8: accounts stay local; a
 * group sync touches only its own memberships, and the ACL sees each change.
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
#include "store/store_int.h"
#include "unit/testlib.h"
#include "util/error.h"

static char dbpath[256];
static int seq;

static struct store *open_fresh(void)
{
	struct store *s = NULL;

	char path[256];

	snprintf(path, sizeof(path), "%s/db%d", testlib_tmpdir(), ++seq);
	snprintf(dbpath, sizeof(dbpath), "%s", testlib_fresh_db(path));
	if (store_open(&s, dbpath) < 0)
		fail_msg("%s", error_last());
	return s;
}

static void raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	if (testlib_is_pg()) {
		testlib_pg_exec(sql);
		return;
	}
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* What trawl wrote with schema 3: the registry only. */
static void make_schema_3(const char *path)
{
	static const char *const steps[] = {
		"CREATE TABLE repos (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,"
		" url TEXT NOT NULL, created INTEGER NOT NULL, last_sync INTEGER NOT NULL DEFAULT 0,"
		" last_error TEXT, state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new',"
		" 'syncing', 'indexed', 'error')), index_bytes INTEGER NOT NULL DEFAULT 0,"
		" files INTEGER NOT NULL DEFAULT 0, skipped_count INTEGER NOT NULL DEFAULT 0,"
		" allow_insecure INTEGER NOT NULL DEFAULT 0, allow_local INTEGER NOT NULL DEFAULT 0,"
		" allow_private INTEGER NOT NULL DEFAULT 0)",
		"CREATE TABLE repo_branches (repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE"
		" CASCADE, pattern TEXT NOT NULL, PRIMARY KEY (repo_id, pattern))",
		"CREATE TABLE indexed_branches (repo_id INTEGER NOT NULL REFERENCES repos(id) ON"
		" DELETE CASCADE, branch TEXT NOT NULL, commit_id TEXT NOT NULL, is_default INTEGER"
		" NOT NULL DEFAULT 0, PRIMARY KEY (repo_id, branch))",
		"CREATE TABLE retired_names (name TEXT PRIMARY KEY)",
		"INSERT INTO repos (name, url, created) VALUES ('kept', 'https://h/kept.git', 1)",
		"PRAGMA user_version = 3",
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		raw_sql(path, steps[i]);
}

static void a_schema_3_registry_gains_the_accounts_tables(void **state)
{
	struct store *s = NULL;
	struct store_repo r;
	struct store_user *v = NULL;
	int64_t gen = 0, id, n_users = -1, n_admins = -1;
	size_t n = 99;
	int version = 0;

	(void)state;
	snprintf(dbpath, sizeof(dbpath), "%s/db%d", testlib_tmpdir(), ++seq);
	make_schema_3(dbpath);
	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_schema_version(s, &version), 0);
	assert_int_equal(version, STORE_SCHEMA_VERSION);
	assert_int_equal(store_repo_get(&r, s, "kept"), 0);
	store_repo_dispose(&r);
	assert_int_equal(store_user_counts(s, &n_users, &n_admins), 0);
	assert_int_equal(n_users, 0);
	assert_int_equal(n_admins, 0);
	assert_int_equal(store_user_list(&v, &n, s), 0);
	assert_int_equal(n, 0);
	store_users_free(v, n);
	assert_int_equal(store_acl_generation(s, &gen), 0);
	assert_true(gen > 0);
	assert_int_equal(store_user_add(&id, s, "alice", NULL, true, NULL, 5), 0);
	assert_int_equal(store_user_counts(s, &n_users, &n_admins), 0);
	assert_int_equal(n_users, 1);
	assert_int_equal(n_admins, 1);
	store_close(s);
}

/* Runs change and says whether the generation moved. */
#define MOVES(s, change) \
	do { \
		int64_t before_, after_; \
		assert_int_equal(store_acl_generation((s), &before_), 0); \
		assert_int_equal((change), 0); \
		assert_int_equal(store_acl_generation((s), &after_), 0); \
		if (after_ == before_) \
			fail_msg("the generation did not move: %s", #change); \
	} while (0)

#define STAYS(s, change) \
	do { \
		int64_t before_, after_; \
		assert_int_equal(store_acl_generation((s), &before_), 0); \
		assert_int_equal((change), 0); \
		assert_int_equal(store_acl_generation((s), &after_), 0); \
		if (after_ != before_) \
			fail_msg("the generation moved: %s", #change); \
	} while (0)

static void the_generation_moves_with_every_acl_change(void **state)
{
	static const unsigned char hash[STORE_HASH_LEN] = { 1, 2, 3 };
	struct store *s = open_fresh();
	int64_t uid, rid, tid;

	(void)state;
	MOVES(s, store_user_add(&uid, s, "alice", "Alice", false, NULL, 1));
	MOVES(s, store_user_set_flags(s, "alice", 1, -1));
	MOVES(s, store_group_add(s, "team"));
	MOVES(s, store_group_member(s, "team", "alice", true));
	MOVES(s, store_grant(s, "proj", NULL, "team", true));
	MOVES(s, store_grant(s, "proj", "alice", NULL, true));
	MOVES(s, store_repo_public(s, "proj", true));
	MOVES(s, store_repo_add(&rid, s, "proj", "https://h/proj.git", NULL, NULL, 0));
	MOVES(s, store_repo_remove(s, rid));
	MOVES(s, store_grant(s, "proj", "alice", NULL, false));
	MOVES(s, store_group_member(s, "team", "alice", false));
	STAYS(s, store_user_seen(s, uid, 99));
	STAYS(s, store_token_add(&tid, s, uid, "ci", hash, "trawl_abcd", 1, 1, 2));
	STAYS(s, store_token_used(s, tid, 5));
	STAYS(s, store_session_add(s, hash, uid, "csrf", 5));
	MOVES(s, store_repo_access_forget(s, "proj"));
	MOVES(s, store_group_remove(s, "team"));
	store_close(s);
}

static void removing_a_group_takes_its_members_and_grants(void **state)
{
	struct store *s = open_fresh();
	struct store_acl acl;
	struct store_access *acc = NULL;
	int64_t uid;
	size_t n = 0;

	(void)state;
	assert_int_equal(store_user_add(&uid, s, "alice", NULL, false, NULL, 1), 0);
	assert_int_equal(store_group_add(s, "team"), 0);
	assert_int_equal(store_group_add(s, "team"), TRAWL_EINVAL);
	assert_int_equal(store_group_member(s, "team", "alice", true), 0);
	assert_int_equal(store_group_member(s, "team", "alice", true), 0); /* idempotent */
	assert_int_equal(store_grant(s, "b", NULL, "team", true), 0);
	assert_int_equal(store_grant(s, "a", NULL, "team", true), 0);
	assert_int_equal(store_grant(s, "a", "alice", NULL, true), 0);
	assert_int_equal(store_access_list(&acc, &n, s), 0);
	assert_int_equal(n, 2);
	assert_string_equal(acc[0].repo, "a");
	assert_int_equal(acc[0].n_users, 1);
	assert_int_equal(acc[0].n_groups, 1);
	store_accesses_free(acc, n);

	assert_int_equal(store_group_remove(s, "team"), 0);
	assert_int_equal(store_group_remove(s, "team"), TRAWL_ENOTFOUND);
	assert_int_equal(store_acl_load(&acl, s), 0);
	assert_int_equal(acl.n_members, 0);
	assert_int_equal(acl.n_group_grants, 0);
	assert_int_equal(acl.n_user_grants, 1);
	assert_string_equal(acl.user_grants[0].repo, "a");
	store_acl_dispose(&acl);
	store_close(s);
}

static void the_acl_snapshot_is_sorted_and_complete(void **state)
{
	struct store *s = open_fresh();
	struct store_acl acl;
	int64_t u1, u2;

	(void)state;
	assert_int_equal(store_user_add(&u1, s, "b", NULL, true, NULL, 1), 0);
	assert_int_equal(store_user_add(&u2, s, "a", NULL, false, NULL, 1), 0);
	assert_int_equal(store_group_add(s, "g"), 0);
	assert_int_equal(store_group_member(s, "g", "a", true), 0);
	assert_int_equal(store_grant(s, "r2", "a", NULL, true), 0);
	assert_int_equal(store_grant(s, "r1", "b", NULL, true), 0);
	assert_int_equal(store_grant(s, "r3", NULL, "g", true), 0);
	assert_int_equal(store_repo_public(s, "zz", true), 0);
	assert_int_equal(store_repo_public(s, "pp", true), 0);
	assert_int_equal(store_acl_load(&acl, s), 0);
	assert_int_equal(acl.n_users, 2);
	assert_true(acl.users[0].id < acl.users[1].id);
	assert_true(acl.users[0].is_admin);
	assert_int_equal(acl.n_user_grants, 2);
	assert_int_equal(acl.user_grants[0].id, u1);
	assert_string_equal(acl.user_grants[0].repo, "r1");
	assert_string_equal(acl.user_grants[1].repo, "r2");
	assert_int_equal(acl.n_members, 1);
	assert_int_equal(acl.members[0].id, u2);
	assert_string_equal(acl.group_grants[0].repo, "r3");
	assert_int_equal(acl.n_public, 2);
	assert_string_equal(acl.public_repos[0], "pp");
	assert_string_equal(acl.public_repos[1], "zz");
	store_acl_dispose(&acl);
	store_close(s);
}

static void names_are_data_not_sql(void **state)
{
	struct store *s = open_fresh();
	struct store_user u;
	int64_t id;

	(void)state;
	assert_int_equal(store_user_add(&id, s, "x'); DROP TABLE users; --", NULL, false, NULL, 1),
			 0);
	assert_int_equal(store_user_get(&u, s, "x'); DROP TABLE users; --"), 0);
	assert_int_equal(u.id, id);
	assert_null(u.password_hash);
	store_user_dispose(&u);
	assert_int_equal(store_user_add(&id, s, "x'); DROP TABLE users; --", NULL, false, NULL, 1),
			 TRAWL_EINVAL);
	assert_int_equal(store_user_get(&u, s, "nobody"), TRAWL_ENOTFOUND);
	store_close(s);
}

/* User and group names are unique without regard to case; the error names the holder. */
static void names_are_unique_without_regard_to_case(void **state)
{
	struct store *s = open_fresh();
	int64_t id;

	(void)state;
	assert_int_equal(store_user_add(&id, s, "alice", NULL, false, NULL, 1), 0);
	assert_int_equal(store_user_add(&id, s, "ALICE", NULL, false, NULL, 1), TRAWL_EINVAL);
	assert_string_equal(error_last(), "a user named \"alice\" already exists");
	assert_int_equal(store_group_add(s, "Eng"), 0);
	assert_int_equal(store_group_add(s, "eNG"), TRAWL_EINVAL);
	assert_string_equal(error_last(), "a group named \"Eng\" already exists");
	/* A user and a group may still share a name, and lookups stay exact. */
	assert_int_equal(store_group_add(s, "alice"), 0);
	assert_int_equal(store_user_add(&id, s, "bob", NULL, false, NULL, 1), 0);
	store_close(s);
}

static void audit_add(struct store *s, const char *event, int64_t ts_ms)
{
	struct store_event e = { .ts_ms = ts_ms, .event = (char *)event };

	assert_int_equal(store_audit_add(s, &e, 1), 0);
}

static int64_t audit_rows(struct store *s)
{
	int64_t n = -1;

	assert_int_equal(store_audit_rows(s, &n), 0);
	return n;
}

/* The refusals' prune, and those of the row cap's classes that are refusals. */
static const char refusals_plan[] =
	"EXPLAIN QUERY PLAN SELECT id FROM audit WHERE " STORE_AUDIT_REFUSALS
	" AND ts_ms < ?1 ORDER BY ts_ms LIMIT ?2";
static const char outsiders_plan[] =
	"EXPLAIN QUERY PLAN SELECT id FROM audit WHERE " STORE_AUDIT_REFUSALS
	" AND " STORE_AUDIT_ANONYMOUS " AND ts_ms < ?1 ORDER BY ts_ms LIMIT ?2";
static const char users_plan[] =
	"EXPLAIN QUERY PLAN SELECT id FROM audit WHERE " STORE_AUDIT_REFUSALS
	" AND NOT " STORE_AUDIT_ANONYMOUS " AND ts_ms < ?1 ORDER BY ts_ms LIMIT ?2";

/* Whether SQLite plans a prune (plan) through the refusals' partial index, not a scan. */
static bool prune_uses_the_index(const char *path, const char *plan)
{
	if (testlib_is_pg()) /* its plans are PostgreSQL's own: not checked */
		return true;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	bool is_indexed = false;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, plan, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		is_indexed = is_indexed ||
			     strstr((const char *)sqlite3_column_text(st, 3), "audit_refusals_ts");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return is_indexed;
}

/*
 * The prunes by class: failed sign-ins go with the refused requests, searches and sign-ins
 * with callers' activity, and neither takes an administrator's change.
 */
static void the_audit_prunes_keep_to_their_class(void **state)
{
	static const char *const changes[] = { "user_added", "grant", "token_created",
					       "audit_pruned" };
	struct store *s = open_fresh();
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
		audit_add(s, changes[i], 500);
	for (int i = 0; i < 6; i++) {
		audit_add(s, "sign_in_failed", 1000 + i);
		audit_add(s, i % 2 ? "search" : "token_used", 1000 + i);
	}
	audit_add(s, "unauthorized", 1003);
	audit_add(s, "sign_in", 1010);
	audit_add(s, "sign_out", 1010);
	audit_add(s, "session_expired", 1010);
	/* The four oldest refusals of either kind, in time order, then those before 1004. */
	assert_int_equal(store_audit_prune_refusals(s, INT64_MAX, 4, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(store_audit_prune_refusals(s, 1004, 100, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_audit_prune_refusals(s, INT64_MAX, 100, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(audit_rows(s), 4 + 6 + 3);
	assert_int_equal(store_audit_prune_activity(s, INT64_MAX, 100, &n), 0);
	assert_int_equal(n, 9);
	assert_int_equal(store_audit_prune_activity(s, INT64_MAX, 100, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(audit_rows(s), 4); /* the changes */
	store_close(s);
}

static void audit_add_as(struct store *s, const char *event, const char *actor, const char *target,
			 const char *detail)
{
	struct store_event e = { .ts_ms = 1000,
				 .event = (char *)event,
				 .actor = (char *)actor,
				 .target = (char *)target,
				 .detail = (char *)detail };

	assert_int_equal(store_audit_add(s, &e, 1), 0);
}

/*
 * The row cap's classes: outsiders' refusals (no actor: anonymous refusals, failed sign-ins,
 * the counts of addresses and accounts), signed-in users' refusals (and the counts of users),
 * and callers' activity, which holds what users do to their own account but not an
 * administrator's change to another's, an admin-scope token or the command line's changes.
 */
static void the_cap_classes_tell_outsiders_users_and_own_accounts_apart(void **state)
{
	struct store *s = open_fresh();
	size_t n = 0;

	(void)state;
	audit_add_as(s, "unauthorized", "", "/api/v1/repos", "{\"status\":401}");
	audit_add_as(s, "sign_in_failed", "", "alice", "{\"reason\":\"wrong_password\"}");
	audit_add_as(s, "audit_suppressed", "", "", "{\"count\":5,\"bound\":\"address\"}");
	audit_add_as(s, "audit_suppressed", "", "alice", "{\"count\":5,\"bound\":\"account\"}");
	audit_add_as(s, "not_visible", "bob", "secret", "{\"status\":404}");
	audit_add_as(s, "forbidden", "bob", "/api/v1/audit", "{\"status\":403}");
	audit_add_as(s, "audit_suppressed", "bob", "", "{\"count\":5,\"bound\":\"user\"}");
	audit_add_as(s, "audit_suppressed", "", "", "{\"count\":9,\"bound\":\"user\",\"keys\":2}");
	/* Own account: activity. */
	audit_add_as(s, "password_changed", "bob", "bob", "{}");
	audit_add_as(s, "user_display_name", "bob", "bob", "{\"display_name\":\"B\"}");
	audit_add_as(s, "token_created", "bob", "7",
		     "{\"user\":\"bob\",\"name\":\"t\",\"scope\":\"search\"}");
	audit_add_as(s, "token_revoked", "bob", "7",
		     "{\"user\":\"bob\",\"name\":\"t\",\"scope\":\"search\"}");
	/* The administrators' record. */
	audit_add_as(s, "password_changed", "admin", "bob", "{}");
	audit_add_as(s, "token_created", "admin", "8",
		     "{\"user\":\"bob\",\"name\":\"t\",\"scope\":\"search\"}");
	audit_add_as(s, "token_created", "admin", "9",
		     "{\"user\":\"admin\",\"name\":\"t\",\"scope\":\"admin\"}");
	audit_add_as(s, "token_created", "cli", "10",
		     "{\"user\":\"cli\",\"name\":\"t\",\"scope\":\"search\"}");
	audit_add_as(s, "user_admin", "admin", "admin", "{\"admin\":false}");
	/* A detail that is not JSON must neither stop a prune nor be taken for a user's. */
	raw_sql(dbpath, "INSERT INTO audit (ts_ms, event, actor, target, address, detail) "
			"VALUES (1000, 'forbidden', '', '/x', '', 'not json'), "
			"(1000, 'token_created', 'bob', '11', '', '{\"user\":')");
	assert_int_equal(audit_rows(s), 19);
	assert_int_equal(store_audit_prune_outsider_refusals(s, INT64_MAX, 100, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(store_audit_prune_activity(s, INT64_MAX, 100, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(store_audit_prune_user_refusals(s, INT64_MAX, 100, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(audit_rows(s), 6); /* the administrators' record */
	assert_int_equal(store_audit_prune_outsider_refusals(s, INT64_MAX, 100, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_audit_prune_activity(s, INT64_MAX, 100, &n), 0);
	assert_int_equal(n, 0);
	assert_true(prune_uses_the_index(dbpath, outsiders_plan));
	assert_true(prune_uses_the_index(dbpath, users_plan));
	store_close(s);
}

static void the_audit_table_counts_its_rows_and_prunes_refusals_alone(void **state)
{
	struct store *s = open_fresh();
	size_t n = 0;

	(void)state;
	assert_int_equal(audit_rows(s), 0);
	for (int i = 0; i < 10; i++) {
		audit_add(s, "search", 1000 + i);
		audit_add(s, i % 2 ? "not_visible" : "unauthorized", 1000 + i);
	}
	audit_add(s, "forbidden", 2000);
	audit_add(s, "audit_suppressed", 2000);
	audit_add(s, "audit_pruned", 2000);
	raw_sql(dbpath, "INSERT INTO audit (ts_ms, event) VALUES (3000, 'sign_in')");
	assert_int_equal(audit_rows(s), 24);
	/* Refusals only, oldest first, before the time, at most max. */
	assert_int_equal(store_audit_prune_refusals(s, 1005, 100, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(store_audit_prune_refusals(s, INT64_MAX, 3, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(audit_rows(s), 16);
	assert_int_equal(store_audit_prune_refusals(s, INT64_MAX, 100, &n), 0);
	assert_int_equal(n, 4); /* two of the 10, forbidden, audit_suppressed */
	assert_int_equal(audit_rows(s), 12);
	assert_int_equal(store_audit_prune(s, INT64_MAX, 100, &n), 0);
	assert_int_equal(n, 12);
	assert_int_equal(audit_rows(s), 0);
	assert_true(prune_uses_the_index(dbpath, refusals_plan));
	store_close(s);
}

/* Takes a database back to what schema 7 was (migration 8's columns and index gone). */
static void undo_migration_8(const char *path)
{
	/* Migrations 9's to 12's columns too: the schema goes back to before 8 as a whole. */
	raw_sql(path, "ALTER TABLE repos DROP COLUMN last_success");
	raw_sql(path, "ALTER TABLE repos DROP COLUMN sync_requested");
	raw_sql(path, "ALTER TABLE repos DROP COLUMN last_changed");
	raw_sql(path, "ALTER TABLE repos DROP COLUMN symbols");
	raw_sql(path, "ALTER TABLE repos DROP COLUMN failures");
	raw_sql(path, "ALTER TABLE repos DROP COLUMN next_attempt");
	raw_sql(path, "DROP INDEX users_link");
	raw_sql(path, "ALTER TABLE users DROP COLUMN subject");
	raw_sql(path, "ALTER TABLE users DROP COLUMN issuer");
	raw_sql(path, "ALTER TABLE users DROP COLUMN source");
	raw_sql(path, "ALTER TABLE groups DROP COLUMN source");
	raw_sql(path, "ALTER TABLE group_members DROP COLUMN source");
}

/* A table written before migration 7 is counted once when the schema moves on. */
static void migration_7_counts_an_older_table(void **state)
{
	struct store *s = open_fresh();
	int version = 0;

	(void)state;
	store_close(s);
	undo_migration_8(dbpath);
	raw_sql(dbpath, "DROP TRIGGER audit_rows_ins");
	raw_sql(dbpath, "DROP TRIGGER audit_rows_del");
	raw_sql(dbpath, "DROP TABLE audit_rows");
	raw_sql(dbpath, "DROP INDEX audit_refusals_ts");
	raw_sql(dbpath, "INSERT INTO audit (ts_ms, event) VALUES (1, 'search'), (2, 'forbidden')");
	raw_sql(dbpath, "PRAGMA user_version = 6");
	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_schema_version(s, &version), 0);
	assert_int_equal(version, STORE_SCHEMA_VERSION);
	assert_int_equal(audit_rows(s), 2);
	audit_add(s, "search", 3);
	assert_int_equal(audit_rows(s), 3);
	assert_true(prune_uses_the_index(dbpath, refusals_plan));
	store_close(s);
}

/* Whether user uid is a member of group gid in acl. */
static bool acl_has_member(const struct store_acl *acl, int64_t uid, const char *group,
			   struct store *s)
{
	struct db_stmt *st = NULL;
	int64_t gid = -1;

	assert_int_equal(prep(&st, s, "SELECT id FROM groups WHERE name = ?1"), 0);
	assert_int_equal(store_bind_text(s, st, 1, group), 0);
	if (db_step(st) == DB_ROW)
		gid = db_column_int64(st, 0);
	db_finalize(st);
	for (size_t i = 0; i < acl->n_members; i++)
		if (acl->members[i].id == uid && acl->members[i].group_id == gid)
			return true;
	return false;
}

/*
 * Migration 8: a sync adds and removes its own memberships only (an administrator's stay, even
 * when named), makes missing groups as synced ones, and every change it makes moves the
 * generation and reaches a refreshed ACL through the change log.
 */
static void a_sync_changes_only_its_own_memberships(void **state)
{
	static const char *const add[] = { "Engineering Team", "LOCAL" };
	static const char *const remove[] = { "Engineering Team", "local" };
	struct store *s = open_fresh();
	struct store_group *g = NULL;
	struct store_acl acl;
	char **names = NULL;
	size_t n = 0;
	int64_t uid;

	(void)state;
	assert_int_equal(store_user_add(&uid, s, "alice", NULL, false, NULL, 1), 0);
	assert_int_equal(store_group_add(s, "local"), 0);
	assert_int_equal(store_group_member(s, "local", "alice", true), 0);
	assert_int_equal(store_acl_load(&acl, s), 0);

	MOVES(s, store_groups_sync(s, uid, add, 2, NULL, 0));
	assert_int_equal(store_acl_refresh(&acl, s), 0);
	assert_true(acl_has_member(&acl, uid, "Engineering Team", s));
	assert_int_equal(store_user_synced_groups(&names, &n, s, uid), 0);
	assert_int_equal(n, 1); /* "LOCAL" is the administrator's group and membership */
	assert_string_equal(names[0], "Engineering Team");
	store_names_free(names, n);
	assert_int_equal(store_group_list(&g, &n, s), 0);
	assert_int_equal(n, 2);
	assert_string_equal(g[0].name, "Engineering Team");
	assert_true(g[0].is_synced);
	assert_false(g[1].is_synced);
	store_groups_free(g, n);

	MOVES(s, store_groups_sync(s, uid, NULL, 0, remove, 2));
	assert_int_equal(store_acl_refresh(&acl, s), 0);
	assert_false(acl_has_member(&acl, uid, "Engineering Team", s));
	assert_true(acl_has_member(&acl, uid, "local", s));

	/* An administrator's add makes a synced membership theirs: a sync no longer ends it. */
	assert_int_equal(store_groups_sync(s, uid, add, 1, NULL, 0), 0);
	assert_int_equal(store_group_member(s, "Engineering Team", "alice", true), 0);
	STAYS(s, store_groups_sync(s, uid, NULL, 0, remove, 1));
	assert_int_equal(store_user_synced_groups(&names, &n, s, uid), 0);
	assert_int_equal(n, 0);
	store_names_free(names, n);
	store_acl_dispose(&acl);
	store_close(s);
}

/* Migration 8 keeps every account local, with no link; a link is unique. */
static void migration_8_keeps_users_local(void **state)
{
	struct store *s = open_fresh();
	struct store_user u;
	int64_t uid;
	int version = 0;
	const struct store_external x = {
		.name = "bob", .source = "oidc", .issuer = "https://i", .subject = "1"
	};
	const struct store_external y = {
		.name = "carol", .source = "oidc", .issuer = "https://i", .subject = "1"
	};

	(void)state;
	assert_int_equal(store_user_add(&uid, s, "alice", NULL, true, "hash", 1), 0);
	store_close(s);
	undo_migration_8(dbpath);
	raw_sql(dbpath, "PRAGMA user_version = 7");
	assert_int_equal(store_open(&s, dbpath), 0);
	assert_int_equal(store_schema_version(s, &version), 0);
	assert_int_equal(version, STORE_SCHEMA_VERSION);
	assert_int_equal(store_user_get(&u, s, "alice"), 0);
	assert_string_equal(u.source, "local");
	assert_null(u.issuer);
	assert_string_equal(u.password_hash, "hash");
	store_user_dispose(&u);
	assert_int_equal(store_user_add_external(&uid, s, &x, 2), 0);
	assert_int_equal(store_user_add_external(&uid, s, &y, 2), TRAWL_EINVAL);
	assert_int_equal(store_user_find_link(&u, s, "https://i", "1"), 0);
	assert_string_equal(u.name, "bob");
	store_user_dispose(&u);
	assert_int_equal(store_user_find_link(&u, s, "https://i", "2"), TRAWL_ENOTFOUND);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_are_unique_without_regard_to_case),
		cmocka_unit_test(a_schema_3_registry_gains_the_accounts_tables),
		cmocka_unit_test(the_generation_moves_with_every_acl_change),
		cmocka_unit_test(removing_a_group_takes_its_members_and_grants),
		cmocka_unit_test(the_acl_snapshot_is_sorted_and_complete),
		cmocka_unit_test(names_are_data_not_sql),
		cmocka_unit_test(the_audit_table_counts_its_rows_and_prunes_refusals_alone),
		cmocka_unit_test(the_audit_prunes_keep_to_their_class),
		cmocka_unit_test(the_cap_classes_tell_outsiders_users_and_own_accounts_apart),
		cmocka_unit_test(migration_7_counts_an_older_table),
		cmocka_unit_test(a_sync_changes_only_its_own_memberships),
		cmocka_unit_test(migration_8_keeps_users_local),
	};

	/* The PostgreSQL pass: every test but the SQLite migrations'. */
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test(names_are_unique_without_regard_to_case),
		cmocka_unit_test(the_generation_moves_with_every_acl_change),
		cmocka_unit_test(removing_a_group_takes_its_members_and_grants),
		cmocka_unit_test(the_acl_snapshot_is_sorted_and_complete),
		cmocka_unit_test(names_are_data_not_sql),
		cmocka_unit_test(the_audit_table_counts_its_rows_and_prunes_refusals_alone),
		cmocka_unit_test(the_audit_prunes_keep_to_their_class),
		cmocka_unit_test(the_cap_classes_tell_outsiders_users_and_own_accounts_apart),
		cmocka_unit_test(a_sync_changes_only_its_own_memberships),
	};
	int failed = 0;

	if (!testlib_pg_only())
		failed = cmocka_run_group_tests_name("accounts (SQLite)", tests, testlib_setup,
						     testlib_teardown);

	if (testlib_pg_begin())
		failed += cmocka_run_group_tests_name("accounts (PostgreSQL)", pg_tests,
						      testlib_setup, testlib_teardown);
	return failed;
}
