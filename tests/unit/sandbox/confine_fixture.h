/*
 * Running a function in a confined child (tests/unit/sandbox/test_confine*.c): the child is
 * forked, confines itself as the case says, runs the function and exits with its result; the
 * parent collects its wait status and everything it wrote to the report descriptor.
 */
#ifndef TRAWL_TESTS_UNIT_SANDBOX_CONFINE_FIXTURE_H
#define TRAWL_TESTS_UNIT_SANDBOX_CONFINE_FIXTURE_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/confine.h"
#include "util/error.h"

/* In the child: on a failed check, says which line to the report and exits 3. */
static int cf_report_fd = -1;
#define CHILD_CHECK(c) \
	do { \
		if (!(c)) { \
			dprintf(cf_report_fd, "check failed at line %d: %s (errno %s)\n", __LINE__, \
				#c, strerror(errno)); \
			_exit(3); \
		} \
	} while (0)

struct cf_run {
	int status;        /* waitpid's */
	char report[1024]; /* what the child wrote to its report descriptor */
	struct confine_status st;
};

/*
 * Forks; the child applies spec (its report_fd replaced by a pipe to the parent), then exits
 * with fn(arg). A child whose confine_apply fails writes "confine failed: MESSAGE" and exits 2.
 */
static inline void cf_run(struct cf_run *out, struct confine_spec spec, int (*fn)(void *), void *arg)
{
	int p[2], st_pipe[2];
	pid_t pid;
	size_t len = 0;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (pipe(p) < 0 || pipe(st_pipe) < 0)
		abort();
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		struct confine_status st;
		int keep[8];
		size_t nk = 0;

		close(p[0]);
		close(st_pipe[0]);
		for (size_t i = 0; i < spec.n_keep_fds && nk + 1 < 8; i++)
			keep[nk++] = spec.keep_fds[i];
		keep[nk++] = st_pipe[1];
		spec.keep_fds = keep;
		spec.n_keep_fds = nk;
		spec.report_fd = p[1];
		cf_report_fd = p[1];
		if (confine_apply(&spec, &st) < 0) {
			dprintf(p[1], "confine failed: %s\n", error_last());
			_exit(2);
		}
		if (write(st_pipe[1], &st, sizeof(st)) != (ssize_t)sizeof(st))
			_exit(4);
		close(st_pipe[1]);
		_exit(fn(arg));
	}
	close(p[1]);
	close(st_pipe[1]);
	if (read(st_pipe[0], &out->st, sizeof(out->st)) < 0)
		memset(&out->st, 0, sizeof(out->st));
	close(st_pipe[0]);
	while ((n = read(p[0], out->report + len, sizeof(out->report) - 1 - len)) > 0)
		len += (size_t)n;
	out->report[len] = 0;
	close(p[0]);
	while (waitpid(pid, &out->status, 0) < 0 && errno == EINTR)
		;
}

static inline bool cf_exited(const struct cf_run *r, int code)
{
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == code)
		return true;
	fprintf(stderr, "child status %#x (exit %d, signal %d), report: %s\n", r->status,
		WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1,
		WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0, r->report);
	return false;
}

static inline bool cf_killed_by_sigsys(const struct cf_run *r)
{
	if (WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGSYS)
		return true;
	fprintf(stderr, "child status %#x (exit %d, signal %d), report: %s\n", r->status,
		WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1,
		WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0, r->report);
	return false;
}

#endif
