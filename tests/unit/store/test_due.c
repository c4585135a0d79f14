/*
 * Unit tests for src/store/due.c: the schedule by recency of change. A repository is due again
 * after half the time it had been unchanged at its last sync, within the minimum and maximum;
 * never synced, at once; failed, after its backoff; hostile registry values never overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/due.h"
#include "util/error.h"

static const struct store_due_rule rule = { .min_s = 600, .max_s = 8 * 3600LL };

static void interval_is_half_the_idle_time_within_bounds(void **state)
{
	(void)state;
	/* Changed at its last sync: the minimum. */
	assert_int_equal(store_due_interval(1000000, 1000000, &rule), 600);
	/* Idle for 10 minutes: 5 minutes, below the minimum. */
	assert_int_equal(store_due_interval(1000600, 1000000, &rule), 600);
	/* Idle for an hour: 30 minutes. */
	assert_int_equal(store_due_interval(1003600, 1000000, &rule), 1800);
	/* Idle for 6 hours: 3 hours. */
	assert_int_equal(store_due_interval(1000000 + 6 * 3600, 1000000, &rule), 3 * 3600);
	/* Idle for a month: the maximum. */
	assert_int_equal(store_due_interval(1000000 + 30 * 86400, 1000000, &rule), 8 * 3600);
	/* Never changed (0) and synced long after the epoch: the maximum. */
	assert_int_equal(store_due_interval(1700000000, 0, &rule), 8 * 3600);
	/* A change recorded after the sync (a clock set back): as changed at the sync. */
	assert_int_equal(store_due_interval(1000000, 2000000, &rule), 600);
}

static void interval_grows_monotonically_with_idle_time(void **state)
{
	int64_t prev = 0;

	(void)state;
	for (int64_t idle = 0; idle < 40 * 3600LL; idle += 97) {
		int64_t iv = store_due_interval(5000000 + idle, 5000000, &rule);

		assert_true(iv >= prev);
		assert_true(iv >= rule.min_s && iv <= rule.max_s);
		prev = iv;
	}
}

static void never_synced_is_due_at_once(void **state)
{
	struct store_repo r = { .state = STORE_STATE_NEW };

	(void)state;
	assert_int_equal(store_due_at(&r, &rule), 0);
	assert_true(store_due(&r, &rule, 1));
}

static void indexed_is_due_after_its_interval(void **state)
{
	struct store_repo r = {
		.state = STORE_STATE_INDEXED, .last_sync = 1003600, .last_changed = 1000000,
	};

	(void)state;
	assert_int_equal(store_due_at(&r, &rule), 1003600 + 1800);
	assert_false(store_due(&r, &rule, 1003600 + 1799));
	assert_true(store_due(&r, &rule, 1003600 + 1800));
}

static void failed_waits_out_its_backoff(void **state)
{
	struct store_repo r = {
		.state = STORE_STATE_ERROR, .last_sync = 1000000, .last_changed = 1,
		.next_attempt = 1000060,
	};

	(void)state;
	assert_int_equal(store_due_at(&r, &rule), 1000060);
	assert_false(store_due(&r, &rule, 1000059));
	assert_true(store_due(&r, &rule, 1000060));
}

/* "Sync now": due at once, an indexed repository's interval and a failed one's backoff alike. */
static void a_requested_sync_is_due_at_once(void **state)
{
	struct store_repo idle = {
		.state = STORE_STATE_INDEXED, .last_sync = 1003600, .last_changed = 1000000,
		.sync_requested = 1003601,
	};
	struct store_repo failing = {
		.state = STORE_STATE_ERROR, .last_sync = 1000000, .last_changed = 1,
		.next_attempt = 1003600, .sync_requested = 1000001,
	};

	(void)state;
	assert_int_equal(store_due_at(&idle, &rule), 0);
	assert_true(store_due(&idle, &rule, 1003601));
	assert_int_equal(store_due_at(&failing, &rule), 0);
	assert_true(store_due(&failing, &rule, 1000001));
}

static void hostile_values_do_not_overflow(void **state)
{
	struct store_repo r = {
		.state = STORE_STATE_INDEXED, .last_sync = INT64_MAX - 5, .last_changed = INT64_MIN,
	};

	(void)state;
	assert_int_equal(store_due_interval(INT64_MAX, INT64_MIN, &rule), rule.max_s);
	assert_int_equal(store_due_at(&r, &rule), INT64_MAX);
	assert_false(store_due(&r, &rule, 1700000000));
}

static void rule_bounds_are_checked(void **state)
{
	const struct store_due_rule zero = { 0, 10 }, inverted = { 60, 59 }, same = { 60, 60 };

	(void)state;
	assert_int_equal(store_due_check(&rule), 0);
	assert_int_equal(store_due_check(&same), 0);
	assert_int_equal(store_due_check(&zero), TRAWL_EINVAL);
	assert_int_equal(store_due_check(&inverted), TRAWL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interval_is_half_the_idle_time_within_bounds),
		cmocka_unit_test(interval_grows_monotonically_with_idle_time),
		cmocka_unit_test(never_synced_is_due_at_once),
		cmocka_unit_test(indexed_is_due_after_its_interval),
		cmocka_unit_test(failed_waits_out_its_backoff),
		cmocka_unit_test(a_requested_sync_is_due_at_once),
		cmocka_unit_test(hostile_values_do_not_overflow),
		cmocka_unit_test(rule_bounds_are_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
