/*
 * Unit tests for src/util/repourl.c: how a repository URL splits into its parts, what removing
 * its secrets leaves (a login name for ssh, nothing for the others, local paths untouched), and
 * that default names never come from a query or fragment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/repourl.h"

static void part_equal(const char *p, size_t len, const char *want)
{
	if (!want) {
		assert_null(p);
		return;
	}
	assert_non_null(p);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(p, want, len);
}

static void urls_split_into_their_parts(void **state)
{
	struct repourl u;

	(void)state;
	repourl_split(&u, "https://a:b@Host:8443/org/x.git?access_token=T#frag");
	assert_int_equal(u.form, REPOURL_SCHEME);
	part_equal(u.scheme, u.scheme_len, "https");
	part_equal(u.userinfo, u.userinfo_len, "a:b");
	part_equal(u.host, u.host_len, "Host:8443");
	part_equal(u.path, u.path_len, "/org/x.git");
	part_equal(u.query, u.query_len, "?access_token=T");
	part_equal(u.fragment, u.fragment_len, "#frag");
	/* The authority ends at '?' or '#': the '@' after them is no user information. */
	repourl_split(&u, "https://host?x@evil/y");
	part_equal(u.userinfo, u.userinfo_len, NULL);
	part_equal(u.host, u.host_len, "host");
	part_equal(u.query, u.query_len, "?x@evil/y");
	repourl_split(&u, "git@host:team/x.git#f");
	assert_int_equal(u.form, REPOURL_SCP);
	part_equal(u.userinfo, u.userinfo_len, "git");
	part_equal(u.host, u.host_len, "host");
	part_equal(u.path, u.path_len, "team/x.git");
	part_equal(u.fragment, u.fragment_len, "#f");
	assert_true(repourl_is_ssh(&u));
	repourl_split(&u, "/srv/a?b#c");
	assert_int_equal(u.form, REPOURL_PATH);
	part_equal(u.path, u.path_len, "/srv/a?b#c");
	part_equal(u.query, u.query_len, NULL);
	repourl_split(&u, "GIT+SSH://h/x");
	assert_true(repourl_is_ssh(&u));
	repourl_split(&u, "https://h/x");
	assert_false(repourl_is_ssh(&u));
}

static void redaction_removes_every_secret_and_keeps_ssh_login_names(void **state)
{
	static const char *const cases[][2] = {
		{ "http://alice%3aPW@host/y.git", "http://host/y.git" },
		{ "https://ghp_TOKEN@host/z.git", "https://host/z.git" },
		{ "https://host/x.git?access_token=S", "https://host/x.git" },
		{ "https://host/x.git#S", "https://host/x.git" },
		{ "https://u:p@[::1]:8443/x?q#f", "https://[::1]:8443/x" },
		{ "ssh://git:pw@host:2222/x.git", "ssh://git@host:2222/x.git" },
		{ "ssh://git%3apw@host/x.git", "ssh://host/x.git" },
		{ "git@host:team/x.git?S", "git@host:team/x.git" },
		{ "host.com:S@other:x.git", "host.com:***@other:x.git" },
		{ "https://host/x.git", NULL },
		{ "git@host:team/x.git", NULL },
		{ "ssh://git@host/x.git", NULL },
		{ "/srv/a?b#c", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = NULL;

		assert_int_equal(repourl_redact(&r, cases[i][0]), 0);
		if (!cases[i][1] ? r != NULL : !r || strcmp(r, cases[i][1]) != 0)
			fail_msg("%s: got %s, want %s", cases[i][0], r ? r : "(unchanged)",
				 cases[i][1] ? cases[i][1] : "(unchanged)");
		free(r);
	}
}

static void names_never_hold_query_or_fragment_material(void **state)
{
	static const char *const cases[][2] = {
		{ "https://host/org/proj.git", "proj" },
		{ "https://host/org/proj/", "proj" },
		{ "https://host/x.git?access_token=SECRET", "x" },
		{ "https://host/x.git?token=a/SECRET", "x" },
		{ "https://host/x.git#SECRET", "x" },
		{ "https://host/x.git#a:SECRET", "x" },
		{ "git@host:team/app.git", "app" },
		{ "git@host:app.git?SECRET", "app" },
		{ "/srv/a?b", "a?b" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *n = NULL;

		assert_int_equal(repourl_name(&n, cases[i][0]), 0);
		if (strcmp(n, cases[i][1]) != 0)
			fail_msg("%s: name %s, want %s", cases[i][0], n, cases[i][1]);
		free(n);
	}
	/* What an older trawl named a repository after the whole URL. */
	assert_true(repourl_name_is_from_query("x.git?access_token=SECRET",
					       "https://host/x.git?access_token=SECRET"));
	assert_true(repourl_name_is_from_query("SECRET", "https://host/x.git?token=a/SECRET"));
	assert_false(repourl_name_is_from_query("x", "https://host/x.git?access_token=SECRET"));
	assert_false(repourl_name_is_from_query("mine", "https://host/x.git?access_token=SECRET"));
	assert_false(repourl_name_is_from_query("x", "https://host/x.git"));
	assert_false(repourl_name_is_from_query("a?b", "/srv/a?b"));
}

static void login_names_are_plain(void **state)
{
	(void)state;
	assert_true(repourl_user_ok("git", 3));
	assert_true(repourl_user_ok("deploy.bot_1-x", 14));
	assert_false(repourl_user_ok("", 0));
	assert_false(repourl_user_ok("-oProxy", 7));
	assert_false(repourl_user_ok("a%3ab", 5));
	assert_false(repourl_user_ok("a:b", 3));
	assert_false(repourl_user_ok("a@b", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(urls_split_into_their_parts),
		cmocka_unit_test(redaction_removes_every_secret_and_keeps_ssh_login_names),
		cmocka_unit_test(names_never_hold_query_or_fragment_material),
		cmocka_unit_test(login_names_are_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
