/*
 * The permission matrix of the route table (Z1, deny by default): every row of server_routes[]
 * with its methods and access rule, and what each kind of caller gets from the real checks
 * (access_authorize, then access_check_repo for a route that names a repository), compared
 * with the checked-in tests/unit/server/route_matrix.expected. A route added, removed or given
 * another rule without the expected matrix changing with it fails here, so every change of
 * who may call what is a visible line in a diff.
 *
 *     build/release/tests/unit/server/test_route_matrix --print   (the matrix as computed)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "server/access.h"
#include "server/route.h"
#include "server/server_int.h"
#include "util/buf.h"
#include "util/error.h"

#define EXPECTED "tests/unit/server/route_matrix.expected"

/* The repository the reader may read and the plain user may not. */
static const char *const granted[] = { "private" };

enum { ANON, ANON_PUBLIC, USER, READER, ADMIN, N_ROLES };
static const char *const role_names[N_ROLES] = { "anonymous", "anon+public", "user", "reader",
						  "admin" };

/* The callers as access_authenticate leaves them in team mode, with their readable sets. */
static void roles_init(struct access_caller c[N_ROLES], struct search_repos sets[N_ROLES])
{
	sets[ANON] = (struct search_repos){ .n_names = 0 };
	sets[ANON_PUBLIC] = (struct search_repos){ .n_names = 0 };
	sets[USER] = (struct search_repos){ .n_names = 0 };
	sets[READER] = (struct search_repos){ .names = granted, .n_names = 1 };
	sets[ADMIN] = (struct search_repos){ .is_all = true };
	for (int i = 0; i < N_ROLES; i++) {
		bool is_signed_in = i >= USER;

		c[i] = (struct access_caller){
			.is_authenticated = is_signed_in,
			.perms = i == ANON ? 0u
			       : i == ADMIN ? (unsigned)(ROUTE_PERM_READ | ROUTE_PERM_ADMIN)
					    : (unsigned)ROUTE_PERM_READ,
			.allow_anonymous = i == ANON_PUBLIC,
			.readable = &sets[i],
			.is_readable_done = true,
		};
		c[i].who.kind = is_signed_in ? AUTH_SESSION : AUTH_ANONYMOUS;
		c[i].who.is_admin = i == ADMIN;
		c[i].who.scopes = i == ADMIN ? (unsigned)(AUTH_SCOPE_SEARCH | AUTH_SCOPE_ADMIN)
				: is_signed_in ? (unsigned)AUTH_SCOPE_SEARCH : 0u;
	}
}

/*
 * What caller c gets from route r: 401, 403, 404 (no handler, or a repository it may not
 * read) or "ok" (its handler runs; a READ route then shows only the readable repositories).
 */
static const char *cell(struct access_caller *c, const struct route *r)
{
	int err;

	if (!r->handler)
		return "404";
	if ((err = access_authorize(c, r)) < 0)
		return err == TRAWL_EAUTH ? "401" : "403";
	/* A {name} on a READ route is a repository: the private one, here. */
	if (r->perm == ROUTE_PERM_READ && strstr(r->pattern, "{name}") &&
	    access_check_repo(c, "private") < 0)
		return "404";
	return "ok";
}

static const char *auth_name(enum route_auth a)
{
	return a == ROUTE_AUTH_NONE ? "none" : a == ROUTE_AUTH_USER ? "user" : "UNSET";
}

static const char *perm_name(enum route_perm p)
{
	switch (p) {
	case ROUTE_PERM_NONE:
		return "none";
	case ROUTE_PERM_READ:
		return "read";
	case ROUTE_PERM_ADMIN:
		return "admin";
	default:
		return "UNSET";
	}
}

static void methods_text(char *out, size_t n, unsigned m)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = { { ROUTE_GET, "GET" },	  { ROUTE_HEAD, "HEAD" }, { ROUTE_POST, "POST" },
		      { ROUTE_PUT, "PUT" },	  { ROUTE_DELETE, "DELETE" } };
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((m & names[i].bit) && len + strlen(names[i].name) + 2 < n)
			len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "",
						names[i].name);
}

static const char header[] =
	"# The permission matrix of src/server/handlers.c's server_routes[] in team mode (an account\n"
	"# exists), checked by tests/unit/server/test_route_matrix.c: one line per row, in table\n"
	"# order. Cells: what the caller gets before the handler does anything else: 401 (sign in),\n"
	"# 403 (not allowed), 404 (no such route, or the private repository a {name} route names\n"
	"# when the caller may not read it: as if missing), ok (the handler runs; READ routes then\n"
	"# show only the caller's readable repositories). Callers: anonymous; anon+public (anonymous\n"
	"# under --allow-anonymous); user (signed in, no grant); reader (signed in, granted the\n"
	"# private repository); admin. Regenerate with\n"
	"#   build/release/tests/unit/server/test_route_matrix --print > " EXPECTED "\n"
	"# and review the diff: every changed cell is a change of who may do what.\n";

/* Ends a line without trailing spaces: the file is compared and reviewed line by line. */
static void line_end(struct buf *b)
{
	while (b->len && b->ptr[b->len - 1] == ' ')
		b->ptr[--b->len] = '\0';
	assert_int_equal(buf_putc(b, '\n'), 0);
}

/* The matrix as the table and the access checks give it, one line per route. */
static void matrix_render(struct buf *b)
{
	struct access_caller c[N_ROLES];
	struct search_repos sets[N_ROLES];
	char methods[64];

	roles_init(c, sets);
	assert_int_equal(buf_printf(b, "%-30s %-20s %-16s %-5s %-6s", "#pattern", "name",
				    "methods", "auth", "perm"), 0);
	for (int k = 0; k < N_ROLES; k++)
		assert_int_equal(buf_printf(b, " %-11s", role_names[k]), 0);
	line_end(b);
	for (size_t i = 0; i < n_server_routes; i++) {
		const struct route *r = &server_routes[i];

		methods_text(methods, sizeof(methods), r->methods);
		assert_int_equal(buf_printf(b, "/%-29s %-20s %-16s %-5s %-6s", r->pattern, r->name,
					    methods, auth_name(r->auth), perm_name(r->perm)), 0);
		for (int k = 0; k < N_ROLES; k++)
			assert_int_equal(buf_printf(b, " %-11s", cell(&c[k], r)), 0);
		line_end(b);
	}
}

/* The expected file without its comment lines (those starting "# "). */
static char *expected_load(void)
{
	FILE *f = fopen(EXPECTED, "r");
	struct buf b;
	char line[512];

	if (!f)
		fail_msg("cannot open %s (run the tests from the repository's root)", EXPECTED);
	buf_init(&b, 1 << 20);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "# ", 2) != 0 && line[0] != '\n')
			assert_int_equal(buf_puts(&b, line), 0);
	fclose(f);
	return b.ptr ? b.ptr : strdup("");
}

/* The first line where a and b differ, both shown, in the failure message. */
static void assert_same_lines(const char *want, const char *got)
{
	for (size_t line = 1;; line++) {
		size_t nw = strcspn(want, "\n"), ng = strcspn(got, "\n");

		if (nw != ng || memcmp(want, got, nw) != 0)
			fail_msg("the route table and %s differ at matrix line %zu:\n"
				 "  expected: %.*s\n  computed: %.*s\n"
				 "update the file with test_route_matrix --print (see its header)",
				 EXPECTED, line, (int)nw, want, (int)ng, got);
		if (!want[nw])
			return;
		want += nw + 1;
		got += ng + 1;
	}
}

static void route_matrix_matches_the_checked_in_file(void **state)
{
	struct buf got;
	char *want = expected_load();

	(void)state;
	buf_init(&got, 1 << 20);
	matrix_render(&got);
	assert_same_lines(want, got.ptr);
	buf_dispose(&got);
	free(want);
}

/* The checks the matrix relies on hold for every row, whatever the file says. */
static void route_matrix_every_row_is_closed_by_default(void **state)
{
	struct access_caller c[N_ROLES];
	struct search_repos sets[N_ROLES];

	(void)state;
	roles_init(c, sets);
	for (size_t i = 0; i < n_server_routes; i++) {
		const struct route *r = &server_routes[i];

		if (r->auth == ROUTE_AUTH_UNSET || r->perm == ROUTE_PERM_UNSET)
			fail_msg("route /%s (%s) has no access rule", r->pattern, r->name);
		/* SECURITY: nothing that changes state is open to a caller who is not signed in. */
		if ((r->methods & (ROUTE_POST | ROUTE_PUT | ROUTE_DELETE)) && r->handler &&
		    r->perm != ROUTE_PERM_NONE)
			assert_string_not_equal(cell(&c[ANON], r), "ok");
		/* An admin route is an admin's only. */
		if (r->perm == ROUTE_PERM_ADMIN && r->handler) {
			assert_string_equal(cell(&c[USER], r), "403");
			assert_string_equal(cell(&c[READER], r), "403");
			assert_string_equal(cell(&c[ANON_PUBLIC], r), "401");
			assert_string_equal(cell(&c[ADMIN], r), "ok");
		}
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(route_matrix_matches_the_checked_in_file),
		cmocka_unit_test(route_matrix_every_row_is_closed_by_default),
	};

	if (argc == 2 && strcmp(argv[1], "--print") == 0) {
		struct buf b;

		buf_init(&b, 1 << 20);
		matrix_render(&b);
		fputs(header, stdout);
		fputs(b.ptr, stdout);
		buf_dispose(&b);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
