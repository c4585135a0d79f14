/*
 * Unit tests for helper processes under limits (sandbox/child.h). The helper is this test
 * program itself, started with a mode argument: echo, sleep, alloc, spin or flood.
 *
 * valgrind: no (the helper is /proc/self/exe, which under Valgrind is Valgrind's own tool)
 */
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox/child.h"
#include "util/error.h"

#define SELF "/proc/self/exe"

static int helper_main(const char *mode)
{
	char chunk[4096];
	ssize_t n;

	if (strcmp(mode, "echo") == 0) {
		while ((n = read(0, chunk, sizeof(chunk))) > 0)
			if (write(1, chunk, (size_t)n) != n)
				return 1;
		return 0;
	}
	if (strcmp(mode, "sleep") == 0) {
		sleep(60);
		return 0;
	}
	if (strcmp(mode, "alloc") == 0) {
		size_t len = (size_t)256 << 20;
		char *p;

		/*
		 * As every helper does (sandbox/child.h), it reads its input to the end first: the
		 * limits are set before the input is closed, so that nothing runs unlimited. Without
		 * this read the allocation raced the parent's prlimit() and won on a fast machine.
		 */
		while ((n = read(0, chunk, sizeof(chunk))) > 0)
			;
		p = malloc(len);
		if (!p)
			return 3;
		memset(p, 1, len);
		free(p);
		return 0;
	}
	if (strcmp(mode, "spin") == 0) {
		static atomic_ulong spins;

		for (;;)
			atomic_fetch_add(&spins, 1);
	}
	if (strcmp(mode, "flood") == 0) {
		memset(chunk, 'x', sizeof(chunk));
		for (int i = 0; i < 1024; i++)
			if (write(1, chunk, sizeof(chunk)) < 0)
				return 1;
		return 0;
	}
	return 2;
}

static int run(struct sandbox_result *res, const char *mode, const void *in, size_t in_len,
	       const struct sandbox_limits *lim)
{
	char *argv[] = { "test_child", (char *)mode, NULL };

	return sandbox_run(res, SELF, argv, in, in_len, lim);
}

static void child_gets_input_and_returns_output(void **state)
{
	size_t len = (size_t)3 << 20; /* more than a socket buffer each way */
	char *in = malloc(len);
	struct sandbox_limits lim = { .max_output = len, .deadline_ms = clock_now_ms() + 60000 };
	struct sandbox_result res;

	(void)state;
	assert_non_null(in);
	for (size_t i = 0; i < len; i++)
		in[i] = (char)(i * 7);
	assert_int_equal(run(&res, "echo", in, len, &lim), 0);
	assert_int_equal(res.exit_status, 0);
	assert_int_equal(res.signal, 0);
	assert_int_equal(res.out_len, len);
	assert_memory_equal(res.out, in, len);
	sandbox_result_dispose(&res);
	free(in);
}

static void child_is_killed_at_the_deadline(void **state)
{
	struct sandbox_limits lim = { .max_output = 100, .deadline_ms = clock_now_ms() + 200 };
	struct sandbox_result res;

	(void)state;
	assert_int_equal(run(&res, "sleep", "x", 1, &lim), TRAWL_ETIMEOUT);
	assert_true(res.is_deadline);
	assert_int_equal(res.signal, SIGKILL);
	assert_null(res.out);
}

static void child_is_stopped_at_its_memory_limit(void **state)
{
	struct sandbox_limits lim = { .max_output = 100, .max_memory = (size_t)128 << 20 };
	struct sandbox_result res;

	(void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	skip(); /* the memory limit is not applied under ASan or TSan */
#endif
	assert_int_equal(run(&res, "alloc", NULL, 0, &lim), 0);
	assert_int_equal(res.exit_status, 3); /* its 256 MiB allocation failed */
	sandbox_result_dispose(&res);
}

static void child_is_stopped_at_its_cpu_limit(void **state)
{
	struct sandbox_limits lim = { .max_output = 100,
				      .max_cpu_s = 1,
				      .deadline_ms = clock_now_ms() + 60000 };
	struct sandbox_result res;

	(void)state;
	assert_int_equal(run(&res, "spin", NULL, 0, &lim), 0);
	assert_false(res.is_deadline);
	assert_int_equal(res.signal, SIGXCPU);
	sandbox_result_dispose(&res);
}

static void child_writing_too_much_is_killed(void **state)
{
	struct sandbox_limits lim = { .max_output = 1000, .deadline_ms = clock_now_ms() + 60000 };
	struct sandbox_result res;

	(void)state;
	assert_int_equal(run(&res, "flood", NULL, 0, &lim), TRAWL_ELIMIT);
	assert_non_null(strstr(error_last(), "more than 1000 bytes"));
	assert_null(res.out);
}

static void missing_program_is_an_error(void **state)
{
	struct sandbox_limits lim = { .max_output = 100 };
	struct sandbox_result res;
	char *argv[] = { "nothing", NULL };

	(void)state;
	assert_int_equal(sandbox_run(&res, "/nonexistent/trawl", argv, NULL, 0, &lim), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "/nonexistent/trawl"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(child_gets_input_and_returns_output),
		cmocka_unit_test(child_is_killed_at_the_deadline),
		cmocka_unit_test(child_is_stopped_at_its_memory_limit),
		cmocka_unit_test(child_is_stopped_at_its_cpu_limit),
		cmocka_unit_test(child_writing_too_much_is_killed),
		cmocka_unit_test(missing_program_is_an_error),
	};

	if (argc > 1)
		return helper_main(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
