/* The spawner process; see spawner.h. Linux: SOCK_SEQPACKET, SCM_RIGHTS, signalfd. */
#include "sandbox/spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/child_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"

extern char **environ;

#define REQ_MAGIC 0x74727370U /* "trsp" */
#define REQ_MAX 65536         /* header, path and argv */
#define ARGS_MAX 64
#define KIDS_MAX 64
#define PROGRAMS_MAX 4

struct req {
	uint32_t magic;
	uint32_t n_args;   /* argv entries, path not counted */
	uint32_t args_len; /* bytes after the header: path and argv, each NUL-terminated */
	uint32_t fd_mask;  /* bit i: standard descriptor i follows the reply socket */
};

static int ctl = -1; /* the server's end */
static pid_t spawner_pid = -1;
static pthread_mutex_t kids_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	pid_t pid;
	int fd;
} kids[KIDS_MAX];

/* --- in the spawner ---------------------------------------------------------------------- */

static const char *programs[PROGRAMS_MAX];
static size_t n_programs;
static const char *data_dir; /* the one DATA a sync may name */

/* One JSON line on the spawner's stderr, the server's log (src/server/log.c's format). */
static void log_refusal(const char *reason, const char *path, char **argv, uint32_t n_args)
{
	struct timespec ts;
	struct tm tm;
	struct buf b;
	char t[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_init(&b, 1 << 16);
	buf_printf(&b,
		   "{\"ts\":\"%s.%03ldZ\",\"level\":\"error\",\"msg\":\"spawner: "
		   "refused a request\",\"reason\":\"%s\",\"program\":",
		   t, ts.tv_nsec / 1000000, reason);
	json_put_string(&b, path, strlen(path), NULL);
	buf_puts(&b, ",\"argv\":[");
	for (uint32_t i = 0; i < n_args; i++) {
		if (i)
			buf_putc(&b, ',');
		json_put_string(&b, argv[i], strlen(argv[i]), NULL);
	}
	if (buf_puts(&b, "]}\n") == 0) {
		size_t off = 0;
		ssize_t n;

		while (off < b.len && (n = write(2, b.ptr + off, b.len - off)) > 0)
			off += (size_t)n;
	}
	buf_dispose(&b);
}

static bool is_argv(char **argv, uint32_t n_args, const char *const *want, uint32_t n_want)
{
	if (n_args != n_want)
		return false;
	for (uint32_t i = 0; i < n_args; i++)
		if (strcmp(argv[i], want[i]) != 0)
			return false;
	return true;
}

/* Whether s is 1 to 10 digits, then suffix (a character, or none when 0). */
static bool is_number(const char *s, char suffix)
{
	size_t n = strspn(s, "0123456789");

	return n >= 1 && n <= 10 && s[n] == suffix && (suffix == 0 || s[n + 1] == 0);
}

/*
 * A cluster indexer's filter at the end of the tail (sched.c): `--self NAME` then `--searchers
 * LIST` or `--searcher-count N --searcher-pattern P`, values not starting with '-'. It only
 * narrows what sync takes (docs/internals/cluster.md).
 */
static bool is_cluster_tail(char **argv, uint32_t n_args)
{
	if ((n_args != 4 && n_args != 6) || strcmp(argv[0], "--self") != 0 || argv[1][0] == '-' ||
	    argv[3][0] == '-')
		return false;
	if (n_args == 4)
		return strcmp(argv[2], "--searchers") == 0;
	return strcmp(argv[2], "--searcher-count") == 0 && is_number(argv[3], 0) &&
	       strcmp(argv[4], "--searcher-pattern") == 0 && argv[5][0] != '-';
}

/*
 * The scheduler's tail after `trawl sync --data DATA` (sched.c): `--due --no-progress
 * --min-interval Ns --max-interval Ns [--jobs N]`, in that order, N digits only, then
 * optionally a cluster indexer's filter (is_cluster_tail).
 */
static bool is_due_tail(char **argv, uint32_t n_args)
{
	const char *const head[] = { "--due", "--no-progress", "--min-interval" };
	uint32_t n = n_args > 6 && strcmp(argv[6], "--jobs") == 0 ? 8 : 6;

	if (n_args > n && !is_cluster_tail(argv + n, n_args - n))
		return false;
	n_args = n_args > n ? n : n_args;
	if (n_args != 6 && n_args != 8)
		return false;
	for (uint32_t i = 0; i < 3; i++)
		if (strcmp(argv[i], head[i]) != 0)
			return false;
	if (!is_number(argv[3], 's') || strcmp(argv[4], "--max-interval") != 0 ||
	    !is_number(argv[5], 's'))
		return false;
	return n_args == 6 || (strcmp(argv[6], "--jobs") == 0 && is_number(argv[7], 0));
}

/*
 * SECURITY: exactly the command lines the server builds, nothing more: the trawl binary as
 * `trawl __compile` (hscompile.c), `trawl worker show --data DATA` (handlers_mirror.c: what
 * it reads comes on its standard input, and it reads one mirror of DATA, confined) or
 * `trawl sync --data DATA` for the DATA fixed at start-up
 * followed by the scheduler's --due options (sched.c, is_due_tail), the tests' TRAWL_SYNC_CMD
 * as `CMD --data DATA`. No flag a taken-over server could add (--allow-local, another --data)
 * gets through: what it may choose are the intervals (how soon a repository is due, at most
 * every tick) and --jobs, which sync bounds. NULL when allowed, else the reason.
 */
static const char *refusal(const char *path, char **argv, uint32_t n_args)
{
	const char *compile[] = { "trawl", "__compile" };
	const char *sync[] = { "trawl", "sync", "--data", data_dir ? data_dir : "" };
	const char *show[] = { "trawl", "worker", "show", "--data", data_dir ? data_dir : "" };
	const char *cmd[] = { path, "--data", data_dir ? data_dir : "" };

	for (size_t i = 0; i < n_programs; i++) {
		if (strcmp(path, programs[i]) != 0)
			continue;
		if (i > 0)
			return data_dir && is_argv(argv, n_args, cmd, 3)
				       ? NULL
				       : "not the sync command's arguments";
		if (is_argv(argv, n_args, compile, 2) ||
		    (data_dir && (is_argv(argv, n_args, sync, 4) || is_argv(argv, n_args, show, 5))))
			return NULL;
		if (data_dir && n_args > 4 && is_argv(argv, 4, sync, 4) &&
		    is_due_tail(argv + 4, n_args - 4))
			return NULL;
		return "not `trawl __compile`, `trawl sync --data DATA` or `trawl worker show --data "
		       "DATA` for the server's DATA";
	}
	return "not a program the spawner runs";
}

static void reply(int fd, int32_t v)
{
	if (send(fd, &v, sizeof(v), MSG_NOSIGNAL) < 0) {
		/* The server gave up on this child: nothing to tell. */
	}
}

/* Parses and runs one request; takes ownership of fds[0..n_fds). */
static void handle(const struct req *hdr, char *args, size_t args_len, int *fds, size_t n_fds)
{
	char *argv[ARGS_MAX + 1], *path = args, *p = args, *end = args + args_len;
	const char *why;
	int std[3] = { -1, -1, -1 }, rfd = fds[0], slot = -1, err;
	size_t k = 1;
	pid_t pid;

	for (int i = 0; i < 3; i++)
		if (hdr->fd_mask & (1U << i))
			std[i] = k < n_fds ? fds[k++] : -1;
	if (hdr->n_args == 0 || hdr->n_args > ARGS_MAX || k != n_fds || args_len == 0 ||
	    end[-1] != '\0')
		goto refuse;
	p += strlen(p) + 1;
	for (uint32_t i = 0; i < hdr->n_args; i++) {
		if (p >= end)
			goto refuse;
		argv[i] = p;
		p += strlen(p) + 1;
	}
	if (p != end)
		goto refuse;
	argv[hdr->n_args] = NULL;
	if ((why = refusal(path, argv, hdr->n_args))) {
		log_refusal(why, path, argv, hdr->n_args);
		goto refuse;
	}
	for (int i = 0; i < KIDS_MAX && slot < 0; i++)
		if (kids[i].pid == 0)
			slot = i;
	if (slot < 0) {
		reply(rfd, -EAGAIN);
		goto out;
	}
	err = sandbox_posix_spawn(&pid, path, argv, NULL, std, 3, false);
	if (err != 0) {
		reply(rfd, -err);
		goto out;
	}
	reply(rfd, (int32_t)pid);
	kids[slot].pid = pid;
	kids[slot].fd = rfd;
	rfd = -1;
	goto out;
refuse:
	reply(rfd, -EPERM);
out:
	for (size_t i = 1; i < n_fds; i++)
		close(fds[i]);
	if (rfd >= 0)
		close(rfd);
}

/* Sends each ended child's wait status to its reply socket. */
static void reap_all(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (int i = 0; i < KIDS_MAX; i++)
			if (kids[i].pid == pid) {
				reply(kids[i].fd, status);
				close(kids[i].fd);
				kids[i].pid = 0;
			}
}

/* Receives one request; false when the server is gone. */
static bool receive(int sock)
{
	static char msg[sizeof(struct req) + REQ_MAX];
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { msg, sizeof(msg) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf) };
	int fds[4];
	size_t n_fds = 0;
	struct req hdr;
	ssize_t n;

	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < k && n_fds < 4; i++)
			memcpy(&fds[n_fds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	/* SECURITY: a request is exactly its header's size, else it is dropped unanswered. */
	if (n_fds == 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(hdr))
		goto drop;
	memcpy(&hdr, msg, sizeof(hdr));
	if (hdr.magic != REQ_MAGIC || hdr.args_len != (size_t)n - sizeof(hdr))
		goto drop;
	handle(&hdr, msg + sizeof(hdr), hdr.args_len, fds, n_fds);
	return true;
drop:
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	return true;
}

static void spawner_main(int sock)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigset_t chld;
	int sfd;

	/* Stopping is the server's: the spawner ends when its socket closes. */
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGTERM, &ign, NULL);
	sigaction(SIGHUP, &ign, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((sfd = signalfd(-1, &chld, SFD_CLOEXEC)) < 0)
		_exit(1);
	for (;;) {
		struct pollfd p[2] = { { sock, POLLIN, 0 }, { sfd, POLLIN, 0 } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) < 0 && errno != EAGAIN && errno != EINTR)
				break;
			reap_all();
		}
		if ((p[0].revents & POLLIN) && !receive(sock))
			break;
		if (!(p[0].revents & POLLIN) && (p[0].revents & (POLLHUP | POLLERR)))
			break;
	}
	_exit(0);
}

/* --- in the server --------------------------------------------------------------------------- */

int spawner_start(const char *const *progs, size_t n, const char *data)
{
	int sv[2];
	pid_t pid;

	if (n == 0 || n > PROGRAMS_MAX) {
		error_set("spawner: %zu programs (1 to %d)", n, PROGRAMS_MAX);
		return TRAWL_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		programs[i] = progs[i];
	n_programs = n;
	data_dir = data;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		error_set("spawner: cannot create its socket: %s", strerror(errno));
		return TRAWL_EIO;
	}
	if ((pid = fork()) < 0) {
		error_set("spawner: cannot fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return TRAWL_EIO;
	}
	if (pid == 0) {
		/* SECURITY: nothing of the server's but the socket, and no privilege to gain. */
		if (dup2(sv[1], 3) < 0 || syscall(SYS_close_range, 4U, ~0U, 0) < 0)
			for (int fd = 4; fd < 1024; fd++)
				close(fd);
		/* dup2 cleared close-on-exec: no child may inherit the spawner's socket. */
		fcntl(3, F_SETFD, FD_CLOEXEC);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		spawner_main(3);
	}
	close(sv[1]);
	ctl = sv[0];
	spawner_pid = pid;
	return 0;
}

bool spawner_is_running(void)
{
	return ctl >= 0;
}

int spawner_spawn(pid_t *pid, const char *path, char *const argv[], const int fds[3])
{
	static const size_t max_args = REQ_MAX;
	char *msg = NULL;
	size_t len = strlen(path) + 1, at;
	uint32_t n_args = 0;
	int rp[2] = { -1, -1 }, sendfds[4], n_send = 0, err = 0, slot = -1;
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} c;
	struct req hdr = { .magic = REQ_MAGIC };
	int32_t v;

	*pid = -1;
	for (; argv[n_args]; n_args++)
		len += strlen(argv[n_args]) + 1;
	if (len > max_args || n_args > ARGS_MAX) {
		error_set("spawner: the command line of %s is too long", path);
		return TRAWL_ELIMIT;
	}
	if (!(msg = malloc(sizeof(hdr) + len)))
		return error_nomem("asking the spawner");
	hdr.n_args = n_args;
	hdr.args_len = (uint32_t)len;
	at = sizeof(hdr);
	memcpy(msg + at, path, strlen(path) + 1);
	at += strlen(path) + 1;
	for (uint32_t i = 0; i < n_args; i++) {
		memcpy(msg + at, argv[i], strlen(argv[i]) + 1);
		at += strlen(argv[i]) + 1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp) < 0) {
		error_set("spawner: %s", strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	sendfds[n_send++] = rp[1];
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0) {
			hdr.fd_mask |= 1U << i;
			sendfds[n_send++] = fds[i];
		}
	memcpy(msg, &hdr, sizeof(hdr));
	{
		struct iovec iov = { msg, sizeof(hdr) + len };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = c.buf,
				     .msg_controllen = CMSG_SPACE((size_t)n_send * sizeof(int)) };
		struct cmsghdr *cm;

		memset(c.buf, 0, sizeof(c.buf));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN((size_t)n_send * sizeof(int));
		memcpy(CMSG_DATA(cm), sendfds, (size_t)n_send * sizeof(int));
		if (sendmsg(ctl, &mh, MSG_NOSIGNAL) < 0) {
			error_set("spawner: cannot send the request: %s", strerror(errno));
			err = TRAWL_EIO;
			goto out;
		}
	}
	close(rp[1]);
	rp[1] = -1;
	if (recv(rp[0], &v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
		error_set("spawner: no answer for %s", path);
		err = TRAWL_EIO;
		goto out;
	}
	if (v <= 0) {
		error_set("spawner: cannot start %s: %s", path,
			  v == -EPERM ? "not a program or command line the spawner runs (its log "
					"line says why)"
				      : strerror(-v));
		err = v == -EPERM ? TRAWL_EPERM : TRAWL_EIO;
		goto out;
	}
	pthread_mutex_lock(&kids_lock);
	for (int i = 0; i < KIDS_MAX && slot < 0; i++)
		if (kids[i].pid == 0) {
			slot = i;
			kids[i].pid = v;
			kids[i].fd = rp[0];
		}
	pthread_mutex_unlock(&kids_lock);
	if (slot < 0) {
		kill(v, SIGKILL);
		error_set("spawner: more than %d children", KIDS_MAX);
		err = TRAWL_ELIMIT;
		goto out;
	}
	rp[0] = -1;
	*pid = v;
out:
	for (int i = 0; i < 2; i++)
		if (rp[i] >= 0)
			close(rp[i]);
	free(msg);
	return err;
}

pid_t spawner_wait(int *status, pid_t pid, bool is_nohang)
{
	struct pollfd p = { -1, POLLIN, 0 };
	int slot = -1, r;
	int32_t v;
	ssize_t n;

	pthread_mutex_lock(&kids_lock);
	for (int i = 0; i < KIDS_MAX && slot < 0; i++)
		if (kids[i].pid == pid && pid > 0)
			slot = i;
	if (slot >= 0)
		p.fd = kids[slot].fd;
	pthread_mutex_unlock(&kids_lock);
	if (slot < 0)
		return -1;
	while ((r = poll(&p, 1, is_nohang ? 0 : -1)) < 0 && errno == EINTR)
		;
	if (r == 0)
		return 0;
	while ((n = recv(p.fd, &v, sizeof(v), 0)) < 0 && errno == EINTR)
		;
	/* A spawner that died cannot say: the child counts as failed (exit status 127). */
	*status = n == (ssize_t)sizeof(v) ? v : 127 << 8;
	pthread_mutex_lock(&kids_lock);
	kids[slot].pid = 0;
	close(kids[slot].fd);
	pthread_mutex_unlock(&kids_lock);
	return pid;
}

void spawner_stop(void)
{
	int status;

	if (ctl < 0)
		return;
	close(ctl);
	ctl = -1;
	while (waitpid(spawner_pid, &status, 0) < 0 && errno == EINTR)
		;
	spawner_pid = -1;
}
