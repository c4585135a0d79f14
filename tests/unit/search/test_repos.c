/*
 * Unit tests for search_repos_has (src/search/search.c): a readable set's names are sorted by
 * strcmp and looked up by bisection, so every member is found and nothing else is, at the
 * edges, between neighbours and for prefixes and extensions of members.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "search/search.h"

enum { N = 1000 };

static char names_buf[N][32];
static const char *names[N];

static int cmp_name(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* N names "host/orgK/repoJ.git" (every other J, so the odd ones are missing), sorted. */
static const struct search_repos *make_set(void)
{
	static struct search_repos set;

	for (size_t i = 0; i < N; i++) {
		snprintf(names_buf[i], sizeof(names_buf[i]), "host/org%zu/repo%zu.git", i % 7, 2 * i);
		names[i] = names_buf[i];
	}
	qsort(names, N, sizeof(names[0]), cmp_name);
	set = (struct search_repos){ .names = names, .n_names = N };
	return &set;
}

static void every_member_is_found_and_nothing_else(void **state)
{
	const struct search_repos *set = make_set();
	char name[48];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		assert_true(search_repos_has(set, names[i]));
		snprintf(name, sizeof(name), "host/org%zu/repo%zu.git", i % 7, 2 * i + 1);
		assert_false(search_repos_has(set, name));
		snprintf(name, sizeof(name), "%sx", names[i]);
		assert_false(search_repos_has(set, name));
		snprintf(name, sizeof(name), "%.*s", (int)strlen(names[i]) - 1, names[i]);
		assert_false(search_repos_has(set, name));
	}
	assert_false(search_repos_has(set, ""));
	assert_false(search_repos_has(set, "\x01"));
	assert_false(search_repos_has(set, "\xff"));
	assert_false(search_repos_has(set, "zzz"));
}

static void small_sets(void **state)
{
	static const char *const one[] = { "alpha" };
	static const char *const two[] = { "alpha", "beta" };
	struct search_repos none = { .n_names = 0 }, s1 = { .names = one, .n_names = 1 },
			    s2 = { .names = two, .n_names = 2 }, all = { .is_all = true };

	(void)state;
	assert_false(search_repos_has(&none, "alpha"));
	assert_true(search_repos_has(&s1, "alpha"));
	assert_false(search_repos_has(&s1, "beta"));
	assert_false(search_repos_has(&s1, "aaa"));
	assert_true(search_repos_has(&s2, "alpha"));
	assert_true(search_repos_has(&s2, "beta"));
	assert_false(search_repos_has(&s2, "gamma"));
	assert_false(search_repos_has(&s2, "alphabet"));
	assert_true(search_repos_has(&all, "anything"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_member_is_found_and_nothing_else),
		cmocka_unit_test(small_sets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
