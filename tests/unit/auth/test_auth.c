/*
 * Unit tests for src/auth (auth.c, manage.c, readable.c, audit.c) against a real store in a
 * temporary data directory, with an injected clock and the test password cost: laptop and
 * team mode, sessions (S2, S4, S5, S6), password changes (A5), sign-in throttling (A6) and
 * uniform failures (A8), API tokens (A9), readable sets (Z1-Z4) and failing closed (Z5), the
 * last administrator, no secret in storage or the audit trail (L2), one line per event (L3),
 * and a backup that restores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "unit/auth/clock.h"
#include "unit/testlib.h"
#include "util/error.h"

#define PW_ALICE "plover-quartz-meadow-71"
#define PW_BOB "tangerine-vortex-sleet-42"
#define PW_ROOT "granite-oboe-lantern-93"
#define PW_NEW "saffron-glacier-piano-08"

static int seq;
static char data_dir[256];

static const struct auth_origin from1 = { .address = "10.0.0.1", .user_agent = "test" };
static const struct auth_origin from2 = { .address = "10.0.0.2", .user_agent = NULL };

static struct auth *open_at(const char *dir)
{
	struct auth_config cfg = {
		.clock = test_clock,
		.pwhash_cost = AUTH_PWHASH_TEST,
	};
	struct auth *a = NULL;

	if (auth_open(&a, dir, &cfg) < 0)
		fail_msg("auth_open %s: %s", dir, error_last());
	return a;
}

/* A new data directory and its accounts. */
static struct auth *open_fresh(void)
{
	snprintf(data_dir, sizeof(data_dir), "%s/data%d", testlib_tmpdir(), ++seq);
	testlib_fresh_db(NULL);
	return open_at(data_dir);
}

static void add_user(struct auth *a, const char *name, bool is_admin, const char *pw)
{
	if (auth_user_add(a, NULL, name, NULL, is_admin, pw, strlen(pw)) < 0)
		fail_msg("adding %s: %s", name, error_last());
}

static void sign_in(struct auth_principal *p, char cookie[AUTH_SESSION_ID_LEN + 1], struct auth *a,
		    const char *user, const char *pw)
{
	unsigned retry = 0;

	if (auth_sign_in(p, cookie, &retry, a, user, pw, strlen(pw), &from1) < 0)
		fail_msg("signing in %s: %s", user, error_last());
}

static int sign_in_code(struct auth *a, const char *user, const char *pw,
			const struct auth_origin *from, unsigned *retry)
{
	struct auth_principal p;
	char cookie[AUTH_SESSION_ID_LEN + 1];

	return auth_sign_in(&p, cookie, retry, a, user, pw, strlen(pw), from);
}

static int identify_cookie(struct auth *a, const char *cookie)
{
	struct auth_principal p;

	return auth_identify(&p, a, cookie, NULL, &from1);
}

static int identify_token(struct auth_principal *p, struct auth *a, const char *token)
{
	char header[128];

	snprintf(header, sizeof(header), "Bearer %s", token);
	return auth_identify(p, a, NULL, header, &from1);
}

static void new_token(char secret[AUTH_TOKEN_LEN + 1], struct auth *a, const char *user,
		      unsigned scope)
{
	struct auth_token t;

	if (auth_token_create(&t, secret, a, NULL, user, "ci", scope, 0) < 0)
		fail_msg("token for %s: %s", user, error_last());
}

static bool set_has(const struct search_repos *s, const char *name)
{
	return search_repos_has(s, name);
}

/* The readable set of p as a comma-separated list ("*" for every repository). */
static void readable(char *out, size_t cap, struct auth *a, const struct auth_principal *p,
		     bool allow_anonymous)
{
	const struct search_repos *s = NULL;
	size_t len = 0;

	if (auth_readable_repos(&s, a, p, allow_anonymous) < 0)
		fail_msg("readable: %s", error_last());
	out[0] = '\0';
	if (s->is_all)
		snprintf(out, cap, "*");
	for (size_t i = 0; !s->is_all && i < s->n_names && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", s->names[i]);
	auth_repos_release(a, s);
}

static void laptop_mode_is_local_until_an_account_exists(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal p;
	bool has = true;
	char set[256];

	(void)state;
	assert_int_equal(auth_has_accounts(a, &has), 0);
	assert_false(has);
	assert_int_equal(auth_identify(&p, a, NULL, NULL, &from1), 0);
	assert_int_equal(p.kind, AUTH_LOCAL);
	assert_int_equal(p.scopes, AUTH_SCOPE_SEARCH | AUTH_SCOPE_ADMIN);
	readable(set, sizeof(set), a, &p, false);
	assert_string_equal(set, "*");

	add_user(a, "alice", false, PW_ALICE);
	assert_int_equal(auth_has_accounts(a, &has), 0);
	assert_true(has);
	assert_int_equal(auth_has_admin(a, &has), 0);
	assert_false(has);
	assert_int_equal(auth_identify(&p, a, NULL, NULL, &from1), 0);
	assert_int_equal(p.kind, AUTH_ANONYMOUS);
	assert_int_equal(p.scopes, 0);
	auth_close(a);
}

/* S1, S2: every sign-in makes a new random id; a value the client chose never becomes one. */
static void sign_in_makes_a_new_session_every_time(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal p, q;
	char c1[AUTH_SESSION_ID_LEN + 1], c2[AUTH_SESSION_ID_LEN + 1];
	const char *planted = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	assert_int_equal(identify_cookie(a, planted), TRAWL_EAUTH);
	sign_in(&p, c1, a, "alice", PW_ALICE);
	sign_in(&q, c2, a, "alice", PW_ALICE);
	assert_int_equal(strlen(c1), AUTH_SESSION_ID_LEN);
	assert_string_not_equal(c1, c2);
	assert_string_not_equal(c1, planted);
	assert_string_not_equal(p.csrf, q.csrf);
	assert_int_equal(identify_cookie(a, planted), TRAWL_EAUTH);
	assert_int_equal(auth_identify(&q, a, c1, NULL, &from1), 0);
	assert_int_equal(q.kind, AUTH_SESSION);
	assert_string_equal(q.name, "alice");
	assert_string_equal(q.csrf, p.csrf);
	assert_int_equal(q.scopes, AUTH_SCOPE_SEARCH);
	assert_int_equal(identify_cookie(a, "not a session"), TRAWL_EAUTH);
	auth_close(a);
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

/* S4: the idle and the absolute limits, on the injected clock. */
static void sessions_expire_when_idle_and_at_their_absolute_limit(void **state)
{
	const int64_t step_s = (int64_t)20 * 60; /* active well within the idle limit */
	struct auth *a = open_fresh();
	struct auth_principal p;
	char c[AUTH_SESSION_ID_LEN + 1];

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	sign_in(&p, c, a, "alice", PW_ALICE);
	now_ms += ((int64_t)AUTH_SESSION_IDLE_S - 60) * 1000;
	assert_int_equal(identify_cookie(a, c), 0);
	now_ms += ((int64_t)AUTH_SESSION_IDLE_S + 1) * 1000;
	assert_int_equal(identify_cookie(a, c), TRAWL_EAUTH);
	assert_int_equal(count_events(a, "session_expired"), 1);
	assert_int_equal(identify_cookie(a, c), TRAWL_EAUTH); /* deleted, not just refused */

	sign_in(&p, c, a, "alice", PW_ALICE);
	for (int64_t t = 0; t < (int64_t)AUTH_SESSION_ABSOLUTE_S; t += step_s) {
		assert_int_equal(identify_cookie(a, c), 0);
		now_ms += step_s * 1000;
	}
	now_ms += 1000;
	assert_int_equal(identify_cookie(a, c), TRAWL_EAUTH);
	auth_close(a);
}

/* S5: sign-out ends every session of the user on the server. */
static void sign_out_ends_every_session(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal p, q;
	char c1[AUTH_SESSION_ID_LEN + 1], c2[AUTH_SESSION_ID_LEN + 1];

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	sign_in(&p, c1, a, "alice", PW_ALICE);
	sign_in(&q, c2, a, "alice", PW_ALICE);
	assert_int_equal(auth_sign_out(a, &p, &from1), 0);
	assert_int_equal(identify_cookie(a, c1), TRAWL_EAUTH);
	assert_int_equal(identify_cookie(a, c2), TRAWL_EAUTH);
	assert_int_equal(count_events(a, "sign_out"), 1);
	auth_close(a);
}

/* S6: disabling ends sessions and tokens at once, and enabling does not bring them back. */
static void disabling_a_user_ends_sessions_and_tokens(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal p;
	char c[AUTH_SESSION_ID_LEN + 1], tok[AUTH_TOKEN_LEN + 1];

	(void)state;
	add_user(a, "root", true, PW_ROOT);
	add_user(a, "alice", false, PW_ALICE);
	sign_in(&p, c, a, "alice", PW_ALICE);
	new_token(tok, a, "alice", AUTH_SCOPE_SEARCH);
	assert_int_equal(identify_token(&p, a, tok), 0);
	assert_int_equal(auth_user_set_disabled(a, NULL, "alice", true), 0);
	assert_int_equal(identify_cookie(a, c), TRAWL_EAUTH);
	assert_int_equal(identify_token(&p, a, tok), TRAWL_EAUTH);
	assert_int_equal(auth_user_set_disabled(a, NULL, "alice", false), 0);
	assert_int_equal(identify_cookie(a, c), TRAWL_EAUTH);
	assert_int_equal(identify_token(&p, a, tok), TRAWL_EAUTH);
	assert_int_equal(auth_user_set_disabled(a, NULL, "nobody", true), TRAWL_ENOTFOUND);
	auth_close(a);
}

/* A5: changing one's password needs the current one, and ends sessions and tokens. */
static void a_password_change_needs_the_current_one_and_ends_credentials(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal p;
	char c[AUTH_SESSION_ID_LEN + 1], tok[AUTH_TOKEN_LEN + 1];
	unsigned retry;

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	sign_in(&p, c, a, "alice", PW_ALICE);
	new_token(tok, a, "alice", AUTH_SCOPE_SEARCH);
	assert_int_equal(auth_user_set_password(a, NULL, "alice", PW_BOB, strlen(PW_BOB), PW_NEW,
						strlen(PW_NEW)),
			 TRAWL_EAUTH);
	assert_string_equal(error_last(), "the current password is wrong");
	assert_int_equal(identify_cookie(a, c), 0);
	assert_int_equal(auth_user_set_password(a, NULL, "alice", PW_ALICE, strlen(PW_ALICE), "short",
						5),
			 TRAWL_EINVAL);
	assert_int_equal(auth_user_set_password(a, NULL, "alice", PW_ALICE, strlen(PW_ALICE), PW_NEW,
						strlen(PW_NEW)),
			 0);
	assert_int_equal(identify_cookie(a, c), TRAWL_EAUTH);
	assert_int_equal(identify_token(&p, a, tok), TRAWL_EAUTH);
	assert_int_equal(sign_in_code(a, "alice", PW_ALICE, &from1, &retry), TRAWL_EAUTH);
	assert_int_equal(sign_in_code(a, "alice", PW_NEW, &from1, &retry), 0);
	assert_int_equal(count_events(a, "password_changed"), 1);
	auth_close(a);
}

/*
 * A6: after 101 failures for one account from one address its right password is refused
 * there, before it is checked, with a Retry-After under a minute; from an address that has
 * not failed on it, and for another account, it is not.
 */
static void sign_in_failures_are_throttled_per_account(void **state)
{
	struct auth *a = open_fresh();
	unsigned retry = 0;
	int n_limited = 0;

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	add_user(a, "bob", false, PW_BOB);
	for (int i = 0; i < 101; i++) {
		int err = sign_in_code(a, "alice", "wrong-password-123", &from1, &retry);

		assert_true(err == TRAWL_EAUTH || err == TRAWL_ELIMIT);
		n_limited += err == TRAWL_ELIMIT;
	}
	assert_true(n_limited > 0);
	assert_int_equal(sign_in_code(a, "alice", PW_ALICE, &from1, &retry), TRAWL_ELIMIT);
	assert_true(retry >= 1 && retry < 60);
	assert_non_null(strstr(error_last(), "too many sign-in attempts"));
	assert_int_equal(sign_in_code(a, "bob", PW_BOB, &from2, &retry), 0);
	assert_int_equal(sign_in_code(a, "alice", PW_ALICE, &from2, &retry), 0);
	/* The lock-out is short: a minute later the right password works there again. */
	now_ms += (int64_t)60 * 1000;
	assert_int_equal(sign_in_code(a, "alice", PW_ALICE, &from1, &retry), 0);
	auth_close(a);
}

/* One sign-in try of alice with a wrong password from attacker address i. */
static int attack_once(struct auth *a, int i)
{
	char address[32];
	struct auth_origin from = { .address = address };
	unsigned retry;

	snprintf(address, sizeof(address), "192.0.2.%d", i);
	return sign_in_code(a, "alice", "wrong-password-123", &from, &retry);
}

/*
 * A6: failing on purpose from several addresses, one try every 10 s for two hours, spends
 * the account's budget but never keeps alice out: her right password from a clean address
 * works at once, every time; and the attacker's failures stay at most 100 in any hour.
 */
static void sign_in_failures_cannot_lock_a_user_out(void **state)
{
	struct auth *a = open_fresh();
	const struct auth_origin victim = { .address = "10.9.9.9" };
	int64_t fail_at[1000];
	size_t n_fail = 0, first = 0;
	unsigned retry;

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	for (int step = 0; step < 720; step++) {
		int err = attack_once(a, step % 5);

		assert_true(err == TRAWL_EAUTH || err == TRAWL_ELIMIT);
		if (err == TRAWL_EAUTH) {
			assert_true(n_fail < sizeof(fail_at) / sizeof(fail_at[0]));
			fail_at[n_fail++] = now_ms;
		}
		while (first < n_fail && fail_at[first] <= now_ms - 3600 * 1000LL)
			first++;
		assert_true(n_fail - first <= 100);
		if (step % 60 == 59)
			assert_int_equal(sign_in_code(a, "alice", PW_ALICE, &victim, &retry), 0);
		now_ms += (int64_t)10 * 1000;
	}
	assert_true(n_fail >= 100);
	auth_close(a);
}

/* A5, A6: wrong current passwords of a password change are throttled like sign-in failures. */
static void wrong_current_passwords_are_throttled(void **state)
{
	struct auth *a = open_fresh();
	const struct auth_actor by = { .name = "alice", .address = "10.0.0.1" };
	int n_limited = 0, err;

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	for (int i = 0; i < 20; i++) {
		err = auth_user_set_password(a, &by, "alice", "wrong-password-123", 18, PW_NEW,
					     strlen(PW_NEW));
		assert_true(err == TRAWL_EAUTH || err == TRAWL_ELIMIT);
		n_limited += err == TRAWL_ELIMIT;
	}
	assert_true(n_limited >= 10);
	/* Refused before it is checked, even the right one, from that address. */
	assert_int_equal(auth_user_set_password(a, &by, "alice", PW_ALICE, strlen(PW_ALICE), PW_NEW,
						strlen(PW_NEW)),
			 TRAWL_ELIMIT);
	assert_non_null(strstr(error_last(), "too many wrong passwords"));
	now_ms += (int64_t)60 * 1000;
	assert_int_equal(auth_user_set_password(a, &by, "alice", PW_ALICE, strlen(PW_ALICE), PW_NEW,
						strlen(PW_NEW)),
			 0);
	auth_close(a);
}

/* A8: an unknown user, a wrong password and a disabled user fail alike. */
static void sign_in_failures_look_the_same(void **state)
{
	struct auth *a = open_fresh();
	char msg[3][256];
	unsigned retry;

	(void)state;
	add_user(a, "root", true, PW_ROOT);
	add_user(a, "alice", false, PW_ALICE);
	add_user(a, "carol", false, PW_BOB);
	assert_int_equal(auth_user_set_disabled(a, NULL, "carol", true), 0);
	assert_int_equal(sign_in_code(a, "nobody", PW_ALICE, &from1, &retry), TRAWL_EAUTH);
	snprintf(msg[0], sizeof(msg[0]), "%s", error_last());
	assert_int_equal(sign_in_code(a, "alice", PW_BOB, &from1, &retry), TRAWL_EAUTH);
	snprintf(msg[1], sizeof(msg[1]), "%s", error_last());
	assert_int_equal(sign_in_code(a, "carol", PW_BOB, &from1, &retry), TRAWL_EAUTH);
	snprintf(msg[2], sizeof(msg[2]), "%s", error_last());
	assert_string_equal(msg[0], "wrong user name or password");
	assert_string_equal(msg[1], msg[0]);
	assert_string_equal(msg[2], msg[0]);
	assert_int_equal(count_events(a, "sign_in_failed"), 3);
	auth_close(a);
}

/* A9: scopes, revocation on the next request, expiry, and a malformed header. */
static void tokens_have_scopes_and_revocation_applies_at_once(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal p;
	struct auth_token *v = NULL;
	char search[AUTH_TOKEN_LEN + 1], admin[AUTH_TOKEN_LEN + 1], alice[AUTH_TOKEN_LEN + 1];
	char c[AUTH_SESSION_ID_LEN + 1], refused[AUTH_TOKEN_LEN + 1];
	size_t n = 0;

	(void)state;
	add_user(a, "root", true, PW_ROOT);
	add_user(a, "alice", false, PW_ALICE);
	add_user(a, "admin2", true, PW_BOB);
	new_token(search, a, "root", AUTH_SCOPE_SEARCH);
	new_token(admin, a, "root", AUTH_SCOPE_ADMIN);
	new_token(alice, a, "alice", AUTH_SCOPE_SEARCH);
	assert_int_equal(auth_token_create(NULL, refused, a, NULL, "alice", "x", AUTH_SCOPE_ADMIN, 0),
			 TRAWL_EPERM);
	assert_int_equal(strncmp(search, "trawl_", 6), 0);
	assert_true(auth_token_well_formed(search, strlen(search)));

	assert_int_equal(identify_token(&p, a, search), 0);
	assert_int_equal(p.kind, AUTH_TOKEN);
	assert_int_equal(p.scopes, AUTH_SCOPE_SEARCH);
	assert_string_equal(p.name, "root");
	assert_int_equal(identify_token(&p, a, admin), 0);
	assert_int_equal(p.scopes, AUTH_SCOPE_SEARCH | AUTH_SCOPE_ADMIN);
	/* An admin-scope token of a user no longer an administrator holds only search. */
	assert_int_equal(auth_user_set_admin(a, NULL, "root", false), 0);
	assert_int_equal(identify_token(&p, a, admin), 0);
	assert_int_equal(p.scopes, AUTH_SCOPE_SEARCH);

	assert_int_equal(auth_token_list(&v, &n, a, "alice"), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].user, "alice");
	assert_string_equal(v[0].name, "ci");
	assert_int_equal(strncmp(v[0].prefix, alice, 10), 0);
	assert_int_equal(strlen(v[0].prefix), 10);
	assert_int_equal(v[0].expires_ms - v[0].created_ms, (int64_t)AUTH_TOKEN_EXPIRY_S * 1000);
	/* Only its owner (or an administrator, owner NULL) can revoke it. */
	assert_int_equal(auth_token_revoke(a, NULL, v[0].id, "root"), TRAWL_ENOTFOUND);
	assert_int_equal(identify_token(&p, a, alice), 0);
	assert_int_equal(auth_token_revoke(a, NULL, v[0].id, "alice"), 0);
	assert_int_equal(identify_token(&p, a, alice), TRAWL_EAUTH);
	free(v);

	now_ms += (int64_t)AUTH_TOKEN_EXPIRY_S * 1000;
	assert_int_equal(identify_token(&p, a, search), TRAWL_EAUTH);
	assert_int_equal(auth_identify(&p, a, NULL, "Basic cm9vdDpwdw==", &from1), TRAWL_EAUTH);
	assert_int_equal(auth_identify(&p, a, NULL, "Bearer trawl_x", &from1), TRAWL_EAUTH);
	sign_in(&p, c, a, "alice", PW_ALICE);
	assert_int_equal(auth_identify(&p, a, c, "Bearer x", &from1), TRAWL_EAUTH);
	assert_int_equal(p.kind, AUTH_ANONYMOUS);
	auth_close(a);
}

/* A token's first use of each UTC day is audited, not every use. */
static void token_use_is_audited_once_a_day(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal p;
	char tok[AUTH_TOKEN_LEN + 1];

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	new_token(tok, a, "alice", AUTH_SCOPE_SEARCH);
	for (int i = 0; i < 5; i++)
		assert_int_equal(identify_token(&p, a, tok), 0);
	assert_int_equal(count_events(a, "token_used"), 1);
	now_ms += (int64_t)24 * 3600 * 1000;
	assert_int_equal(identify_token(&p, a, tok), 0);
	assert_int_equal(count_events(a, "token_used"), 2);
	auth_close(a);
}

static void readable_sets_follow_grants_groups_and_flags(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal root, alice, bob, anon = { .kind = AUTH_ANONYMOUS };
	struct auth_principal local = { .kind = AUTH_LOCAL };
	char c[AUTH_SESSION_ID_LEN + 1], set[256];

	(void)state;
	add_user(a, "root", true, PW_ROOT);
	add_user(a, "alice", false, PW_ALICE);
	add_user(a, "bob", false, PW_BOB);
	sign_in(&root, c, a, "root", PW_ROOT);
	sign_in(&alice, c, a, "alice", PW_ALICE);
	sign_in(&bob, c, a, "bob", PW_BOB);
	/* Deny by default: nothing is readable before a grant, except for administrators. */
	readable(set, sizeof(set), a, &alice, false);
	assert_string_equal(set, "");
	assert_int_equal(auth_grant(a, NULL, "zeta", "alice", NULL, true), 0);
	assert_int_equal(auth_grant(a, NULL, "mid", "alice", NULL, true), 0);
	assert_int_equal(auth_group_add(a, NULL, "team"), 0);
	assert_int_equal(auth_group_member(a, NULL, "team", "alice", true), 0);
	assert_int_equal(auth_grant(a, NULL, "alpha", NULL, "team", true), 0);
	assert_int_equal(auth_grant(a, NULL, "mid", NULL, "team", true), 0);
	assert_int_equal(auth_repo_set_public(a, NULL, "open", true), 0);
	assert_int_equal(auth_grant(a, NULL, "x", "alice", "team", true), TRAWL_EINVAL);
	assert_int_equal(auth_grant(a, NULL, "x", "nobody", NULL, true), TRAWL_ENOTFOUND);

	readable(set, sizeof(set), a, &root, false);
	assert_string_equal(set, "*");
	readable(set, sizeof(set), a, &local, false);
	assert_string_equal(set, "*");
	readable(set, sizeof(set), a, &alice, false);
	assert_string_equal(set, "alpha,mid,open,zeta"); /* sorted, each once */
	readable(set, sizeof(set), a, &bob, false);
	assert_string_equal(set, "open");
	readable(set, sizeof(set), a, &anon, false);
	assert_string_equal(set, "");
	readable(set, sizeof(set), a, &anon, true);
	assert_string_equal(set, "open");
	assert_int_equal(auth_check_repo(a, &alice, false, "alpha"), 0);
	assert_int_equal(auth_check_repo(a, &bob, false, "alpha"), TRAWL_EPERM);
	assert_int_equal(auth_check_repo(a, &anon, true, "open"), 0);
	assert_int_equal(auth_check_repo(a, &anon, false, "open"), TRAWL_EPERM);

	/* A disabled user reads nothing, even with a principal made before. */
	assert_int_equal(auth_user_set_disabled(a, NULL, "alice", true), 0);
	readable(set, sizeof(set), a, &alice, false);
	assert_string_equal(set, "");
	/* A user made an administrator reads everything at once. */
	assert_int_equal(auth_user_set_admin(a, NULL, "bob", true), 0);
	readable(set, sizeof(set), a, &bob, false);
	assert_string_equal(set, "*");
	auth_close(a);
}

/* Z4: a change applies to the next lookup, also when another process made it. */
static void membership_changes_apply_at_once(void **state)
{
	struct auth *a = open_fresh();
	struct auth *other = open_at(data_dir);
	struct auth_principal alice;
	const struct search_repos *held = NULL;
	char c[AUTH_SESSION_ID_LEN + 1], set[256];

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	sign_in(&alice, c, a, "alice", PW_ALICE);
	assert_int_equal(auth_group_add(a, NULL, "team"), 0);
	assert_int_equal(auth_group_member(a, NULL, "team", "alice", true), 0);
	assert_int_equal(auth_grant(a, NULL, "secret", NULL, "team", true), 0);
	readable(set, sizeof(set), a, &alice, false);
	assert_string_equal(set, "secret");
	/* A search still holding the old set keeps it valid while the cache moves on. */
	assert_int_equal(auth_readable_repos(&held, a, &alice, false), 0);

	assert_int_equal(auth_group_member(a, NULL, "team", "alice", false), 0);
	readable(set, sizeof(set), a, &alice, false);
	assert_string_equal(set, "");
	assert_true(set_has(held, "secret"));
	auth_repos_release(a, held);

	assert_int_equal(auth_group_member(other, NULL, "team", "alice", true), 0);
	readable(set, sizeof(set), a, &alice, false);
	assert_string_equal(set, "secret");
	assert_int_equal(auth_grant(other, NULL, "secret", NULL, "team", false), 0);
	readable(set, sizeof(set), a, &alice, false);
	assert_string_equal(set, "");
	assert_int_equal(auth_group_remove(other, NULL, "team"), 0);
	auth_close(other);
	auth_close(a);
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
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * A token is remembered between requests (auth.c's token_find) only while nothing commits:
 * every change, by this handle, another one or another program, holds from the next request.
 */
static void a_remembered_token_follows_every_change(void **state)
{
	struct auth *a = open_fresh();
	struct auth *other = open_at(data_dir);
	struct auth_principal p;
	struct auth_token *v = NULL;
	char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1], db[300];
	size_t n = 0;

	(void)state;
	snprintf(db, sizeof(db), "%s/trawl.db", data_dir);
	add_user(a, "alice", false, PW_ALICE);
	new_token(tok, a, "alice", AUTH_SCOPE_SEARCH);
	new_token(tok2, a, "alice", AUTH_SCOPE_SEARCH);
	for (int i = 0; i < 3; i++)
		assert_int_equal(identify_token(&p, a, tok), 0);
	assert_string_equal(p.name, "alice");

	/* Another handle (another process) revokes it. */
	assert_int_equal(auth_token_list(&v, &n, other, "alice"), 0);
	assert_int_equal(n, 2);
	assert_int_equal(auth_token_revoke(other, NULL, v[1].id, NULL), 0);
	assert_int_equal(identify_token(&p, a, tok), TRAWL_EAUTH);
	assert_int_equal(identify_token(&p, a, tok2), 0);
	free(v);

	/* Another program shortens its expiry. */
	raw_sql(db, "UPDATE tokens SET expires_ms = 1");
	assert_int_equal(identify_token(&p, a, tok2), TRAWL_EAUTH);
	raw_sql(db, "UPDATE tokens SET expires_ms = 9223372036854775807");
	assert_int_equal(identify_token(&p, a, tok2), 0);

	/* Another program takes the administrator flag away: the scope follows at once. */
	raw_sql(db, "UPDATE users SET is_admin = 1");
	new_token(tok, a, "alice", AUTH_SCOPE_ADMIN);
	assert_int_equal(identify_token(&p, a, tok), 0);
	assert_int_equal(p.scopes, AUTH_SCOPE_SEARCH | AUTH_SCOPE_ADMIN);
	raw_sql(db, "UPDATE users SET is_admin = 0");
	assert_int_equal(identify_token(&p, a, tok), 0);
	assert_int_equal(p.scopes, AUTH_SCOPE_SEARCH);

	/* This handle disables the user. */
	assert_int_equal(auth_user_set_disabled(a, NULL, "alice", true), 0);
	assert_int_equal(identify_token(&p, a, tok2), TRAWL_EAUTH);
	auth_close(other);
	auth_close(a);
}

/* Z5: a broken store gives errors and no principal or set, never an open door. */
static void a_broken_store_fails_closed(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal alice, p;
	const struct search_repos *set = (const struct search_repos *)&set;
	char c[AUTH_SESSION_ID_LEN + 1], tok[AUTH_TOKEN_LEN + 1], db[300];
	int err;

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	sign_in(&alice, c, a, "alice", PW_ALICE);
	new_token(tok, a, "alice", AUTH_SCOPE_SEARCH);
	assert_int_equal(auth_grant(a, NULL, "r", "alice", NULL, true), 0);
	snprintf(db, sizeof(db), "%s/trawl.db", data_dir);
	/* Another program damages the database under the open struct auth. */
	raw_sql(db, "DROP TABLE acl_generation");
	raw_sql(db, "DROP TABLE sessions");
	raw_sql(db, "DROP TABLE tokens");
	err = auth_readable_repos(&set, a, &alice, true);
	assert_int_equal(err, TRAWL_EIO);
	assert_null(set);
	assert_int_equal(auth_check_repo(a, &alice, true, "r"), TRAWL_EIO);
	assert_int_equal(auth_identify(&p, a, c, NULL, &from1), TRAWL_EIO);
	assert_int_equal(p.kind, AUTH_ANONYMOUS);
	assert_int_equal(p.user_id, 0);
	assert_int_equal(identify_token(&p, a, tok), TRAWL_EIO);
	assert_int_equal(p.scopes, 0);
	/* Whether accounts exist cannot be read: never the open laptop mode. */
	raw_sql(db, "DROP TABLE users");
	assert_int_equal(auth_identify(&p, a, NULL, NULL, &from1), TRAWL_EIO);
	assert_int_equal(p.kind, AUTH_ANONYMOUS);
	assert_int_equal(p.scopes, 0);
	auth_close(a);
}

static void the_last_administrator_stays_one(void **state)
{
	struct auth *a = open_fresh();

	(void)state;
	add_user(a, "root", true, PW_ROOT);
	add_user(a, "alice", false, PW_ALICE);
	assert_int_equal(auth_user_set_disabled(a, NULL, "root", true), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "last enabled administrator"));
	assert_int_equal(auth_user_set_admin(a, NULL, "root", false), TRAWL_EINVAL);
	assert_int_equal(auth_user_set_admin(a, NULL, "alice", true), 0);
	assert_int_equal(auth_user_set_admin(a, NULL, "root", false), 0);
	assert_int_equal(auth_user_set_disabled(a, NULL, "alice", true), TRAWL_EINVAL);
	assert_int_equal(auth_user_set_admin(a, NULL, "alice", false), TRAWL_EINVAL);
	auth_close(a);
}

static void users_and_groups_are_listed(void **state)
{
	struct auth *a = open_fresh();
	struct auth_user *v = NULL, u;
	struct auth_group *g = NULL;
	size_t n = 0, ng = 0;

	(void)state;
	assert_int_equal(auth_user_add(a, NULL, "zed", "Zed Z", false, NULL, 0), 0);
	add_user(a, "alice", true, PW_ALICE);
	assert_int_equal(auth_user_add(a, NULL, "alice", NULL, false, PW_BOB, strlen(PW_BOB)),
			 TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "already exists"));
	assert_int_equal(auth_user_add(a, NULL, "-x", NULL, false, PW_BOB, strlen(PW_BOB)),
			 TRAWL_EINVAL);
	assert_int_equal(auth_group_add(a, NULL, "devs"), 0);
	assert_int_equal(auth_group_add(a, NULL, "devs"), TRAWL_EINVAL);
	assert_int_equal(auth_group_member(a, NULL, "devs", "zed", true), 0);
	assert_int_equal(auth_group_member(a, NULL, "devs", "alice", true), 0);
	assert_int_equal(auth_group_member(a, NULL, "nope", "alice", true), TRAWL_ENOTFOUND);
	assert_int_equal(auth_user_list(&v, &n, a), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "alice");
	assert_true(v[0].is_admin);
	assert_string_equal(v[1].display_name, "Zed Z");
	assert_int_equal(v[1].n_groups, 1);
	assert_string_equal(v[1].groups[0], "devs");
	assert_null(v[1].groups[1]);
	assert_int_equal(v[1].created_ms, now_ms);
	auth_users_free(v, n);
	assert_int_equal(auth_user_get(&u, a, "zed"), 0);
	assert_string_equal(u.name, "zed");
	auth_user_dispose(&u);
	assert_int_equal(auth_user_get(&u, a, "nobody"), TRAWL_ENOTFOUND);
	assert_int_equal(auth_group_list(&g, &ng, a), 0);
	assert_int_equal(ng, 1);
	assert_int_equal(g[0].n_members, 2);
	assert_string_equal(g[0].members[0], "alice");
	assert_string_equal(g[0].members[1], "zed");
	auth_groups_free(g, ng);
	/* A user without a password cannot sign in, and fails like anyone else. */
	assert_int_equal(sign_in_code(a, "zed", PW_BOB, &from1, &(unsigned){ 0 }), TRAWL_EAUTH);
	auth_close(a);
}

/* Whether the file at path holds needle anywhere. */
static bool file_holds(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 22, len;
	char *buf;
	bool found = false;

	if (!f)
		return false;
	buf = malloc(cap);
	assert_non_null(buf);
	len = fread(buf, 1, cap, f);
	fclose(f);
	found = memmem(buf, len, needle, strlen(needle)) != NULL;
	free(buf);
	return found;
}

/* L2: after a full flow, no password, token or session id is in the database or the log. */
static void no_secret_is_stored_or_logged(void **state)
{
	static const char *const files[] = { "trawl.db", "trawl.db-wal", "audit/audit.log" };
	struct auth *a = open_fresh();
	struct auth_principal p;
	char c[AUTH_SESSION_ID_LEN + 1], tok[AUTH_TOKEN_LEN + 1], path[300];
	unsigned retry;

	(void)state;
	add_user(a, "root", true, PW_ROOT);
	add_user(a, "alice", false, PW_ALICE);
	sign_in(&p, c, a, "alice", PW_ALICE);
	assert_int_equal(identify_cookie(a, c), 0);
	assert_int_equal(sign_in_code(a, "alice", PW_BOB, &from1, &retry), TRAWL_EAUTH);
	assert_int_equal(sign_in_code(a, PW_BOB, PW_BOB, &from1, &retry), TRAWL_EAUTH);
	new_token(tok, a, "alice", AUTH_SCOPE_SEARCH);
	assert_int_equal(identify_token(&p, a, tok), 0);
	assert_int_equal(auth_user_set_password(a, NULL, "alice", PW_ALICE, strlen(PW_ALICE), PW_NEW,
						strlen(PW_NEW)),
			 0);
	assert_int_equal(auth_sign_out(a, &p, &from1), 0);
	auth_close(a); /* flushes the audit trail */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", data_dir, files[i]);
		assert_false(file_holds(path, PW_ALICE));
		assert_false(file_holds(path, PW_NEW));
		assert_false(file_holds(path, PW_ROOT));
		assert_false(file_holds(path, tok));
		assert_false(file_holds(path, tok + 6));
		assert_false(file_holds(path, c));
	}
	snprintf(path, sizeof(path), "%s/audit/audit.log", data_dir);
	assert_true(file_holds(path, "\"sign_in_failed\""));
	assert_true(file_holds(path, "\"token_created\""));
}

/* L3: a name with CR/LF stays inside one escaped line of audit.log; the log is 0600. */
static void audit_lines_stay_one_line_each(void **state)
{
	struct auth *a = open_fresh();
	struct auth_origin evil = { .address = "10.0.0.9\n{\"event\":\"x\"}",
				    .user_agent = "ua\r\nFAKE" };
	struct auth_principal p;
	char c[AUTH_SESSION_ID_LEN + 1], path[300], line[8192];
	unsigned retry;
	struct stat sb;
	FILE *f;
	int n_lines = 0, n_fake = 0;

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	assert_int_equal(auth_sign_in(&p, c, &retry, a, "a\r\nFAKE ENTRY", "x", 1, &evil),
			 TRAWL_EAUTH);
	assert_int_equal(auth_audit(a, "search", "alice", "", "\x1b[31m",
				    "{\"query\":\"q\",\n\"results\":3}"),
			 0);
	auth_close(a);
	snprintf(path, sizeof(path), "%s/audit/audit.log", data_dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);

		if (!j)
			fail_msg("audit.log line %d is not JSON: %s", n_lines + 1, je.text);
		assert_non_null(json_object_get(j, "time"));
		assert_non_null(json_object_get(j, "event"));
		/* A name no account can have is audited as invalid_name, not as typed. */
		if (strcmp(json_string_value(json_object_get(j, "target")), "invalid_name") == 0)
			n_fake++;
		json_decref(j);
		n_lines++;
	}
	fclose(f);
	assert_int_equal(n_lines, 3); /* user_added, sign_in_failed, search */
	assert_int_equal(n_fake, 1);
}

/*
 * L3: bidi controls and line separators, in a field or a caller's detail, are \u escapes in
 * audit.log (the line still decodes to the same text); a sign-in name that no account can have
 * is audited as invalid_name.
 */
static void audit_log_escapes_hidden_characters(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal p;
	char c[AUTH_SESSION_ID_LEN + 1], path[300], line[8192];
	unsigned retry;
	FILE *f;
	int n_invalid = 0, n_search = 0;

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	assert_int_equal(auth_sign_in(&p, c, &retry, a, "root\xe2\x80\xae", "x", 1, &from1),
			 TRAWL_EAUTH);
	assert_int_equal(auth_audit(a, "search", "alice", "t\xe2\x80\xae", "10.0.0.1\xe2\x80\xa8",
				    "{\"query\":\"q\xe2\x81\xa6\xf3\xa0\x80\x81\"}"),
			 0);
	auth_close(a);
	snprintf(path, sizeof(path), "%s/audit/audit.log", data_dir);
	assert_false(file_holds(path, "\xe2\x80\xae"));
	assert_false(file_holds(path, "\xe2\x80\xa8"));
	assert_false(file_holds(path, "\xe2\x81\xa6"));
	assert_false(file_holds(path, "\xf3\xa0\x80\x81"));
	assert_true(file_holds(path, "\\u202e"));
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL);
		const char *target;

		assert_non_null(j);
		target = json_string_value(json_object_get(j, "target"));
		n_invalid += strcmp(target, "invalid_name") == 0;
		if (strcmp(target, "t\xe2\x80\xae") == 0) {
			assert_string_equal(json_string_value(json_object_get(j, "address")),
					    "10.0.0.1\xe2\x80\xa8");
			assert_string_equal(json_string_value(json_object_get(
						    json_object_get(j, "detail"), "query")),
					    "q\xe2\x81\xa6\xf3\xa0\x80\x81");
			n_search++;
		}
		json_decref(j);
	}
	fclose(f);
	assert_int_equal(n_invalid, 1);
	assert_int_equal(n_search, 1);
}

/* Signs in as user with a wrong password from address until throttled (at most 200 tries). */
static void fail_until_throttled(struct auth *a, const char *user, const char *address)
{
	const struct auth_origin from = { .address = address };
	unsigned retry;

	for (int i = 0; i < 200; i++)
		if (sign_in_code(a, user, "wrong-password-123", &from, &retry) == TRAWL_ELIMIT)
			return;
	fail_msg("%s from %s: never throttled", user, address);
}

/* The targets of the sign_in_failed events from address, in order, joined by spaces. */
static void failure_targets(char *out, size_t cap, struct auth *a, const char *address)
{
	struct auth_audit_filter f = { .event = "sign_in_failed", .limit = 100000 };
	struct auth_event *v = NULL;
	size_t n = 0, len = 0;

	assert_int_equal(auth_audit_list(&v, &n, a, &f), 0);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].address, address) != 0)
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "", v[i].target);
		assert_true(len < cap);
	}
	auth_events_free(v, n);
}

/*
 * L2: a failed sign-in keeps an account's name, and of any other name (a password typed as the
 * name) only "unknown:" and a keyed fingerprint of its lower case: one per name, the same for
 * every try, throttled ones included; the name is in neither the table nor audit.log.
 */
static void sign_in_failed_keeps_only_a_fingerprint_of_an_unknown_name(void **state)
{
	static const char *const files[] = { "trawl.db", "trawl.db-wal", "audit/audit.log" };
	struct auth *a = open_fresh();
	char t1[4096], t2[4096], t3[256], path[300], fp[32];
	unsigned retry;

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	assert_int_equal(sign_in_code(a, "Hunter2.Pass", "x", &from1, &retry), TRAWL_EAUTH);
	assert_int_equal(sign_in_code(a, "hunter2.pass", "x", &from1, &retry), TRAWL_EAUTH);
	fail_until_throttled(a, "hunter2.PASS", "10.0.0.7");
	assert_int_equal(sign_in_code(a, "other.name", "x", &from2, &retry), TRAWL_EAUTH);
	assert_int_equal(sign_in_code(a, "alice", "x", &from2, &retry), TRAWL_EAUTH);
	fail_until_throttled(a, "alice", "10.0.0.8");
	failure_targets(t1, sizeof(t1), a, "10.0.0.1");
	assert_int_equal(strlen(t1), 2 * 20 + 1);
	assert_memory_equal(t1, "unknown:", 8);
	assert_int_equal(strspn(t1 + 8, "0123456789abcdef"), 12);
	snprintf(fp, sizeof(fp), "%.20s", t1);
	assert_memory_equal(t1 + 21, fp, 20);
	failure_targets(t2, sizeof(t2), a, "10.0.0.7");
	assert_int_equal(strlen(t2) % 21, 20);
	for (size_t i = 0; i < strlen(t2); i += 21)
		assert_memory_equal(t2 + i, fp, 20); /* throttled or not */
	failure_targets(t3, sizeof(t3), a, "10.0.0.2");
	assert_memory_equal(t3, "unknown:", 8);
	assert_memory_not_equal(t3, fp, 20);
	assert_string_equal(t3 + 21, "alice");
	failure_targets(t2, sizeof(t2), a, "10.0.0.8");
	assert_non_null(strstr(t2, "alice alice"));
	assert_null(strstr(t2, "unknown"));
	auth_close(a);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", data_dir, files[i]);
		assert_false(file_holds(path, "unter2"));
		assert_false(file_holds(path, "other.name"));
	}
	snprintf(path, sizeof(path), "%s/audit/audit.log", data_dir);
	assert_true(file_holds(path, fp));
}

/* The sign_in_failed events' details: how many, and the longest user_agent. */
static size_t failures_from(struct auth *a, const char *address, size_t *ua_max)
{
	struct auth_audit_filter f = { .event = "sign_in_failed", .limit = 100000 };
	struct auth_event *v = NULL;
	size_t n = 0, k = 0;

	assert_int_equal(auth_audit_list(&v, &n, a, &f), 0);
	*ua_max = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_loads(v[i].detail, 0, NULL);
		const char *ua;

		assert_non_null(j);
		ua = json_string_value(json_object_get(j, "user_agent"));
		if (strcmp(v[i].address, address) == 0) {
			k++;
			*ua_max = ua && strlen(ua) > *ua_max ? strlen(ua) : *ua_max;
		}
		json_decref(j);
	}
	auth_events_free(v, n);
	return k;
}

/*
 * An outsider's failed sign-ins are refusals: one address's are written
 * AUTH_AUDIT_DENIED_PER_MIN a minute, the rest counted in one audit_suppressed event, and
 * each keeps at most 256 bytes of the caller's User-Agent, so a flood cannot fill the trail.
 * Passwords checked against an existing account are written on the account's budget instead
 * (failures_on_an_account_are_audited_on_its_own_budget).
 */
static void failed_sign_ins_are_bounded_like_refusals(void **state)
{
	static char ua[6001];
	const struct auth_origin from = { .address = "10.9.9.9", .user_agent = ua };
	struct auth_audit_filter f = { .event = "audit_suppressed", .limit = 100 };
	struct auth_event *v = NULL;
	struct auth *a = open_fresh();
	size_t n = 0, ua_max = 0;
	unsigned retry;

	(void)state;
	memset(ua, 'x', sizeof(ua) - 1);
	ua[12] = '\xc3'; /* a cut never splits a character */
	ua[13] = '\xa9';
	ua[255] = '\xc3';
	ua[256] = '\xa9';
	add_user(a, "alice", false, PW_ALICE);
	for (int i = 0; i < 40; i++)
		assert_true(sign_in_code(a, i % 2 ? "alice" : "nobody", "wrong-password-123", &from,
					 &retry) < 0);
	/*
	 * alice's first 10 (A6's pair budget) are checked passwords, on her budget; the address's
	 * 10 are of the other 30: nobody's, and alice's tries the throttle refused.
	 */
	assert_int_equal(failures_from(a, "10.9.9.9", &ua_max), 2 * AUTH_AUDIT_DENIED_PER_MIN);
	assert_int_equal(ua_max, 255);
	now_ms += 61000;
	auth_close(a);
	a = open_at(data_dir);
	assert_int_equal(auth_audit_list(&v, &n, a, &f), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].address, "10.9.9.9");
	assert_non_null(strstr(v[0].detail, "\"count\":20"));
	auth_events_free(v, n);
	auth_close(a);
}

/*
 * How many events of kind event name target, all without an actor; detail (may be NULL) gets
 * the last one's detail.
 */
static size_t target_events(struct auth *a, const char *event, const char *target, char *detail,
			    size_t detail_len)
{
	struct auth_audit_filter f = { .event = event, .limit = 100000 };
	struct auth_event *v = NULL;
	size_t n = 0, k = 0;

	assert_int_equal(auth_audit_list(&v, &n, a, &f), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].target, target) != 0)
			continue;
		assert_string_equal(v[i].actor, "");
		if (detail)
			snprintf(detail, detail_len, "%s", v[i].detail);
		k++;
	}
	auth_events_free(v, n);
	return k;
}

/*
 * A guessing run cannot hide which account it targets: with the all-anonymous budget spent
 * by cheap 401s from many addresses, passwords tried on alice from fresh addresses are still
 * written, AUTH_AUDIT_DENIED_PER_MIN a minute on her own budget, and the rest counted in an
 * audit_suppressed event that names her and the event. A name no account has stays on the
 * anonymous budget.
 */
static void failures_on_an_account_are_audited_on_its_own_budget(void **state)
{
	struct auth *a = open_fresh();
	char address[32], detail[512];
	unsigned retry;
	size_t n;

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	for (int i = 0; i < AUTH_AUDIT_DENIED_ALL_PER_MIN / AUTH_AUDIT_DENIED_PER_MIN + 1; i++) {
		snprintf(address, sizeof(address), "10.1.0.%d", i + 1);
		for (int k = 0; k < AUTH_AUDIT_DENIED_PER_MIN; k++)
			assert_int_equal(auth_audit_denied(a, "unauthorized", "", "/api/v1/repos/x",
							   address, NULL),
					 0);
	}
	for (int i = 0; i < 15; i++) {
		const struct auth_origin from = { .address = address };

		snprintf(address, sizeof(address), "10.5.0.%d", i + 1);
		assert_int_equal(sign_in_code(a, "alice", "wrong-password-123", &from, &retry),
				 TRAWL_EAUTH);
	}
	assert_int_equal(target_events(a, "sign_in_failed", "alice", NULL, 0),
			 AUTH_AUDIT_DENIED_PER_MIN);
	{
		const struct auth_origin from = { .address = "10.6.0.1" };

		assert_int_equal(sign_in_code(a, "nobody", "wrong-password-123", &from, &retry),
				 TRAWL_EAUTH);
	}
	assert_int_equal(target_events(a, "sign_in_failed", "alice", NULL, 0),
			 AUTH_AUDIT_DENIED_PER_MIN);
	n = 0;
	{
		struct auth_audit_filter f = { .event = "sign_in_failed", .limit = 100000 };
		struct auth_event *v = NULL;

		assert_int_equal(auth_audit_list(&v, &n, a, &f), 0);
		auth_events_free(v, n);
	}
	assert_int_equal(n, AUTH_AUDIT_DENIED_PER_MIN); /* nobody's was dropped */
	now_ms += 61000;
	auth_close(a);
	a = open_at(data_dir);
	assert_int_equal(target_events(a, "audit_suppressed", "alice", detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "\"count\":5"));
	assert_non_null(strstr(detail, "\"bound\":\"account\""));
	assert_non_null(strstr(detail, "\"event\":\"sign_in_failed\""));
	auth_close(a);
}

/*
 * L2: a name that holds an API token, or most of one, is refused wherever a name is given
 * (token, user, display, group), without the refusal quoting it; names that merely start
 * with "trawl_" stay.
 */
static void names_holding_a_token_are_refused(void **state)
{
	struct auth *a = open_fresh();
	char secret[AUTH_TOKEN_LEN + 1], other[AUTH_TOKEN_LEN + 1], name[128], path[300];
	struct auth_token t;

	(void)state;
	add_user(a, "root", true, PW_ROOT);
	new_token(secret, a, "root", AUTH_SCOPE_SEARCH);
	snprintf(name, sizeof(name), "ci %s", secret);
	assert_int_equal(auth_token_create(&t, other, a, NULL, "root", secret, AUTH_SCOPE_SEARCH, 0),
			 TRAWL_EINVAL);
	assert_null(strstr(error_last(), secret + 6));
	assert_int_equal(auth_token_create(&t, other, a, NULL, "root", name, AUTH_SCOPE_SEARCH, 0),
			 TRAWL_EINVAL);
	snprintf(name, sizeof(name), "x-%.26s", secret); /* the prefix and 20 of its characters */
	assert_int_equal(auth_token_create(&t, other, a, NULL, "root", name, AUTH_SCOPE_SEARCH, 0),
			 TRAWL_EINVAL);
	assert_int_equal(auth_token_create(&t, other, a, NULL, "root", secret + 6, AUTH_SCOPE_SEARCH,
					   0),
			 TRAWL_EINVAL); /* the random part alone */
	assert_int_equal(auth_user_add(a, NULL, secret, NULL, false, NULL, 0), TRAWL_EINVAL);
	assert_int_equal(auth_user_add(a, NULL, "carol", secret, false, NULL, 0), TRAWL_EINVAL);
	assert_int_equal(auth_user_set_display_name(a, NULL, "root", name), TRAWL_EINVAL);
	assert_int_equal(auth_group_add(a, NULL, secret), TRAWL_EINVAL);
	/* Names that only look alike stay. */
	assert_int_equal(auth_token_create(&t, other, a, NULL, "root", "trawl_ci", AUTH_SCOPE_SEARCH,
					   0),
			 0);
	assert_int_equal(auth_token_create(&t, other, a, NULL, "root", "trawl_search_bot-2026",
					   AUTH_SCOPE_SEARCH, 0),
			 0);
	assert_int_equal(auth_group_add(a, NULL, "trawl_admins"), 0);
	assert_int_equal(auth_user_set_display_name(a, NULL, "root", "Root (trawl_ops on call)"), 0);
	auth_close(a);
	snprintf(path, sizeof(path), "%s/audit/audit.log", data_dir);
	assert_false(file_holds(path, secret + 6));
	snprintf(path, sizeof(path), "%s/trawl.db", data_dir);
	assert_false(file_holds(path, secret + 6));
}

static void the_audit_trail_is_listed_by_filter(void **state)
{
	struct auth *a = open_fresh();
	struct auth_audit_filter f = { 0 };
	struct auth_event *v = NULL;
	struct auth_actor by = { .name = "root", .address = "10.1.1.1" };
	size_t n = 0;

	(void)state;
	add_user(a, "root", true, PW_ROOT);
	now_ms += 1000;
	assert_int_equal(auth_group_add(a, &by, "g1"), 0);
	assert_int_equal(auth_repo_added(a, &by, "r1"), 0);
	assert_int_equal(auth_repo_forget(a, &by, "r1"), 0);
	assert_int_equal(auth_audit_list(&v, &n, a, &f), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].event, "user_added");
	assert_string_equal(v[0].actor, "cli");
	assert_string_equal(v[0].detail, "{\"admin\":true}");
	assert_string_equal(v[1].event, "group_added");
	assert_string_equal(v[1].actor, "root");
	assert_string_equal(v[1].address, "10.1.1.1");
	assert_string_equal(v[1].target, "g1");
	assert_string_equal(v[3].event, "repo_removed");
	assert_true(v[0].id < v[1].id && v[1].id < v[2].id);
	auth_events_free(v, n);
	f = (struct auth_audit_filter){ .user = "root", .since_ms = now_ms, .limit = 2 };
	assert_int_equal(auth_audit_list(&v, &n, a, &f), 0);
	assert_int_equal(n, 2); /* the latest two, oldest first */
	assert_string_equal(v[0].event, "repo_added");
	assert_string_equal(v[1].event, "repo_removed");
	auth_events_free(v, n);
	auth_close(a);
}

/* A backup restores: the same users, groups, grants, a token that still works, the trail. */
static void a_backup_restores(void **state)
{
	struct auth *a = open_fresh(), *b;
	struct auth_principal p;
	struct auth_user *users = NULL;
	struct auth_group *groups = NULL;
	struct auth_repo_access *acc = NULL;
	char tok[AUTH_TOKEN_LEN + 1], out[300], set[64];
	size_t n_users, n_groups, n_acc;
	struct stat sb;

	(void)state;
	add_user(a, "root", true, PW_ROOT);
	add_user(a, "alice", false, PW_ALICE);
	assert_int_equal(auth_group_add(a, NULL, "team"), 0);
	assert_int_equal(auth_group_member(a, NULL, "team", "alice", true), 0);
	assert_int_equal(auth_grant(a, NULL, "proj", NULL, "team", true), 0);
	assert_int_equal(auth_repo_set_public(a, NULL, "docs", true), 0);
	new_token(tok, a, "alice", AUTH_SCOPE_SEARCH);
	snprintf(out, sizeof(out), "%s/backup%d", testlib_tmpdir(), seq);
	assert_int_equal(auth_backup(a, out), 0);
	assert_int_equal(auth_backup(a, out), TRAWL_EIO); /* not empty any more */
	auth_close(a);

	assert_int_equal(stat(out, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	b = open_at(out);
	assert_int_equal(auth_user_list(&users, &n_users, b), 0);
	assert_int_equal(n_users, 2);
	assert_string_equal(users[1].name, "root");
	auth_users_free(users, n_users);
	assert_int_equal(auth_group_list(&groups, &n_groups, b), 0);
	assert_int_equal(n_groups, 1);
	assert_string_equal(groups[0].members[0], "alice");
	auth_groups_free(groups, n_groups);
	assert_int_equal(auth_repo_access_list(&acc, &n_acc, b), 0);
	assert_int_equal(n_acc, 2);
	assert_string_equal(acc[0].repo, "docs");
	assert_true(acc[0].is_public);
	assert_string_equal(acc[1].repo, "proj");
	assert_string_equal(acc[1].groups[0], "team");
	auth_accesses_free(acc, n_acc);
	assert_int_equal(identify_token(&p, b, tok), 0);
	assert_string_equal(p.name, "alice");
	readable(set, sizeof(set), b, &p, false);
	assert_string_equal(set, "docs,proj");
	assert_int_equal(count_events(b, "token_created"), 1);
	assert_int_equal(count_events(b, "grant"), 1);
	auth_close(b);
}

struct reader {
	struct auth *a;
	const char *token;
	int n_ok, n_with;
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;

	for (int i = 0; i < 300; i++) {
		struct auth_principal p;
		const struct search_repos *set = NULL;
		char header[128];

		snprintf(header, sizeof(header), "Bearer %s", r->token);
		if (auth_identify(&p, r->a, NULL, header, &from1) < 0 ||
		    auth_readable_repos(&set, r->a, &p, false) < 0)
			continue;
		r->n_with += search_repos_has(set, "shared");
		r->n_ok += set->n_names <= 1;
		auth_repos_release(r->a, set);
		(void)auth_audit(r->a, "search", p.name, "", "10.0.0.1", NULL);
	}
	return NULL;
}

/* One struct auth shared by threads while grants change: every lookup sees a whole set. */
static void threads_share_one_auth(void **state)
{
	struct auth *a = open_fresh();
	struct reader r[4];
	pthread_t th[4];
	char tok[AUTH_TOKEN_LEN + 1];
	int n_ok = 0;

	(void)state;
	add_user(a, "alice", false, PW_ALICE);
	new_token(tok, a, "alice", AUTH_SCOPE_SEARCH);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct reader){ .a = a, .token = tok };
		assert_int_equal(pthread_create(&th[i], NULL, read_loop, &r[i]), 0);
	}
	for (int i = 0; i < 50; i++)
		assert_int_equal(auth_grant(a, NULL, "shared", "alice", NULL, i % 2 == 0), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		n_ok += r[i].n_ok;
	}
	assert_int_equal(n_ok, 4 * 300);
	assert_int_equal(count_events(a, "search"), 4 * 300);
	auth_close(a);
}

static void db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* Another program's connection holding the database's write lock (BEGIN EXCLUSIVE). */
static sqlite3 *lock_db(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	db_exec(db, "BEGIN EXCLUSIVE");
	return db;
}

/* A write made while the database is locked: it waits, holding the writers' connection. */
struct waiting_write {
	struct auth *a;
	int err;
	atomic_bool is_done;
};

static void *write_display_name(void *arg)
{
	struct waiting_write *w = arg;

	w->err = auth_user_set_display_name(w->a, NULL, "bob", "Bob");
	atomic_store(&w->is_done, true);
	return NULL;
}

/*
 * Another program holds trawl.db's write lock: signed-in requests are identified and their sets
 * read while it is held, even while a write waits for it on the writers' connection; their own
 * last-seen writes are put off to the first request after it; what the other program commits
 * holds from the next request on, and nothing it has not committed does.
 */
static void a_locked_database_holds_up_no_request(void **state)
{
	struct auth *a = open_fresh();
	struct auth_principal alice, p;
	struct waiting_write w = { .a = a };
	char c[AUTH_SESSION_ID_LEN + 1], tok[AUTH_TOKEN_LEN + 1], db[300], set[64];
	pthread_t th;
	sqlite3 *lk;

	(void)state;
	snprintf(db, sizeof(db), "%s/trawl.db", data_dir);
	add_user(a, "alice", false, PW_ALICE);
	add_user(a, "bob", false, PW_BOB);
	assert_int_equal(auth_grant(a, NULL, "r", "alice", NULL, true), 0);
	sign_in(&alice, c, a, "alice", PW_ALICE);
	new_token(tok, a, "alice", AUTH_SCOPE_SEARCH);
	assert_int_equal(identify_token(&p, a, tok), 0); /* its first use is written */
	now_ms += (int64_t)2 * 60 * 1000;                /* both are due a last-seen write */

	lk = lock_db(db);
	assert_int_equal(identify_cookie(a, c), 0);
	assert_int_equal(identify_token(&p, a, tok), 0);
	/* Now with a write waiting out the lock: it holds the writers' connection until then. */
	assert_int_equal(pthread_create(&th, NULL, write_display_name, &w), 0);
	while (pthread_mutex_trylock(&a->lock) == 0) {
		pthread_mutex_unlock(&a->lock);
		sched_yield();
	}
	assert_int_equal(identify_cookie(a, c), 0);
	assert_int_equal(identify_token(&p, a, tok), 0);
	readable(set, sizeof(set), a, &alice, false);
	assert_string_equal(set, "r");
	assert_false(atomic_load(&w.is_done)); /* all of it answered while the write waited */
	db_exec(lk, "ROLLBACK");
	pthread_join(th, NULL);
	assert_int_equal(w.err, 0);

	/* The session's put-off last-seen time is written by the first request after the lock. */
	assert_int_equal(identify_cookie(a, c), 0);
	now_ms += ((int64_t)AUTH_SESSION_IDLE_S - 30) * 1000;
	assert_int_equal(identify_cookie(a, c), 0); /* idle since that request, not the sign-in */

	/* What the other program changes holds once committed, not before. */
	db_exec(lk, "BEGIN EXCLUSIVE");
	db_exec(lk, "UPDATE users SET is_disabled = 1 WHERE name = 'alice'");
	assert_int_equal(identify_cookie(a, c), 0);
	db_exec(lk, "COMMIT");
	assert_int_equal(identify_cookie(a, c), TRAWL_EAUTH);
	assert_int_equal(identify_token(&p, a, tok), TRAWL_EAUTH);
	readable(set, sizeof(set), a, &alice, false);
	assert_string_equal(set, "");
	sqlite3_close(lk);
	auth_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(laptop_mode_is_local_until_an_account_exists),
		cmocka_unit_test(sign_in_makes_a_new_session_every_time),
		cmocka_unit_test(sessions_expire_when_idle_and_at_their_absolute_limit),
		cmocka_unit_test(sign_out_ends_every_session),
		cmocka_unit_test(disabling_a_user_ends_sessions_and_tokens),
		cmocka_unit_test(a_password_change_needs_the_current_one_and_ends_credentials),
		cmocka_unit_test(sign_in_failures_are_throttled_per_account),
		cmocka_unit_test(sign_in_failures_cannot_lock_a_user_out),
		cmocka_unit_test(wrong_current_passwords_are_throttled),
		cmocka_unit_test(sign_in_failures_look_the_same),
		cmocka_unit_test(tokens_have_scopes_and_revocation_applies_at_once),
		cmocka_unit_test(token_use_is_audited_once_a_day),
		cmocka_unit_test(readable_sets_follow_grants_groups_and_flags),
		cmocka_unit_test(membership_changes_apply_at_once),
		cmocka_unit_test(a_remembered_token_follows_every_change),
		cmocka_unit_test(a_broken_store_fails_closed),
		cmocka_unit_test(the_last_administrator_stays_one),
		cmocka_unit_test(users_and_groups_are_listed),
		cmocka_unit_test(no_secret_is_stored_or_logged),
		cmocka_unit_test(audit_lines_stay_one_line_each),
		cmocka_unit_test(audit_log_escapes_hidden_characters),
		cmocka_unit_test(sign_in_failed_keeps_only_a_fingerprint_of_an_unknown_name),
		cmocka_unit_test(failed_sign_ins_are_bounded_like_refusals),
		cmocka_unit_test(failures_on_an_account_are_audited_on_its_own_budget),
		cmocka_unit_test(names_holding_a_token_are_refused),
		cmocka_unit_test(the_audit_trail_is_listed_by_filter),
		cmocka_unit_test(a_backup_restores),
		cmocka_unit_test(threads_share_one_auth),
		cmocka_unit_test(a_locked_database_holds_up_no_request),
	};

	/* SQLite only: these reach the file, its locks or its migrations directly. */
	static const char *const pg_skip[] = {
		"a_locked_database_holds_up_no_request",
		"a_broken_store_fails_closed",
		"a_backup_restores",
		NULL,
	};
	const size_t n = sizeof(tests) / sizeof(tests[0]);
	struct CMUnitTest pg_tests[sizeof(tests) / sizeof(tests[0])];
	int failed = 0;

	if (!testlib_pg_only())
		failed = cmocka_run_group_tests_name("auth (SQLite)", tests, testlib_setup,
						     testlib_teardown);

	if (testlib_pg_begin())
		failed += _cmocka_run_group_tests("auth (PostgreSQL)", pg_tests,
						  testlib_pg_tests(pg_tests, tests, n, pg_skip),
						  testlib_setup, testlib_teardown);
	return failed;
}
