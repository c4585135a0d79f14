/*
 * The ctags launcher; see ctags.h. Linux: fork(), SOCK_SEQPACKET, SCM_RIGHTS, PR_SET_PDEATHSIG.
 *
 * DESIGN: a confined index worker may not execve or fork (sandbox/confine.h), and its Landlock
 * domain neither reads the ctags binary nor may signal a process outside it. So it forks, before
 * confining itself, this small process, which keeps the right to start one program: ctags, in
 * a child that confines itself first. The launcher is confined too (CONFINE_LAUNCHER), so what
 * a request parser bug would give away is a process that can fork, start ctags and signal its
 * own children, nothing else. A request is one fixed-size message (magic, operation, id); an answer is one message
 * (magic, error, id, pid) with, for a start, our end of the new ctags' socket by SCM_RIGHTS. The
 * worker's builder threads share the launcher: a request and its answer are sent under a lock.
 * Ids are the launcher's own start counter, never pids, and an id names a live child only until
 * the launcher reaps it, so a kill cannot reach a process the launcher did not start, nor a
 * later ctags of another thread that got a reaped child's slot.
 */
#include "symbols/ctags.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/confine.h"
#include "symbols/ctags_int.h"
#include "util/error.h"

#define LAUNCHER_MAGIC 0x6c637467u /* "gtcl" */
#define LAUNCHER_FD 3              /* the launcher's socket, in the launcher */

enum { OP_START = 1, OP_KILL = 2 };

struct lreq {
	uint32_t magic, op, id;
};

struct lrep {
	uint32_t magic;
	int32_t err;
	uint32_t id;
	int32_t pid;
};

struct ctags_launcher {
	pid_t pid;
	int sock;
	pthread_mutex_t lock;
};

struct kid {
	pid_t pid;
	int pidfd; /* how the launcher signals it: never by pid (it may not call kill) */
	uint32_t id;
	bool is_live;
};

/* A refusal, on the launcher's standard error (its parent relays it). */
static void refuse(const char *why)
{
	fprintf(stderr, "trawl: ctags launcher: refused a request (%s)\n", why);
}

/* Reaps the children that ended on their own: their ids name nothing any more. */
static void sweep(struct kid *kids)
{
	int status;

	for (size_t i = 0; i < CTAGS_LAUNCHER_MAX_LIVE; i++)
		if (kids[i].is_live && waitpid(kids[i].pid, &status, WNOHANG) == kids[i].pid) {
			close(kids[i].pidfd);
			kids[i].is_live = false;
		}
}

/* Kills a live child through its pidfd and reaps it. */
static void end_kid(struct kid *k)
{
	int status;

	syscall(SYS_pidfd_send_signal, k->pidfd, SIGKILL, NULL, 0);
	while (waitpid(k->pid, &status, 0) < 0 && errno == EINTR)
		;
	close(k->pidfd);
	k->is_live = false;
}

static void reply(int sock, int err, uint32_t id, pid_t pid, int fd)
{
	struct lrep r = { .magic = LAUNCHER_MAGIC, .err = err, .id = id, .pid = (int32_t)pid };
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* What the launcher may start: at most max_live at a time, max_starts in all. */
struct budget {
	unsigned max_live;
	unsigned max_starts;
};

/*
 * A new ctags: a child with one end of a new socket pair as its standard input and output and
 * /dev/null as its standard error, which confines itself (CONFINE_CTAGS, stacked on the
 * launcher's own confinement) and becomes the program. The launcher is single-threaded, so
 * its child may do that work between fork and execve.
 */
static int fork_ctags(pid_t *pid, int *pidfd, int *fd, const char *program)
{
	pid_t self = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		error_set("cannot make a socket pair: %s", strerror(errno));
		return TRAWL_EIO;
	}
	/*
	 * fork, with a pidfd for the child (CLONE_PIDFD, Linux 5.2): the only handle by which the
	 * launcher can signal it. A raw clone runs no atfork handler: the launcher has one thread
	 * and the child only confines itself and becomes ctags.
	 */
	*pid = (pid_t)syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, pidfd, NULL, 0UL);
	if (*pid < 0) {
		error_set("cannot fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return TRAWL_EIO;
	}
	if (*pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null < 0 || dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		ctags_exec_confined(program, self);
		_exit(127);
	}
	close(sv[1]);
	*fd = sv[0];
	return 0;
}

/* One start: a free slot within the live bound, the start budget, the program. */
static void start_one(int sock, struct kid *kids, uint32_t *started, const struct budget *bu,
		      const char *program)
{
	struct kid *k = NULL;
	unsigned live = 0;
	pid_t pid;
	int fd, pidfd, err;

	sweep(kids);
	for (size_t i = 0; i < CTAGS_LAUNCHER_MAX_LIVE; i++) {
		if (kids[i].is_live)
			live++;
		else if (!k)
			k = &kids[i];
	}
	if (live >= bu->max_live)
		k = NULL;
	if (!k || *started >= bu->max_starts) {
		refuse(k ? "no starts left" : "too many running");
		reply(sock, TRAWL_ELIMIT, 0, 0, -1);
		return;
	}
	if ((err = fork_ctags(&pid, &pidfd, &fd, program)) < 0) {
		fprintf(stderr, "trawl: ctags launcher: %s\n", error_last());
		reply(sock, err, 0, 0, -1);
		return;
	}
	*k = (struct kid){ .pid = pid, .pidfd = pidfd, .id = ++*started, .is_live = true };
	reply(sock, 0, k->id, pid, fd);
	close(fd);
}

static void kill_one(int sock, struct kid *kids, uint32_t id)
{
	for (size_t i = 0; i < CTAGS_LAUNCHER_MAX_LIVE; i++)
		if (kids[i].is_live && kids[i].id == id) {
			end_kid(&kids[i]);
			reply(sock, 0, id, 0, -1);
			return;
		}
	refuse("no such ctags");
	reply(sock, TRAWL_ENOTFOUND, id, 0, -1);
}

/* The launcher's life: requests until the socket ends, then its children killed. */
static _Noreturn void serve(int sock, const char *program, const struct budget *bu)
{
	struct kid kids[CTAGS_LAUNCHER_MAX_LIVE] = { 0 };
	uint32_t started = 0;

	for (;;) {
		/* One byte more than a request, so that a longer one shows. */
		char buf[sizeof(struct lreq) + 1];
		union {
			char buf[CMSG_SPACE(sizeof(int) * 16)];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf) };
		bool has_fds = false;
		struct lreq q;
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* SECURITY: a request carries no descriptor; any that came are closed. */
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; i * sizeof(int) + CMSG_LEN(0) < cm->cmsg_len; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				close(fd);
			}
			has_fds = true;
		}
		memcpy(&q, buf, sizeof(q));
		if (has_fds || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n != sizeof(q) ||
		    q.magic != LAUNCHER_MAGIC) {
			refuse("malformed");
			reply(sock, TRAWL_EINVAL, 0, 0, -1);
		} else if (q.op == OP_START) {
			start_one(sock, kids, &started, bu, program);
		} else if (q.op == OP_KILL) {
			kill_one(sock, kids, q.id);
		} else {
			refuse("unknown operation");
			reply(sock, TRAWL_EINVAL, 0, 0, -1);
		}
	}
	for (size_t i = 0; i < CTAGS_LAUNCHER_MAX_LIVE; i++)
		if (kids[i].is_live)
			end_kid(&kids[i]);
	_exit(0);
}

/*
 * In the new launcher: nothing but its socket (as LAUNCHER_FD) and standard descriptors, and
 * its own confinement (CONFINE_LAUNCHER: no capability, a seccomp allow-list whose only
 * execve is of program, Landlock reading the C library's trees and program, limits).
 */
static _Noreturn void launcher_main(int sock, pid_t parent, const char *program,
				    const struct budget *bu)
{
	const char *read[3];
	const int keep[] = { LAUNCHER_FD };
	struct confine_spec spec = { .role = CONFINE_LAUNCHER, .read_paths = read,
				     .keep_fds = keep, .n_keep_fds = 1, .report_fd = 2,
				     .exec_path = program };
	struct confine_status st;

	/* SECURITY: it dies with the process that started it, and cannot gain privileges. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(127);
	if (sock != LAUNCHER_FD) {
		if (dup2(sock, LAUNCHER_FD) < 0)
			_exit(127);
		close(sock);
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	spec.n_read = ctags_read_paths(read, program);
	if (confine_apply(&spec, &st) < 0) {
		fprintf(stderr, "trawl: ctags launcher: %s\n", error_last());
		_exit(127);
	}
	serve(LAUNCHER_FD, program, bu);
}

int ctags_launcher_start(struct ctags_launcher **out, unsigned max_live, unsigned max_starts)
{
	struct ctags_launcher *l = calloc(1, sizeof(*l));
	struct budget bu = { max_live < CTAGS_LAUNCHER_MAX_LIVE ? max_live : CTAGS_LAUNCHER_MAX_LIVE,
			     max_starts };
	pid_t parent = getpid();
	int sv[2];

	*out = NULL;
	if (!l)
		return error_nomem("starting the ctags launcher");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		error_set("ctags launcher: cannot make a socket pair: %s", strerror(errno));
		free(l);
		return TRAWL_EIO;
	}
	l->pid = fork();
	if (l->pid < 0) {
		error_set("ctags launcher: cannot fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(l);
		return TRAWL_EIO;
	}
	if (l->pid == 0) {
		close(sv[0]);
		launcher_main(sv[1], parent, ctags_program(), &bu);
	}
	close(sv[1]);
	l->sock = sv[0];
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return 0;
}

int ctags_launcher_pid(const struct ctags_launcher *l)
{
	return (int)l->pid;
}

int ctags_launcher_fd(const struct ctags_launcher *l)
{
	return l->sock;
}

/* One request and its answer (fd: where a passed descriptor goes, else NULL). EIO. */
static int ask(struct ctags_launcher *l, struct lrep *r, uint32_t op, uint32_t id, int *fd)
{
	struct lreq q = { .magic = LAUNCHER_MAGIC, .op = op, .id = id };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = r, .iov_len = sizeof(*r) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	int got = -1;

	pthread_mutex_lock(&l->lock);
	do
		n = send(l->sock, &q, sizeof(q), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(q))
		do
			n = recvmsg(l->sock, &mh, MSG_CMSG_CLOEXEC);
		while (n < 0 && errno == EINTR);
	else
		n = -1;
	pthread_mutex_unlock(&l->lock);
	for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&got, CMSG_DATA(cm), sizeof(int));
	if (n != (ssize_t)sizeof(*r) || r->magic != LAUNCHER_MAGIC) {
		if (got >= 0)
			close(got);
		error_set("ctags launcher: no answer (it ended)");
		return TRAWL_EIO;
	}
	if (fd)
		*fd = got;
	else if (got >= 0)
		close(got);
	return 0;
}

int ctags_launcher_spawn(struct ctags_launcher *l, uint32_t *id, pid_t *pid, int *fd)
{
	struct lrep r;
	int got = -1, err;

	*fd = -1;
	if ((err = ask(l, &r, OP_START, 0, &got)) < 0)
		return err;
	if (r.err < 0 || got < 0) {
		if (got >= 0)
			close(got);
		error_set("ctags launcher: could not start ctags (%s)",
			  r.err == TRAWL_ELIMIT ? "started too often" : "see its message");
		return r.err == TRAWL_ELIMIT ? TRAWL_ELIMIT : TRAWL_EIO;
	}
	*id = r.id;
	*pid = (pid_t)r.pid;
	*fd = got;
	return 0;
}

void ctags_launcher_kill(struct ctags_launcher *l, uint32_t id)
{
	struct lrep r;

	ask(l, &r, OP_KILL, id, NULL);
}

void ctags_launcher_free(struct ctags_launcher *l)
{
	if (!l)
		return;
	close(l->sock);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
