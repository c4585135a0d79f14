/* trawl as PID 1: reap and forward (pid1.h). */
#include "util/pid1.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int pid1_supervise(pid_t child)
{
	sigset_t all;

	sigfillset(&all);
	for (;;) {
		int sig = sigwaitinfo(&all, NULL), st, status = -1;
		pid_t p;

		if (sig < 0)
			continue; /* EINTR */
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		/*
		 * Every child that ended, not only the one signalled (SIGCHLDs coalesce), and all of
		 * them before returning: an orphan's zombie would outlive nothing, but the tests see.
		 */
		while ((p = waitpid(-1, &st, WNOHANG)) > 0)
			if (p == child)
				status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (status >= 0)
			return status;
		if (p < 0 && errno == ECHILD)
			return 127; /* cannot happen while child lives: nothing left to wait for */
	}
}

void pid1_init(void)
{
	sigset_t all, old;
	pid_t child;

	if (getpid() != 1)
		return;
	/* Blocked before the fork: no signal sent in between is lost to the child. */
	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &old) != 0)
		return;
	if ((child = fork()) != 0) {
		if (child > 0)
			_exit(pid1_supervise(child));
		sigprocmask(SIG_SETMASK, &old, NULL); /* no fork: trawl runs as PID 1 */
		return;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}
