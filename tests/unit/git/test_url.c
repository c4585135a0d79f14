/*
 * Unit tests for src/git/url.c (P1, V2): which URLs the policy accepts, what each flag allows,
 * that anything that can carry a secret (user information, a query, a fragment) is refused
 * without being echoed, how credentials entries match URLs, and which addresses are blocked
 * (IPv4 ranges, IPv6 ranges and IPv6 forms embedding an IPv4 address).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "git/url.h"
#include "util/error.h"

static const struct gurl_policy strict = { false, false, false };
static const struct gurl_policy open_all = { true, true, true };

static int parse(const char *url, const struct gurl_policy *p)
{
	struct gurl u;
	int err = gurl_parse(&u, url, p);

	gurl_dispose(&u);
	return err;
}

/*
 * The transport-helper check scans the URL's leading name characters and must stop at its
 * end: read past the NUL, "ab" followed in memory by "::x" was refused as "ab::x".
 */
static void helper_check_stops_at_the_end_of_the_url(void **state)
{
	static const char mem[] = "ab\0::x";
	struct gurl u;

	(void)state;
	assert_int_equal(gurl_parse(&u, mem, &open_all), 0);
	assert_int_equal(u.kind, GURL_LOCAL);
	gurl_dispose(&u);
	assert_int_equal(parse("a-b_c.d\0::", &open_all), 0);
}

static void allowed_schemes_parse(void **state)
{
	struct gurl u;

	(void)state;
	assert_int_equal(gurl_parse(&u, "https://git.example.com/org/repo.git", &strict), 0);
	assert_int_equal(u.kind, GURL_HTTPS);
	assert_string_equal(u.host, "git.example.com");
	assert_null(u.port);
	gurl_dispose(&u);
	assert_int_equal(gurl_parse(&u, "ssh://git@example.com:2222/repo.git", &strict), 0);
	assert_int_equal(u.kind, GURL_SSH);
	assert_string_equal(u.host, "example.com");
	assert_string_equal(u.port, "2222");
	gurl_dispose(&u);
	assert_int_equal(gurl_parse(&u, "git@github.com:org/repo.git", &strict), 0);
	assert_int_equal(u.kind, GURL_SSH);
	assert_string_equal(u.host, "github.com");
	gurl_dispose(&u);
	assert_int_equal(gurl_parse(&u, "git://[2001:db8::1]:9418/r.git", &strict), 0);
	assert_int_equal(u.kind, GURL_GIT);
	assert_string_equal(u.host, "2001:db8::1");
	assert_string_equal(u.port, "9418");
	gurl_dispose(&u);
	assert_int_equal(gurl_parse(&u, "HTTPS://Example.com/x", &strict), 0);
	gurl_dispose(&u);
}

static void flags_allow_what_they_name(void **state)
{
	(void)state;
	assert_int_equal(parse("http://example.com/x.git", &strict), TRAWL_EPERM);
	assert_non_null(strstr(error_last(), "--allow-insecure"));
	assert_int_equal(parse("http://example.com/x.git",
			       &(struct gurl_policy){ .allow_insecure = true }), 0);
	assert_int_equal(parse("file:///srv/x.git", &strict), TRAWL_EPERM);
	assert_non_null(strstr(error_last(), "--allow-local"));
	assert_int_equal(parse("/srv/x.git", &strict), TRAWL_EPERM);
	assert_int_equal(parse("relative/dir", &strict), TRAWL_EPERM);
	assert_int_equal(parse("file:///srv/x.git", &(struct gurl_policy){ .allow_local = true }), 0);
	assert_int_equal(parse("/srv/x.git", &(struct gurl_policy){ .allow_local = true }), 0);
	assert_int_equal(parse("file://relative", &open_all), TRAWL_EINVAL);
}

static void dangerous_urls_are_refused_whatever_the_flags(void **state)
{
	static const char *const bad[] = {
		"ext::sh -c touch% /tmp/pwned",
		"fd::3",
		"fd::3,4/x",
		"foo::bar",
		"git-remote-x::y",
		"foo://example.com/x",
		"ftp://example.com/x",
		"javascript://x",
		"-uhelp",
		"--upload-pack=touch /tmp/pwned",
		"ssh://-oProxyCommand=touch%20x/y",
		"-oProxyCommand=x:y",
		"https://exa mple.com/x",
		"https://example.com/x\ny",
		"https://example.com/\x1b[2J",
		"https://example.com:99999/x",
		"https://example.com:0/x",
		"https://example.com:80a/x",
		"https:///x",
		"https://[::1/x",
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = parse(bad[i], &open_all);

		if (err != TRAWL_EPERM && err != TRAWL_EINVAL)
			fail_msg("accepted: \"%s\" (%d)", bad[i], err);
	}
	assert_int_equal(parse("ext::sh -c id", &open_all), TRAWL_EPERM);
	assert_non_null(strstr(error_last(), "transport helper"));
}

static void passwords_are_refused_and_not_echoed(void **state)
{
	(void)state;
	assert_int_equal(parse("https://alice:hunter2@example.com/x.git", &open_all), TRAWL_EPERM);
	assert_null(strstr(error_last(), "hunter2"));
	assert_non_null(strstr(error_last(), "DATA/credentials"));
	assert_int_equal(parse("ssh://bob:pw@example.com/x.git", &open_all), TRAWL_EPERM);
	assert_null(strstr(error_last(), "pw@"));
	/* A login name alone is fine for ssh, which needs one. */
	assert_int_equal(parse("ssh://git@example.com/x.git", &open_all), 0);
	assert_int_equal(parse("git@example.com:x.git", &open_all), 0);
}

static void secrets_anywhere_in_urls_are_refused_and_not_echoed(void **state)
{
	static const char *const bad[] = {
		"http://alice%3aPWSECRET@example.com/y.git", /* libgit2 decodes it to alice:PWSECRET */
		"http://ghp_PWSECRET@example.com/z.git",      /* a token as user name: Basic auth */
		"https://PWSECRET@example.com/z.git",
		"https://alice@example.com/x.git",
		"https://@example.com/x.git",
		"git://PWSECRET@example.com/x.git",
		"https://example.com/x.git?access_token=PWSECRET",
		"https://example.com/x.git#PWSECRET",
		"https://example.com?PWSECRET@evil.example/x.git",
		"https://example.com#PWSECRET@evil.example/x.git",
		"https://a@b@example.com/x.git",
		"file://PWSECRET@/srv/x.git",
		"file:///srv/x.git?PWSECRET",
		"ssh://git:PWSECRET@example.com/x.git",
		"ssh://git%3aPWSECRET@example.com/x.git",
		"ssh://git%40PWSECRET@example.com/x.git",
		"ssh://@example.com/x.git",
		"ssh://-oPWSECRET@example.com/x.git",
		"git@example.com:x.git?PWSECRET",
		"git@example.com:x.git#PWSECRET",
		"example.com:PWSECRET@example.com:x.git",
		"git@example.com:team/PWSECRET@x.git",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = parse(bad[i], &open_all);

		if (err != TRAWL_EPERM)
			fail_msg("not refused: \"%s\" (%d)", bad[i], err);
		if (strstr(error_last(), "PWSECRET") || strstr(error_last(), "alice"))
			fail_msg("echoed: \"%s\": %s", bad[i], error_last());
		if (!strstr(error_last(), "DATA/credentials"))
			fail_msg("no pointer to DATA/credentials: %s", error_last());
	}
	/* The message names the scheme and host, the user information masked. */
	assert_int_equal(parse("https://ghp_PWSECRET@git.example.com/z.git", &open_all), TRAWL_EPERM);
	assert_non_null(strstr(error_last(), "https://***@git.example.com/..."));
	/* A '%' never makes a host: "%40" cannot smuggle an '@' through it. */
	assert_int_equal(parse("https://user%40example.com/x.git", &open_all), TRAWL_EINVAL);
	/* Paths are path data: an '@' or an escape there is no user information. */
	assert_int_equal(parse("https://example.com/team/app@v2.git", &open_all), 0);
	assert_int_equal(parse("https://example.com/a%3Fb.git", &open_all), 0);
	/* A local path is file name bytes, not a URL. */
	assert_int_equal(parse("/srv/a?b#c@d", &open_all), 0);
}

static void parsed_parts_are_kept(void **state)
{
	struct gurl u;

	(void)state;
	assert_int_equal(gurl_parse(&u, "ssh://deploy@Example.com:2222/team/app.git", &strict), 0);
	assert_string_equal(u.user, "deploy");
	assert_string_equal(u.path, "/team/app.git");
	assert_string_equal(gurl_port(&u), "2222");
	gurl_dispose(&u);
	assert_int_equal(gurl_parse(&u, "git@example.com:team/app.git", &strict), 0);
	assert_string_equal(u.user, "git");
	assert_string_equal(u.path, "team/app.git");
	assert_string_equal(gurl_port(&u), "22");
	gurl_dispose(&u);
	assert_int_equal(gurl_parse(&u, "https://example.com", &strict), 0);
	assert_null(u.user);
	assert_string_equal(u.path, "");
	assert_string_equal(gurl_port(&u), "443");
	gurl_dispose(&u);
}

/* Whether the credentials entry PREFIX applies to URL (both parsed with every flag on). */
static bool creds_match(const char *prefix, const char *url, size_t *score)
{
	struct gurl p, u;
	size_t sc = 0;
	bool m;

	assert_int_equal(gurl_parse(&p, prefix, &open_all), 0);
	assert_int_equal(gurl_parse(&u, url, &open_all), 0);
	m = gurl_prefix_match(&sc, &p, &u);
	gurl_dispose(&p);
	gurl_dispose(&u);
	if (score)
		*score = sc;
	return m;
}

static void credentials_match_parsed_scheme_host_port_and_segments(void **state)
{
	static const char *const yes[][2] = {
		{ "https://git.example.com", "https://git.example.com/org/x.git" },
		{ "https://git.example.com/", "https://git.example.com/org/x.git" },
		{ "https://GIT.Example.COM/org", "https://git.example.com/org/x.git" },
		{ "https://git.example.com/org/", "https://git.example.com/org/x.git" },
		{ "https://git.example.com/org//", "https://git.example.com//org/x.git/" },
		{ "https://git.example.com:443/org", "https://git.example.com/org/x.git" },
		{ "https://git.example.com/org", "https://git.example.com:443/org/x.git" },
		{ "http://127.0.0.1:70", "http://127.0.0.1:70/x.git" },
		{ "http://127.0.0.1:70", "http://127.0.0.1:070/x.git" },
		{ "https://[2001:db8::7]:8443/", "https://[2001:DB8:0::7]:8443/x.git" },
		{ "ssh://git@git.example.com/", "git@git.example.com:team/app.git" },
		{ "ssh://git.example.com/team", "ssh://deploy@git.example.com/team/app.git" },
		{ "git@git.example.com:", "ssh://git@git.example.com:22/x.git" },
		{ "https://git.example.com/", "https://git.example.com/a/../b/x.git" },
	};
	static const char *const no[][2] = {
		/* The review's two examples: a raw text prefix matched both. */
		{ "http://127.0.0.1:70", "http://127.0.0.1:7099/x.git" },
		{ "https://git.example.com", "https://git.example.com.evil.net/x.git" },
		{ "https://git.example.com", "https://git.example.community/x.git" },
		{ "https://git.example.com/secret", "https://git.example.com/secretive/x.git" },
		{ "https://git.example.com/org/x.git", "https://git.example.com/org/x.git2" },
		{ "https://git.example.com/org/x.git/more", "https://git.example.com/org/x.git" },
		{ "https://git.example.com", "http://git.example.com/x.git" },
		{ "http://git.example.com", "https://git.example.com/x.git" },
		{ "https://git.example.com", "https://git.example.com:8443/x.git" },
		{ "https://git.example.com:8443", "https://git.example.com/x.git" },
		{ "http://127.0.0.1", "http://127.0.0.1:8080/x.git" },
		{ "https://[2001:db8::7]", "https://[2001:db8::8]/x.git" },
		{ "ssh://git@git.example.com/", "ssh://deploy@git.example.com/x.git" },
		{ "ssh://git.example.com/", "https://git.example.com/x.git" },
		{ "ssh://git.example.com:2222/", "git@git.example.com:x.git" },
		{ "https://git.example.com/a", "https://git.example.com/a/../b/x.git" },
		{ "https://git.example.com/a", "https://git.example.com/a/%2E%2e/b/x.git" },
		{ "file:///srv", "file:///srv/x.git" },
	};
	size_t s1, s2;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!creds_match(yes[i][0], yes[i][1], NULL))
			fail_msg("%s should apply to %s", yes[i][0], yes[i][1]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (creds_match(no[i][0], no[i][1], NULL))
			fail_msg("%s must not apply to %s", no[i][0], no[i][1]);
	/* The longest match wins: more segments, then a user name. */
	assert_true(creds_match("https://h.example/", "https://h.example/a/b/x.git", &s1));
	assert_true(creds_match("https://h.example/a/b", "https://h.example/a/b/x.git", &s2));
	assert_true(s2 > s1);
	assert_true(creds_match("ssh://h.example/a", "git@h.example:a/x.git", &s1));
	assert_true(creds_match("ssh://git@h.example/a", "git@h.example:a/x.git", &s2));
	assert_true(s2 > s1);
}

static bool blocked4(const char *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, a, &sa.sin_addr), 1);
	return gurl_addr_blocked((const struct sockaddr *)&sa);
}

static bool blocked6(const char *a)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

	assert_int_equal(inet_pton(AF_INET6, a, &sa.sin6_addr), 1);
	return gurl_addr_blocked((const struct sockaddr *)&sa);
}

static void internal_addresses_are_blocked(void **state)
{
	static const char *const v4_bad[] = {
		"127.0.0.1", "127.255.0.9", "10.0.0.1", "172.16.0.1", "172.31.255.255",
		"192.168.1.1", "169.254.169.254", "169.254.0.1", "0.0.0.0", "100.64.0.1",
		"100.127.255.255", "224.0.0.1", "255.255.255.255", "240.0.0.1", "192.0.0.8",
		"198.18.0.1",
	};
	static const char *const v4_ok[] = {
		"8.8.8.8", "140.82.112.3", "172.15.255.255", "172.32.0.1", "100.63.255.255",
		"100.128.0.1", "169.253.0.1", "192.169.0.1", "11.0.0.1",
	};
	static const char *const v6_bad[] = {
		"::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "fec0::1", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::127.0.0.1",
		"64:ff9b::10.0.0.1", "2002:7f00:1::",
	};
	static const char *const v6_ok[] = {
		"2001:4860:4860::8888", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8",
		"2002:808:808::",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v4_bad) / sizeof(v4_bad[0]); i++)
		if (!blocked4(v4_bad[i]))
			fail_msg("not blocked: %s", v4_bad[i]);
	for (size_t i = 0; i < sizeof(v4_ok) / sizeof(v4_ok[0]); i++)
		if (blocked4(v4_ok[i]))
			fail_msg("blocked: %s", v4_ok[i]);
	for (size_t i = 0; i < sizeof(v6_bad) / sizeof(v6_bad[0]); i++)
		if (!blocked6(v6_bad[i]))
			fail_msg("not blocked: %s", v6_bad[i]);
	for (size_t i = 0; i < sizeof(v6_ok) / sizeof(v6_ok[0]); i++)
		if (blocked6(v6_ok[i]))
			fail_msg("blocked: %s", v6_ok[i]);
}

static void hosts_are_checked_after_resolution(void **state)
{
	(void)state;
	assert_int_equal(gurl_check_host("127.0.0.1", NULL, &strict), TRAWL_EPERM);
	assert_non_null(strstr(error_last(), "--allow-private"));
	assert_int_equal(gurl_check_host("::1", NULL, &strict), TRAWL_EPERM);
	assert_int_equal(gurl_check_host("localhost", NULL, &strict), TRAWL_EPERM);
	assert_int_equal(gurl_check_host("127.0.0.1", NULL, &(struct gurl_policy){
							 .allow_private = true }), 0);
	assert_int_equal(gurl_check_host("no-such-host.invalid", NULL, &strict), TRAWL_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allowed_schemes_parse),
		cmocka_unit_test(helper_check_stops_at_the_end_of_the_url),
		cmocka_unit_test(flags_allow_what_they_name),
		cmocka_unit_test(dangerous_urls_are_refused_whatever_the_flags),
		cmocka_unit_test(passwords_are_refused_and_not_echoed),
		cmocka_unit_test(secrets_anywhere_in_urls_are_refused_and_not_echoed),
		cmocka_unit_test(parsed_parts_are_kept),
		cmocka_unit_test(credentials_match_parsed_scheme_host_port_and_segments),
		cmocka_unit_test(internal_addresses_are_blocked),
		cmocka_unit_test(hosts_are_checked_after_resolution),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
