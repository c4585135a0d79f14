/*
 * Unit tests for the dispatcher's rules (route_admit), the one map from error codes to HTTP
 * answers (route_error_of), the caller's access (access.c: identification by the accounts,
 * permissions, the readable set, CSRF) and request bodies (req_json_body): every route of the
 * server's table states its rule, a route without one is refused, no GET changes state, and a
 * hidden repository answers as a missing one. The accounts are real (a struct auth in a
 * temporary directory, with the cheap test hashing cost).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "auth/auth.h"
#include "server/access.h"
#include "server/route.h"
#include "server/server_int.h"
#include "util/error.h"
#include "unit/testlib.h"

#define PASSWORD "correct horse battery staple"

/* Laptop mode (no account) and team mode (alice, root the administrator, a public repo). */
static struct auth *laptop, *team;

static struct auth *open_auth(const char *name)
{
	struct auth_config cfg = { .pwhash_cost = AUTH_PWHASH_TEST };
	struct auth *a = NULL;
	const char *dir = testlib_path(name);

	assert_int_equal(mkdir(dir, 0700), 0);
	if (auth_open(&a, dir, &cfg) < 0)
		fail_msg("auth_open: %s", error_last());
	return a;
}

static int group_setup(void **state)
{
	if (testlib_setup(state) < 0)
		return -1;
	laptop = open_auth("laptop");
	team = open_auth("team");
	if (auth_user_add(team, NULL, "alice", "Alice", false, PASSWORD, strlen(PASSWORD)) < 0 ||
	    auth_user_add(team, NULL, "root", NULL, true, PASSWORD, strlen(PASSWORD)) < 0 ||
	    auth_repo_set_public(team, NULL, "pub", true) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	auth_close(laptop);
	auth_close(team);
	return testlib_teardown(state);
}

static const struct access_request *in_laptop(void)
{
	static struct access_request in;

	in = (struct access_request){ .auth = laptop, .address = "127.0.0.1" };
	return &in;
}

static int h_dummy(struct req *rq)
{
	(void)rq;
	return 0;
}

#define GET_HEAD .methods = ROUTE_GET | ROUTE_HEAD
static const struct route r_read = { "x", GET_HEAD, .auth = ROUTE_AUTH_NONE,
				     .perm = ROUTE_PERM_READ, .handler = h_dummy, .name = "read" };
static const struct route r_post = { "x", .methods = ROUTE_POST, .auth = ROUTE_AUTH_NONE,
				     .perm = ROUTE_PERM_READ, .max_body = 10, .handler = h_dummy,
				     .name = "post" };
static const struct route r_no_rule = { "x", GET_HEAD, .handler = h_dummy, .name = "no_rule" };
static const struct route r_no_perm = { "x", GET_HEAD, .auth = ROUTE_AUTH_NONE,
					.handler = h_dummy, .name = "no_perm" };
static const struct route r_no_auth = { "x", GET_HEAD, .perm = ROUTE_PERM_READ,
					.handler = h_dummy, .name = "no_auth" };
static const struct route r_admin = { "x", GET_HEAD, .auth = ROUTE_AUTH_NONE,
				      .perm = ROUTE_PERM_ADMIN, .handler = h_dummy, .name = "admin" };
static const struct route r_user = { "x", GET_HEAD, .auth = ROUTE_AUTH_USER,
				     .perm = ROUTE_PERM_READ, .handler = h_dummy, .name = "user" };

/* Laptop mode: the local user holds every right, as before accounts existed. */
static void dispatch_admits_the_local_user_in_laptop_mode(void **state)
{
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	assert_int_equal(route_admit(&v, &c, &r_read, "GET", false, 0, in_laptop()), 0);
	assert_int_equal(v.status, 0);
	assert_int_equal(route_admit(&v, &c, &r_read, "HEAD", false, 0, in_laptop()), 0);
	assert_int_equal(c.who.kind, AUTH_LOCAL);
	assert_true(c.is_authenticated);
	assert_int_equal(c.perms, ROUTE_PERM_READ | ROUTE_PERM_ADMIN);
	assert_int_equal(route_admit(&v, &c, &r_admin, "GET", false, 0, in_laptop()), 0);
	assert_int_equal(route_admit(&v, &c, &r_user, "GET", false, 0, in_laptop()), 0);
	assert_true(access_is_admin(&c));
	access_release(&c);
}

static void dispatch_refuses_other_methods_with_allow(void **state)
{
	static const char *const others[] = { "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "get",
					      "" };
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(route_admit(&v, &c, &r_read, others[i], false, 0, in_laptop()),
				 TRAWL_EUNSUPPORTED);
		assert_int_equal(v.status, 405);
		assert_string_equal(v.code, "method_not_allowed");
		assert_string_equal(v.allow, "GET, HEAD");
	}
	assert_int_equal(route_admit(&v, &c, &r_post, "GET", false, 0, in_laptop()), TRAWL_EUNSUPPORTED);
	assert_string_equal(v.allow, "POST");
}

static void dispatch_enforces_the_body_limit(void **state)
{
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	assert_int_equal(route_admit(&v, &c, &r_read, "GET", true, 1, in_laptop()), TRAWL_EINVAL);
	assert_int_equal(v.status, 400);
	assert_int_equal(route_admit(&v, &c, &r_post, "POST", true, 10, in_laptop()), 0);
	assert_int_equal(route_admit(&v, &c, &r_post, "POST", true, 11, in_laptop()), TRAWL_ELIMIT);
	assert_int_equal(v.status, 413);
}

/* Deny by default: a route with no rule (or half of one) is nobody's. */
static void dispatch_refuses_a_route_without_a_rule(void **state)
{
	const struct route *const unset[] = { &r_no_rule, &r_no_perm, &r_no_auth };
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++) {
		assert_int_equal(route_admit(&v, &c, unset[i], "GET", false, 0, in_laptop()), TRAWL_EPERM);
		assert_int_equal(v.status, 403);
		assert_string_equal(v.code, "forbidden");
		assert_non_null(strstr(error_last(), unset[i]->name));
	}
}

static const struct route r_open = { "x", GET_HEAD, .auth = ROUTE_AUTH_NONE,
				     .perm = ROUTE_PERM_NONE, .handler = h_dummy, .name = "open" };

/* Team mode with the given credentials (any may be NULL). */
static const struct access_request *in_team(const char *cookie, const char *authorization,
					    bool allow_anonymous)
{
	static struct access_request in;

	in = (struct access_request){ .auth = team, .allow_anonymous = allow_anonymous,
				      .cookie = cookie, .authorization = authorization,
				      .address = "127.0.0.1" };
	return &in;
}

/* A Bearer header for a new token of user with scope, in out. */
static void bearer(char out[80], const char *user, unsigned scope)
{
	char secret[AUTH_TOKEN_LEN + 1];
	struct auth_token t;

	if (auth_token_create(&t, secret, team, NULL, user, "test", scope, 0) < 0)
		fail_msg("auth_token_create: %s", error_last());
	snprintf(out, 80, "Bearer %s", secret);
}

static void dispatch_team_mode_needs_credentials(void **state)
{
	const struct route *const needy[] = { &r_read, &r_admin, &r_user };
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	for (size_t i = 0; i < sizeof(needy) / sizeof(needy[0]); i++) {
		assert_int_equal(route_admit(&v, &c, needy[i], "GET", false, 0,
					     in_team(NULL, NULL, false)),
				 TRAWL_EAUTH);
		assert_int_equal(v.status, 401);
		assert_string_equal(v.code, "unauthorized");
		assert_string_equal(v.message, ROUTE_UNAUTHORIZED_MSG);
	}
	assert_int_equal(route_admit(&v, &c, &r_open, "GET", false, 0, in_team(NULL, NULL, false)),
			 0);
	assert_int_equal(c.who.kind, AUTH_ANONYMOUS);
	assert_false(access_is_admin(&c));
}

/* A request an authentication proxy vouches for (the caller has found its peer trusted). */
static struct access_request in_proxy(const char *user, const char *cookie,
				      const char *authorization, bool is_repeated)
{
	struct access_request in = *in_team(cookie, authorization, false);

	in.proxy_user = user;
	in.is_proxy_repeated = is_repeated;
	return in;
}

/*
 * SECURITY: the proxy's user header with a session cookie or a token is ambiguous, as is a
 * header sent twice or a name no account could have: 401, never one of them preferred.
 */
static void dispatch_refuses_an_ambiguous_or_bad_proxy_user(void **state)
{
	static const char session[] = AUTH_COOKIE_NAME
		"=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	char token[80];
	const struct access_request bad[] = {
		in_proxy("alice", session, NULL, false),
		in_proxy("alice", "other=1; " AUTH_COOKIE_NAME "=x", NULL, false),
		in_proxy("alice", NULL, "Bearer trawl_0000", false),
		in_proxy("alice", NULL, NULL, true),
		in_proxy("", NULL, NULL, false),
		in_proxy("../root", NULL, NULL, false),
		in_proxy("alice\r\nX: y", NULL, NULL, false),
	};
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	bearer(token, "alice", AUTH_SCOPE_SEARCH);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct access_request in = bad[i];

		if (i == 2)
			in.authorization = token; /* a valid token is no better */
		if (route_admit(&v, &c, &r_read, "GET", false, 0, &in) != TRAWL_EAUTH)
			fail_msg("case %zu was admitted", i);
		assert_int_equal(v.status, 401);
		assert_int_equal(c.who.kind, AUTH_ANONYMOUS);
		access_release(&c);
	}
}

/* A credential that is not valid is a 401, never anonymous, except where it grants nothing. */
static void dispatch_refuses_a_bad_credential(void **state)
{
	static const char *const bad[] = {
		"Bearer trawl_0000000000000000000000000000000000000000000000000",
		"Basic YWxpY2U6eA==",
		"Bearer ",
	};
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(route_admit(&v, &c, &r_read, "GET", false, 0,
					     in_team(NULL, bad[i], true)),
				 TRAWL_EAUTH);
		assert_int_equal(v.status, 401);
		assert_int_equal(route_admit(&v, &c, &r_open, "GET", false, 0,
					     in_team(NULL, bad[i], true)),
				 0);
		assert_int_equal(c.who.kind, AUTH_ANONYMOUS);
	}
	assert_int_equal(route_admit(&v, &c, &r_read, "GET", false, 0,
				     in_team(AUTH_COOKIE_NAME "=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
					     NULL, true)),
			 TRAWL_EAUTH);
	/* Other cookies of the host are no credential. */
	assert_int_equal(route_admit(&v, &c, &r_read, "GET", false, 0,
				     in_team("theme=dark", NULL, true)),
			 0);
	assert_int_equal(c.who.kind, AUTH_ANONYMOUS);
	access_release(&c);
}

/* The scopes map to the route permissions: a search token cannot administer. */
static void dispatch_maps_token_scopes_to_permissions(void **state)
{
	char search[80], admin[80];
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	bearer(search, "alice", AUTH_SCOPE_SEARCH);
	bearer(admin, "root", AUTH_SCOPE_ADMIN);
	assert_int_equal(route_admit(&v, &c, &r_read, "GET", false, 0, in_team(NULL, search, false)),
			 0);
	assert_int_equal(c.who.kind, AUTH_TOKEN);
	assert_int_equal(c.perms, ROUTE_PERM_READ);
	assert_int_equal(route_admit(&v, &c, &r_admin, "GET", false, 0, in_team(NULL, search, false)),
			 TRAWL_EPERM);
	assert_int_equal(v.status, 403);
	assert_string_equal(v.code, "forbidden");
	assert_int_equal(route_admit(&v, &c, &r_admin, "GET", false, 0, in_team(NULL, admin, false)),
			 0);
	assert_true(access_is_admin(&c));
	access_release(&c);
}

/* --allow-anonymous: anonymous callers read the public repositories, and only those. */
static void access_anonymous_reads_public_repositories_only(void **state)
{
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	assert_int_equal(route_admit(&v, &c, &r_read, "GET", false, 0, in_team(NULL, NULL, true)),
			 0);
	assert_false(c.is_authenticated);
	assert_int_equal(access_check_repo(&c, "pub"), 0);
	assert_int_equal(access_check_repo(&c, "private"), TRAWL_EPERM);
	access_release(&c);
	access_release(&c); /* twice is harmless */
	assert_int_equal(route_admit(&v, &c, &r_admin, "GET", false, 0, in_team(NULL, NULL, true)),
			 TRAWL_EAUTH);
}

/* SECURITY: no readable set, no repository: the lookup fails closed. */
static void access_fails_closed_without_a_readable_set(void **state)
{
	struct access_caller c = { .perms = ROUTE_PERM_READ };

	(void)state;
	assert_null(access_readable_repos(&c));
	assert_int_equal(access_check_repo(&c, "pub"), TRAWL_EIO);
	assert_int_equal(route_error_of(TRAWL_EIO)->status, 500);
}

/* A session: its cookie header and the caller it makes. */
static void sign_in(char cookie_hdr[96], struct access_caller *c)
{
	struct auth_origin from = { .address = "127.0.0.1" };
	struct auth_principal p;
	char cookie[AUTH_SESSION_ID_LEN + 1];
	unsigned retry;
	struct route_verdict v;

	if (auth_sign_in(&p, cookie, &retry, team, "alice", PASSWORD, strlen(PASSWORD), &from) < 0)
		fail_msg("auth_sign_in: %s", error_last());
	snprintf(cookie_hdr, 96, "theme=dark; " AUTH_COOKIE_NAME "=%s", cookie);
	assert_int_equal(route_admit(&v, c, &r_user, "GET", false, 0,
				     in_team(cookie_hdr, NULL, false)),
			 0);
	assert_int_equal(c->who.kind, AUTH_SESSION);
	assert_string_equal(c->who.csrf, p.csrf);
}

/* C1: Origin and Sec-Fetch-Site on every state change; the CSRF token with a cookie. */
static void csrf_refuses_cross_origin_and_tokenless_requests(void **state)
{
	static const struct route r_write = { "x", .methods = ROUTE_POST, .auth = ROUTE_AUTH_USER,
					      .perm = ROUTE_PERM_NONE, .handler = h_dummy,
					      .name = "write" };
	static const struct route r_sign_in = { "x", .methods = ROUTE_POST,
						.auth = ROUTE_AUTH_NONE, .perm = ROUTE_PERM_NONE,
						.handler = h_dummy, .name = "sign_in" };
	const char *own = "http://127.0.0.1:6070", *evil = "https://evil.example";
	struct access_caller s, t = { .who = { .kind = AUTH_TOKEN } };
	char hdr[96], wrong[AUTH_CSRF_LEN + 1];

	(void)state;
	sign_in(hdr, &s);
	memcpy(wrong, s.who.csrf, sizeof(wrong));
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	/* Reading changes nothing: no check. */
	assert_int_equal(access_check_csrf(&s, &r_read, ROUTE_GET, evil, false, "cross-site", NULL),
			 0);
	assert_int_equal(access_check_csrf(&s, &r_write, ROUTE_POST, NULL, false, NULL,
					   s.who.csrf),
			 0);
	assert_int_equal(access_check_csrf(&s, &r_write, ROUTE_DELETE, own, true, "same-origin",
					   s.who.csrf),
			 0);
	assert_int_equal(access_check_csrf(&s, &r_write, ROUTE_PUT, NULL, false, NULL, NULL),
			 TRAWL_EPERM);
	assert_int_equal(access_check_csrf(&s, &r_write, ROUTE_PUT, NULL, false, NULL, wrong),
			 TRAWL_EPERM);
	assert_int_equal(access_check_csrf(&s, &r_write, ROUTE_PUT, NULL, false, NULL, ""),
			 TRAWL_EPERM);
	/* A token cannot ride along by itself: it needs no CSRF token, only the origin rules. */
	assert_int_equal(access_check_csrf(&t, &r_write, ROUTE_POST, NULL, false, NULL, NULL), 0);
	assert_int_equal(access_check_csrf(&t, &r_write, ROUTE_POST, evil, false, NULL, NULL),
			 TRAWL_EPERM);
	assert_string_equal(error_last(), "cross-origin request refused");
	assert_int_equal(access_check_csrf(&t, &r_write, ROUTE_POST, "null", false, NULL, NULL),
			 TRAWL_EPERM);
	assert_int_equal(access_check_csrf(&t, &r_write, ROUTE_POST, NULL, false, "cross-site",
					   NULL),
			 TRAWL_EPERM);
	assert_int_equal(access_check_csrf(&t, &r_write, ROUTE_POST, own, true, "same-site", NULL),
			 TRAWL_EPERM);
	assert_int_equal(access_check_csrf(&t, &r_write, ROUTE_POST, NULL, false, "none", NULL), 0);
	/* Signing in acts for nobody: the origin rules only. */
	assert_int_equal(access_check_csrf(&s, &r_sign_in, ROUTE_POST, NULL, false, NULL, NULL), 0);
	assert_int_equal(access_check_csrf(&s, &r_sign_in, ROUTE_POST, evil, false, NULL, NULL),
			 TRAWL_EPERM);
	access_release(&s);
}

/* Rows sharing a pattern are alternatives by method; Allow names them all. */
static void route_by_method_picks_the_row_of_the_method(void **state)
{
	static const struct route tbl[] = {
		{ "a", .methods = ROUTE_POST, .name = "a_post" },
		{ "a", .methods = ROUTE_DELETE, .name = "a_delete" },
		{ "b", .methods = ROUTE_GET, .name = "b" },
	};
	unsigned all;

	(void)state;
	assert_string_equal(route_by_method(&tbl[0], tbl, 3, ROUTE_DELETE, &all)->name,
			    "a_delete");
	assert_int_equal(all, ROUTE_POST | ROUTE_DELETE);
	assert_string_equal(route_by_method(&tbl[0], tbl, 3, ROUTE_POST, &all)->name, "a_post");
	assert_string_equal(route_by_method(&tbl[0], tbl, 3, ROUTE_GET, &all)->name, "a_post");
	assert_string_equal(route_by_method(&tbl[2], tbl, 3, ROUTE_GET, &all)->name, "b");
	assert_int_equal(all, ROUTE_GET);
}

/*
 * Z1, C1: every route of the server states its rule; no GET or HEAD row takes a body or
 * shares a row with a method that changes state; a route open to everyone reads no index and
 * runs no search; rows sharing a pattern are adjacent (route_by_method reads them so).
 */
static void dispatch_server_routes_all_state_their_rule(void **state)
{
	struct route_verdict v;
	struct access_caller c;
	const unsigned writes = ROUTE_POST | ROUTE_PUT | ROUTE_DELETE;
	size_t n_signs_in = 0;

	(void)state;
	for (size_t i = 0; i < n_server_routes; i++) {
		const struct route *r = &server_routes[i];

		if (r->auth == ROUTE_AUTH_UNSET || r->perm == ROUTE_PERM_UNSET)
			fail_msg("route %s has no access rule", r->name);
		if ((r->methods & (ROUTE_GET | ROUTE_HEAD)) && (r->max_body || (r->methods & writes)))
			fail_msg("route %s: a GET or HEAD row takes a body or changes state",
				 r->name);
		/*
		 * The one documented exception: OpenID Connect's login and callback change state
		 * on a GET (their CSRF guard is the single-use state bound to the browser's
		 * cookie); GET only, never HEAD.
		 */
		if ((r->flags & ROUTE_GET_SIGNS_IN) &&
		    (r->methods != ROUTE_GET || (strcmp(r->name, "sso_login") != 0 &&
						 strcmp(r->name, "sso_callback") != 0)))
			fail_msg("route %s changes state on a GET without being an OIDC route",
				 r->name);
		n_signs_in += (r->flags & ROUTE_GET_SIGNS_IN) != 0;
		if ((r->methods & writes) && r->perm == ROUTE_PERM_READ)
			fail_msg("route %s changes state with the read permission", r->name);
		if (route_is_open(r) && (r->flags & (ROUTE_INDEX | ROUTE_SEARCH)))
			fail_msg("route %s is open to everyone but reads the index", r->name);
		for (size_t k = i + 2; k < n_server_routes; k++)
			if (strcmp(server_routes[k].pattern, r->pattern) == 0 &&
			    strcmp(server_routes[k - 1].pattern, r->pattern) != 0)
				fail_msg("rows of pattern \"%s\" are not adjacent", r->pattern);
		/* The local user of laptop mode may use every route with its own method. */
		assert_int_equal(route_admit(&v, &c, r, (r->methods & ROUTE_GET) ? "GET"
							: (r->methods & ROUTE_POST) ? "POST"
							: (r->methods & ROUTE_PUT) ? "PUT"
							: "DELETE",
					     false, 0, in_laptop()),
				 0);
		access_release(&c);
	}
	assert_int_equal(n_signs_in, 2);
}

/* Team mode without credentials: only the open routes answer. */
static void dispatch_server_routes_refuse_anonymous_callers(void **state)
{
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	for (size_t i = 0; i < n_server_routes; i++) {
		const struct route *r = &server_routes[i];
		const char *m = (r->methods & ROUTE_GET) ? "GET" : (r->methods & ROUTE_POST) ? "POST"
								 : (r->methods & ROUTE_PUT)  ? "PUT"
											     : "DELETE";
		int err = route_admit(&v, &c, r, m, false, 0, in_team(NULL, NULL, false));

		if (route_is_open(r))
			assert_int_equal(err, 0);
		else
			assert_int_equal(v.status, 401);
		access_release(&c);
	}
}

static void error_map_gives_each_code_its_status(void **state)
{
	static const struct {
		int err;
		unsigned status;
		const char *code;
	} cases[] = {
		{ TRAWL_EINVAL, 400, "bad_request" },    { TRAWL_ELIMIT, 400, "bad_request" },
		{ TRAWL_EUNSUPPORTED, 400, "bad_request" }, { TRAWL_ETIMEOUT, 400, "bad_request" },
		{ TRAWL_ENOTFOUND, 404, "not_found" },   { TRAWL_EPERM, 404, "not_found" },
		{ TRAWL_EAUTH, 401, "unauthorized" },    { TRAWL_ENOMEM, 500, "internal" },
		{ TRAWL_EIO, 500, "internal" },          { TRAWL_ECORRUPT, 500, "internal" },
		{ TRAWL_ECANCELED, 500, "internal" },    { TRAWL_EAGAIN, 500, "internal" },
		{ -1000, 500, "internal" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct route_error *e = route_error_of(cases[i].err);

		assert_int_equal(e->status, cases[i].status);
		assert_string_equal(e->code, cases[i].code);
		/* SECURITY: a 500's detail may name files or SQL: it is never shown. */
		if (e->status >= 500)
			assert_string_equal(e->message, "internal error");
	}
}

/* SECURITY: a repository the caller may not read answers exactly as one that does not exist. */
static void error_map_hidden_repository_is_missing(void **state)
{
	const struct route_error *hidden = route_error_of(TRAWL_EPERM);
	const struct route_error *missing = route_error_of(TRAWL_ENOTFOUND);

	(void)state;
	assert_int_equal(hidden->status, missing->status);
	assert_string_equal(hidden->code, missing->code);
	/* Whatever detail the check recorded, the answer says only "not found". */
	assert_string_equal(hidden->message, "not found");
}

static void access_reads_every_repository_in_laptop_mode(void **state)
{
	struct route_verdict v;
	struct access_caller c;
	const struct search_repos *rs;

	(void)state;
	assert_int_equal(route_admit(&v, &c, &r_read, "GET", false, 0, in_laptop()), 0);
	rs = access_readable_repos(&c);
	assert_non_null(rs);
	assert_true(search_repos_has(rs, "any"));
	assert_int_equal(access_check_repo(&c, "any"), 0);
	access_release(&c);
}

/* A body with the fields of a route, as req_json_body sees it. */
static int parse_body(json_t **o, const char *text)
{
	static const struct req_field fields[] = {
		{ "user", REQ_STRING, true },
		{ "admin", REQ_BOOL, false },
		{ "days", REQ_INT, false },
	};
	struct req rq = { 0 };
	int err;

	buf_init(&rq.in_body, 4096);
	assert_int_equal(buf_puts(&rq.in_body, text), 0);
	err = req_json_body(o, &rq, fields, 3);
	buf_dispose(&rq.in_body);
	return err;
}

/* Z6: a body holds only the fields its route names, each of its type. */
static void body_refuses_unknown_fields_and_wrong_types(void **state)
{
	static const struct {
		const char *body;
		const char *msg; /* a part of the message, NULL: accepted */
	} cases[] = {
		{ "{\"user\":\"a\"}", NULL },
		{ "{\"user\":\"a\",\"admin\":true,\"days\":3}", NULL },
		{ "{\"user\":\"a\",\"is_admin\":true}", "unknown field \"is_admin\"" },
		{ "{\"user\":1}", "\"user\" must be a string" },
		{ "{\"user\":\"a\",\"admin\":\"yes\"}", "\"admin\" must be true or false" },
		{ "{\"user\":\"a\",\"days\":1.5}", "\"days\" must be an integer" },
		{ "{\"admin\":true}", "\"user\" is required" },
		{ "{\"user\":\"a\",\"user\":\"b\"}", "not valid JSON" },
		{ "[\"user\"]", "must be a JSON object" },
		{ "{\"user\":\"a\"", "not valid JSON" },
		{ "", "needs a JSON object" },
	};
	json_t *o;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = parse_body(&o, cases[i].body);

		if (!cases[i].msg) {
			assert_int_equal(err, 0);
			assert_string_equal(json_string_value(json_object_get(o, "user")), "a");
			json_decref(o);
			continue;
		}
		assert_int_equal(err, TRAWL_EINVAL);
		assert_null(o);
		if (!strstr(error_last(), cases[i].msg))
			fail_msg("body %s: message \"%s\"", cases[i].body, error_last());
		assert_int_equal(route_error_of(err)->status, 400);
	}
}

static void method_names_and_allow(void **state)
{
	char out[48];

	(void)state;
	assert_int_equal(route_method_of("GET"), ROUTE_GET);
	assert_int_equal(route_method_of("DELETE"), ROUTE_DELETE);
	assert_int_equal(route_method_of("BREW"), 0);
	route_allow(out, sizeof(out), ROUTE_GET | ROUTE_HEAD | ROUTE_POST);
	assert_string_equal(out, "GET, HEAD, POST");
	route_allow(out, 8, ROUTE_GET | ROUTE_HEAD | ROUTE_POST);
	assert_string_equal(out, "GET"); /* truncated at a whole name, always terminated */
	route_allow(out, sizeof(out), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dispatch_admits_the_local_user_in_laptop_mode),
		cmocka_unit_test(dispatch_refuses_other_methods_with_allow),
		cmocka_unit_test(dispatch_enforces_the_body_limit),
		cmocka_unit_test(dispatch_refuses_a_route_without_a_rule),
		cmocka_unit_test(dispatch_team_mode_needs_credentials),
		cmocka_unit_test(dispatch_refuses_a_bad_credential),
		cmocka_unit_test(dispatch_refuses_an_ambiguous_or_bad_proxy_user),
		cmocka_unit_test(dispatch_maps_token_scopes_to_permissions),
		cmocka_unit_test(access_anonymous_reads_public_repositories_only),
		cmocka_unit_test(access_fails_closed_without_a_readable_set),
		cmocka_unit_test(csrf_refuses_cross_origin_and_tokenless_requests),
		cmocka_unit_test(route_by_method_picks_the_row_of_the_method),
		cmocka_unit_test(dispatch_server_routes_all_state_their_rule),
		cmocka_unit_test(dispatch_server_routes_refuse_anonymous_callers),
		cmocka_unit_test(error_map_gives_each_code_its_status),
		cmocka_unit_test(error_map_hidden_repository_is_missing),
		cmocka_unit_test(access_reads_every_repository_in_laptop_mode),
		cmocka_unit_test(body_refuses_unknown_fields_and_wrong_types),
		cmocka_unit_test(method_names_and_allow),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
