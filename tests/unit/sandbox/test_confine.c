/*
 * Unit tests for confining a process (sandbox/confine.h). Each case forks a child that confines
 * itself and tries one thing; the parent checks how the child ended and what it reported: a
 * forbidden system call kills it with SIGSYS after the exact report line, allowed work succeeds,
 * Landlock refuses files outside the trees with EACCES, limits are set and descriptors closed.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <cmocka.h>

#include "unit/sandbox/confine_fixture.h"
#include "util/sanitizer.h"
#include "unit/testlib.h"


static char dir_ro[512], dir_rw[512], dir_out[512];

static int setup(void **state)
{
	if (testlib_setup(state) < 0)
		return -1;
	snprintf(dir_ro, sizeof(dir_ro), "%s", testlib_path("ro"));
	snprintf(dir_rw, sizeof(dir_rw), "%s", testlib_path("rw"));
	snprintf(dir_out, sizeof(dir_out), "%s", testlib_path("outside"));
	if (mkdir(dir_ro, 0755) < 0 || mkdir(dir_rw, 0755) < 0 || mkdir(dir_out, 0755) < 0)
		return -1;
	testlib_write_file(dir_ro, "in.txt", "readable\n");
	testlib_write_file(dir_out, "secret.txt", "not for workers\n");
	return 0;
}

static struct confine_spec spec_for(enum confine_role role)
{
	static const char *ro[1], *rw[1];

	ro[0] = dir_ro;
	rw[0] = dir_rw;
	return (struct confine_spec){
		.role = role,
		.read_paths = ro,
		.n_read = 1,
		.write_paths = rw,
		.n_write = 1,
		.report_fd = -1,
	};
}

/* --- forbidden calls --------------------------------------------------------------------- */

static int try_syscall(void *arg)
{
	static char *const argv[] = { "true", NULL };
	const char *name = arg;

	if (strcmp(name, "socket") == 0)
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	else if (strcmp(name, "connect") == 0)
		syscall(SYS_connect, 0, NULL, 0);
	else if (strcmp(name, "execve") == 0)
		syscall(SYS_execve, "/bin/true", argv, NULL);
	else if (strcmp(name, "execveat") == 0)
		syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, NULL, 0);
	else if (strcmp(name, "ptrace") == 0)
		syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
	else if (strcmp(name, "process_vm_readv") == 0)
		syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0);
	else if (strcmp(name, "process_vm_writev") == 0)
		syscall(SYS_process_vm_writev, getppid(), NULL, 0, NULL, 0, 0);
	else if (strcmp(name, "personality") == 0)
		syscall(SYS_personality, 0xffffffffUL);
	else if (strcmp(name, "bpf") == 0)
		syscall(SYS_bpf, 0, NULL, 0);
	else if (strcmp(name, "mkdir") == 0)
		syscall(SYS_mkdir, dir_rw, 0700);
	else if (strcmp(name, "unshare") == 0)
		syscall(SYS_unshare, 0);
	else if (strcmp(name, "tgkill") == 0) /* signal 0 to the parent: another process */
		syscall(SYS_tgkill, getppid(), getppid(), 0);
	else if (strcmp(name, "prlimit64") == 0) { /* read the parent's limit */
		struct rlimit old;

		syscall(SYS_prlimit64, getppid(), RLIMIT_NOFILE, NULL, &old);
	} else if (strcmp(name, "kill") == 0)
		syscall(SYS_kill, getppid(), 0);
	else if (strcmp(name, "socketpair") == 0) { /* a datagram pair */
		int sv[2];

		syscall(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv);
	}
	else if (strcmp(name, "clone") == 0) {
		if (fork() == 0) /* glibc's fork is clone without CLONE_THREAD */
			_exit(0);
	} else if (strcmp(name, "fork") == 0) {
		if (syscall(SYS_fork) == 0)
			_exit(0);
	} else if (strcmp(name, "vfork") == 0) {
		if (syscall(SYS_vfork) == 0)
			_exit(0);
	} else
		return 9;
	return 0; /* the call returned: not forbidden */
}

static long nr_of(const char *name)
{
	static const struct {
		const char *name;
		long nr;
	} nrs[] = {
		{ "socket", SYS_socket },
		{ "connect", SYS_connect },
		{ "execve", SYS_execve },
		{ "execveat", SYS_execveat },
		{ "ptrace", SYS_ptrace },
		{ "process_vm_readv", SYS_process_vm_readv },
		{ "process_vm_writev", SYS_process_vm_writev },
		{ "personality", SYS_personality },
		{ "bpf", SYS_bpf },
		{ "mkdir", SYS_mkdir },
		{ "unshare", SYS_unshare },
		{ "tgkill", SYS_tgkill },
		{ "prlimit64", SYS_prlimit64 },
		{ "kill", SYS_kill },
		{ "socketpair", SYS_socketpair },
		{ "clone", SYS_clone },
		{ "fork", SYS_fork },
		{ "vfork", SYS_vfork },
	};

	for (size_t i = 0; i < sizeof(nrs) / sizeof(*nrs); i++)
		if (strcmp(nrs[i].name, name) == 0)
			return nrs[i].nr;
	return -1;
}

static void check_denied(enum confine_role role, const char *name)
{
	struct cf_run r;
	char want[128];

	if (HAS_ASAN && (strcmp(name, "ptrace") == 0 || strcmp(name, "process_vm_readv") == 0 ||
			 strcmp(name, "tgkill") == 0 || strcmp(name, "prlimit64") == 0))
		return; /* allowed for LeakSanitizer in an ASan build (docs/internals/sandbox.md) */
	cf_run(&r, spec_for(role), try_syscall, (void *)name);
	snprintf(want, sizeof(want), "sandbox: denied system call %s (%ld)\n", name, nr_of(name));
	if (!cf_killed_by_sigsys(&r))
		fail_msg("%s: %s was not denied", confine_role_name(role), name);
	assert_string_equal(r.report, want);
}

static void index_forbidden_calls_die_with_sigsys(void **state)
{
	static const char *const names[] = {
		"socket",           "connect",           "execve", "execveat", "ptrace",
		"process_vm_readv", "process_vm_writev", "unshare"
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		check_denied(CONFINE_INDEX, names[i]);
}

static void compile_forbidden_calls_die_with_sigsys(void **state)
{
	static const char *const names[] = { "socket", "execve", "ptrace", "mkdir" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		check_denied(CONFINE_COMPILE, names[i]);
}

/* The ctags launcher: no network, no file made, no other program (its exec_path unset here). */
static void launcher_forbidden_calls_die_with_sigsys(void **state)
{
	static const char *const names[] = {
		"socket", "connect", "execve", "execveat", "ptrace", "process_vm_readv", "mkdir",
		"unshare", "bpf", "kill", "socketpair"
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		check_denied(CONFINE_LAUNCHER, names[i]);
}

/*
 * No confined role reaches another process through a signal or its limits, whatever the
 * kernel's Landlock (outside attack s26, F1: prlimit64 let a worker starve the server).
 */
static void workers_reach_no_other_process(void **state)
{
	static const enum confine_role roles[] = { CONFINE_FETCH, CONFINE_INDEX, CONFINE_COMPILE,
						   CONFINE_LAUNCHER };

	(void)state;
	for (size_t i = 0; i < sizeof(roles) / sizeof(*roles); i++) {
		check_denied(roles[i], "tgkill");
		check_denied(roles[i], "prlimit64");
	}
}

/*
 * No confined role but the server keeps a capability, even as root: none effective, permitted or
 * bounding (outside attack s26, F2: a fetch worker run as root opened an AF_PACKET socket).
 */
static int caps_none(void *arg)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	(void)arg;
	CHILD_CHECK(syscall(SYS_capget, &h, d) == 0);
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		CHILD_CHECK(d[i].effective == 0 && d[i].permitted == 0 && d[i].inheritable == 0);
	if (geteuid() == 0)
		for (int c = 0; c < 64 && prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
			CHILD_CHECK(prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0);
	return 0;
}

static void workers_keep_no_capability(void **state)
{
	static const enum confine_role roles[] = { CONFINE_FETCH, CONFINE_INDEX, CONFINE_COMPILE,
						   CONFINE_LAUNCHER };
	struct cf_run r;

	(void)state;
	for (size_t i = 0; i < sizeof(roles) / sizeof(*roles); i++) {
		cf_run(&r, spec_for(roles[i]), caps_none, NULL);
		assert_true(cf_exited(&r, 0));
		assert_string_equal(r.report, "");
	}
}

static void fetch_forbidden_calls_die_with_sigsys(void **state)
{
	static const char *const names[] = { "execve", "execveat", "ptrace", "process_vm_readv",
					     "bpf" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		check_denied(CONFINE_FETCH, names[i]);
}

/*
 * A worker may not start a process: one could outlive it and race trawl sync over the work
 * directory and the shards (docs/internals/sandbox.md). Threads still work.
 */
static void *thread_main(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

static int start_thread(void *arg)
{
	pthread_t t;
	int v = 0;

	(void)arg;
	CHILD_CHECK(pthread_create(&t, NULL, thread_main, &v) == 0);
	CHILD_CHECK(pthread_join(t, NULL) == 0 && v == 42);
	return 0;
}

static void workers_cannot_fork_but_start_threads(void **state)
{
	static const enum confine_role roles[] = { CONFINE_FETCH, CONFINE_INDEX, CONFINE_COMPILE };
	struct cf_run r;

	(void)state;
	for (size_t i = 0; i < sizeof(roles) / sizeof(*roles); i++) {
		/* LeakSanitizer's tracer is a clone without CLONE_THREAD: allowed under ASan */
		if (!HAS_ASAN)
			check_denied(roles[i], "clone");
		check_denied(roles[i], "fork");
		check_denied(roles[i], "vfork");
		cf_run(&r, spec_for(roles[i]), start_thread, NULL);
		if (!cf_exited(&r, 0))
			fail_msg("%s: pthread_create failed: %s", confine_role_name(roles[i]),
				 r.report);
	}
}

static void server_denied_calls_die_with_sigsys(void **state)
{
	static const char *const names[] = { "execve",      "execveat", "ptrace", "process_vm_writev",
					     "personality", "bpf",      "unshare" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		check_denied(CONFINE_SERVER, names[i]);
}

static int use_network(void *arg)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)arg;
	CHILD_CHECK(fd >= 0);
	close(fd);
	return 0;
}

static void fetch_and_server_may_use_sockets(void **state)
{
	struct cf_run r;

	(void)state;
	cf_run(&r, spec_for(CONFINE_FETCH), use_network, NULL);
	assert_true(cf_exited(&r, 0));
	cf_run(&r, spec_for(CONFINE_SERVER), use_network, NULL);
	assert_true(cf_exited(&r, 0));
}

/* --- allowed work -------------------------------------------------------------------------- */

static int do_work(void *arg)
{
	char path[600], buf[64];
	pthread_t t;
	int fd, v = 0;
	void *m;

	(void)arg;
	snprintf(path, sizeof(path), "%s/in.txt", dir_ro);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(read(fd, buf, sizeof(buf)) == 9 && memcmp(buf, "readable\n", 9) == 0);
	m = mmap(NULL, 9, PROT_READ, MAP_PRIVATE, fd, 0);
	CHILD_CHECK(m != MAP_FAILED && memcmp(m, "readable", 8) == 0);
	munmap(m, 9);
	close(fd);
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHILD_CHECK(m != MAP_FAILED);
	memset(m, 1, 1 << 20);
	munmap(m, 1 << 20);
	CHILD_CHECK(pthread_create(&t, NULL, thread_main, &v) == 0);
	CHILD_CHECK(pthread_join(t, NULL) == 0 && v == 42);
	snprintf(path, sizeof(path), "%s/sub", dir_rw);
	CHILD_CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/sub/out.tmp", dir_rw);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(write(fd, "shard", 5) == 5 && fsync(fd) == 0);
	close(fd);
	snprintf(buf, sizeof(buf), "%s", "out");
	{
		char to[600];

		snprintf(to, sizeof(to), "%s/sub/out", dir_rw);
		CHILD_CHECK(rename(path, to) == 0);
		CHILD_CHECK(unlink(to) == 0);
	}
	snprintf(path, sizeof(path), "%s/sub", dir_rw);
	CHILD_CHECK(rmdir(path) == 0);
	return 0;
}

static void index_allowed_work_succeeds(void **state)
{
	struct cf_run r;

	(void)state;
	cf_run(&r, spec_for(CONFINE_INDEX), do_work, NULL);
	assert_true(cf_exited(&r, 0));
	assert_true(r.st.no_new_privs);
	assert_true(r.st.seccomp);
	assert_true(r.st.rlimits);
	assert_int_equal(r.st.landlock, r.st.landlock_abi > 0);
	cf_run(&r, spec_for(CONFINE_FETCH), do_work, NULL);
	assert_true(cf_exited(&r, 0));
}

/* --- Landlock ------------------------------------------------------------------------------ */

static int try_outside(void *arg)
{
	char path[600];
	int fd;

	(void)arg;
	snprintf(path, sizeof(path), "%s/secret.txt", dir_out);
	fd = open(path, O_RDONLY);
	CHILD_CHECK(fd < 0 && errno == EACCES);
	snprintf(path, sizeof(path), "%s/new.txt", dir_out);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHILD_CHECK(fd < 0 && errno == EACCES);
	snprintf(path, sizeof(path), "%s/new.txt", dir_ro);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHILD_CHECK(fd < 0 && errno == EACCES);
	snprintf(path, sizeof(path), "%s/in.txt", dir_ro);
	fd = open(path, O_WRONLY);
	CHILD_CHECK(fd < 0 && errno == EACCES);
	fd = open("/etc/hostname", O_RDONLY);
	CHILD_CHECK(fd < 0 && (errno == EACCES || errno == ENOENT));
	return 0;
}

static void landlock_refuses_outside_the_trees(void **state)
{
	static const enum confine_role roles[] = { CONFINE_INDEX, CONFINE_FETCH, CONFINE_SERVER };
	struct cf_run r;

	(void)state;
	if (confine_probe(&r.st) == 0 && r.st.landlock_abi == 0)
		skip();
	for (size_t i = 0; i < sizeof(roles) / sizeof(*roles); i++) {
		cf_run(&r, spec_for(roles[i]), try_outside, NULL);
		assert_true(cf_exited(&r, 0));
		assert_true(r.st.landlock);
	}
}

/* --- Landlock scoping (ABI 6) ------------------------------------------------------------- */

static pid_t outsider;                 /* a process started before the child confined itself */
static struct sockaddr_un abstract_at; /* an abstract socket it did not make */

static int try_abstract(void *arg)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				    strlen(abstract_at.sun_path + 1));

	(void)arg;
	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(connect(fd, (struct sockaddr *)&abstract_at, len) < 0 && errno == EPERM);
	close(fd);
	return 0;
}

/* tgkill to another process: Landlock's signal scope (ABI 6) refuses it. */
static int try_signal(void *arg)
{
	long want_ok = arg != NULL;
	long v = syscall(SYS_tgkill, outsider, outsider, 0);

	CHILD_CHECK(want_ok ? v == 0 : v < 0 && errno == EPERM);
	return 0;
}

static bool cf_run_exits_0(struct confine_spec spec, int (*fn)(void *), void *arg)
{
	struct cf_run r;

	cf_run(&r, spec, fn, arg);
	return cf_exited(&r, 0);
}

static void landlock_scopes_sockets_and_signals(void **state)
{
	struct cf_run r;
	bool ok[5];
	int lfd;

	(void)state;
	if (confine_probe(&r.st) == 0 && r.st.landlock_abi < 6)
		skip();
	memset(&abstract_at, 0, sizeof(abstract_at));
	abstract_at.sun_family = AF_UNIX;
	snprintf(abstract_at.sun_path + 1, sizeof(abstract_at.sun_path) - 1, "trawl-test-%ld",
		 (long)getpid());
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&abstract_at,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
					  strlen(abstract_at.sun_path + 1))),
			 0);
	assert_int_equal(listen(lfd, 4), 0);
	outsider = fork();
	assert_true(outsider >= 0);
	if (outsider == 0) {
		pause();
		_exit(0);
	}
	/* No abstract socket of another domain, whatever the role (the index role has no socket). */
	ok[0] = cf_run_exits_0(spec_for(CONFINE_FETCH), try_abstract, NULL);
	ok[1] = cf_run_exits_0(spec_for(CONFINE_SERVER), try_abstract, NULL);
	/*
	 * No signal out of the sandbox for workers (their filter allows tgkill to their own
	 * process only, so the Landlock scope is seen under ASan, whose filter allows it); the
	 * server still stops its syncs.
	 */
	ok[2] = !HAS_ASAN || cf_run_exits_0(spec_for(CONFINE_FETCH), try_signal, NULL);
	ok[3] = !HAS_ASAN || cf_run_exits_0(spec_for(CONFINE_INDEX), try_signal, NULL);
	ok[4] = cf_run_exits_0(spec_for(CONFINE_SERVER), try_signal, (void *)1);
	/* The outsider goes before any assertion can end the test. */
	kill(outsider, SIGKILL);
	waitpid(outsider, NULL, 0);
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		assert_true(ok[i]);
	close(lfd);
}

static int noop(void *arg)
{
	(void)arg;
	return 0;
}

static void missing_tree_is_einval_naming_it(void **state)
{
	struct confine_spec spec = spec_for(CONFINE_INDEX);
	const char *ro[] = { "/nonexistent/trawl-tree" };
	struct cf_run r;

	(void)state;
	spec.read_paths = ro;
	cf_run(&r, spec, noop, NULL);
	assert_true(cf_exited(&r, 2));
	assert_non_null(strstr(r.report, "confine failed: "));
	assert_non_null(strstr(r.report, "/nonexistent/trawl-tree"));
}

/* --- limits and descriptors ---------------------------------------------------------------- */

static int check_limits(void *arg)
{
	const struct confine_spec *want = arg;
	struct rlimit rl;

	CHILD_CHECK(getrlimit(RLIMIT_CPU, &rl) == 0 && rl.rlim_cur == want->cpu_s &&
		    rl.rlim_max == want->cpu_s);
	CHILD_CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur == want->fsize_bytes);
	CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == want->nofile);
	CHILD_CHECK(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 && rl.rlim_max == 0);
	CHILD_CHECK(getrlimit(RLIMIT_AS, &rl) == 0 && (HAS_ASAN || rl.rlim_cur == want->as_bytes));
	CHILD_CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
	CHILD_CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	/* The hard limit is lowered too: raising it again is refused. */
	CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	rl.rlim_max = rl.rlim_cur + 1;
	CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &rl) < 0);
	return 0;
}

static void rlimits_are_set(void **state)
{
	struct confine_spec spec = spec_for(CONFINE_INDEX), dflt = spec_for(CONFINE_INDEX);
	struct cf_run r;

	(void)state;
	confine_defaults(&dflt);
	assert_int_equal(dflt.cpu_s, 3600);
	assert_int_equal(dflt.nofile, 1024);
	cf_run(&r, spec, check_limits, &dflt);
	assert_true(cf_exited(&r, 0));
	spec.cpu_s = 7;
	spec.nofile = 64;
	spec.fsize_bytes = 1 << 20;
	spec.as_bytes = (uint64_t)1 << 30;
	cf_run(&r, spec, check_limits, &spec);
	assert_true(cf_exited(&r, 0));
}

static int check_fds(void *arg)
{
	const int *fds = arg;

	CHILD_CHECK(fcntl(fds[0], F_GETFD) < 0 && errno == EBADF);
	CHILD_CHECK(fcntl(fds[1], F_GETFD) < 0 && errno == EBADF);
	CHILD_CHECK(fcntl(fds[2], F_GETFD) >= 0);
	CHILD_CHECK(fcntl(fds[3], F_GETFD) < 0 && errno == EBADF);
	return 0;
}

static void unkept_descriptors_are_closed(void **state)
{
	struct confine_spec spec = spec_for(CONFINE_INDEX);
	int fds[4];
	struct cf_run r;

	(void)state;
	for (int i = 0; i < 4; i++)
		fds[i] = open("/dev/null", O_RDONLY);
	/* One far above the others, past any close_range gap. */
	fds[3] = dup2(fds[3], 900) < 0 ? fds[3] : (close(fds[3]), 900);
	spec.keep_fds = &fds[2];
	spec.n_keep_fds = 1;
	cf_run(&r, spec, check_fds, fds);
	assert_true(cf_exited(&r, 0));
	assert_true(r.st.n_fds_closed >= 3);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

/* exit(), not _exit(): atexit handlers run, and under ASan LeakSanitizer stops the world. */
static int exit_normally(void *arg)
{
	(void)arg;
	exit(0);
}

static void confined_process_exits_normally(void **state)
{
	static const enum confine_role roles[] = { CONFINE_FETCH, CONFINE_INDEX, CONFINE_COMPILE,
						   CONFINE_SERVER };
	struct cf_run r;

	(void)state;
	for (size_t i = 0; i < sizeof(roles) / sizeof(*roles); i++) {
		cf_run(&r, spec_for(roles[i]), exit_normally, NULL);
		assert_true(cf_exited(&r, 0));
		assert_string_equal(r.report, "");
	}
}

static void probe_fills_the_status(void **state)
{
	struct confine_status st;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1U /* VERSION */);

	(void)state;
	memset(&st, 0xff, sizeof(st));
	assert_int_equal(confine_probe(&st), 0);
	assert_true(st.no_new_privs);
	assert_true(st.seccomp);
	assert_true(st.rlimits);
	assert_int_equal(st.landlock_abi, abi < 0 ? 0 : abi);
	assert_int_equal(st.landlock, abi > 0);
	assert_int_equal(st.n_fds_closed, 0);
	assert_non_null(memchr(st.detail, 0, sizeof(st.detail)));
	/* Probing confines nothing. */
	assert_int_equal(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
	assert_string_equal(confine_role_name(CONFINE_COMPILE), "compile");
	assert_string_equal(confine_role_name(CONFINE_LAUNCHER), "launcher");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_forbidden_calls_die_with_sigsys),
		cmocka_unit_test(compile_forbidden_calls_die_with_sigsys),
		cmocka_unit_test(fetch_forbidden_calls_die_with_sigsys),
		cmocka_unit_test(launcher_forbidden_calls_die_with_sigsys),
		cmocka_unit_test(workers_keep_no_capability),
		cmocka_unit_test(workers_reach_no_other_process),
		cmocka_unit_test(workers_cannot_fork_but_start_threads),
		cmocka_unit_test(server_denied_calls_die_with_sigsys),
		cmocka_unit_test(fetch_and_server_may_use_sockets),
		cmocka_unit_test(index_allowed_work_succeeds),
		cmocka_unit_test(landlock_refuses_outside_the_trees),
		cmocka_unit_test(missing_tree_is_einval_naming_it),
		cmocka_unit_test(rlimits_are_set),
		cmocka_unit_test(unkept_descriptors_are_closed),
		cmocka_unit_test(confined_process_exits_normally),
		cmocka_unit_test(probe_fills_the_status),
		cmocka_unit_test(landlock_scopes_sockets_and_signals),
	};

	return cmocka_run_group_tests(tests, setup, testlib_teardown);
}
