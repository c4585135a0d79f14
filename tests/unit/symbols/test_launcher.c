/*
 * The ctags launcher (src/symbols/launcher.c): a process confined as the index worker (no
 * execve, no fork) gets its ctags through it, restarts included; the launcher refuses whatever
 * is not a well-formed start or kill of its own ctags, starts at most its budget, and takes its
 * ctags with it when its parent ends. This program is its own helper ("PROGRAM __ctags"), as in
 * test_ctags.c.
 *
 * valgrind: no (the helper is /proc/self/exe, which under Valgrind is Valgrind's own tool)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox/confine.h"
#include "symbols/ctags.h"
#include "symbols/symsec.h"
#include "unit/testlib.h"
#include "util/buf.h"
#include "util/error.h"

/* The launcher's wire format (docs/internals/symbols.md), written here by hand. */
#define MAGIC 0x6c637467u
struct req {
	uint32_t magic, op, id;
};
struct rep {
	uint32_t magic;
	int32_t err;
	uint32_t id;
	int32_t pid;
};

/*
 * A fake ctags for the shell (builtins only: it may not start another program; bash would not
 * do, it makes a socket): it answers a tag named after the file (whose lines must end in a
 * newline), and dies (SIGSYS: kill is not allowed) on a file whose name holds "crash".
 */
static const char *fake_ctags(void)
{
	static const char text[] =
		"#!/bin/sh\n"
		"echo '{\"_type\": \"program\", \"name\": \"fake\"}'\n"
		"while read -r req; do\n"
		"  size=${req##*\\\"size\\\":}; size=${size%\\}}\n"
		"  case \"$req\" in *crash*) kill -9 $$;; esac\n"
		"  name=${req#*\\\"filename\\\":\\\"}; name=${name%%.*}\n"
		"  got=0\n"
		"  while [ \"$got\" -lt \"$size\" ] && IFS= read -r line; do\n"
		"    got=$((got + ${#line} + 1))\n"
		"  done\n"
		"  echo \"{\\\"_type\\\": \\\"tag\\\", \\\"name\\\": \\\"fake_$name\\\", "
		"\\\"kind\\\": \\\"function\\\", \\\"line\\\": 1, \\\"language\\\": \\\"C\\\"}\"\n"
		"  echo '{\"_type\": \"completed\", \"command\": \"generate-tags\"}'\n"
		"done\n";
	const char *path = testlib_path("fake-ctags.sh");

	testlib_write_file(testlib_tmpdir(), "fake-ctags.sh", text);
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

struct run {
	struct symsec_builder *b;
	uint32_t doc;
	struct buf out;
	struct symsec s;
};

/* Extracts one file's symbols into r's next document: its status. */
static enum symsec_status extract(struct run *r, struct ctags *c, const char *path, const char *src)
{
	enum symsec_status st = SYMSEC_UNAVAILABLE;

	if (symsec_builder_doc(r->b, r->doc++, SYMSEC_OK) < 0 ||
	    ctags_extract(&st, c, r->b, path, strlen(path), (const uint8_t *)src, strlen(src)) < 0)
		return SYMSEC_UNAVAILABLE;
	return st;
}

/* How many symbols named name the finished run has. */
static int on_sym(void *arg, const struct symsec_sym *y)
{
	(void)y;
	++*(unsigned *)arg;
	return 0;
}

static unsigned count_named(struct run *r, const char *name)
{
	uint32_t count;
	unsigned n = 0;

	if (!r->out.len &&
	    (symsec_builder_finish(r->b, &r->out, &count, r->doc) < 0 ||
	     symsec_open(&r->s, (const uint8_t *)r->out.ptr, r->out.len, count, r->doc) < 0))
		return 0;
	symsec_lookup(&r->s, name, strlen(name), SYMSEC_EXACT, NULL, NULL, on_sym, &n);
	return n;
}

static long proc_status(int pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

/* A hexadecimal field of /proc/PID/status (CapEff:), or ~0 when it cannot be read. */
static unsigned long long proc_status_hex(int pid, const char *key)
{
	char path[64], line[256];
	unsigned long long v = ~0ULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return v;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtoull(line + strlen(key), NULL, 16);
	fclose(f);
	return v;
}

/* Confines this (forked) process as the index worker does, keeping the launcher's socket. */
static int confine_as_worker(const struct ctags_launcher *l)
{
	const int keep[] = { ctags_launcher_fd(l) };
	struct confine_spec spec = {
		.role = CONFINE_INDEX, .keep_fds = keep, .n_keep_fds = 1, .report_fd = 2
	};
	struct confine_status st;

	return confine_apply(&spec, &st);
}

/* Waits (bounded) for a forked child; its wait status. */
static int wait_child(pid_t pid)
{
	int status = -1;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static void a_confined_worker_gets_ctags_and_restarts_it(void **state)
{
	pid_t pid;

	(void)state;
	assert_int_equal(setenv("TRAWL_TEST_CTAGS", fake_ctags(), 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ctags_launcher *l = NULL;
		struct ctags *c = NULL;
		struct run r = { 0 };
		int first, second, code = 0;

		buf_init(&r.out, UINT32_MAX);
		if (ctags_launcher_start(&l, 8, 8) < 0 || confine_as_worker(l) < 0 ||
		    symsec_builder_new(&r.b) < 0)
			_exit(10);
		struct ctags_opts o = { .launcher = l };
		if (ctags_new(&c, &o) < 0)
			_exit(11);
		/* The worker may not start a program itself: the launcher starts them. */
		if (extract(&r, c, "one.c", "int one;\n") != SYMSEC_OK)
			code = 12;
		/* (Its /proc/PID is out of the confined process's reach: see the next test.) */
		first = ctags_pid(c);
		if (!code && first <= 0)
			code = 13;
		if (!code && extract(&r, c, "crash.c", "int boom;\n") != SYMSEC_CRASHED)
			code = 14;
		/* Killed and reaped by the launcher, which the worker could not do. */
		if (!code && ctags_pid(c) != 0)
			code = 15;
		if (!code && extract(&r, c, "two.c", "int two;\n") != SYMSEC_OK)
			code = 16;
		second = ctags_pid(c);
		if (!code && (second <= 0 || second == first))
			code = 17;
		if (!code && (count_named(&r, "fake_one") != 1 || count_named(&r, "fake_two") != 1 ||
			      count_named(&r, "fake_crash") != 0))
			code = 18;
		if (!code && proc_status(getpid(), "Seccomp:") != 2)
			code = 19;
		_exit(code);
	}
	assert_int_equal(unsetenv("TRAWL_TEST_CTAGS"), 0);
	assert_int_equal(wait_child(pid), 0); /* exit status 0: every check above held */
}

static void real_ctags_through_the_launcher(void **state)
{
	struct ctags_launcher *l = NULL;
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	struct run r = { 0 };
	char exe[256] = "", link[64], *real;
	ssize_t n;

	(void)state;
	buf_init(&r.out, UINT32_MAX);
	assert_int_equal(symsec_builder_new(&r.b), 0);
	assert_int_equal(ctags_launcher_start(&l, 4, 4), 0);
	o.launcher = l;
	assert_int_equal(ctags_new(&c, &o), 0);
	assert_int_equal(extract(&r, c, "add.c", "int add(int a, int b) { return a + b; }\n"),
			 SYMSEC_OK);
	snprintf(link, sizeof(link), "/proc/%d/exe", ctags_pid(c));
	n = readlink(link, exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	real = realpath(CTAGS_PATH, NULL);
	assert_non_null(real);
	assert_string_equal(exe, real);
	free(real);
	assert_int_equal(proc_status(ctags_pid(c), "NoNewPrivs:"), 1);
	assert_int_equal(proc_status(ctags_pid(c), "Seccomp:"), 2);
	assert_int_equal(proc_status(ctags_pid(c), "PPid:"), ctags_launcher_pid(l));
	assert_int_equal(count_named(&r, "add"), 1);
	/*
	 * The launcher is confined too (docs/security.md, "The index worker's ctags launcher"):
	 * a filter, and neither it nor its ctags keeps a capability, even when we are root.
	 */
	assert_int_equal(proc_status(ctags_launcher_pid(l), "NoNewPrivs:"), 1);
	assert_int_equal(proc_status(ctags_launcher_pid(l), "Seccomp:"), 2);
	for (int i = 0; i < 2; i++) {
		int pid = i ? ctags_pid(c) : ctags_launcher_pid(l);

		assert_int_equal(proc_status_hex(pid, "CapEff:"), 0);
		assert_int_equal(proc_status_hex(pid, "CapPrm:"), 0);
		assert_int_equal(proc_status_hex(pid, "CapAmb:"), 0);
		if (geteuid() == 0)
			assert_int_equal(proc_status_hex(pid, "CapBnd:"), 0);
	}
	ctags_free(c);
	ctags_launcher_free(l);
	symsec_builder_free(r.b);
	buf_dispose(&r.out);
}

static void the_confined_worker_still_cannot_execve(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ctags_launcher *l = NULL;
		char *argv[] = { "true", NULL }, *envp[] = { NULL };
		int devnull;

		if (ctags_launcher_start(&l, 8, 8) < 0 || confine_as_worker(l) < 0)
			_exit(10);
		/* The SIGSYS report is expected: not on the test's output. */
		if ((devnull = open("/dev/null", O_WRONLY)) >= 0)
			dup2(devnull, 2);
		execve("/bin/true", argv, envp);
		_exit(11);
	}
	status = wait_child(pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* One raw message to the launcher, with a descriptor when fd >= 0; its answer in *r. */
static void raw(int sock, const void *msg, size_t len, int fd, struct rep *r, int *got_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

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
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = r;
	iov.iov_len = sizeof(*r);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	assert_int_equal(n, (ssize_t)sizeof(*r));
	assert_int_equal(r->magic, MAGIC);
	*got_fd = -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_type == SCM_RIGHTS)
			memcpy(got_fd, CMSG_DATA(cm), sizeof(int));
}

static void the_launcher_runs_nothing_but_ctags(void **state)
{
	struct ctags_launcher *l = NULL;
	struct rep r;
	struct req q;
	char shortmsg[4] = { 0 }, longmsg[64] = { 0 }, line[256];
	int sock, got, pipefd[2];
	pid_t sleeper, ctags_pid_1 = 0;
	uint32_t id1 = 0;

	(void)state;
	assert_int_equal(ctags_launcher_start(&l, 2, 2), 0);
	sock = ctags_launcher_fd(l);

	/* Malformed: too short, too long, another magic, an unknown operation. */
	raw(sock, shortmsg, sizeof(shortmsg), -1, &r, &got);
	assert_int_equal(r.err, TRAWL_EINVAL);
	assert_int_equal(got, -1);
	memcpy(longmsg, &(struct req){ MAGIC, 1, 0 }, sizeof(struct req));
	raw(sock, longmsg, sizeof(longmsg), -1, &r, &got);
	assert_int_equal(r.err, TRAWL_EINVAL);
	assert_int_equal(got, -1);
	q = (struct req){ MAGIC ^ 1, 1, 0 };
	raw(sock, &q, sizeof(q), -1, &r, &got);
	assert_int_equal(r.err, TRAWL_EINVAL);
	q = (struct req){ MAGIC, 99, 0 };
	raw(sock, &q, sizeof(q), -1, &r, &got);
	assert_int_equal(r.err, TRAWL_EINVAL);

	/* A start that brings a descriptor is refused, and the descriptor closed. */
	assert_int_equal(pipe2(pipefd, O_CLOEXEC | O_NONBLOCK), 0);
	q = (struct req){ MAGIC, 1, 0 };
	raw(sock, &q, sizeof(q), pipefd[1], &r, &got);
	assert_int_equal(r.err, TRAWL_EINVAL);
	assert_int_equal(got, -1);
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], line, 1), 0); /* no writer left: the launcher closed it */
	close(pipefd[0]);

	/* A kill names one of its own ctags by its id, never a pid. */
	sleeper = fork();
	assert_true(sleeper >= 0);
	if (sleeper == 0) {
		pause();
		_exit(0);
	}
	q = (struct req){ MAGIC, 2, (uint32_t)sleeper };
	raw(sock, &q, sizeof(q), -1, &r, &got);
	assert_int_equal(r.err, TRAWL_ENOTFOUND);
	q = (struct req){ MAGIC, 2, 1 };
	raw(sock, &q, sizeof(q), -1, &r, &got);
	assert_int_equal(r.err, TRAWL_ENOTFOUND); /* nothing started yet */
	assert_int_equal(kill(sleeper, 0), 0);
	kill(sleeper, SIGKILL);
	assert_int_equal(wait_child(sleeper) != -1, 1);

	/* A well-formed start: a socket to a ctags that speaks first. */
	q = (struct req){ MAGIC, 1, 0 };
	raw(sock, &q, sizeof(q), -1, &r, &got);
	assert_int_equal(r.err, 0);
	assert_true(got >= 0);
	id1 = r.id;
	ctags_pid_1 = r.pid;
	assert_true(read(got, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "\"program\""));
	close(got);
	/* Its budget: two starts, then no more, whatever was killed meanwhile. */
	q = (struct req){ MAGIC, 2, id1 };
	raw(sock, &q, sizeof(q), -1, &r, &got);
	assert_int_equal(r.err, 0);
	assert_int_equal(kill(ctags_pid_1, 0), -1); /* killed and reaped */
	q = (struct req){ MAGIC, 1, 0 };
	raw(sock, &q, sizeof(q), -1, &r, &got);
	assert_int_equal(r.err, 0);
	assert_true(got >= 0);
	close(got);
	q = (struct req){ MAGIC, 1, 0 };
	raw(sock, &q, sizeof(q), -1, &r, &got);
	assert_int_equal(r.err, TRAWL_ELIMIT);
	assert_int_equal(got, -1);
	ctags_launcher_free(l);
}

/*
 * No more ctags alive at once than the worker has indexing threads, whatever the start budget
 * (each ctags has rlimits of its own: a worker that held many would hold their memory too).
 */
static void the_launcher_runs_no_more_ctags_at_once_than_threads(void **state)
{
	struct ctags_launcher *l = NULL;
	struct req q = { MAGIC, 1, 0 };
	struct rep r;
	int got, first;
	uint32_t id;

	(void)state;
	assert_int_equal(ctags_launcher_start(&l, 1, 4), 0);
	raw(ctags_launcher_fd(l), &q, sizeof(q), -1, &r, &first);
	assert_int_equal(r.err, 0);
	assert_true(first >= 0);
	id = r.id;
	raw(ctags_launcher_fd(l), &q, sizeof(q), -1, &r, &got);
	assert_int_equal(r.err, TRAWL_ELIMIT); /* the first is still alive */
	assert_int_equal(got, -1);
	q = (struct req){ MAGIC, 2, id };
	raw(ctags_launcher_fd(l), &q, sizeof(q), -1, &r, &got);
	assert_int_equal(r.err, 0);
	close(first);
	q = (struct req){ MAGIC, 1, 0 };
	raw(ctags_launcher_fd(l), &q, sizeof(q), -1, &r, &got);
	assert_int_equal(r.err, 0); /* killed: room for one again */
	assert_true(got >= 0);
	close(got);
	ctags_launcher_free(l);
}

/* Whether pid ends (and is reaped by us, its subreaper) within a bounded number of tries. */
static bool ends(pid_t pid)
{
	struct timespec ms = { 0, 10000000L };
	int status;

	for (int i = 0; i < 3000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid || (kill(pid, 0) < 0 && errno == ESRCH))
			return true;
		nanosleep(&ms, NULL);
	}
	return false;
}

static void the_launcher_and_its_ctags_die_with_the_worker(void **state)
{
	int fds[2];
	pid_t worker, pids[2] = { 0, 0 };

	(void)state;
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	assert_int_equal(pipe(fds), 0);
	worker = fork();
	assert_true(worker >= 0);
	if (worker == 0) {
		struct ctags_launcher *l = NULL;
		struct ctags_opts o = { 0 };
		struct ctags *c = NULL;
		struct run r = { 0 };
		pid_t p[2];

		buf_init(&r.out, UINT32_MAX);
		if (ctags_launcher_start(&l, 4, 4) < 0 || symsec_builder_new(&r.b) < 0)
			_exit(10);
		o.launcher = l;
		if (ctags_new(&c, &o) < 0 || extract(&r, c, "a.c", "int a;\n") != SYMSEC_OK)
			_exit(11);
		p[0] = ctags_launcher_pid(l);
		p[1] = ctags_pid(c);
		if (write(fds[1], p, sizeof(p)) != (ssize_t)sizeof(p))
			_exit(12);
		pause();
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], pids, sizeof(pids)), (ssize_t)sizeof(pids));
	close(fds[0]);
	assert_int_equal(kill(pids[0], 0), 0);
	assert_int_equal(kill(pids[1], 0), 0);
	kill(worker, SIGKILL);
	wait_child(worker);
	/* PR_SET_PDEATHSIG: the launcher goes with the worker, its ctags with the launcher. */
	assert_true(ends(pids[0]));
	assert_true(ends(pids[1]));
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_confined_worker_gets_ctags_and_restarts_it),
		cmocka_unit_test(real_ctags_through_the_launcher),
		cmocka_unit_test(the_confined_worker_still_cannot_execve),
		cmocka_unit_test(the_launcher_runs_nothing_but_ctags),
		cmocka_unit_test(the_launcher_runs_no_more_ctags_at_once_than_threads),
		cmocka_unit_test(the_launcher_and_its_ctags_die_with_the_worker),
	};

	if (argc == 2 && strcmp(argv[1], "__ctags") == 0)
		return ctags_helper_main();
	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
