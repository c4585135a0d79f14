/*
 * The injected clock of the accounts' unit tests: struct auth_config.clock = test_clock reads
 * now_ms, which a test moves by hand to cross a throttle window, an expiry or a retention.
 * Atomic: the audit writer's thread reads the clock too (audit_tick) while the test moves it.
 */
#ifndef TRAWL_TESTS_UNIT_AUTH_CLOCK_H
#define TRAWL_TESTS_UNIT_AUTH_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

static _Atomic int64_t now_ms = 1800000000000LL;

static int64_t test_clock(void *arg)
{
	(void)arg;
	return now_ms;
}

#endif
