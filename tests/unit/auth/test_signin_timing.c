/*
 * A8 by timing: an unknown user, a wrong password and a disabled user take the same time to
 * be refused, compared by the medians of N = 200 sign-ins each, interleaved so that a busy
 * machine slows all three alike. The timing test's password cost (AUTH_PWHASH_TIMING:
 * argon2id, 4 MiB, one pass) keeps 600 sign-ins fast enough for CI while the hash still
 * dominates a sign-in: were the dummy verification of an
 * unknown or disabled user skipped, its median would be a small fraction of a wrong
 * password's (a twentieth, measured), far outside either threshold. Two clocks: the thread's
 * CPU time, which other processes on a busy machine barely disturb, within a quarter of the
 * wrong password's median (the same work); and the wall clock an attacker sees, within a
 * factor of four (on two cores shared with a dozen busy processes a 2 ms sign-in's wall
 * time is 3-5 times its CPU time, and its medians differ by up to half). The injected clock moves an hour between tries, so the throttles (A6) never
 * cut one short.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "auth/auth.h"
#include "unit/auth/clock.h"
#include "unit/testlib.h"
#include "util/error.h"

#define N_TRIES 200
#define PW "plover-quartz-meadow-71"
#define PW_WRONG "tangerine-vortex-sleet-42"

static double clock_s(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One side's durations: wall clock and this thread's CPU time, in seconds. */
struct side {
	double wall[N_TRIES], cpu[N_TRIES];
};

static int by_value(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), by_value);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Times one refused sign-in of user into try i of side (NULL: not kept). */
static void refused_in(struct side *side, size_t i, struct auth *a, const char *user)
{
	const struct auth_origin from = { .address = "10.0.0.1", .user_agent = "timing" };
	struct auth_principal p;
	char cookie[AUTH_SESSION_ID_LEN + 1];
	unsigned retry = 0;
	double wall, cpu;
	int err;

	now_ms += 60LL * 60 * 1000;
	wall = clock_s(CLOCK_MONOTONIC);
	cpu = clock_s(CLOCK_THREAD_CPUTIME_ID);
	err = auth_sign_in(&p, cookie, &retry, a, user, PW_WRONG, strlen(PW_WRONG), &from);
	cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu;
	wall = clock_s(CLOCK_MONOTONIC) - wall;
	if (err != TRAWL_EAUTH)
		fail_msg("signing in as %s: %d (%s), expected a refusal", user, err, error_last());
	if (side) {
		side->wall[i] = wall;
		side->cpu[i] = cpu;
	}
}

/* Whether median x is within factor of median y, either way. */
static bool close_to(double x, double y, double factor)
{
	return x * factor > y && x < y * factor;
}

static void sign_in_failures_take_the_same_time(void **state)
{
	struct auth_config cfg = { .clock = test_clock, .pwhash_cost = AUTH_PWHASH_TIMING };
	static struct side unknown, wrong, disabled;
	struct auth *a = NULL;
	char dir[256];
	double uc, wc, dc, uw, ww, dw;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/timing", testlib_tmpdir());
	if (auth_open(&a, dir, &cfg) < 0)
		fail_msg("auth_open: %s", error_last());
	if (auth_user_add(a, NULL, "alice", NULL, true, PW, strlen(PW)) < 0 ||
	    auth_user_add(a, NULL, "carol", NULL, false, PW, strlen(PW)) < 0 ||
	    auth_user_set_disabled(a, NULL, "carol", true) < 0)
		fail_msg("adding users: %s", error_last());
	refused_in(NULL, 0, a, "nobody"); /* the dummy hash is made on first use */
	for (size_t i = 0; i < N_TRIES; i++) {
		refused_in(&unknown, i, a, "nobody");
		refused_in(&wrong, i, a, "alice");
		refused_in(&disabled, i, a, "carol");
	}
	uc = median(unknown.cpu, N_TRIES);
	wc = median(wrong.cpu, N_TRIES);
	dc = median(disabled.cpu, N_TRIES);
	uw = median(unknown.wall, N_TRIES);
	ww = median(wrong.wall, N_TRIES);
	dw = median(disabled.wall, N_TRIES);
	print_message("A8 medians of %d tries (CPU / wall ms): unknown user %.2f / %.2f, wrong "
		      "password %.2f / %.2f, disabled user %.2f / %.2f\n",
		      N_TRIES, uc * 1e3, uw * 1e3, wc * 1e3, ww * 1e3, dc * 1e3, dw * 1e3);
	assert_true(close_to(uc, wc, 1.25));
	assert_true(close_to(dc, wc, 1.25));
	assert_true(close_to(uw, ww, 4));
	assert_true(close_to(dw, ww, 4));
	auth_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sign_in_failures_take_the_same_time),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
