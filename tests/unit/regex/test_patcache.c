/* Unit tests for the compiled-pattern cache (patcache.h). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "regex/patcache.h"
#include "util/error.h"

static const struct pattern *get(const char *pat, unsigned flags, bool want_plan)
{
	const struct pattern *p = NULL;

	assert_int_equal(patcache_get(&p, pat, strlen(pat), flags, want_plan, 0), 0);
	assert_non_null(p);
	assert_non_null(p->re);
	assert_non_null(p->m);
	return p;
}

static void same_key_shares_one_pattern(void **state)
{
	const struct pattern *a, *b, *c, *d, *e;

	(void)state;
	patcache_clear();
	a = get("foo\\w+bar", 0, true);
	b = get("foo\\w+bar", 0, true);
	assert_ptr_equal(a, b);
	assert_non_null(a->plan);
	/* Other flags, no plan, another text or a prefix: other entries. */
	c = get("foo\\w+bar", REGEX_ICASE, true);
	d = get("foo\\w+bar", 0, false);
	e = get("foo\\w+ba", 0, true);
	assert_ptr_not_equal(c, a);
	assert_ptr_not_equal(d, a);
	assert_null(d->plan);
	assert_ptr_not_equal(e, a);
	patcache_release(a);
	patcache_release(b);
	patcache_release(c);
	patcache_release(d);
	patcache_release(e);
	/* Still cached after the last release. */
	a = get("foo\\w+bar", 0, true);
	assert_ptr_equal(a, b);
	patcache_release(a);
	patcache_clear();
}

static void errors_are_not_cached(void **state)
{
	const struct pattern *p = (const struct pattern *)1;

	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(patcache_get(&p, "ab(c", 4, 0, true, 0), TRAWL_EINVAL);
		assert_null(p);
		/* The message comes from the parser each time, with its position. */
		assert_string_equal(error_last(), "unclosed group");
		assert_int_equal(error_pos(), 2);
		error_set("another error in between");
	}
}

/* The texts of the patterns of the eviction tests: "pN". */
static const struct pattern *get_n(int n)
{
	char pat[16];

	snprintf(pat, sizeof(pat), "p%d", n);
	return get(pat, 0, false);
}

static uint64_t compiled(void)
{
	uint64_t hits, n;

	patcache_stats(&hits, &n);
	return n;
}

static void evicts_least_recently_used_unheld(void **state)
{
	const struct pattern *held, *again;
	uint64_t before;

	(void)state;
	patcache_clear();
	patcache_release(get_n(0));
	held = get_n(1); /* held throughout: never evicted */
	for (int i = 2; i < PATCACHE_ENTRIES; i++)
		patcache_release(get_n(i));
	/* Full. Touch p2; p0 is now the least recently used unheld entry. */
	before = compiled();
	patcache_release(get_n(2));
	patcache_release(get_n(0));
	assert_int_equal(compiled(), before); /* both were cached */
	patcache_release(get_n(3));
	patcache_release(get_n(PATCACHE_ENTRIES)); /* evicts p4, the oldest unheld now */
	before = compiled();
	patcache_release(get_n(0));
	patcache_release(get_n(2));
	patcache_release(get_n(3));
	again = get_n(1);
	assert_ptr_equal(again, held);
	assert_int_equal(compiled(), before);
	patcache_release(get_n(4)); /* evicted: compiled anew */
	assert_int_equal(compiled(), before + 1);
	patcache_release(again);
	patcache_release(held);
	patcache_clear();
}

static void full_of_held_patterns_leaves_new_ones_to_caller(void **state)
{
	const struct pattern *held[PATCACHE_ENTRIES], *extra, *extra2;

	(void)state;
	patcache_clear();
	for (int i = 0; i < PATCACHE_ENTRIES; i++)
		held[i] = get_n(i);
	extra = get_n(PATCACHE_ENTRIES);
	extra2 = get_n(PATCACHE_ENTRIES);
	/* Not cached: each caller gets its own, freed at its release (ASan checks the frees). */
	assert_ptr_not_equal(extra, extra2);
	patcache_release(extra);
	patcache_release(extra2);
	for (int i = 0; i < PATCACHE_ENTRIES; i++)
		patcache_release(held[i]);
	patcache_clear();
}

static void clear_keeps_held_patterns_alive(void **state)
{
	const struct pattern *p, *q;

	(void)state;
	p = get("held", 0, true);
	patcache_clear();
	/* p stays usable; a new get compiles another, and p is freed at its release. */
	assert_non_null(p->m);
	q = get("held", 0, true);
	assert_ptr_not_equal(p, q);
	patcache_release(p);
	patcache_release(q);
	patcache_clear();
}

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		const struct pattern *p = NULL;
		char pat[16];

		snprintf(pat, sizeof(pat), "t%d\\w", i % (PATCACHE_ENTRIES + 8));
		if (patcache_get(&p, pat, strlen(pat), 0, i % 2 == 0, 0) < 0 || !p || !p->m)
			return (void *)1;
		patcache_release(p);
	}
	return NULL;
}

static void threads_share_safely(void **state)
{
	pthread_t t[4];
	void *ret;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	patcache_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_key_shares_one_pattern),
		cmocka_unit_test(errors_are_not_cached),
		cmocka_unit_test(evicts_least_recently_used_unheld),
		cmocka_unit_test(full_of_held_patterns_leaves_new_ones_to_caller),
		cmocka_unit_test(clear_keeps_held_patterns_alive),
		cmocka_unit_test(threads_share_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
