/*
 * Unit tests for src/git/url.c (P1, V2): which URLs the policy accepts, what each flag allows,
 * that passwords are refused without being echoed, and which addresses are blocked (IPv4
 * ranges, IPv6 ranges and IPv6 forms embedding an IPv4 address).
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
	assert_non_null(strstr(error_last(), "credentials file"));
	assert_int_equal(parse("ssh://bob:pw@example.com/x.git", &open_all), TRAWL_EPERM);
	/* A user name alone is fine (ssh needs one). */
	assert_int_equal(parse("https://alice@example.com/x.git", &open_all), 0);
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
		cmocka_unit_test(flags_allow_what_they_name),
		cmocka_unit_test(dangerous_urls_are_refused_whatever_the_flags),
		cmocka_unit_test(passwords_are_refused_and_not_echoed),
		cmocka_unit_test(internal_addresses_are_blocked),
		cmocka_unit_test(hosts_are_checked_after_resolution),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
