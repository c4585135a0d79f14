/*
 * Unit tests for src/util/pid1.c, the loop trawl runs as PID 1: it returns its child's status
 * (128 + the signal's number for a signal), reaps the orphans the kernel hands it (here as a
 * subreaper, PR_SET_CHILD_SUBREAPER, which orphans reach as they reach PID 1), and forwards the
 * signals it is sent to its child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/pid1.h"

static sigset_t saved;

/* As pid1_init: every signal blocked before the fork, the child's mask restored. */
static pid_t fork_blocked(void)
{
	sigset_t all;
	pid_t c;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &saved);
	if ((c = fork()) == 0)
		sigprocmask(SIG_SETMASK, &saved, NULL);
	return c;
}

static void nothing_left_to_reap(void)
{
	int st;

	errno = 0;
	assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	sigprocmask(SIG_SETMASK, &saved, NULL);
}

/* The child's status, and an orphan (its grandchild, whose parent died first) reaped too. */
static void supervise_reaps_orphans_and_returns_the_status(void **state)
{
	pid_t c;

	(void)state;
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	if ((c = fork_blocked()) == 0) {
		pid_t g = fork();

		if (g == 0) {
			if (fork() == 0)
				_exit(0); /* the orphan: its parent exits at once */
			_exit(0);
		}
		waitpid(g, NULL, 0);
		usleep(200 * 1000);
		_exit(7);
	}
	assert_true(c > 0);
	assert_int_equal(pid1_supervise(c), 7);
	nothing_left_to_reap();
}

/* A SIGTERM sent to PID 1 reaches the child, whose death by it is 128 + 15. */
static void supervise_forwards_signals(void **state)
{
	pid_t c;

	(void)state;
	if ((c = fork_blocked()) == 0) {
		for (;;)
			pause();
	}
	assert_true(c > 0);
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	assert_int_equal(pid1_supervise(c), 128 + SIGTERM);
	nothing_left_to_reap();
}

/* Not PID 1: nothing happens (the test runner is never PID 1). */
static void init_is_nothing_unless_pid_1(void **state)
{
	pid_t me = getpid();

	(void)state;
	pid1_init();
	assert_int_equal(getpid(), me);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(supervise_reaps_orphans_and_returns_the_status),
		cmocka_unit_test(supervise_forwards_signals),
		cmocka_unit_test(init_is_nothing_unless_pid_1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
