/* Unit tests for src/server/proxy.c: trusted proxies and the client address (R1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <netinet/in.h>

#include "server/proxy.h"
#include "util/error.h"

static struct sockaddr_storage peer4(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage peer6(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
	return ss;
}

static void nets_parse_v4_v6_and_refuse_typos(void **state)
{
	static const char *const bad[] = { "",           "10.0.0.0/",   "10.0.0.0/33",
					   "10.0.0.1/8", "fd00::1/8",   "::/129",
					   "10.0.0.0/x", "10.0.0.0/8x", "example.com",
					   "[::1]",      "10.0.0.0/-1", "10.0.0/8" };
	struct proxy_net n;

	(void)state;
	assert_int_equal(proxy_net_parse(&n, "10.0.0.0/8"), 0);
	assert_int_equal(n.family, AF_INET);
	assert_int_equal(n.prefix_len, 8);
	assert_int_equal(proxy_net_parse(&n, "192.0.2.7"), 0);
	assert_int_equal(n.prefix_len, 32);
	assert_int_equal(proxy_net_parse(&n, "fd00::/8"), 0);
	assert_int_equal(n.family, AF_INET6);
	assert_int_equal(proxy_net_parse(&n, "::1"), 0);
	assert_int_equal(n.prefix_len, 128);
	assert_int_equal(proxy_net_parse(&n, "0.0.0.0/0"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (proxy_net_parse(&n, bad[i]) != TRAWL_EINVAL)
			fail_msg("accepted --trusted-proxy %s", bad[i]);
}

static void trust_follows_prefixes(void **state)
{
	struct proxy_net nets[3];
	struct proxy_addr a;

	(void)state;
	assert_int_equal(proxy_net_parse(&nets[0], "10.1.0.0/16"), 0);
	assert_int_equal(proxy_net_parse(&nets[1], "2001:db8:aa00::/40"), 0);
	assert_int_equal(proxy_net_parse(&nets[2], "192.0.2.128/25"), 0);
	assert_true(proxy_addr_parse(&a, "10.1.255.3", 10) && proxy_is_trusted(nets, 3, &a));
	assert_true(proxy_addr_parse(&a, "10.2.0.1", 8) && !proxy_is_trusted(nets, 3, &a));
	assert_true(proxy_addr_parse(&a, "192.0.2.200", 11) && proxy_is_trusted(nets, 3, &a));
	assert_true(proxy_addr_parse(&a, "192.0.2.127", 11) && !proxy_is_trusted(nets, 3, &a));
	assert_true(proxy_addr_parse(&a, "2001:db8:aaff::1", 16) && proxy_is_trusted(nets, 3, &a));
	assert_true(proxy_addr_parse(&a, "2001:db8:ab00::1", 16) && !proxy_is_trusted(nets, 3, &a));
	/* An IPv4-mapped address is the IPv4 address. */
	assert_true(proxy_addr_parse(&a, "::ffff:10.1.0.9", 15) && a.family == AF_INET &&
		    proxy_is_trusted(nets, 3, &a));
	assert_false(proxy_is_trusted(nets, 0, &a));
}

/* SECURITY: from an address that is not a trusted proxy, the headers change nothing. */
static void untrusted_peer_headers_are_ignored(void **state)
{
	struct proxy_net net;
	struct sockaddr_storage p = peer4("203.0.113.9");
	struct proxy_client c;

	(void)state;
	assert_int_equal(proxy_net_parse(&net, "10.0.0.0/8"), 0);
	proxy_client_of(&c, &net, 1, (struct sockaddr *)&p, "1.2.3.4, 10.0.0.1", "https");
	assert_string_equal(c.addr, "203.0.113.9");
	assert_false(c.is_forwarded);
	assert_false(c.is_https);
	/* No proxies configured at all. */
	proxy_client_of(&c, NULL, 0, (struct sockaddr *)&p, "1.2.3.4", "https");
	assert_string_equal(c.addr, "203.0.113.9");
	assert_false(c.is_https);
	proxy_client_of(&c, NULL, 0, NULL, NULL, NULL);
	assert_string_equal(c.addr, "");
}

/* SECURITY: the client is the rightmost address that is not a trusted proxy. */
static void trusted_peer_gives_the_rightmost_untrusted_hop(void **state)
{
	struct proxy_net nets[2];
	struct sockaddr_storage p = peer4("10.0.0.2");
	struct sockaddr_storage p6 = peer6("::ffff:10.0.0.2");
	struct proxy_client c;

	(void)state;
	assert_int_equal(proxy_net_parse(&nets[0], "10.0.0.0/8"), 0);
	assert_int_equal(proxy_net_parse(&nets[1], "fd00::/8"), 0);
	/* A client-supplied entry on the left is not believed. */
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p, "6.6.6.6, 198.51.100.7", "https");
	assert_string_equal(c.addr, "198.51.100.7");
	assert_true(c.is_forwarded);
	assert_true(c.is_https);
	/* Proxy chains: trusted hops are skipped. */
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p, "6.6.6.6,198.51.100.7 ,10.9.9.9, fd00::3",
			"http");
	assert_string_equal(c.addr, "198.51.100.7");
	assert_false(c.is_https);
	/* The mapped peer counts as its IPv4 address. */
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p6, "[2001:db8::5]:4711", "HTTPS");
	assert_string_equal(c.addr, "2001:db8::5");
	assert_true(c.is_https);
	/* Every hop trusted: the leftmost. */
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p, "10.3.3.3, 10.4.4.4", NULL);
	assert_string_equal(c.addr, "10.3.3.3");
	/* No header: the proxy itself. */
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p, NULL, NULL);
	assert_string_equal(c.addr, "10.0.0.2");
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p, "", NULL);
	assert_string_equal(c.addr, "10.0.0.2");
	/* Garbage stops the walk at the last trusted hop. */
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p, "198.51.100.7, unknown", NULL);
	assert_string_equal(c.addr, "10.0.0.2");
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p, "x, 10.5.5.5", NULL);
	assert_string_equal(c.addr, "10.5.5.5");
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p, "1.2.3.4,,", NULL);
	assert_string_equal(c.addr, "10.0.0.2");
	/* X-Forwarded-Proto: the proxy's own (last) value counts. */
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p, NULL, "https, http");
	assert_false(c.is_https);
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p, NULL, "http, https ");
	assert_true(c.is_https);
	proxy_client_of(&c, nets, 2, (struct sockaddr *)&p, NULL, "httpsx");
	assert_false(c.is_https);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nets_parse_v4_v6_and_refuse_typos),
		cmocka_unit_test(trust_follows_prefixes),
		cmocka_unit_test(untrusted_peer_headers_are_ignored),
		cmocka_unit_test(trusted_peer_gives_the_rightmost_untrusted_hop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
