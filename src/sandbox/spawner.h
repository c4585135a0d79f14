/*
 * The one spawn path of a confined server: a small process forked at start-up, before any
 * thread, that keeps the right to run programs the server gives up (confine.h, CONFINE_SERVER
 * denies execve). sandbox_spawn() and sandbox_run() (child.h) go through it once it runs.
 *
 * DESIGN: requests travel over a SOCK_SEQPACKET socket pair, one message each: a size-checked
 * header, the path and argv as NUL-terminated strings, and by SCM_RIGHTS a reply socket and
 * the child's standard descriptors. The spawner posix_spawns the child, answers its pid on the
 * reply socket, reaps it and sends its wait status there when it ends. The server keeps
 * signalling and limiting the child by pid (kill, prlimit), as it did with its own children.
 *
 * SECURITY: the spawner runs only the programs named at spawner_start() (the trawl binary, or
 * the tests' TRAWL_SYNC_CMD), with exactly the command lines the server builds: the trawl
 * binary as `trawl __compile`, `trawl worker show --data DATA` or `trawl sync --data DATA` for
 * the DATA given at start-up, the
 * other program as `PROGRAM --data DATA`. A server someone took over cannot have it run
 * anything else, nor sync with other flags (--allow-local) or another DATA; each refusal is
 * logged as a JSON line on the spawner's stderr. It holds no descriptor but its socket, and
 * sets no_new_privs.
 *
 * Thread-safe after spawner_start().
 */
#ifndef TRAWL_SANDBOX_SPAWNER_H
#define TRAWL_SANDBOX_SPAWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Forks the spawner; it may run programs[0..n) (absolute paths or "/proc/self/exe", which is
 * the spawner's own binary, the trawl binary), a sync only for data (NULL: no sync). Call
 * before any thread starts. EIO.
 */
int spawner_start(const char *const *programs, size_t n, const char *data);

/* Whether spawner_start() succeeded (and spawner_stop() was not called). */
bool spawner_is_running(void);

/*
 * Has the spawner start path with argv and fds[0..2] as its standard input, output and error
 * (-1: /dev/null). *pid is the child's; wait for it with spawner_wait(). EPERM when the
 * spawner refuses the program, EIO.
 */
int spawner_spawn(pid_t *pid, const char *path, char *const argv[], const int fds[3]);

/*
 * Like waitpid() for a child started by spawner_spawn(): returns pid once it has ended (with
 * *status), 0 when is_nohang and it is running, -1 when pid is not such a child.
 */
pid_t spawner_wait(int *status, pid_t pid, bool is_nohang);

/* Ends the spawner (its running children go on). */
void spawner_stop(void);

#endif
