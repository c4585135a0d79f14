/*
 * Unit tests for src/cluster/dns.c without DNS: the set a headless Service's addresses and
 * their reverse names make (cluster_set_from_addrs), each refusal, and the state between
 * resolutions (cluster_dns_refresh, with a resolver the test gives): a refused resolution keeps
 * the set, a new name joins at once, a name DNS no longer gives stays CLUSTER_DNS_KEEP_S.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "cluster/cluster.h"
#include "util/error.h"

#define SPEC "--searchers-dns trawl-searcher.ns.svc:7070"

static struct cluster_dns_addr a4(const char *addr, const char *name)
{
	struct cluster_dns_addr a = { .family = AF_INET };

	snprintf(a.addr, sizeof(a.addr), "%s", addr);
	snprintf(a.name, sizeof(a.name), "%s", name);
	return a;
}

static struct cluster_dns_addr a6(const char *addr, const char *name)
{
	struct cluster_dns_addr a = a4(addr, name);

	a.family = AF_INET6;
	return a;
}

static void addrs_name_searchers_by_first_label_sorted(void **state)
{
	struct cluster_dns_addr v[] = {
		a4("10.0.0.9", "trawl-searcher-1.trawl-searcher.ns.svc.cluster.local"),
		a4("10.0.0.7", "trawl-searcher-0.trawl-searcher.ns.svc.cluster.local"),
		a6("fd00::5", "trawl-searcher-2.trawl-searcher.ns.svc.cluster.local"),
	};
	struct cluster_set s;
	struct buf b;

	(void)state;
	assert_int_equal(cluster_set_from_addrs(&s, SPEC, v, 3, 7070), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0].name, "trawl-searcher-0");
	assert_string_equal(s.v[0].host, "10.0.0.7");
	assert_int_equal(s.v[0].port, 7070);
	assert_string_equal(s.v[1].name, "trawl-searcher-1");
	assert_string_equal(s.v[2].host, "[fd00::5]");
	/* As --searchers gives it to an indexer's sync: it parses back to the same set. */
	buf_init(&b, BUF_MAX_DEFAULT);
	assert_int_equal(cluster_set_format(&b, &s), 0);
	assert_string_equal(b.ptr, "trawl-searcher-0=10.0.0.7:7070,trawl-searcher-1=10.0.0.9:7070,"
				   "trawl-searcher-2=[fd00::5]:7070");
	{
		struct cluster_set back;

		assert_int_equal(cluster_set_parse(&back, b.ptr), 0);
		assert_int_equal(back.n, 3);
		assert_string_equal(back.v[2].host, "[fd00::5]");
		cluster_set_dispose(&back);
	}
	buf_dispose(&b);
	cluster_set_dispose(&s);
}

static void dual_stack_pod_is_one_searcher(void **state)
{
	struct cluster_dns_addr v[] = {
		a4("10.0.0.7", "s0.svc.ns"),
		a6("fd00::7", "s0.svc.ns"),
		a4("10.0.0.8", "s1.svc.ns"),
	};
	struct cluster_set s;

	(void)state;
	assert_int_equal(cluster_set_from_addrs(&s, SPEC, v, 3, 9), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].name, "s0");
	assert_string_equal(s.v[0].host, "10.0.0.7"); /* its first address */
	cluster_set_dispose(&s);
}

/* Each refusal: the whole set, with a message naming the flag and the culprit. */
static void refuses_what_it_cannot_name(void **state)
{
	static const struct {
		const char *addr, *name, *words;
		int family;
	} bad[] = {
		{ "10.0.0.7", "", "address 10.0.0.7 has no name (reverse DNS)", AF_INET },
		{ "10.0.0.7", "10-0-0-7.trawl-searcher.ns.svc.cluster.local", "not the address",
		  AF_INET },
		{ "fd00::7", "fd00--7.trawl-searcher.ns.svc", "not the address", AF_INET6 },
		{ "10.0.0.7", "bad+name.svc", "no searcher name", AF_INET },
		{ "10.0.0.7", ".svc", "no searcher name", AF_INET },
		{ "10.0.0.7", "-s7.svc", "no searcher name", AF_INET },
		{ "10.0.0.7", "a234567890123456789012345678901234567890123456789012345678901234.x",
		  "no searcher name", AF_INET },
		{ "10.0.0.8", "s0.svc", "the name s0 is given to two addresses, 10.0.0.1 and 10.0.0.8",
		  AF_INET },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cluster_dns_addr v[2] = { a4("10.0.0.1", "s0.svc"),
						 a4(bad[i].addr, bad[i].name) };
		struct cluster_set s;

		v[1].family = bad[i].family;
		if (cluster_set_from_addrs(&s, SPEC, v, 2, 7070) != TRAWL_EINVAL)
			fail_msg("%s (%s) was accepted", bad[i].addr, bad[i].name);
		assert_null(s.v);
		assert_int_equal(s.n, 0);
		if (strncmp(error_last(), SPEC ": ", strlen(SPEC) + 2) != 0 ||
		    !strstr(error_last(), bad[i].words))
			fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].name, error_last(),
				 bad[i].words);
	}
	{
		struct cluster_set s;

		assert_int_equal(cluster_set_from_addrs(&s, SPEC, NULL, 0, 7070), TRAWL_EINVAL);
	}
}

static void init_refuses_bad_specs(void **state)
{
	static const char *const bad[] = { "", "svc", "svc:", "svc:0", "svc:70000", "[::1]:7070",
					   "s v c:1", ":7070" };
	struct cluster_dns d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cluster_dns_init(&d, bad[i], NULL) != TRAWL_EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_true(strstr(error_last(), "is not HOST:PORT") != NULL);
	}
	assert_int_equal(cluster_dns_init(&d, "trawl-searcher.ns.svc.cluster.local:7070", NULL), 0);
	assert_string_equal(d.host, "trawl-searcher.ns.svc.cluster.local");
	assert_int_equal(d.port, 7070);
	assert_true(d.resolve == cluster_dns_lookup);
	cluster_dns_dispose(&d);
}

/* The fake DNS: what it answers next (n < 0: "has no address"). */
static struct cluster_dns_addr fake_v[4];
static int fake_n;

static int fake_resolve(struct cluster_dns_addr **out, size_t *n, const char *host)
{
	assert_string_equal(host, "svc.ns");
	*out = NULL;
	*n = 0;
	if (fake_n < 0) {
		error_set("%s has no address", host);
		return TRAWL_EINVAL;
	}
	*out = calloc((size_t)fake_n + 1, sizeof(**out));
	assert_non_null(*out);
	memcpy(*out, fake_v, (size_t)fake_n * sizeof(**out));
	*n = (size_t)fake_n;
	return 0;
}

static void answer(int n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *addr = va_arg(ap, const char *);

		fake_v[i] = a4(addr, va_arg(ap, const char *));
	}
	va_end(ap);
	fake_n = n;
}

static void names_of(char *out, size_t cap, const struct cluster_set *s)
{
	size_t k = 0;

	out[0] = 0;
	for (size_t i = 0; i < s->n; i++)
		k += (size_t)snprintf(out + k, cap - k, "%s%s@%s", i ? "," : "", s->v[i].name,
				      s->v[i].host);
}

static void refresh_keeps_set_joins_at_once_and_drops_late(void **state)
{
	struct cluster_dns d;
	char got[256];
	bool is_changed;
	int64_t t = 1000;

	(void)state;
	assert_int_equal(cluster_dns_init(&d, "svc.ns:7070", fake_resolve), 0);
	answer(2, "10.0.0.2", "s1.svc.ns", "10.0.0.1", "s0.svc.ns");
	assert_int_equal(cluster_dns_refresh(&d, t, &is_changed), 0);
	assert_true(is_changed);
	names_of(got, sizeof(got), &d.set);
	assert_string_equal(got, "s0@10.0.0.1,s1@10.0.0.2");

	/* The same answer in another order: no change. */
	answer(2, "10.0.0.1", "s0.svc.ns", "10.0.0.2", "s1.svc.ns");
	assert_int_equal(cluster_dns_refresh(&d, t += 10, &is_changed), 0);
	assert_false(is_changed);

	/* Refused (an address without a name, or none at all): the set stays, unchanged. */
	answer(3, "10.0.0.1", "s0.svc.ns", "10.0.0.2", "s1.svc.ns", "10.0.0.9", "");
	assert_int_equal(cluster_dns_refresh(&d, t += 10, &is_changed), TRAWL_EINVAL);
	assert_false(is_changed);
	assert_true(strstr(error_last(), "10.0.0.9 has no name") != NULL);
	fake_n = -1;
	assert_int_equal(cluster_dns_refresh(&d, t += 10, &is_changed), TRAWL_EINVAL);
	assert_string_equal(error_last(), "--searchers-dns svc.ns:7070: svc.ns has no address");
	names_of(got, sizeof(got), &d.set);
	assert_string_equal(got, "s0@10.0.0.1,s1@10.0.0.2");

	/* A new searcher joins at once; one that moved keeps its name at its new address. */
	answer(3, "10.0.0.1", "s0.svc.ns", "10.0.0.7", "s1.svc.ns", "10.0.0.3", "s2.svc.ns");
	assert_int_equal(cluster_dns_refresh(&d, t += 10, &is_changed), 0);
	assert_true(is_changed);
	names_of(got, sizeof(got), &d.set);
	assert_string_equal(got, "s0@10.0.0.1,s1@10.0.0.7,s2@10.0.0.3");

	/* s1 is gone from DNS (its pod is being replaced): it stays, at its last address... */
	answer(2, "10.0.0.1", "s0.svc.ns", "10.0.0.3", "s2.svc.ns");
	assert_int_equal(cluster_dns_refresh(&d, t += 10, &is_changed), 0);
	assert_false(is_changed);
	assert_int_equal(cluster_dns_refresh(&d, t + CLUSTER_DNS_KEEP_S - 11, &is_changed), 0);
	assert_false(is_changed);
	names_of(got, sizeof(got), &d.set);
	assert_string_equal(got, "s0@10.0.0.1,s1@10.0.0.7,s2@10.0.0.3");
	/* ... until CLUSTER_DNS_KEEP_S after DNS last gave it. */
	assert_int_equal(cluster_dns_refresh(&d, t + CLUSTER_DNS_KEEP_S - 10, &is_changed), 0);
	assert_true(is_changed);
	names_of(got, sizeof(got), &d.set);
	assert_string_equal(got, "s0@10.0.0.1,s2@10.0.0.3");
	cluster_dns_dispose(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(addrs_name_searchers_by_first_label_sorted),
		cmocka_unit_test(dual_stack_pod_is_one_searcher),
		cmocka_unit_test(refuses_what_it_cannot_name),
		cmocka_unit_test(init_refuses_bad_specs),
		cmocka_unit_test(refresh_keeps_set_joins_at_once_and_drops_late),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
