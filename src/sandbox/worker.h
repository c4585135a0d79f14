/*
 * Supervising a worker process (`trawl worker fetch|index ...`, docs/internals/sandbox.md,
 * "Workers"): started by posix_spawn with an argv (never a shell), standard input and output on
 * /dev/null, its results read as messages (wire.h) from a pipe on its descriptor 3, its
 * standard error read from another pipe and relayed line by line to ours, and how it ended told
 * in words ("killed by the sandbox: denied system call socket (41)").
 *
 * DESIGN: both pipes are polled together, so a worker that writes much on standard error never
 * blocks on a full pipe while the parent waits for a message. Relayed lines are cut at
 * WORKER_LINE_MAX - 1 bytes and cleaned by term_put_line() (util/term.h: C0, C1 and bidi
 * controls and invalid UTF-8 escaped): the worker read hostile data.
 * The last line a confined worker's SIGSYS handler wrote ("sandbox: denied system call NAME
 * (NR)", sandbox/confine.h) is kept to name the rule it broke.
 *
 * Several workers can be supervised by one thread: worker_pollfds gives the descriptors to
 * wait on (poll, with others'), worker_try_next and worker_try_drain read what is there without
 * blocking (cmd_sync.c runs --jobs workers so).
 *
 * Not thread-safe: one thread supervises one worker.
 */
#ifndef TRAWL_SANDBOX_WORKER_H
#define TRAWL_SANDBOX_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <poll.h>
#include <sys/types.h>

#include "sandbox/wire.h"

#define WORKER_MSG_FD 3 /* the worker writes its messages on this descriptor */
#define WORKER_IN_FD 4  /* what the parent hands it beyond its argv (the fetch's credential) */
#define WORKER_LINE_MAX 512

struct worker {
	pid_t pid;
	int msg_fd, err_fd; /* read ends; -1 once closed */
	int exit_fd;        /* a pidfd, readable once the worker has exited; -1: none */
	struct wire_in in;
	const char *label;  /* "index worker": names it in messages */
	FILE *relay;        /* where its standard error lines go (NULL: dropped) */
	double deadline_ms; /* clock_now_ms() at which it is killed; 0: none */
	char line[WORKER_LINE_MAX];
	size_t line_len;
	char sandbox_line[WORKER_LINE_MAX]; /* the last "sandbox: " line, "" when none */
	bool is_deadline;                   /* it was killed at its deadline */
	bool is_killed;                     /* worker_finish killed it (is_kill) */
	bool is_group_killed;               /* what it left in its process group was killed */
	int signal; /* after worker_finish: the signal that ended it, else 0 */
};

/*
 * Starts path with argv as a worker labelled label (a string that outlives w), relaying its
 * standard error to relay. in_fd, when not -1, becomes the worker's WORKER_IN_FD (the caller
 * keeps and closes its own). The worker gets a process group of its own, and this process
 * becomes a child subreaper (PR_SET_CHILD_SUBREAPER), so what the worker leaves behind stays
 * within reach of worker_finish. EIO (subreaper, pipes, spawn), with a message.
 */
int worker_start(struct worker *w, const char *path, char *const argv[], int in_fd,
		 const char *label, FILE *relay, double deadline_ms);

/*
 * The next message into *m (borrowed until the next call): 1 with a message, 0 when the worker
 * closed its message pipe between messages (it ended or is ending), ECORRUPT/ELIMIT for a
 * malformed stream (wire.h), ETIMEOUT at the deadline. Reads and relays standard error
 * meanwhile.
 */
int worker_next(struct worker *w, struct wire_msg *m);

/* What worker_try_next returns when no whole message has arrived yet. */
#define WORKER_PENDING 2

/*
 * As worker_next, without waiting: WORKER_PENDING when the pipes hold no whole message yet
 * (poll worker_pollfds, then try again). The deadline is checked as in worker_next.
 */
int worker_try_next(struct worker *w, struct wire_msg *m);

/*
 * The descriptors still open of w, 0 to 2 of them, into p with events POLLIN: what to poll to
 * know when worker_try_next or worker_try_drain has work. Its message pipe only with
 * with_messages: once no more messages are taken, its end would wake every poll. Once its
 * standard error has ended, its pidfd, which wakes the poll when it exits.
 */
size_t worker_pollfds(const struct worker *w, bool with_messages, struct pollfd p[2]);

/*
 * Relays what its standard error pipe holds, without waiting; true once that pipe has ended and
 * the worker has exited (when the kernel has no pidfd: once the pipe has ended), when
 * worker_finish will not wait for either.
 */
bool worker_try_drain(struct worker *w);

/*
 * Ends the supervision: with is_kill the worker is killed first (SIGKILL); then its standard
 * error is relayed to its end, and it is reaped. 0 when it exited with status 0; else EIO with
 * a message saying how it ended: "LABEL killed by the sandbox: denied system call NAME (NR)",
 * "LABEL killed by signal 9 (SIGKILL)", "LABEL exited with status 2", "LABEL ran past its
 * deadline". Always reaps and closes everything; safe on a worker that never started.
 * SECURITY: once the worker has exited, every process left in its group is killed (SIGKILL)
 * and the ones reparented to us reaped, before this returns: nothing the worker started runs
 * on while the caller checks what it wrote.
 */
int worker_finish(struct worker *w, bool is_kill);

/*
 * In the worker: it is killed (SIGKILL) when the process that started it ends, so a sync killed
 * with SIGKILL leaves no worker running on. EIO when the parent is already gone.
 */
int worker_bind_to_parent(void);

#endif
