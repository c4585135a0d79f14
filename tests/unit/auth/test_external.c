/*
 * Unit tests for src/auth/external.c against a real store, with an injected clock: a first
 * external sign-in makes a non-administrator and a session; the link (issuer, subject) finds
 * the account again under a new name; synced memberships follow the provider while an
 * administrator's stay, and readable sets follow at once; the admin group decides the flag
 * when one is configured and never otherwise; a local account of the same name is refused and
 * untouched; a disabled account is refused; a proxy's user is provisioned, remembered and
 * synced only on change; 1024 groups sync; hostile group names are refused with a reason;
 * `user link` lets a provider in deliberately.
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
#include "store/store.h"
#include "unit/auth/clock.h"
#include "unit/testlib.h"
#include "util/error.h"

#define ISS "https://idp.example.com"
#define PW_ALICE "plover-quartz-meadow-71"

static int seq;
static char data_dir[256];
static char db_path[300];

static const struct auth_origin from1 = { .address = "10.0.0.1", .user_agent = "test" };

static struct auth *open_fresh(void)
{
	struct auth_config cfg = { .clock = test_clock, .pwhash_cost = AUTH_PWHASH_TEST };
	struct auth *a = NULL;

	snprintf(data_dir, sizeof(data_dir), "%s/data%d", testlib_tmpdir(), ++seq);
	snprintf(db_path, sizeof(db_path), "%s/trawl.db", data_dir);
	testlib_fresh_db(NULL);
	if (auth_open(&a, data_dir, &cfg) < 0)
		fail_msg("auth_open %s: %s", data_dir, error_last());
	return a;
}

static struct auth_external oidc(const char *name, const char *sub, const char *const *groups,
				 size_t n_groups)
{
	return (struct auth_external){
		.source = AUTH_SOURCE_OIDC,
		.name = name,
		.issuer = ISS,
		.subject = sub,
		.groups = groups,
		.n_groups = n_groups,
		.has_groups = groups != NULL,
	};
}

static struct auth_external proxy(const char *name, const char *const *groups, size_t n_groups)
{
	return (struct auth_external){
		.source = AUTH_SOURCE_PROXY,
		.name = name,
		.groups = groups,
		.n_groups = n_groups,
		.has_groups = groups != NULL,
	};
}

static int sign_in(struct auth_principal *p, struct auth *a, const struct auth_external *id)
{
	char cookie[AUTH_SESSION_ID_LEN + 1];

	return auth_sign_in_external(p, cookie, a, id, &from1);
}

static void must_sign_in(struct auth_principal *p, struct auth *a, const struct auth_external *id)
{
	if (sign_in(p, a, id) < 0)
		fail_msg("signing in %s: %s", id->name, error_last());
}

/* The user's groups, comma-separated. */
static void groups_of(char *out, size_t cap, struct auth *a, const char *name)
{
	struct auth_user u;
	size_t len = 0;

	if (auth_user_get(&u, a, name) < 0)
		fail_msg("user %s: %s", name, error_last());
	out[0] = '\0';
	for (size_t i = 0; i < u.n_groups && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", u.groups[i]);
	auth_user_dispose(&u);
}

static void readable(char *out, size_t cap, struct auth *a, const struct auth_principal *p)
{
	const struct search_repos *s = NULL;
	size_t len = 0;

	if (auth_readable_repos(&s, a, p, false) < 0)
		fail_msg("readable: %s", error_last());
	out[0] = '\0';
	for (size_t i = 0; !s->is_all && i < s->n_names && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", s->names[i]);
	auth_repos_release(a, s);
}

static int count_events(struct auth *a, const char *event)
{
	struct auth_audit_filter f = { .event = event, .limit = 100000 };
	struct auth_event *v = NULL;
	size_t n = 0;

	assert_int_equal(auth_audit_list(&v, &n, a, &f), 0);
	auth_events_free(v, n);
	return (int)n;
}

/* The detail of the last event called event ("" when none). */
static void last_detail(char *out, size_t cap, struct auth *a, const char *event)
{
	struct auth_audit_filter f = { .event = event, .limit = 100000 };
	struct auth_event *v = NULL;
	size_t n = 0;

	assert_int_equal(auth_audit_list(&v, &n, a, &f), 0);
	snprintf(out, cap, "%s", n ? v[n - 1].detail : "");
	auth_events_free(v, n);
}

static int64_t sql_int(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v;

	if (testlib_is_pg())
		return strtoll(testlib_pg_exec(sql), NULL, 10);
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void sql_run(const char *sql)
{
	sqlite3 *db = NULL;

	if (testlib_is_pg()) {
		testlib_pg_exec(sql);
		return;
	}
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void a_first_sign_in_makes_a_user_and_a_session(void **state)
{
	struct auth *a = open_fresh();
	struct auth_external id = oidc("alice@example.com", "sub-1", NULL, 0);
	struct auth_principal p, q;
	struct auth_user u;
	char c1[AUTH_SESSION_ID_LEN + 1], c2[AUTH_SESSION_ID_LEN + 1], detail[512];
	bool has = false;

	(void)state;
	id.display_name = "Alice A.";
	assert_int_equal(auth_sign_in_external(&p, c1, a, &id, &from1), 0);
	assert_int_equal(p.kind, AUTH_SESSION);
	assert_false(p.is_admin);
	assert_int_equal(p.scopes, AUTH_SCOPE_SEARCH);
	assert_string_equal(p.name, "alice@example.com");
	assert_int_equal(strlen(p.csrf), AUTH_CSRF_LEN);
	assert_int_equal(auth_identify(&q, a, c1, NULL, &from1), 0);
	assert_int_equal(q.user_id, p.user_id);
	assert_string_equal(q.csrf, p.csrf);
	assert_int_equal(auth_has_accounts(a, &has), 0);
	assert_true(has);

	/* S2: a new session every time. */
	assert_int_equal(auth_sign_in_external(&q, c2, a, &id, &from1), 0);
	assert_string_not_equal(c1, c2);
	assert_int_equal(q.user_id, p.user_id);

	assert_int_equal(auth_user_get(&u, a, "alice@example.com"), 0);
	assert_int_equal(u.source, AUTH_SOURCE_OIDC);
	assert_string_equal(u.issuer, ISS);
	assert_string_equal(u.subject, "sub-1");
	assert_string_equal(u.display_name, "Alice A.");
	assert_false(u.is_admin);
	auth_user_dispose(&u);

	assert_int_equal(count_events(a, "user_created"), 1);
	assert_int_equal(count_events(a, "sso_sign_in"), 2);
	last_detail(detail, sizeof(detail), a, "user_created");
	assert_non_null(strstr(detail, "\"source\":\"oidc\""));
	last_detail(detail, sizeof(detail), a, "sso_sign_in");
	assert_non_null(strstr(detail, "\"subject\":\"sub-1\""));
	assert_non_null(strstr(detail, "\"created\":false"));
	assert_null(strstr(detail, c2)); /* never the session id */
	auth_close(a);
}

/* The link decides who signs in; the name follows the provider when it is free. */
static void the_link_finds_the_user_under_a_new_name(void **state)
{
	struct auth *a = open_fresh();
	struct auth_external id = oidc("alice@example.com", "sub-1", NULL, 0);
	struct auth_external other = oidc("bob@example.com", "sub-2", NULL, 0);
	struct auth_principal p, q;
	struct auth_user u;
	char detail[512];

	(void)state;
	must_sign_in(&p, a, &id);
	id.name = "alice.smith@example.com";
	must_sign_in(&q, a, &id);
	assert_int_equal(q.user_id, p.user_id);
	assert_string_equal(q.name, "alice.smith@example.com");
	assert_int_equal(auth_user_get(&u, a, "alice@example.com"), TRAWL_ENOTFOUND);
	last_detail(detail, sizeof(detail), a, "sso_sign_in");
	assert_non_null(strstr(detail, "\"renamed_from\":\"alice@example.com\""));

	/* A name another account holds is never taken: the linked user is refused instead. */
	must_sign_in(&q, a, &other);
	id.name = "bob@example.com";
	assert_int_equal(sign_in(&q, a, &id), TRAWL_EPERM);
	assert_int_equal(auth_user_get(&u, a, "bob@example.com"), 0);
	assert_string_equal(u.subject, "sub-2");
	auth_user_dispose(&u);
	auth_close(a);
}

static void synced_groups_follow_the_provider_and_local_ones_stay(void **state)
{
	static const char *const g1[] = { "Engineering Team", "ops" };
	static const char *const g2[] = { "ops", "Support" };
	struct auth *a = open_fresh();
	struct auth_external id = oidc("alice", "sub-1", g1, 2);
	struct auth_principal p;
	char set[256], detail[1024];

	(void)state;
	must_sign_in(&p, a, &id);
	groups_of(set, sizeof(set), a, "alice");
	assert_string_equal(set, "Engineering Team,ops");
	/* An IdP group (not a local name) can be granted by its exact name; the set follows. */
	assert_int_equal(auth_grant(a, NULL, "eng-repo", NULL, "Engineering Team", true), 0);
	assert_int_equal(auth_grant(a, NULL, "support-repo", NULL, "Support", true), TRAWL_ENOTFOUND);
	assert_int_equal(auth_group_add(a, NULL, "admins-made"), 0);
	assert_int_equal(auth_group_member(a, NULL, "admins-made", "alice", true), 0);
	readable(set, sizeof(set), a, &p);
	assert_string_equal(set, "eng-repo");

	id = oidc("alice", "sub-1", g2, 2);
	must_sign_in(&p, a, &id);
	groups_of(set, sizeof(set), a, "alice");
	assert_string_equal(set, "Support,admins-made,ops");
	readable(set, sizeof(set), a, &p);
	assert_string_equal(set, "");
	last_detail(detail, sizeof(detail), a, "group_sync");
	assert_non_null(strstr(detail, "\"added\":[\"Support\"]"));
	assert_non_null(strstr(detail, "\"removed\":[\"Engineering Team\"]"));
	assert_int_equal(count_events(a, "group_sync"), 2);

	/* The same groups again: nothing changes, nothing is audited. */
	must_sign_in(&p, a, &id);
	assert_int_equal(count_events(a, "group_sync"), 2);
	/* No group list at all: the synced memberships are left as they are. */
	id = oidc("alice", "sub-1", NULL, 0);
	must_sign_in(&p, a, &id);
	groups_of(set, sizeof(set), a, "alice");
	assert_string_equal(set, "Support,admins-made,ops");
	/* An empty list: every synced membership ends; the administrator's stays. */
	id = oidc("alice", "sub-1", g2, 0);
	id.has_groups = true;
	must_sign_in(&p, a, &id);
	groups_of(set, sizeof(set), a, "alice");
	assert_string_equal(set, "admins-made");
	auth_close(a);
}

/* A group the provider names in another case, or an administrator made, is that group. */
static void a_provider_group_joins_the_group_of_that_name(void **state)
{
	static const char *const g[] = { "TEAM", "team" };
	struct auth *a = open_fresh();
	struct auth_external id = oidc("alice", "sub-1", g, 2);
	struct auth_principal p;
	struct auth_group *v = NULL;
	size_t n = 0;
	char set[256];

	(void)state;
	assert_int_equal(auth_group_add(a, NULL, "team"), 0);
	assert_int_equal(auth_grant(a, NULL, "r", NULL, "team", true), 0);
	must_sign_in(&p, a, &id);
	groups_of(set, sizeof(set), a, "alice");
	assert_string_equal(set, "team");
	readable(set, sizeof(set), a, &p);
	assert_string_equal(set, "r");
	assert_int_equal(auth_group_list(&v, &n, a), 0);
	assert_int_equal(n, 1);
	assert_false(v[0].is_synced);
	auth_groups_free(v, n);
	/* The membership is the sync's: it ends with the provider's list. */
	id.n_groups = 0;
	must_sign_in(&p, a, &id);
	groups_of(set, sizeof(set), a, "alice");
	assert_string_equal(set, "");
	auth_close(a);
}

static void the_admin_group_decides_the_flag_only_when_configured(void **state)
{
	struct auth *a = open_fresh();
	struct auth_external id = oidc("alice", "sub-1", NULL, 0);
	struct auth_principal p;
	bool has = true;

	(void)state;
	/* Without an admin group a provider never makes an administrator. */
	id.is_admin = true;
	must_sign_in(&p, a, &id);
	assert_false(p.is_admin);
	assert_int_equal(auth_has_admin(a, &has), 0);
	assert_false(has);

	id.sets_admin = true;
	must_sign_in(&p, a, &id);
	assert_true(p.is_admin);
	assert_int_equal(p.scopes, AUTH_SCOPE_SEARCH | AUTH_SCOPE_ADMIN);
	assert_int_equal(count_events(a, "user_admin"), 1);

	/* Without an admin group the flag is the administrators' own: left as it is. */
	id.sets_admin = false;
	id.is_admin = false;
	must_sign_in(&p, a, &id);
	assert_true(p.is_admin);

	/* The provider is the authority, even over the last administrator. */
	id.sets_admin = true;
	must_sign_in(&p, a, &id);
	assert_false(p.is_admin);
	assert_int_equal(auth_has_admin(a, &has), 0);
	assert_false(has);
	assert_int_equal(count_events(a, "user_admin"), 2);
	auth_close(a);
}

static void a_local_account_of_that_name_is_refused_and_untouched(void **state)
{
	static const char *const g[] = { "ops" };
	struct auth *a = open_fresh();
	struct auth_external id = oidc("alice@example.com", "sub-1", g, 1);
	struct auth_principal p;
	struct auth_user u;
	unsigned retry = 0;
	char c[AUTH_SESSION_ID_LEN + 1] = "x", detail[512];

	(void)state;
	assert_int_equal(auth_user_add(a, NULL, "alice@example.com", NULL, false, PW_ALICE,
				       strlen(PW_ALICE)),
			 0);
	id.sets_admin = true;
	id.is_admin = true;
	assert_int_equal(auth_sign_in_external(&p, c, a, &id, &from1), TRAWL_EPERM);
	/* The message names no command an administrator could paste to hand the account over. */
	assert_non_null(strstr(error_last(), "verifying that the identity is the same person"));
	assert_null(strstr(error_last(), "trawl user link"));
	assert_null(strstr(error_last(), "sub-1"));
	assert_string_equal(c, "");
	assert_int_equal(p.user_id, 0);
	/* In another case too. */
	id.name = "Alice@Example.com";
	assert_int_equal(sign_in(&p, a, &id), TRAWL_EPERM);
	/* A proxy may not take it either. */
	id = proxy("alice@example.com", g, 1);
	assert_int_equal(auth_identify_proxy(&p, a, &id, &from1), TRAWL_EPERM);
	assert_int_equal(auth_user_get(&u, a, "alice@example.com"), 0);
	assert_int_equal(u.source, AUTH_SOURCE_LOCAL);
	assert_false(u.is_admin);
	assert_int_equal(u.n_groups, 0);
	assert_null(u.issuer);
	auth_user_dispose(&u);
	assert_int_equal(auth_sign_in(&p, c, &retry, a, "alice@example.com", PW_ALICE,
				      strlen(PW_ALICE), &from1),
			 0);
	assert_int_equal(count_events(a, "sso_refused"), 3);
	last_detail(detail, sizeof(detail), a, "sso_refused");
	assert_non_null(strstr(detail, "\"reason\":\"name_taken\""));

	/* Linked deliberately, the provider signs in as it; its password is gone. */
	assert_int_equal(auth_user_link(a, NULL, "alice@example.com", AUTH_SOURCE_OIDC, ISS, "sub-1"),
			 0);
	id = oidc("alice@example.com", "sub-1", g, 1);
	must_sign_in(&p, a, &id);
	assert_int_equal(auth_sign_in(&p, c, &retry, a, "alice@example.com", PW_ALICE,
				      strlen(PW_ALICE), &from1),
			 TRAWL_EAUTH);
	/* A second account may not take the same link. */
	assert_int_equal(auth_user_add(a, NULL, "bob", NULL, false, PW_ALICE, strlen(PW_ALICE)), 0);
	assert_int_equal(auth_user_link(a, NULL, "bob", AUTH_SOURCE_OIDC, ISS, "sub-1"),
			 TRAWL_EINVAL);
	auth_close(a);
}

static void a_disabled_user_is_refused(void **state)
{
	struct auth *a = open_fresh();
	struct auth_external id = oidc("alice", "sub-1", NULL, 0);
	struct auth_external px = proxy("bob", NULL, 0);
	struct auth_principal p;

	(void)state;
	must_sign_in(&p, a, &id);
	assert_int_equal(auth_identify_proxy(&p, a, &px, &from1), 0);
	assert_int_equal(auth_user_set_disabled(a, NULL, "alice", true), 0);
	assert_int_equal(auth_user_set_disabled(a, NULL, "bob", true), 0);
	assert_int_equal(sign_in(&p, a, &id), TRAWL_EAUTH);
	assert_int_equal(p.user_id, 0);
	/* The proxy's remembered user is checked again once the account changed. */
	assert_int_equal(auth_identify_proxy(&p, a, &px, &from1), TRAWL_EAUTH);
	assert_int_equal(count_events(a, "sso_refused"), 2);
	auth_close(a);
}

static void a_proxy_user_is_provisioned_remembered_and_synced_on_change(void **state)
{
	static const char *const g1[] = { "devs" };
	static const char *const g2[] = { "devs", "ops" };
	struct auth *a = open_fresh();
	struct auth_external id = proxy("carol", g1, 1);
	struct auth_principal p;
	struct auth_user u;
	int64_t gen;
	char set[256];

	(void)state;
	id.display_name = "Carol";
	assert_int_equal(auth_identify_proxy(&p, a, &id, &from1), 0);
	assert_int_equal(p.kind, AUTH_PROXY);
	assert_int_equal(p.scopes, AUTH_SCOPE_SEARCH);
	assert_string_equal(p.csrf, "");
	assert_int_equal(auth_user_get(&u, a, "carol"), 0);
	assert_int_equal(u.source, AUTH_SOURCE_PROXY);
	auth_user_dispose(&u);
	assert_int_equal(auth_grant(a, NULL, "dev-repo", NULL, "devs", true), 0);
	readable(set, sizeof(set), a, &p);
	assert_string_equal(set, "dev-repo");

	/* A steady stream of the same claims writes nothing. */
	assert_int_equal(auth_identify_proxy(&p, a, &id, &from1), 0);
	gen = sql_int("SELECT value FROM acl_generation");
	for (int i = 0; i < 50; i++)
		assert_int_equal(auth_identify_proxy(&p, a, &id, &from1), 0);
	assert_int_equal(sql_int("SELECT value FROM acl_generation"), gen);
	assert_int_equal(count_events(a, "group_sync"), 1);

	/* Remembered: a change no ACL generation sees is not looked at again ... */
	sql_run("UPDATE users SET display_name = 'changed behind its back'");
	assert_int_equal(auth_identify_proxy(&p, a, &id, &from1), 0);
	assert_int_equal(auth_user_get(&u, a, "carol"), 0);
	assert_string_equal(u.display_name, "changed behind its back");
	auth_user_dispose(&u);
	/* ... until the ACL moves: then it is checked, and the proxy's claims hold again. */
	assert_int_equal(auth_grant(a, NULL, "x", NULL, "devs", true), 0);
	assert_int_equal(auth_identify_proxy(&p, a, &id, &from1), 0);
	assert_int_equal(auth_user_get(&u, a, "carol"), 0);
	assert_string_equal(u.display_name, "Carol");
	auth_user_dispose(&u);

	/* Other claims: synced at once. */
	id = proxy("carol", g2, 2);
	id.sets_admin = true;
	id.is_admin = true;
	assert_int_equal(auth_identify_proxy(&p, a, &id, &from1), 0);
	assert_true(p.is_admin);
	assert_int_equal(p.scopes, AUTH_SCOPE_SEARCH | AUTH_SCOPE_ADMIN);
	groups_of(set, sizeof(set), a, "carol");
	assert_string_equal(set, "devs,ops");
	assert_int_equal(count_events(a, "group_sync"), 2);
	/* An OIDC sign-in may not take the proxy's user by name. */
	struct auth_external o = oidc("carol", "sub-9", NULL, 0);
	assert_int_equal(sign_in(&p, a, &o), TRAWL_EPERM);
	auth_close(a);
}

static void a_thousand_groups_sync(void **state)
{
	struct auth *a = open_fresh();
	const char **g = calloc(AUTH_GROUPS_MAX + 1, sizeof(*g));
	char(*names)[40] = calloc(AUTH_GROUPS_MAX + 1, sizeof(*names));
	struct auth_external id;
	struct auth_principal p;
	struct auth_user u;

	(void)state;
	assert_non_null(g);
	assert_non_null(names);
	for (size_t i = 0; i <= AUTH_GROUPS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "Group %04zu of the company", i);
		g[i] = names[i];
	}
	id = oidc("alice", "sub-1", g, AUTH_GROUPS_MAX);
	must_sign_in(&p, a, &id);
	assert_int_equal(auth_user_get(&u, a, "alice"), 0);
	assert_int_equal(u.n_groups, AUTH_GROUPS_MAX);
	auth_user_dispose(&u);
	/* One more than the bound is refused, and nothing changes. */
	id.n_groups = AUTH_GROUPS_MAX + 1;
	assert_int_equal(sign_in(&p, a, &id), TRAWL_EINVAL);
	/* Half of them go: each sign-in replaces the list. */
	id = oidc("alice", "sub-1", g + AUTH_GROUPS_MAX / 2, AUTH_GROUPS_MAX / 2);
	must_sign_in(&p, a, &id);
	assert_int_equal(auth_user_get(&u, a, "alice"), 0);
	assert_int_equal(u.n_groups, AUTH_GROUPS_MAX / 2);
	assert_string_equal(u.groups[0], "Group 0512 of the company");
	auth_user_dispose(&u);
	free(g);
	free(names);
	auth_close(a);
}

static void hostile_group_names_are_refused_with_a_reason(void **state)
{
	struct auth *a = open_fresh();
	char longest[AUTH_GROUP_NAME_MAX + 2];
	const char *g[1];
	struct auth_external id;
	struct auth_principal p;
	struct auth_user u;
	char detail[512];

	(void)state;
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	assert_int_equal(auth_group_name_check(longest), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "1 to 256 bytes"));
	longest[AUTH_GROUP_NAME_MAX] = '\0';
	assert_int_equal(auth_group_name_check(longest), 0);
	assert_int_equal(auth_group_name_check("Engineering Team"), 0);
	assert_int_equal(auth_group_name_check("Ingénierie"), 0);
	assert_int_equal(auth_group_name_check("3f2c9e1a-7b4d-4e8f-9a6b-0c1d2e3f4a5b"), 0);
	assert_int_equal(auth_group_name_check(""), TRAWL_EINVAL);
	assert_int_equal(auth_group_name_check("evil\nforged line"), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "control or invisible"));
	assert_int_equal(auth_group_name_check("tab\there"), TRAWL_EINVAL);
	assert_int_equal(auth_group_name_check("esc\x1b[31m"), TRAWL_EINVAL);
	assert_int_equal(auth_group_name_check("c1\xc2\x85"), TRAWL_EINVAL);
	assert_int_equal(auth_group_name_check("rtl\xe2\x80\xaeoverride"), TRAWL_EINVAL);
	assert_int_equal(auth_group_name_check("bad\xff utf8"), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "UTF-8"));

	g[0] = "evil\nforged line";
	id = oidc("alice", "sub-1", g, 1);
	assert_int_equal(sign_in(&p, a, &id), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "group 1"));
	assert_int_equal(auth_user_get(&u, a, "alice"), TRAWL_ENOTFOUND);
	last_detail(detail, sizeof(detail), a, "sso_refused");
	assert_non_null(strstr(detail, "\"reason\":\"invalid\""));
	/* A bad user name or link is refused too. */
	id = oidc("not a name", "sub-1", NULL, 0);
	assert_int_equal(sign_in(&p, a, &id), TRAWL_EINVAL);
	id = oidc("alice", "sub\n1", NULL, 0);
	assert_int_equal(sign_in(&p, a, &id), TRAWL_EINVAL);
	id = oidc("alice", NULL, NULL, 0);
	assert_int_equal(sign_in(&p, a, &id), TRAWL_EINVAL);
	id = proxy("alice", NULL, 0);
	id.issuer = ISS;
	assert_int_equal(sign_in(&p, a, &id), TRAWL_EINVAL);
	auth_close(a);
}

/* A hostile display name is dropped, not stored. */
static void an_unshowable_display_name_is_not_kept(void **state)
{
	struct auth *a = open_fresh();
	struct auth_external id = oidc("alice", "sub-1", NULL, 0);
	struct auth_principal p;
	struct auth_user u;

	(void)state;
	id.display_name = "Alice\x1b[2J";
	must_sign_in(&p, a, &id);
	assert_int_equal(auth_user_get(&u, a, "alice"), 0);
	assert_string_equal(u.display_name, "");
	auth_user_dispose(&u);
	auth_close(a);
}

/* Migration 8: accounts made before it are local, with no link. */
static void existing_users_stay_local_after_migration_8(void **state)
{
	struct auth *a = open_fresh();
	struct auth_user u;

	(void)state;
	assert_int_equal(auth_user_add(a, NULL, "old", NULL, true, PW_ALICE, strlen(PW_ALICE)), 0);
	assert_int_equal(auth_group_add(a, NULL, "team"), 0);
	assert_int_equal(auth_group_member(a, NULL, "team", "old", true), 0);
	auth_close(a);
	sql_run("ALTER TABLE repos DROP COLUMN last_success;" /* schema 12's */
		"ALTER TABLE repos DROP COLUMN sync_requested;"
		"ALTER TABLE repos DROP COLUMN last_changed;" /* schema 11's */
		"ALTER TABLE repos DROP COLUMN symbols;"      /* schema 10's */
		"ALTER TABLE repos DROP COLUMN failures;"
		"ALTER TABLE repos DROP COLUMN next_attempt;"
		"DROP INDEX users_link;"
		"ALTER TABLE users DROP COLUMN subject;"
		"ALTER TABLE users DROP COLUMN issuer;"
		"ALTER TABLE users DROP COLUMN source;"
		"ALTER TABLE groups DROP COLUMN source;"
		"ALTER TABLE group_members DROP COLUMN source;"
		"PRAGMA user_version = 7;");
	{
		struct auth_config cfg = { .clock = test_clock, .pwhash_cost = AUTH_PWHASH_TEST };

		assert_int_equal(auth_open(&a, data_dir, &cfg), 0);
	}
	assert_int_equal(sql_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(auth_user_get(&u, a, "old"), 0);
	assert_int_equal(u.source, AUTH_SOURCE_LOCAL);
	assert_null(u.issuer);
	assert_true(u.is_admin);
	assert_int_equal(u.n_groups, 1);
	auth_user_dispose(&u);
	assert_int_equal(sql_int("SELECT count(*) FROM group_members WHERE source = 'local'"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM groups WHERE source = 'local'"), 1);
	auth_close(a);
}

static struct auth *open_with(struct auth_config cfg)
{
	struct auth *a = NULL;

	cfg.clock = test_clock;
	cfg.pwhash_cost = AUTH_PWHASH_TEST;
	snprintf(data_dir, sizeof(data_dir), "%s/data%d", testlib_tmpdir(), ++seq);
	snprintf(db_path, sizeof(db_path), "%s/trawl.db", data_dir);
	testlib_fresh_db(NULL);
	if (auth_open(&a, data_dir, &cfg) < 0)
		fail_msg("auth_open %s: %s", data_dir, error_last());
	return a;
}

/* A token for user made by themself through the server, expiring after days (0: default). */
static int token_for(struct auth_token *t, struct auth *a, const char *user, int64_t days)
{
	const struct auth_actor by = { .name = user, .address = "10.0.0.1" };
	char secret[AUTH_TOKEN_LEN + 1];

	return auth_token_create(t, secret, a, &by, user, "t", AUTH_SCOPE_SEARCH,
				 days * 24 * 60 * 60);
}

static void an_external_users_tokens_are_bounded(void **state)
{
	const struct auth_config cfg = { .external_token_max_s = (int64_t)3 * 24 * 60 * 60 };
	struct auth *a = open_with(cfg);
	struct auth_external id = oidc("alice", "sub-1", NULL, 0);
	struct auth_principal p;
	struct auth_token t;
	char secret[AUTH_TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(auth_user_add(a, NULL, "root", NULL, true, PW_ALICE, strlen(PW_ALICE)), 0);
	must_sign_in(&p, a, &id);
	assert_int_equal(token_for(&t, a, "alice", 90), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "--external-token-max-age"));
	assert_non_null(strstr(error_last(), "3 days"));
	assert_int_equal(token_for(&t, a, "alice", 3), 0);
	assert_int_equal(t.expires_ms - t.created_ms, 3LL * 24 * 60 * 60 * 1000);
	/* No expiry asked: the bound, not the 90 days' default. */
	assert_int_equal(token_for(&t, a, "alice", 0), 0);
	assert_int_equal(t.expires_ms - t.created_ms, 3LL * 24 * 60 * 60 * 1000);
	/* A proxy user is bound alike. */
	id = proxy("bob", NULL, 0);
	assert_int_equal(auth_identify_proxy(&p, a, &id, &from1), 0);
	assert_int_equal(token_for(&t, a, "bob", 4), TRAWL_EINVAL);
	/* A local user's is not; nor is the operator's command line (no actor). */
	assert_int_equal(token_for(&t, a, "root", 90), 0);
	assert_int_equal(auth_token_create(&t, secret, a, NULL, "alice", "cli", AUTH_SCOPE_SEARCH,
					   90LL * 24 * 60 * 60),
			 0);
	auth_close(a);
}

static void external_tokens_can_be_forbidden_and_default_to_a_week(void **state)
{
	struct auth_config cfg = { .external_token_max_s = AUTH_EXTERNAL_TOKENS_OFF };
	struct auth *a = open_with(cfg);
	struct auth_external id = oidc("alice", "sub-1", NULL, 0);
	struct auth_principal p;
	struct auth_token t;

	(void)state;
	must_sign_in(&p, a, &id);
	assert_int_equal(token_for(&t, a, "alice", 1), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "--external-token-max-age 0"));
	auth_close(a);
	cfg.external_token_max_s = 0;
	a = open_with(cfg);
	must_sign_in(&p, a, &id);
	assert_int_equal(token_for(&t, a, "alice", 8), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "7 days"));
	assert_int_equal(token_for(&t, a, "alice", 7), 0);
	auth_close(a);
}

static int64_t groups_named(const char *name)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM groups WHERE name = '%s'", name);
	return sql_int(sql);
}

static void an_empty_synced_group_without_grants_is_deleted(void **state)
{
	static const char *const first[] = { "tmp-1", "kept-by-grant", "team", "shared" };
	static const char *const none[] = { "other" };
	struct auth *a = open_fresh();
	struct auth_external id = oidc("alice", "sub-1", first, 4);
	struct auth_external bob = oidc("bob", "sub-2", first + 3, 1);
	struct auth_principal p;

	(void)state;
	assert_int_equal(auth_group_add(a, NULL, "team"), 0);
	must_sign_in(&p, a, &id);
	must_sign_in(&p, a, &bob);
	assert_int_equal(auth_grant(a, NULL, "r", NULL, "kept-by-grant", true), 0);
	id.groups = none;
	id.n_groups = 1;
	must_sign_in(&p, a, &id);
	/* Made by the sync and left empty: gone. */
	assert_int_equal(groups_named("tmp-1"), 0);
	/* A grant keeps it; a hand-made group stays; another member keeps it. */
	assert_int_equal(groups_named("kept-by-grant"), 1);
	assert_int_equal(groups_named("team"), 1);
	assert_int_equal(groups_named("shared"), 1);
	bob.n_groups = 0;
	must_sign_in(&p, a, &bob);
	assert_int_equal(groups_named("shared"), 0);
	/* Many passing names leave only the last sign-in's. */
	for (int i = 0; i < 20; i++) {
		char name[32];
		const char *g[1] = { name };

		snprintf(name, sizeof(name), "random-%d", i);
		id.groups = g;
		must_sign_in(&p, a, &id);
	}
	assert_int_equal(sql_int("SELECT count(*) FROM groups WHERE name LIKE 'random-%'"), 1);
	auth_close(a);
}

static void group_names_with_blanks_at_either_end_are_refused(void **state)
{
	static const char *const bad[] = { " eng", "eng ",
					   "\xc2\xa0"
					   "eng",
					   "eng\xe3\x80\x80" };
	struct auth *a = open_fresh();
	struct auth_principal p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *g[1] = { bad[i] };
		struct auth_external id = oidc("alice", "sub-1", g, 1);

		assert_int_equal(auth_group_name_check(bad[i]), TRAWL_EINVAL);
		assert_int_equal(sign_in(&p, a, &id), TRAWL_EINVAL);
		assert_non_null(strstr(error_last(), "blank"));
	}
	assert_int_equal(auth_group_name_check("Engineering Team"), 0);
	assert_int_equal(auth_group_name_check("Ingénierie"), 0);
	auth_close(a);
}

static void a_groups_prefix_keeps_synced_groups_apart(void **state)
{
	static const char *const g[] = { "team", "Admins" };
	const struct auth_config cfg = { .groups_prefix = "idp:" };
	struct auth *a = open_with(cfg);
	struct auth_external id = oidc("alice", "sub-1", g, 2);
	struct auth_principal p;
	char set[256], longest[AUTH_GROUP_NAME_MAX + 1];
	const char *lg[1] = { longest };

	(void)state;
	assert_int_equal(auth_group_add(a, NULL, "team"), 0);
	assert_int_equal(auth_grant(a, NULL, "r", NULL, "team", true), 0);
	must_sign_in(&p, a, &id);
	groups_of(set, sizeof(set), a, "alice");
	assert_string_equal(set, "idp:Admins,idp:team");
	readable(set, sizeof(set), a, &p);
	assert_string_equal(set, "");
	/* The proxy's groups take the prefix too. */
	id = proxy("bob", g, 1);
	assert_int_equal(auth_identify_proxy(&p, a, &id, &from1), 0);
	groups_of(set, sizeof(set), a, "bob");
	assert_string_equal(set, "idp:team");
	/* A name too long once prefixed is refused. */
	memset(longest, 'x', AUTH_GROUP_NAME_MAX);
	longest[AUTH_GROUP_NAME_MAX] = '\0';
	id = oidc("alice", "sub-1", lg, 1);
	assert_int_equal(sign_in(&p, a, &id), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "prefix"));
	assert_int_equal(auth_groups_prefix_check("idp:"), 0);
	assert_int_equal(auth_groups_prefix_check(""), TRAWL_EINVAL);
	assert_int_equal(auth_groups_prefix_check(" x"), TRAWL_EINVAL);
	assert_int_equal(auth_groups_prefix_check("\xc3\xa9-"), TRAWL_EINVAL);
	auth_close(a);
}

static void the_user_agent_is_cut_in_the_sign_in_event(void **state)
{
	struct auth *a = open_fresh();
	struct auth_external id = oidc("alice", "sub-1", NULL, 0);
	struct auth_origin from = { .address = "10.0.0.1" };
	char cookie[AUTH_SESSION_ID_LEN + 1], detail[2048];
	static char ua[60000];
	struct auth_principal p;

	(void)state;
	memset(ua, 'u', sizeof(ua) - 1);
	/* A two-byte character across the 256th byte is not split. */
	ua[255] = '\xc3';
	ua[256] = '\xa9';
	from.user_agent = ua;
	assert_int_equal(auth_sign_in_external(&p, cookie, a, &id, &from), 0);
	last_detail(detail, sizeof(detail), a, "sso_sign_in");
	assert_true(strlen(detail) < 600);
	assert_non_null(strstr(detail, "\"user_agent\":\""));
	assert_null(strstr(detail, "\xc3"));
	auth_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_first_sign_in_makes_a_user_and_a_session),
		cmocka_unit_test(the_link_finds_the_user_under_a_new_name),
		cmocka_unit_test(synced_groups_follow_the_provider_and_local_ones_stay),
		cmocka_unit_test(a_provider_group_joins_the_group_of_that_name),
		cmocka_unit_test(the_admin_group_decides_the_flag_only_when_configured),
		cmocka_unit_test(a_local_account_of_that_name_is_refused_and_untouched),
		cmocka_unit_test(a_disabled_user_is_refused),
		cmocka_unit_test(a_proxy_user_is_provisioned_remembered_and_synced_on_change),
		cmocka_unit_test(a_thousand_groups_sync),
		cmocka_unit_test(hostile_group_names_are_refused_with_a_reason),
		cmocka_unit_test(an_unshowable_display_name_is_not_kept),
		cmocka_unit_test(existing_users_stay_local_after_migration_8),
		cmocka_unit_test(an_external_users_tokens_are_bounded),
		cmocka_unit_test(external_tokens_can_be_forbidden_and_default_to_a_week),
		cmocka_unit_test(an_empty_synced_group_without_grants_is_deleted),
		cmocka_unit_test(group_names_with_blanks_at_either_end_are_refused),
		cmocka_unit_test(a_groups_prefix_keeps_synced_groups_apart),
		cmocka_unit_test(the_user_agent_is_cut_in_the_sign_in_event),
	};

	/* SQLite only: these reach the file, its locks or its migrations directly. */
	static const char *const pg_skip[] = {
		"existing_users_stay_local_after_migration_8",
		NULL,
	};
	const size_t n = sizeof(tests) / sizeof(tests[0]);
	struct CMUnitTest pg_tests[sizeof(tests) / sizeof(tests[0])];
	int failed = 0;

	if (!testlib_pg_only())
		failed = cmocka_run_group_tests_name("external (SQLite)", tests, testlib_setup,
						     testlib_teardown);

	if (testlib_pg_begin())
		failed += _cmocka_run_group_tests("external (PostgreSQL)", pg_tests,
						  testlib_pg_tests(pg_tests, tests, n, pg_skip),
						  testlib_setup, testlib_teardown);
	return failed;
}
