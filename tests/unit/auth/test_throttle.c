/*
 * Unit tests for src/auth/throttle.c under a clock the tests drive: a burst and then refusal,
 * fractional refill, retry-after rounded up, keys independent of each other, the bound on
 * remembered keys (least recently touched forgotten first), reset, a rule that is off, and
 * admission from several threads at once taking exactly the burst. Counted refusals: a key's
 * count is handed out once a window old (at its next refusal or by a drain), a drain's reports
 * are bounded and sum the rest, and a count whose key is forgotten (the bound on keys, reset)
 * joins that sum rather than being lost; the empty key is a key like any other.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/throttle.h"

#define HOUR_MS 3600000

static struct throttle *make(double burst, double per_hour, size_t max_keys)
{
	struct throttle_rule rule = { .burst = burst, .per_hour = per_hour };
	struct throttle *t = NULL;

	assert_int_equal(throttle_new(&t, &rule, max_keys), 0);
	return t;
}

static void a_burst_then_refusal_with_retry_after(void **state)
{
	struct throttle *t = make(5, 60, 100); /* a token a minute */
	unsigned r = 99;

	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_true(throttle_admit(t, "addr:10.0.0.7", 1000, &r));
		assert_int_equal(r, 0);
	}
	assert_false(throttle_admit(t, "addr:10.0.0.7", 1000, &r));
	assert_int_equal(r, 60);
	assert_false(throttle_check(t, "addr:10.0.0.7", 1000, &r));
	assert_int_equal(r, 60);
	/* 59.001 s later: under a second to go still answers 1, never 0. */
	assert_false(throttle_check(t, "addr:10.0.0.7", 1000 + 59001, &r));
	assert_int_equal(r, 1);
	assert_false(throttle_check(t, "addr:10.0.0.7", 1000 + 30500, &r));
	assert_int_equal(r, 1); /* a clock stepping back refills nothing */
	/* (10 ms of slack: the refill is a sum of fractions.) */
	assert_true(throttle_check(t, "addr:10.0.0.7", 1000 + 60010, &r));
	assert_int_equal(r, 0);
	/* Another key has its own bucket. */
	assert_true(throttle_admit(t, "addr:10.0.0.8", 1000, &r));
	throttle_free(t);
}

static void refill_is_fractional_and_capped_at_the_burst(void **state)
{
	struct throttle *t = make(3, 10, 10); /* a token every 6 minutes */
	unsigned r;
	int64_t now = 0;

	(void)state;
	for (int i = 0; i < 3; i++)
		throttle_take(t, "user:alice", now);
	assert_false(throttle_check(t, "user:alice", now, &r));
	assert_int_equal(r, 360);
	/* Half a token after 3 minutes, and the retry-after counts down the rest. */
	now += (int64_t)3 * 60 * 1000;
	assert_false(throttle_check(t, "user:alice", now, &r));
	assert_int_equal(r, 180);
	now += 100; /* 179.9 s to go: rounded up */
	assert_false(throttle_check(t, "user:alice", now, &r));
	assert_int_equal(r, 180);
	now += (int64_t)3 * 60 * 1000 - 100 + 10;
	assert_true(throttle_admit(t, "user:alice", now, &r));
	assert_false(throttle_admit(t, "user:alice", now, &r));
	/* A day idle refills to the burst, not beyond. */
	now += 24 * (int64_t)HOUR_MS;
	for (int i = 0; i < 3; i++)
		assert_true(throttle_admit(t, "user:alice", now, &r));
	assert_false(throttle_admit(t, "user:alice", now, &r));
	throttle_free(t);
}

static void take_on_an_empty_bucket_does_not_push_the_retry_further(void **state)
{
	struct throttle *t = make(1, 60, 10);
	unsigned r;

	(void)state;
	throttle_take(t, "k", 0);
	for (int i = 0; i < 10; i++)
		throttle_take(t, "k", 0);
	assert_false(throttle_check(t, "k", 0, &r));
	assert_int_equal(r, 60);
	assert_true(throttle_check(t, "k", 60000, &r));
	throttle_free(t);
}

static void checking_takes_nothing_and_stores_nothing(void **state)
{
	struct throttle *t = make(2, 1, 2);
	unsigned r;

	(void)state;
	for (int i = 0; i < 10; i++)
		assert_true(throttle_check(t, "k", 0, &r));
	throttle_take(t, "a", 0);
	throttle_take(t, "b", 0);
	/* Checking many unknown keys evicts neither of the two remembered ones. */
	for (int i = 0; i < 100; i++) {
		char key[32];

		snprintf(key, sizeof(key), "addr:%d", i);
		assert_true(throttle_check(t, key, 0, &r));
	}
	throttle_take(t, "a", 0);
	assert_false(throttle_check(t, "a", 0, &r));
	throttle_take(t, "b", 0);
	assert_false(throttle_check(t, "b", 0, &r));
	throttle_free(t);
}

static void the_least_recently_touched_key_is_forgotten_first(void **state)
{
	struct throttle *t = make(1, 1, 3);
	unsigned r;
	char key[32];

	(void)state;
	throttle_take(t, "a", 0);
	throttle_take(t, "b", 0);
	throttle_take(t, "c", 0);
	/* Touching a makes b the oldest. */
	assert_false(throttle_check(t, "a", 1, &r));
	throttle_take(t, "d", 2);
	assert_true(throttle_check(t, "b", 3, &r)); /* forgotten: a full bucket again */
	assert_false(throttle_check(t, "a", 3, &r));
	assert_false(throttle_check(t, "c", 3, &r));
	assert_false(throttle_check(t, "d", 3, &r));
	/* A flood of new keys leaves only the last three. */
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "flood:%d", i);
		throttle_take(t, key, 10);
	}
	assert_true(throttle_check(t, "a", 10, &r));
	for (int i = 997; i < 1000; i++) {
		snprintf(key, sizeof(key), "flood:%d", i);
		assert_false(throttle_check(t, key, 10, &r));
	}
	assert_true(throttle_check(t, "flood:996", 10, &r));
	throttle_free(t);
}

static void reset_forgets_one_key_and_frees_its_entry(void **state)
{
	struct throttle *t = make(1, 1, 2);
	unsigned r;

	(void)state;
	throttle_take(t, "a", 0);
	throttle_take(t, "b", 0);
	throttle_reset(t, "a");
	throttle_reset(t, "never-seen");
	assert_true(throttle_check(t, "a", 0, &r));
	assert_false(throttle_check(t, "b", 0, &r));
	/* The freed entry is reused: a new key does not evict b. */
	throttle_take(t, "c", 0);
	assert_false(throttle_check(t, "b", 0, &r));
	assert_false(throttle_check(t, "c", 0, &r));
	throttle_reset(t, "b");
	throttle_reset(t, "c");
	for (int i = 0; i < 5; i++) {
		throttle_take(t, "a", 0);
		throttle_reset(t, "a");
	}
	assert_true(throttle_check(t, "a", 0, &r));
	throttle_free(t);
}

static void long_keys_are_kept_apart(void **state)
{
	struct throttle *t = make(1, 1, 10);
	char a[300], b[300];
	unsigned r;

	(void)state;
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = 0;
	memcpy(b, a, sizeof(a));
	b[sizeof(b) - 2] = 'y'; /* differs only past any prefix an entry could hold */
	throttle_take(t, a, 0);
	assert_false(throttle_check(t, a, 0, &r));
	assert_true(throttle_check(t, b, 0, &r));
	throttle_reset(t, a);
	assert_true(throttle_check(t, a, 0, &r));
	throttle_free(t);
}

#define MIN_MS 60000

static void refusals_are_counted_and_handed_out_a_window_later(void **state)
{
	struct throttle *t = make(2, 120, 100); /* two a minute */
	struct throttle_count due;

	(void)state;
	assert_true(throttle_admit_counting(t, "addr:10.0.0.7", 1000, MIN_MS, &due));
	assert_true(throttle_admit_counting(t, "addr:10.0.0.7", 1000, MIN_MS, &due));
	for (int i = 0; i < 5; i++) {
		assert_false(throttle_admit_counting(t, "addr:10.0.0.7", 2000 + i, MIN_MS, &due));
		assert_int_equal(due.count, 0);
	}
	/* Another limit refused it: counted without a token taken. */
	throttle_count(t, "addr:10.0.0.7", 3000, MIN_MS, &due);
	assert_int_equal(due.count, 0);
	/* A window after the first refusal counted, the next refusal hands the count out. */
	assert_true(throttle_admit_counting(t, "addr:10.0.0.7", 2000 + MIN_MS, MIN_MS, &due));
	assert_string_equal(due.key, "addr:10.0.0.7");
	assert_int_equal(due.count, 6);
	assert_int_equal(due.since_ms, 2000);
	assert_int_equal(due.n_keys, 1);
	assert_true(throttle_admit_counting(t, "addr:10.0.0.7", 2000 + MIN_MS, MIN_MS, &due));
	assert_int_equal(due.count, 0); /* handed out once */
	throttle_free(t);
}

static void a_drain_is_bounded_and_sums_the_rest(void **state)
{
	struct throttle *t = make(1, 60, 100);
	struct throttle_count out[4], rest;
	char key[32];
	size_t n;
	uint64_t total = 0;

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		throttle_count(t, key, i < 6 ? 0 : 50000, MIN_MS, &out[0]);
		throttle_count(t, key, 50000, MIN_MS, &out[0]);
	}
	/* At 60 s only the six counts begun at 0 are a window old. */
	n = throttle_drain(t, MIN_MS, MIN_MS, out, 4, &rest);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].count, 2);
		assert_int_equal(out[i].since_ms, 0);
		total += out[i].count;
	}
	assert_int_equal(rest.count, 4);
	assert_int_equal(rest.n_keys, 2);
	assert_string_equal(rest.key, "");
	/* Window 0: everything left, at once. */
	n = throttle_drain(t, MIN_MS, 0, out, 4, &rest);
	assert_int_equal(n, 4);
	assert_int_equal(rest.count, 0);
	n = throttle_drain(t, MIN_MS, 0, out, 4, &rest);
	assert_int_equal(n, 0);
	assert_int_equal(total + 4, 12);
	throttle_free(t);
}

static void a_forgotten_keys_count_is_kept(void **state)
{
	struct throttle *t = make(1, 60, 3);
	struct throttle_count out[8], rest, due;
	char key[32];
	uint64_t total = 0;
	size_t n;

	(void)state;
	/* A flood of 1,000 keys through a table of three: memory stays, counts stay. */
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "addr:%d", i);
		throttle_count(t, key, i, MIN_MS, &due);
		throttle_count(t, key, i, MIN_MS, &due);
	}
	throttle_count(t, "user:bob", 2000, MIN_MS, &due);
	throttle_reset(t, "user:bob");
	n = throttle_drain(t, 5000, 0, out, 8, &rest);
	assert_int_equal(n, 2); /* the last keys kept, bob's went with the reset */
	for (size_t i = 0; i < n; i++)
		total += out[i].count;
	assert_int_equal(total + rest.count, 2001);
	assert_int_equal(rest.n_keys, 999);
	assert_int_equal(rest.since_ms, 0);
	throttle_free(t);
}

static void the_empty_key_is_one_key(void **state)
{
	struct throttle *t = make(3, 1, 4);
	struct throttle_count out[2], rest;
	unsigned r;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(throttle_admit(t, "", 0, &r));
	assert_false(throttle_admit(t, "", 0, &r));
	assert_false(throttle_admit_counting(t, "", 0, MIN_MS, &out[0]));
	assert_int_equal(throttle_drain(t, 0, 0, out, 2, &rest), 1);
	assert_string_equal(out[0].key, "");
	assert_int_equal(out[0].count, 1);
	throttle_free(t);
}

static void a_rule_that_is_off_allows_everything(void **state)
{
	struct throttle *t = make(0, 0, 1);
	unsigned r = 7;

	(void)state;
	for (int i = 0; i < 100; i++)
		assert_true(throttle_admit(t, "k", 0, &r));
	assert_int_equal(r, 0);
	throttle_free(t);
	/* No refill at all: refused with the longest retry-after. */
	t = make(1, 0, 1);
	assert_true(throttle_admit(t, "k", 0, &r));
	assert_false(throttle_admit(t, "k", HOUR_MS, &r));
	assert_int_equal(r, 86400);
	throttle_free(t);
}

static void bad_sizes_are_refused(void **state)
{
	struct throttle_rule rule = { .burst = 1, .per_hour = 1 };
	struct throttle *t = (struct throttle *)&rule;

	(void)state;
	assert_int_not_equal(throttle_new(&t, &rule, 0), 0);
	assert_null(t);
	throttle_free(NULL);
}

struct racer {
	struct throttle *t;
	int admitted;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	unsigned after;

	for (int i = 0; i < 1000; i++)
		r->admitted += throttle_admit(r->t, "shared", 0, &after);
	return NULL;
}

static void concurrent_admission_takes_exactly_the_burst(void **state)
{
	struct racer racers[4];
	pthread_t th[4];
	int total = 0;
	struct throttle *t = make(250, 1, 4);

	(void)state;
	for (int i = 0; i < 4; i++) {
		racers[i] = (struct racer){ .t = t, .admitted = 0 };
		assert_int_equal(pthread_create(&th[i], NULL, race, &racers[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += racers[i].admitted;
	}
	assert_int_equal(total, 250);
	throttle_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_burst_then_refusal_with_retry_after),
		cmocka_unit_test(refill_is_fractional_and_capped_at_the_burst),
		cmocka_unit_test(take_on_an_empty_bucket_does_not_push_the_retry_further),
		cmocka_unit_test(checking_takes_nothing_and_stores_nothing),
		cmocka_unit_test(the_least_recently_touched_key_is_forgotten_first),
		cmocka_unit_test(reset_forgets_one_key_and_frees_its_entry),
		cmocka_unit_test(long_keys_are_kept_apart),
		cmocka_unit_test(refusals_are_counted_and_handed_out_a_window_later),
		cmocka_unit_test(a_drain_is_bounded_and_sums_the_rest),
		cmocka_unit_test(a_forgotten_keys_count_is_kept),
		cmocka_unit_test(the_empty_key_is_one_key),
		cmocka_unit_test(a_rule_that_is_off_allows_everything),
		cmocka_unit_test(bad_sizes_are_refused),
		cmocka_unit_test(concurrent_admission_takes_exactly_the_burst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
