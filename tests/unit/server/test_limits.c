/* Unit tests for src/server/limits.c: rate limits by caller and address, the per-caller cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "server/limits.h"
#include "util/error.h"

static void keys_name_users_and_group_ipv6_by_64(void **state)
{
	char k[LIMITS_KEY_MAX];

	(void)state;
	limits_caller_key(k, "alice", "192.0.2.1");
	assert_string_equal(k, "user:alice");
	limits_caller_key(k, "", "192.0.2.1");
	assert_string_equal(k, "addr:192.0.2.1");
	limits_caller_key(k, NULL, "2001:db8:1:2:aaaa:bbbb:cccc:dddd");
	assert_string_equal(k, "addr:2001:db8:1:2::/64");
	limits_addr_key(k, "2001:db8:1:2::9");
	assert_string_equal(k, "addr:2001:db8:1:2::/64");
	limits_addr_key(k, "");
	assert_string_equal(k, "addr:");
}

static void search_rate_counts_caller_and_address(void **state)
{
	struct limits l;
	struct limits_config c = { .rate_search = 1, .max_searches = 4 };
	unsigned wait;
	int64_t t = 1000000;

	(void)state;
	assert_int_equal(limits_init(&l, &c), 0);
	/* A caller holds 4 (burst 4x the rate), then waits for the next. */
	for (int i = 0; i < 4; i++)
		assert_true(limits_admit(&l, LIMITS_SEARCH, "user:a", "addr:10.0.0.1", t, &wait));
	assert_false(limits_admit(&l, LIMITS_SEARCH, "user:a", "addr:10.0.0.1", t, &wait));
	assert_int_equal(wait, 1);
	/* One second later, one more. */
	assert_true(limits_admit(&l, LIMITS_SEARCH, "user:a", "addr:10.0.0.1", t + 1000, &wait));
	assert_false(limits_admit(&l, LIMITS_SEARCH, "user:a", "addr:10.0.0.1", t + 1000, &wait));
	/* Other users behind the same address share its larger bucket (16, 4 a second) ... */
	for (int i = 0; i < 15; i++) {
		char user[32];

		snprintf(user, sizeof(user), "user:u%d", i);
		assert_true(limits_admit(&l, LIMITS_SEARCH, user, "addr:10.0.0.1", t + 1000, &wait));
	}
	/* ... until it is empty too: then even a fresh user waits, and is charged nothing. */
	assert_false(limits_admit(&l, LIMITS_SEARCH, "user:fresh", "addr:10.0.0.1", t + 1000, &wait));
	assert_true(limits_admit(&l, LIMITS_SEARCH, "user:fresh", "addr:10.0.0.2", t + 1000, &wait));
	for (int i = 0; i < 3; i++)
		assert_true(limits_admit(&l, LIMITS_SEARCH, "user:fresh", "addr:10.0.0.3", t + 1000,
					 &wait));
	assert_false(limits_admit(&l, LIMITS_SEARCH, "user:fresh", "addr:10.0.0.4", t + 1000, &wait));
	limits_dispose(&l);
}

static void zero_turns_a_limit_off(void **state)
{
	struct limits l;
	struct limits_config c = {
		.rate_search = 0, .rate_signin = 0, .rate_tokens = 1, .max_searches = 2
	};
	unsigned wait;

	(void)state;
	assert_int_equal(limits_init(&l, &c), 0);
	for (int i = 0; i < 1000; i++) {
		assert_true(limits_admit(&l, LIMITS_SEARCH, "user:a", "addr:x", 1, &wait));
		assert_true(limits_admit(&l, LIMITS_SIGNIN, NULL, "addr:x", 1, &wait));
	}
	assert_true(limits_admit(&l, LIMITS_TOKEN, "user:a", "addr:x", 1, &wait));
	assert_false(limits_admit(&l, LIMITS_TOKEN, "user:a", "addr:y", 1, &wait));
	assert_false(limits_admit(&l, LIMITS_TOKEN, "user:b", "addr:x", 1, &wait));
	assert_int_equal(wait, 3600);
	limits_dispose(&l);
}

static void signin_counts_the_address_only(void **state)
{
	struct limits l;
	struct limits_config c = { .rate_signin = 3, .max_searches = 2 };
	unsigned wait;

	(void)state;
	assert_int_equal(limits_init(&l, &c), 0);
	for (int i = 0; i < 3; i++)
		assert_true(limits_admit(&l, LIMITS_SIGNIN, NULL, "addr:10.0.0.9", 0, &wait));
	assert_false(limits_admit(&l, LIMITS_SIGNIN, NULL, "addr:10.0.0.9", 0, &wait));
	assert_int_equal(wait, 20); /* 3 a minute: one every 20 s */
	assert_true(limits_admit(&l, LIMITS_SIGNIN, NULL, "addr:10.0.0.8", 0, &wait));
	assert_true(limits_admit(&l, LIMITS_SIGNIN, NULL, "addr:10.0.0.9", 20000, &wait));
	limits_dispose(&l);
}

static void slots_cap_each_caller(void **state)
{
	struct limits l;
	struct limits_config c = { .max_searches = 5 };
	size_t s[6];

	(void)state;
	assert_int_equal(limits_init(&l, &c), 0);
	assert_int_equal(l.user_max, 2); /* half of 5, at least 2 */
	assert_int_equal(limits_slot_take(&l, &s[0], "user:a"), 0);
	assert_int_equal(limits_slot_take(&l, &s[1], "user:a"), 0);
	assert_int_equal(s[0], s[1]);
	assert_int_equal(limits_slot_take(&l, &s[2], "user:a"), TRAWL_ELIMIT);
	assert_int_equal(limits_slot_take(&l, &s[2], "user:b"), 0);
	assert_int_not_equal(s[2], s[0]);
	limits_slot_release(&l, s[0]);
	assert_int_equal(limits_slot_take(&l, &s[3], "user:a"), 0);
	assert_int_equal(s[3], s[0]);
	/* A released entry is reused by another caller. */
	limits_slot_release(&l, s[2]);
	assert_int_equal(limits_slot_take(&l, &s[4], "addr:10.0.0.1"), 0);
	assert_int_equal(s[4], s[2]);
	limits_dispose(&l);

	c = (struct limits_config){ .max_searches = 12, .user_max_searches = 1 };
	assert_int_equal(limits_init(&l, &c), 0);
	assert_int_equal(l.user_max, 1);
	assert_int_equal(limits_slot_take(&l, &s[0], "user:a"), 0);
	assert_int_equal(limits_slot_take(&l, &s[1], "user:a"), TRAWL_ELIMIT);
	limits_dispose(&l);
	c = (struct limits_config){ .max_searches = 12 };
	assert_int_equal(limits_init(&l, &c), 0);
	assert_int_equal(l.user_max, 6);
	limits_dispose(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_name_users_and_group_ipv6_by_64),
		cmocka_unit_test(search_rate_counts_caller_and_address),
		cmocka_unit_test(zero_turns_a_limit_off),
		cmocka_unit_test(signin_counts_the_address_only),
		cmocka_unit_test(slots_cap_each_caller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
