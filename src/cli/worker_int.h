/*
 * What the worker roles of `trawl worker` share (cmd_worker.c, worker_show.c;
 * docs/internals/sandbox.md, "Workers").
 */
#ifndef TRAWL_CLI_WORKER_INT_H
#define TRAWL_CLI_WORKER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox/confine.h"

#define WORKER_SHOW_OUT_FD 1 /* the show worker's answer: the socket of sandbox_run */

/*
 * THE confinement of a worker (sandbox/confine.h): called once, after the git module is loaded,
 * before the worker reads a byte of repository data; it starts libgit2 inside the sandbox with
 * no configuration read. read and write are the trees this worker needs beyond the role's
 * system ones; keep_fd, when not -1, is kept open (the index worker's socket to its ctags
 * launcher). EPERM when it cannot be applied.
 */
int worker_confine(enum confine_role role, const char *const *read, size_t n_read,
		   const char *const *write, size_t n_write, int keep_fd, bool without_tls);

/* Sends a WIRE_ERROR with error_last() and err on fd; returns the exit status (EXIT_ERROR). */
int worker_send_error(int fd, int err);

/* The test hooks of role once confined (the test binary only: a forbidden call, a pause). */
void worker_test_confined(const char *role);

/* `trawl worker show --data DATA` (worker_show.c): its exit status. */
int worker_show(const char *data);

#endif
