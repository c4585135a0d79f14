/* A helper process under limits; see child.h. Linux: prlimit(), socketpair(), posix_spawn(). */
#include "sandbox/child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/child_int.h"
#include "sandbox/spawner.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/sanitizer.h"

extern char **environ;

int sandbox_posix_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
			const int *fds, size_t n_fds, bool own_group)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	sigset_t none, dfl;
	int err;

	posix_spawn_file_actions_init(&fa);
	for (size_t i = 0; i < n_fds || i < 3; i++) {
		int fd = i < n_fds ? fds[i] : -1;

		if (fd >= 0)
			posix_spawn_file_actions_adddup2(&fa, fd, (int)i);
		else if (i < 3)
			posix_spawn_file_actions_addopen(&fa, (int)i, "/dev/null",
							 i ? O_WRONLY : O_RDONLY, 0);
	}
	/* SECURITY: nothing else is inherited, whatever the caller forgot to mark close-on-exec. */
	posix_spawn_file_actions_addclosefrom_np(&fa, n_fds > 3 ? (int)n_fds : 3);
	/* A server blocks SIGINT/SIGTERM and ignores SIGPIPE: the child gets the defaults. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_init(&sa);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &dfl);
	posix_spawnattr_setpgroup(&sa, 0); /* with POSIX_SPAWN_SETPGROUP: a group of its own */
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					      (own_group ? POSIX_SPAWN_SETPGROUP : 0));
	err = posix_spawn(pid, path, &fa, &sa, argv, envp ? envp : environ);
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	return err;
}

static int spawn_fds(pid_t *pid, const char *path, char *const argv[], char *const envp[],
		     const int *fds, size_t n_fds, bool own_group)
{
	int err;

	/*
	 * A confined server cannot execve: its spawner, forked before it confined itself, can. It
	 * passes three descriptors; workers (more) are started by `trawl sync`, never the server.
	 */
	if (spawner_is_running() && n_fds <= 3 && !envp) {
		const int three[3] = { n_fds > 0 ? fds[0] : -1, n_fds > 1 ? fds[1] : -1,
				       n_fds > 2 ? fds[2] : -1 };

		return spawner_spawn(pid, path, argv, three);
	}
	if (spawner_is_running()) {
		error_set("cannot start %s: a confined process passes only 3 descriptors and its "
			  "environment",
			  path);
		return TRAWL_EPERM;
	}
	err = sandbox_posix_spawn(pid, path, argv, envp, fds, n_fds, own_group);
	if (err != 0) {
		error_set("cannot start %s: %s", path, strerror(err));
		return TRAWL_EIO;
	}
	return 0;
}

int sandbox_spawn_fds(pid_t *pid, const char *path, char *const argv[], char *const envp[],
		      const int *fds, size_t n_fds)
{
	return spawn_fds(pid, path, argv, envp, fds, n_fds, false);
}

int sandbox_spawn_group(pid_t *pid, const char *path, char *const argv[], char *const envp[],
			const int *fds, size_t n_fds)
{
	if (spawner_is_running()) {
		error_set("cannot start %s: a confined process starts no process group", path);
		return TRAWL_EPERM;
	}
	return spawn_fds(pid, path, argv, envp, fds, n_fds, true);
}

int sandbox_spawn(pid_t *pid, const char *path, char *const argv[], int fd_in, int fd_out,
		  int fd_err)
{
	const int fds[3] = { fd_in, fd_out, fd_err };

	return sandbox_spawn_fds(pid, path, argv, NULL, fds, 3);
}

pid_t sandbox_wait(int *status, pid_t pid, int options)
{
	pid_t r = spawner_wait(status, pid, (options & WNOHANG) != 0);

	return r >= 0 ? r : waitpid(pid, status, options);
}

/*
 * Waits for the child to end; at the deadline (a child that closed its output but goes on) it
 * is killed. Returns TRAWL_ETIMEOUT when it had to be.
 */
static int reap(int *status, pid_t pid, double deadline_ms, bool is_kill)
{
	struct timespec pause = { 0, 1000000L }; /* 1 ms */
	int err = 0;
	pid_t r;

	if (is_kill)
		kill(pid, SIGKILL);
	while ((r = sandbox_wait(status, pid, deadline_ms > 0 && !is_kill ? WNOHANG : 0)) <= 0) {
		if (r < 0 && errno != EINTR)
			return 0;
		if (r == 0 && clock_now_ms() > deadline_ms) {
			kill(pid, SIGKILL);
			is_kill = true;
			err = TRAWL_ETIMEOUT;
			error_set("the helper process ran past its deadline");
		} else if (r == 0) {
			nanosleep(&pause, NULL);
		}
	}
	return err;
}

static int set_limits(pid_t pid, const struct sandbox_limits *lim)
{
	struct rlimit cpu = { lim->max_cpu_s, lim->max_cpu_s + 1 };

#if !HAS_SHADOW
	if (lim->max_memory) {
		struct rlimit as = { lim->max_memory, lim->max_memory };

		if (prlimit(pid, RLIMIT_AS, &as, NULL) < 0)
			goto fail;
	}
#endif
	if (lim->max_cpu_s && prlimit(pid, RLIMIT_CPU, &cpu, NULL) < 0)
		goto fail;
	return 0;
fail:
	error_set("cannot limit the helper process: %s", strerror(errno));
	return TRAWL_EIO;
}

/* Feeds input and collects output until the child closes its end, or the deadline. */
static int exchange(struct buf *out, int fd, const char *input, size_t input_len,
		    const struct sandbox_limits *lim)
{
	size_t sent = 0;
	char chunk[65536];

	if (input_len == 0)
		shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { fd, POLLIN | (sent < input_len ? POLLOUT : 0), 0 };
		int wait_ms = -1, r;
		ssize_t n;

		if (lim->deadline_ms > 0) {
			double left = lim->deadline_ms - clock_now_ms();

			if (left <= 0) {
				error_set("the helper process ran past its deadline");
				return TRAWL_ETIMEOUT;
			}
			wait_ms = left > 60000 ? 60000 : (int)left + 1;
		}
		r = poll(&p, 1, wait_ms);
		if (r < 0 && errno != EINTR) {
			error_set("waiting for the helper process: %s", strerror(errno));
			return TRAWL_EIO;
		}
		if (r <= 0)
			continue;
		if ((p.revents & POLLOUT) && sent < input_len) {
			n = send(fd, input + sent, input_len - sent, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				sent = input_len; /* it stopped reading: collect what it says */
			else if (n > 0)
				sent += (size_t)n;
			if (sent == input_len)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, chunk, sizeof(chunk));
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				return 0; /* closed: the child ended or is ending */
			if (n > 0 && buf_put(out, chunk, (size_t)n) < 0) {
				error_set("the helper process wrote more than %zu bytes", lim->max_output);
				return TRAWL_ELIMIT;
			}
		}
	}
}

int sandbox_run(struct sandbox_result *res, const char *path, char *const argv[],
		const void *input, size_t input_len, const struct sandbox_limits *lim)
{
	struct buf out;
	int sv[2] = { -1, -1 }, status = 0, err;
	pid_t pid = -1;

	*res = (struct sandbox_result){ .exit_status = -1 };
	buf_init(&out, lim->max_output);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		error_set("cannot create a socket for the helper process: %s", strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	if ((err = sandbox_spawn(&pid, path, argv, sv[1], sv[1], -1)) < 0) {
		pid = -1;
		goto out;
	}
	close(sv[1]);
	sv[1] = -1;
	if ((err = set_limits(pid, lim)) < 0)
		goto out;
	err = exchange(&out, sv[0], input, input_len, lim);
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (pid > 0) {
		/* After an error or at the deadline the child must not outlive the call. */
		int reaped = reap(&status, pid, lim->deadline_ms, err < 0);

		if (err == 0)
			err = reaped;
		if (WIFEXITED(status))
			res->exit_status = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			res->signal = WTERMSIG(status);
	}
	res->is_deadline = err == TRAWL_ETIMEOUT;
	if (err == 0 && buf_reserve(&out, 0) == 0)
		res->out = buf_detach(&out, &res->out_len);
	buf_dispose(&out);
	return err;
}

void sandbox_result_dispose(struct sandbox_result *res)
{
	free(res->out);
	res->out = NULL;
	res->out_len = 0;
}
