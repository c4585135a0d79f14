/*
 * Running a helper process under limits: a program started by posix_spawn with an argv (never a
 * shell), given bytes on its standard input, and whose standard output is read back, with its
 * address space and CPU time capped and a wall-clock deadline at which it is killed.
 *
 * DESIGN: some work cannot be bounded from inside the process that does it: Vectorscan's
 * compiler allocates with C++ new and has no way to be interrupted. Such work runs in a child,
 * which the kernel limits (RLIMIT_AS, RLIMIT_CPU) and the parent kills at its deadline. The
 * child is spawned, never forked: a fork of the multi-threaded server would copy locks other
 * threads hold. The limits are set with prlimit() on the new process before any input is
 * written, and the child reads its whole input before it does anything, so none of its work
 * runs unlimited. Standard input and output are one socket, so that writing to a child that
 * died cannot raise SIGPIPE in the parent; standard error goes to /dev/null.
 *
 * Thread-safe: nothing is shared between calls.
 */
#ifndef TRAWL_SANDBOX_CHILD_H
#define TRAWL_SANDBOX_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/clock.h"

struct sandbox_limits {
	size_t max_memory;   /* address space, bytes (RLIMIT_AS); 0 for none */
	unsigned max_cpu_s;  /* CPU seconds (RLIMIT_CPU); 0 for none */
	double deadline_ms;  /* CLOCK_MONOTONIC milliseconds at which it is killed; 0 for none */
	size_t max_output;   /* standard output kept; a child writing more is killed (ELIMIT) */
};

struct sandbox_result {
	char *out;          /* standard output, NUL-terminated; the caller frees it */
	size_t out_len;
	int exit_status;    /* 0..255 when the child exited, else -1 */
	int signal;         /* the signal that ended it, else 0 */
	bool is_deadline;   /* killed at the deadline */
};

/*
 * Runs path with argv and the caller's environment, writes input[0..input_len) to its standard
 * input, then closes it, and collects its standard output into res. Returns 0 once the child
 * has ended, however it ended (see res), TRAWL_ETIMEOUT when it was killed at the deadline,
 * TRAWL_ELIMIT when it wrote more than max_output (killed), TRAWL_EIO when it cannot be
 * started, TRAWL_ENOMEM. The child is always reaped. Under AddressSanitizer or
 * ThreadSanitizer, which reserve terabytes of address space, max_memory is not applied.
 */
int sandbox_run(struct sandbox_result *res, const char *path, char *const argv[],
		const void *input, size_t input_len, const struct sandbox_limits *lim);

/*
 * Starts path with argv, the caller's environment, no blocked signals and the default action
 * for SIGINT, SIGTERM and SIGPIPE, with fd_in, fd_out and fd_err as its standard input, output
 * and error (-1: /dev/null), and no limits: for a child the caller supervises itself (the
 * server's `trawl sync`). The caller reaps *pid with sandbox_wait(). Once spawner_start() has
 * run, the spawner starts it (EPERM: a program it does not run). EIO with a message.
 */
int sandbox_spawn(pid_t *pid, const char *path, char *const argv[], int fd_in, int fd_out,
		  int fd_err);

/*
 * sandbox_spawn with n_fds descriptors and the environment envp (NULL: the caller's): the
 * child's descriptor i is fds[i] (-1: /dev/null for 0, 1 and 2, closed above), and every
 * descriptor from max(n_fds, 3) up is closed in the child, close-on-exec or not. Through the
 * spawner (a confined server), at most the three standard descriptors and the caller's
 * environment: EPERM beyond. EIO with a message.
 */
int sandbox_spawn_fds(pid_t *pid, const char *path, char *const argv[], char *const envp[],
		      const int *fds, size_t n_fds);

/*
 * sandbox_spawn_fds, the child in a process group of its own (its pgid is its pid), so that
 * kill(-pid, SIGKILL) reaches whatever it started: for workers (worker.h). Never through the
 * spawner (EPERM).
 */
int sandbox_spawn_group(pid_t *pid, const char *path, char *const argv[], char *const envp[],
			const int *fds, size_t n_fds);

/*
 * waitpid() for a child of sandbox_spawn(), wherever it runs (the server's spawner reaps its
 * children and reports their status: sandbox/spawner.h). options: 0 or WNOHANG.
 */
pid_t sandbox_wait(int *status, pid_t pid, int options);

/* Frees res->out. */
void sandbox_result_dispose(struct sandbox_result *res);

#endif
