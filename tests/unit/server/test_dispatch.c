/*
 * Unit tests for the dispatcher's rules (route_admit), the one map from error codes to HTTP
 * answers (route_error_of) and the caller's access (access.c): every route of the server's
 * table states its rule, a route without one is refused, and a hidden repository answers as a
 * missing one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server/access.h"
#include "server/route.h"
#include "server/server_int.h"
#include "util/error.h"

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

static void dispatch_admits_a_route_whose_rule_is_met(void **state)
{
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	assert_int_equal(route_admit(&v, &c, &r_read, "GET", false, 0), 0);
	assert_int_equal(v.status, 0);
	assert_int_equal(route_admit(&v, &c, &r_read, "HEAD", false, 0), 0);
	assert_false(c.is_authenticated);
	assert_true(c.perms & ROUTE_PERM_READ);
}

static void dispatch_refuses_other_methods_with_allow(void **state)
{
	static const char *const others[] = { "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "get",
					      "" };
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(route_admit(&v, &c, &r_read, others[i], false, 0),
				 TRAWL_EUNSUPPORTED);
		assert_int_equal(v.status, 405);
		assert_string_equal(v.code, "method_not_allowed");
		assert_string_equal(v.allow, "GET, HEAD");
	}
	assert_int_equal(route_admit(&v, &c, &r_post, "GET", false, 0), TRAWL_EUNSUPPORTED);
	assert_string_equal(v.allow, "POST");
}

static void dispatch_enforces_the_body_limit(void **state)
{
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	assert_int_equal(route_admit(&v, &c, &r_read, "GET", true, 1), TRAWL_EINVAL);
	assert_int_equal(v.status, 400);
	assert_int_equal(route_admit(&v, &c, &r_post, "POST", true, 10), 0);
	assert_int_equal(route_admit(&v, &c, &r_post, "POST", true, 11), TRAWL_ELIMIT);
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
		assert_int_equal(route_admit(&v, &c, unset[i], "GET", false, 0), TRAWL_EPERM);
		assert_int_equal(v.status, 403);
		assert_string_equal(v.code, "forbidden");
		assert_non_null(strstr(error_last(), unset[i]->name));
	}
}

static void dispatch_refuses_what_the_caller_does_not_hold(void **state)
{
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	/* No accounts yet: nobody holds the admin permission, nobody is signed in. */
	assert_int_equal(route_admit(&v, &c, &r_admin, "GET", false, 0), TRAWL_EPERM);
	assert_int_equal(v.status, 403);
	assert_int_equal(route_admit(&v, &c, &r_user, "GET", false, 0), TRAWL_EAUTH);
	assert_int_equal(v.status, 401);
	assert_string_equal(v.code, "unauthorized");
}

static void dispatch_server_routes_all_state_their_rule(void **state)
{
	struct route_verdict v;
	struct access_caller c;

	(void)state;
	for (size_t i = 0; i < n_server_routes; i++) {
		const struct route *r = &server_routes[i];

		if (r->auth == ROUTE_AUTH_UNSET || r->perm == ROUTE_PERM_UNSET)
			fail_msg("route %s has no access rule", r->name);
		assert_int_equal(route_admit(&v, &c, r, "GET", false, 0), 0);
		assert_int_equal(route_admit(&v, &c, r, "POST", false, 0), TRAWL_EUNSUPPORTED);
		assert_string_equal(v.allow, "GET, HEAD");
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

static void access_reads_every_repository_until_accounts_exist(void **state)
{
	struct access_caller c;
	const struct search_repos *rs;

	(void)state;
	assert_int_equal(access_authenticate(&c, &r_read), 0);
	rs = access_readable_repos(&c);
	assert_non_null(rs);
	assert_true(search_repos_has(rs, "any"));
	assert_int_equal(access_check_repo(&c, "any"), 0);
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
		cmocka_unit_test(dispatch_admits_a_route_whose_rule_is_met),
		cmocka_unit_test(dispatch_refuses_other_methods_with_allow),
		cmocka_unit_test(dispatch_enforces_the_body_limit),
		cmocka_unit_test(dispatch_refuses_a_route_without_a_rule),
		cmocka_unit_test(dispatch_refuses_what_the_caller_does_not_hold),
		cmocka_unit_test(dispatch_server_routes_all_state_their_rule),
		cmocka_unit_test(error_map_gives_each_code_its_status),
		cmocka_unit_test(error_map_hidden_repository_is_missing),
		cmocka_unit_test(access_reads_every_repository_until_accounts_exist),
		cmocka_unit_test(method_names_and_allow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
