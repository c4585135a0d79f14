/* Supervising a worker process; see worker.h. Linux: pipe2(), poll(), posix_spawn(). */
#include "sandbox/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/child.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/term.h"

#define SANDBOX_PREFIX "sandbox: "

extern char **environ;

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * SECURITY: the worker reads hostile data (and the fetch worker has the network): it gets a
 * built environment, not its parent's (where an operator may keep secrets): a fixed PATH and
 * only these, when set: HOME (libgit2's SSH transport fails without it: it looks for
 * ~/.ssh/known_hosts), the locale, the time zone, the temporary directory, the TLS trust
 * files OpenSSL and GnuTLS read, the sanitizer runtimes' options (for sanitizer builds; the
 * runtimes alone read them) and, in the test binary only, the tests' worker hooks
 * (cmd_worker.c) and fake ctags (symbols/ctags.c).
 */
static const char *const env_kept[] = {
	"HOME", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "TMPDIR", "SSL_CERT_FILE",
	"SSL_CERT_DIR", "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS",
#ifdef TRAWL_TEST_HOOKS
	"TRAWL_TEST_WORKER_PAUSE", "TRAWL_TEST_WORKER_SYSCALL", "TRAWL_TEST_WORKER_READ",
	"TRAWL_TEST_WORKER_FETCH_READ", "TRAWL_TEST_WORKER_FETCH_WRITE", "TRAWL_TEST_WORKER_FETCH_LINK",
	"TRAWL_TEST_CTAGS",
#endif
};
#define ENV_MAX (1 + sizeof(env_kept) / sizeof(*env_kept))

/* env[0..ENV_MAX] = "PATH=/usr/bin:/bin" and the kept variables of environ, NULL-terminated. */
static void worker_env(char *env[ENV_MAX + 1])
{
	size_t n = 0;

	env[n++] = (char *)"PATH=/usr/bin:/bin";
	for (size_t i = 0; i < ENV_MAX - 1; i++) {
		size_t len = strlen(env_kept[i]);

		for (char **e = environ; e && *e; e++)
			if (strncmp(*e, env_kept[i], len) == 0 && (*e)[len] == '=') {
				env[n++] = *e;
				break;
			}
	}
	env[n] = NULL;
}

int worker_start(struct worker *w, const char *path, char *const argv[], int in_fd,
		 const char *label, FILE *relay, double deadline_ms)
{
	int msg[2] = { -1, -1 }, err_pipe[2] = { -1, -1 }, fds[WORKER_IN_FD + 1], in = -1;
	char *env[ENV_MAX + 1];
	int err = 0;

	*w = (struct worker){ .pid = -1,
			      .msg_fd = -1,
			      .err_fd = -1,
			      .exit_fd = -1,
			      .label = label,
			      .relay = relay,
			      .deadline_ms = deadline_ms };
	wire_in_init(&w->in, WIRE_TYPE_MAX);
	if (pipe2(msg, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
		error_set("cannot create the pipes of the %s: %s", label, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	/*
	 * The spawn's dup2 actions run in order: a source numbered below WORKER_IN_FD could be
	 * overwritten by an earlier one, so the input is handed over from a copy above them all.
	 */
	if (in_fd >= 0 && (in = fcntl(in_fd, F_DUPFD_CLOEXEC, WORKER_IN_FD + 1)) < 0) {
		error_set("cannot hand a descriptor to the %s: %s", label, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	fds[0] = fds[1] = -1; /* /dev/null */
	fds[2] = err_pipe[1];
	fds[WORKER_MSG_FD] = msg[1];
	fds[WORKER_IN_FD] = in;
	/*
	 * SECURITY: what a worker leaves behind is ours to end. As a subreaper this process
	 * inherits the worker's orphaned descendants, and the worker's own process group lets
	 * worker_finish kill them all before the caller looks at anything the worker wrote.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		error_set("cannot become the %s's subreaper: %s", label, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	worker_env(env);
	if ((err = sandbox_spawn_group(&w->pid, path, argv, env, fds,
				       in_fd >= 0 ? WORKER_IN_FD + 1 : WORKER_IN_FD)) < 0) {
		w->pid = -1;
		goto out;
	}
	w->msg_fd = msg[0];
	w->err_fd = err_pipe[0];
	msg[0] = err_pipe[0] = -1;
	/* Close-on-exec, as pidfds are: no later worker inherits it. None on kernels before 5.3. */
	w->exit_fd = (int)syscall(SYS_pidfd_open, w->pid, 0);
out:
	/* The write ends are the worker's alone: its exit closes them, and reads see the end. */
	close_fd(&msg[0]);
	close_fd(&msg[1]);
	close_fd(&err_pipe[0]);
	close_fd(&err_pipe[1]);
	close_fd(&in);
	return err;
}

/* One line of the worker's standard error, cleaned (term.h): kept when the sandbox's, relayed. */
static void line_done(struct worker *w)
{
	struct buf b;

	buf_init(&b, 4 * WORKER_LINE_MAX + 4);
	if (w->line_len && term_put_line(&b, w->line, w->line_len, WORKER_LINE_MAX - 1) == 0) {
		if (strncmp(b.ptr, SANDBOX_PREFIX, sizeof(SANDBOX_PREFIX) - 1) == 0)
			snprintf(w->sandbox_line, sizeof(w->sandbox_line), "%s", b.ptr);
		if (w->relay)
			fprintf(w->relay, "%s\n", b.ptr);
	}
	buf_dispose(&b);
	w->line_len = 0;
}

/* SECURITY: relayed bytes are the worker's: lines are cut here and cleaned by line_done. */
static void relay_bytes(struct worker *w, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			line_done(w);
			continue;
		}
		if (w->line_len == sizeof(w->line))
			continue; /* the rest of an overlong line is dropped, its cut shown by "..." */
		w->line[w->line_len++] = p[i];
	}
}

/* Reads what the standard error pipe holds; closes it at its end. */
static void drain_err(struct worker *w)
{
	char chunk[4096];
	ssize_t n = read(w->err_fd, chunk, sizeof(chunk));

	if (n > 0) {
		relay_bytes(w, chunk, (size_t)n);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		if (w->line_len)
			line_done(w);
		close_fd(&w->err_fd);
	}
}

/* worker_next (is_wait) waits for a message; worker_try_next only reads what is there. */
static int next_msg(struct worker *w, struct wire_msg *m, bool is_wait)
{
	char chunk[65536];
	int r;

	for (;;) {
		struct pollfd p[2] = { { w->msg_fd, POLLIN, 0 }, { w->err_fd, POLLIN, 0 } };
		int wait_ms = is_wait ? -1 : 0;

		if ((r = wire_in_next(&w->in, m)) != 0)
			return r;
		if (w->msg_fd < 0)
			return wire_in_end(&w->in);
		if (w->deadline_ms > 0) {
			double left = w->deadline_ms - clock_now_ms();

			if (left <= 0) {
				w->is_deadline = true;
				error_set("%s ran past its deadline", w->label);
				return TRAWL_ETIMEOUT;
			}
			if (is_wait)
				wait_ms = left > 60000 ? 60000 : (int)left + 1;
		}
		r = poll(p, 2, wait_ms);
		if (r < 0 && errno != EINTR) {
			error_set("waiting for the %s: %s", w->label, strerror(errno));
			return TRAWL_EIO;
		}
		if (r == 0 && !is_wait)
			return WORKER_PENDING;
		if (r <= 0)
			continue;
		if (p[1].revents)
			drain_err(w);
		if (p[0].revents) {
			ssize_t n = read(w->msg_fd, chunk, sizeof(chunk));

			if (n > 0 && (r = wire_in_feed(&w->in, chunk, (size_t)n)) < 0)
				return r;
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
				close_fd(&w->msg_fd);
		}
	}
}

int worker_next(struct worker *w, struct wire_msg *m)
{
	return next_msg(w, m, true);
}

int worker_try_next(struct worker *w, struct wire_msg *m)
{
	return next_msg(w, m, false);
}

size_t worker_pollfds(const struct worker *w, bool with_messages, struct pollfd p[2])
{
	size_t n = 0;

	if (w->msg_fd >= 0 && with_messages)
		p[n++] = (struct pollfd){ .fd = w->msg_fd, .events = POLLIN };
	if (w->err_fd >= 0)
		p[n++] = (struct pollfd){ .fd = w->err_fd, .events = POLLIN };
	else if (w->exit_fd >= 0)
		p[n++] = (struct pollfd){ .fd = w->exit_fd, .events = POLLIN };
	return n;
}

bool worker_try_drain(struct worker *w)
{
	struct pollfd p = { w->err_fd, POLLIN, 0 };

	struct pollfd e = { w->exit_fd, POLLIN, 0 };

	while (w->err_fd >= 0 && poll(&p, 1, 0) > 0)
		drain_err(w);
	return w->err_fd < 0 && (w->exit_fd < 0 || poll(&e, 1, 0) != 0);
}

static const char *signal_name(int sig)
{
	const char *abbrev = sigabbrev_np(sig);

	return abbrev ? abbrev : "?";
}

/*
 * Once the worker has exited (a zombie still: its pid is its group's id and cannot be reused),
 * kills everything left in its process group. Returns whether it has exited.
 */
static bool end_group_if_exited(struct worker *w, bool is_wait)
{
	siginfo_t si = { 0 };

	if (w->is_group_killed)
		return true;
	while (waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOWAIT | (is_wait ? 0 : WNOHANG)) < 0)
		if (errno != EINTR)
			break; /* not our child: nothing to wait for */
	if (!is_wait && si.si_pid == 0)
		return false;
	kill(-w->pid, SIGKILL);
	w->is_group_killed = true;
	return true;
}

int worker_finish(struct worker *w, bool is_kill)
{
	int status = 0, err = 0;
	pid_t r;

	if (w->pid > 0 && is_kill) {
		kill(w->pid, SIGKILL);
		w->is_killed = true;
	}
	close_fd(&w->msg_fd);
	/*
	 * Its standard error to its end: the sandbox's line comes just before the worker dies. A
	 * process it left could hold the pipe open: once the worker has exited, its group is
	 * killed, so the end comes.
	 */
	while (w->err_fd >= 0) {
		struct pollfd p = { w->err_fd, POLLIN, 0 };
		double left = w->deadline_ms > 0 ? w->deadline_ms - clock_now_ms() : 60000;
		bool is_alive = w->pid > 0 && !end_group_if_exited(w, false);

		if (left <= 0 && !is_kill && w->pid > 0) {
			kill(w->pid, SIGKILL); /* it closed its messages but goes on */
			w->is_deadline = is_kill = true;
		}
		if (is_alive && left > 100)
			left = 100; /* to look again whether it has exited */
		if (poll(&p, 1, left > 60000 ? 60000 : left < 1 ? 1 : (int)left) > 0)
			drain_err(w);
	}
	/* SECURITY: nothing the worker started runs on once the caller reads what it wrote. */
	if (w->pid > 0)
		end_group_if_exited(w, true);
	while (w->pid > 0 && (r = waitpid(w->pid, &status, 0)) < 0 && errno == EINTR)
		;
	/* The group's orphans were reparented to us (subreaper): reap them. */
	while (w->pid > 0 && (waitpid(-w->pid, NULL, 0) > 0 || errno == EINTR))
		;
	if (w->pid > 0 && WIFSIGNALED(status))
		w->signal = WTERMSIG(status);
	if (w->pid <= 0) {
		err = 0;
	} else if (w->is_deadline) {
		error_set("%s ran past its deadline", w->label);
		err = TRAWL_EIO;
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS && w->sandbox_line[0]) {
		error_set("%s killed by the %s", w->label, w->sandbox_line);
		err = TRAWL_EIO;
	} else if (WIFSIGNALED(status)) {
		error_set("%s killed by signal %d (SIG%s)", w->label, WTERMSIG(status),
			  signal_name(WTERMSIG(status)));
		err = TRAWL_EIO;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		error_set("%s exited with status %d", w->label, WEXITSTATUS(status));
		err = TRAWL_EIO;
	}
	w->pid = -1;
	close_fd(&w->exit_fd);
	wire_in_dispose(&w->in);
	return err;
}

int worker_bind_to_parent(void)
{
	pid_t parent = getppid();

	/* The parent may have died before the request: then ours is init (or a subreaper). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent || parent == 1) {
		error_set("the worker's parent is gone");
		return TRAWL_EIO;
	}
	return 0;
}
