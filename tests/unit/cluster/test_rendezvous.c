/*
 * Unit tests for src/cluster/rendezvous.c: the searcher list's forms and refusals, and the
 * properties rendezvous hashing is chosen for: an even spread, and a searcher added or removed
 * moves only its own share (about 1/N), all of it to (or from) that searcher.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cluster/cluster.h"
#include "util/error.h"

#define N_REPOS 4000

static void repo_name(char *out, size_t n, unsigned i)
{
	snprintf(out, n, "github.com/org%u/project-%u", i % 97, i);
}

static void set_parses_names_hosts_and_ports(void **state)
{
	struct cluster_set s;

	(void)state;
	assert_int_equal(cluster_set_parse(&s, "s0=127.0.0.1:7070,searcher-1=trawl-searcher-1."
					      "trawl-searcher.ns.svc:7070,v6=[::1]:9"),
			 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0].name, "s0");
	assert_string_equal(s.v[1].host, "trawl-searcher-1.trawl-searcher.ns.svc");
	assert_int_equal(s.v[1].port, 7070);
	assert_string_equal(s.v[2].host, "[::1]");
	assert_int_equal(cluster_set_find(&s, "v6"), 2);
	assert_int_equal(cluster_set_find(&s, "nope"), -1);
	cluster_set_dispose(&s);
}

static void set_refuses_malformed_lists(void **state)
{
	static const char *const bad[] = {
		"", "s0", "s0=", "s0=host", "s0=host:", "s0=host:0", "s0=host:65536", "=h:1",
		"s 0=h:1", "s0=h:1,", "s0=h:1,s0=h:2", "s0=h/x:1", "s0=h:1x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cluster_set s;

		if (cluster_set_parse(&s, bad[i]) != TRAWL_EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_null(s.v);
		assert_true(strstr(error_last(), "--searchers") != NULL);
	}
}

static void pattern_names_searchers_by_number(void **state)
{
	struct cluster_set s;

	(void)state;
	assert_int_equal(cluster_set_pattern(&s, 3, "trawl-searcher-%d.trawl-searcher:7070"), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[2].name, "trawl-searcher-2"); /* the pod's name */
	assert_string_equal(s.v[2].host, "trawl-searcher-2.trawl-searcher");
	cluster_set_dispose(&s);
	assert_int_equal(cluster_set_pattern(&s, 2, "s%dx:7070"), 0);
	assert_string_equal(s.v[1].name, "s1x");
	cluster_set_dispose(&s);
	/* The number outside the first label: no name there. */
	assert_int_equal(cluster_set_pattern(&s, 2, "10.0.0.%d:7070"), 0);
	assert_string_equal(s.v[1].name, "searcher-1");
	assert_string_equal(s.v[1].host, "10.0.0.1");
	cluster_set_dispose(&s);
	assert_int_equal(cluster_set_pattern(&s, 3, "no-number:7070"), TRAWL_EINVAL);
	assert_int_equal(cluster_set_pattern(&s, 3, "a%d%d:7070"), TRAWL_EINVAL);
	assert_int_equal(cluster_set_pattern(&s, 3, "a%s%d:7070"), TRAWL_EINVAL);
	assert_int_equal(cluster_set_pattern(&s, 0, "a%d:7070"), TRAWL_EINVAL);
}

static void owner_is_stable_and_even(void **state)
{
	struct cluster_set s;
	unsigned count[4] = { 0 };
	char name[64];

	(void)state;
	assert_int_equal(cluster_set_parse(&s, "a=h:1,b=h:2,c=h:3,d=h:4"), 0);
	for (unsigned i = 0; i < N_REPOS; i++) {
		repo_name(name, sizeof(name), i);
		count[cluster_owner(&s, name)]++;
	}
	for (size_t k = 0; k < 4; k++)
		if (count[k] < N_REPOS / 4 * 8 / 10 || count[k] > N_REPOS / 4 * 12 / 10)
			fail_msg("searcher %zu owns %u of %d", k, count[k], N_REPOS);
	/* The addresses are not hashed: a searcher that moves keeps its repositories. */
	{
		struct cluster_set t;

		assert_int_equal(cluster_set_parse(&t, "a=x:9,b=y:9,c=z:9,d=w:9"), 0);
		for (unsigned i = 0; i < 200; i++) {
			repo_name(name, sizeof(name), i);
			assert_int_equal(cluster_owner(&s, name), cluster_owner(&t, name));
		}
		cluster_set_dispose(&t);
	}
	/* A fixed answer: the hash is part of the deployment (docs/internals/cluster.md). */
	assert_true(cluster_weight("a", "r") == cluster_weight("a", "r"));
	assert_true(cluster_weight("a", "r") != cluster_weight("ar", ""));
	cluster_set_dispose(&s);
}

/*
 * How many repositories change owner from list a to list b; each that does must leave gone or
 * go to added (NULL: none may).
 */
static unsigned moves(const char *a, const char *b, const char *gone, const char *added)
{
	struct cluster_set sa, sb;
	unsigned moved = 0;
	char name[64];

	assert_int_equal(cluster_set_parse(&sa, a), 0);
	assert_int_equal(cluster_set_parse(&sb, b), 0);
	for (unsigned i = 0; i < N_REPOS; i++) {
		const char *from, *to;

		repo_name(name, sizeof(name), i);
		from = sa.v[cluster_owner(&sa, name)].name;
		to = sb.v[cluster_owner(&sb, name)].name;
		if (strcmp(from, to) == 0)
			continue;
		moved++;
		if (!(gone && strcmp(from, gone) == 0) && !(added && strcmp(to, added) == 0))
			fail_msg("%s moved from %s to %s", name, from, to);
	}
	cluster_set_dispose(&sa);
	cluster_set_dispose(&sb);
	return moved;
}

static void adding_a_searcher_moves_about_a_fifth_to_it(void **state)
{
	unsigned moved = moves("a=h:1,b=h:2,c=h:3,d=h:4", "a=h:1,b=h:2,c=h:3,d=h:4,e=h:5", NULL,
			       "e");

	(void)state;
	if (moved < N_REPOS / 5 * 8 / 10 || moved > N_REPOS / 5 * 12 / 10)
		fail_msg("%u of %d moved, not about a fifth", moved, N_REPOS);
}

static void removing_a_searcher_moves_only_its_share(void **state)
{
	unsigned moved = moves("a=h:1,b=h:2,c=h:3,d=h:4", "a=h:1,b=h:2,d=h:4", "c", NULL);

	(void)state;
	if (moved < N_REPOS / 4 * 8 / 10 || moved > N_REPOS / 4 * 12 / 10)
		fail_msg("%u of %d moved, not about a quarter", moved, N_REPOS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_parses_names_hosts_and_ports),
		cmocka_unit_test(set_refuses_malformed_lists),
		cmocka_unit_test(pattern_names_searchers_by_number),
		cmocka_unit_test(owner_is_stable_and_even),
		cmocka_unit_test(adding_a_searcher_moves_about_a_fifth_to_it),
		cmocka_unit_test(removing_a_searcher_moves_only_its_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
