/*
 * trawl as PID 1 of a PID namespace (a container's entry point started without an init): the
 * kernel reparents every orphan of the namespace to PID 1, which must reap it, and a child of
 * PID 1 cannot tell its parent's death (getppid() == 1) from its parent being alive, which the
 * workers' check (worker_bind_to_parent) refuses. So a trawl that finds itself PID 1 splits in
 * two at once: the process that stays PID 1 only reaps and forwards signals (tini's job, in a
 * few lines), its one child runs trawl.
 */
#ifndef TRAWL_UTIL_PID1_H
#define TRAWL_UTIL_PID1_H

#include <sys/types.h>

/*
 * Returns at once unless this process is PID 1. As PID 1: forks; returns in the child, which
 * runs the command; the parent never returns (it exits with the child's status, 128 + the
 * signal's number when a signal ended it). If the fork fails, returns: trawl runs as PID 1.
 */
void pid1_init(void);

/*
 * The PID 1 loop, with every signal blocked in the calling thread (pid1_init blocks them):
 * waits for signals; on SIGCHLD reaps every child that ended, its own or an orphan's;
 * forwards every other signal to child; returns child's exit status (as pid1_init exits with
 * it) once child has ended. Also for the tests, as a subreaper.
 */
int pid1_supervise(pid_t child);

#endif
