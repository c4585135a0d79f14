/* Inside src/sandbox only: the one posix_spawn of the module (child.c, and the spawner). */
#ifndef TRAWL_SANDBOX_CHILD_INT_H
#define TRAWL_SANDBOX_CHILD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * posix_spawn of path with argv and envp (NULL: this process's environment): the child's
 * descriptor i is fds[i] (-1: /dev/null for 0, 1 and 2), every descriptor from max(n_fds, 3)
 * up closed, an empty signal mask and the default action for SIGINT, SIGTERM and SIGPIPE (a
 * server blocks or ignores them), and with own_group a process group of its own. Returns 0 or
 * posix_spawn's error number.
 */
int sandbox_posix_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
			const int *fds, size_t n_fds, bool own_group);

#endif
