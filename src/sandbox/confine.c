/*
 * Confining a process; see confine.h and docs/internals/sandbox.md. Linux: prctl(), seccomp
 * through libseccomp, Landlock (landlock.c), setrlimit(), close_range().
 *
 * DESIGN: the steps run from the one that needs the most to the one that forbids the most:
 * no_new_privs (Landlock and an unprivileged seccomp filter need it), then descriptors are
 * closed (reading /proc/self/fd, which Landlock may forbid afterwards), limits set, Landlock
 * enforced, and the seccomp filter loaded last, so that none of the earlier steps needs a
 * system call the filter forbids. The names of system calls are resolved for the SIGSYS
 * handler before the filter is loaded, because the handler may not allocate.
 */
#include "sandbox/confine.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "sandbox/confine_int.h"
#include "util/error.h"
#include "util/sanitizer.h"


#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#ifndef SECCOMP_RET_TRAP
#define SECCOMP_RET_TRAP 0x00030000U
#endif

/*
 * What every worker calls: glibc's start-up, malloc, threads and stdio, libgit2's file and
 * pack access (mmap, pread), zlib, Vectorscan and our own shard writer. The lists were fitted
 * with `strace -f -c` of real runs (docs/internals/sandbox.md says how).
 */
/* clang-format off: the lists read best as filled lines */
static const char *const sys_base[] = {
	/* memory */
	"brk",
	"mmap",
	"munmap",
	"mprotect",
	"mremap",
	"madvise",
	"msync",
	"mincore",
	/* threads (clone: see worker_rules), signals, time */
	"set_robust_list",
	"get_robust_list",
	"set_tid_address",
	"rseq",
	"futex",
	"futex_waitv",
	"exit",
	"exit_group",
	"restart_syscall",
	"rt_sigaction",
	"rt_sigprocmask",
	"rt_sigreturn",
	"rt_sigtimedwait",
	"sigaltstack",
	/* tgkill and prlimit64: see worker_rules (their own process only) */
	"getpid",
	"gettid",
	"getppid",
	"getuid",
	"geteuid",
	"getgid",
	"getegid",
	"getgroups",
	"getresuid",
	"getresgid",
	"capget",
	"sched_yield",
	"sched_getaffinity",
	"sched_getparam",
	"sched_getscheduler",
	"getrandom",
	"clock_gettime",
	"clock_getres",
	"clock_nanosleep",
	"nanosleep",
	"gettimeofday",
	"time",
	"getitimer",
	"setitimer",
	"alarm",
	"sysinfo",
	"uname",
	"getrlimit",
	"getrusage",
	"times",
	"getpriority",
	"membarrier",
	/* descriptors we hold */
	"read",
	"write",
	"readv",
	"writev",
	"pread64",
	"pwrite64",
	"preadv",
	"pwritev",
	"preadv2",
	"pwritev2",
	"lseek",
	"close",
	"dup",
	"dup2",
	"dup3",
	"fcntl",
	"ioctl",
	"pipe",
	"pipe2",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	"epoll_create",
	"epoll_create1",
	"epoll_ctl",
	"epoll_wait",
	"epoll_pwait",
	"epoll_pwait2",
	"eventfd2",
	"fstat",
	"newfstatat",
	"statx",
	"fstatfs",
	"flock",
	"fadvise64",
	"fsync",
	"fdatasync",
	"sendfile",
	"copy_file_range",
	/* looking at files (Landlock decides which) */
	"openat",
	"open",
	"stat",
	"lstat",
	"statfs",
	"access",
	"faccessat",
	"faccessat2",
	"readlink",
	"readlinkat",
	"getdents64",
	"getcwd",
	"umask",
};

/*
 * Creating and changing files: the index worker's output, the fetch worker's mirror. fchown is
 * SQLite's (run as root, it gives a new journal its database's owner); the path-based chown
 * calls are not allowed.
 */
static const char *const sys_write[] = {
	"fchown",   "mkdir",           "mkdirat",   "rename",   "renameat",  "renameat2", "unlink",
	"unlinkat", "rmdir",           "ftruncate", "truncate", "fallocate", "link",      "linkat",
	"symlink",  "symlinkat",       "fchmod",    "fchmodat", "chmod",     "utimensat", "futimesat",
	"utimes",   "sync_file_range", "chdir",     "fchdir",
};

/* The fetch worker's network: libgit2 over https and ssh, glibc's resolver. */
static const char *const sys_net[] = {
	"socket",     "connect",  "getsockname", "getpeername", "setsockopt",
	"getsockopt", "sendto",   "recvfrom",    "sendmsg",     "recvmsg",
	"sendmmsg",   "recvmmsg", "shutdown",    "bind",        "socketpair",
};

/*
 * The index worker's ctags (src/symbols/launcher.c): messages on the sockets it is given, its
 * launcher's (with the descriptors it passes) and each ctags' standard input and output. No
 * call that makes or connects a socket: only descriptors it already holds.
 */
static const char *const sys_sockio[] = {
	"sendto", "recvfrom", "sendmsg", "recvmsg",
};

/*
 * LeakSanitizer stops the world at exit from a cloned tracer thread with ptrace; an ASan build
 * keeps it working (tests run under ASan). A release build never has these.
 */
static const char *const sys_asan[] = {
	"ptrace", "wait4",  "waitid", "sched_setaffinity", "process_vm_readv", "getdents",
	"tkill",  "tgkill", "prlimit64",
};

/*
 * The server's deny-list: what no part of a search server needs, and what an attacker who
 * runs code in it would want next (running programs, reading other processes, kernel surface
 * for privilege escalation). Its libraries (libmicrohttpd, GnuTLS, SQLite, libcurl) use too
 * wide a set of calls to fit an allow-list that stays true as they change.
 */
static const char *const sys_server_deny[] = {
	"execve",
	"execveat",
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"process_madvise",
	"pidfd_getfd",
	"kcmp",
	"personality",
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"mount",
	"umount2",
	"pivot_root",
	"chroot",
	"fsopen",
	"fsmount",
	"fsconfig",
	"fspick",
	"move_mount",
	"open_tree",
	"mount_setattr",
	"bpf",
	"userfaultfd",
	"perf_event_open",
	"keyctl",
	"add_key",
	"request_key",
	"unshare",
	"setns",
	"open_by_handle_at",
	"name_to_handle_at",
	"iopl",
	"ioperm",
	"swapon",
	"swapoff",
	"reboot",
	"acct",
	"quotactl",
	"syslog",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"sethostname",
	"setdomainname",
	"vhangup",
	"uselib",
	"lookup_dcookie",
	"fanotify_init",
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
};
/* clang-format on */

/* Under ASan, LeakSanitizer's ptrace and process_vm_readv stay allowed in the server too. */
static bool server_denies(const char *name)
{
	if (!HAS_ASAN)
		return true;
	return strcmp(name, "ptrace") != 0 && strcmp(name, "process_vm_readv") != 0;
}

/*
 * The SIGSYS handler's names, resolved before the filter is loaded: a handler may only use
 * async-signal-safe calls, so it looks a number up here and formats with its own code.
 */
#define NAMES_MAX 512
#define NAME_LEN 24
static char sys_names[NAMES_MAX][NAME_LEN];
static int report_to = 2;

const char *confine_role_name(enum confine_role role)
{
	switch (role) {
	case CONFINE_FETCH:
		return "fetch";
	case CONFINE_INDEX:
		return "index";
	case CONFINE_COMPILE:
		return "compile";
	case CONFINE_SERVER:
		return "server";
	case CONFINE_CTAGS:
		return "ctags";
	case CONFINE_LAUNCHER:
		return "launcher";
	}
	return "unknown";
}

void confine_defaults(struct confine_spec *spec)
{
	struct {
		unsigned cpu_s;
		uint64_t as_bytes, fsize_bytes;
		unsigned nofile;
	} d;

	switch (spec->role) {
	case CONFINE_FETCH:
		d.cpu_s = 3600, d.as_bytes = (uint64_t)8 << 30, d.fsize_bytes = (uint64_t)32 << 30;
		d.nofile = 1024;
		break;
	case CONFINE_INDEX:
		d.cpu_s = 3600, d.as_bytes = (uint64_t)8 << 30, d.fsize_bytes = (uint64_t)4 << 30;
		d.nofile = 1024;
		break;
	case CONFINE_COMPILE:
		d.cpu_s = 60, d.as_bytes = (uint64_t)4 << 30, d.fsize_bytes = (uint64_t)1 << 20;
		d.nofile = 16;
		break;
	case CONFINE_CTAGS:
		/*
		 * One ctags lives for a whole indexing run: the CPU limit is a backstop, the
		 * per-file deadline (src/symbols/ctags.c) the real bound. RLIMIT_FSIZE 0: it
		 * writes no file (its output is a socket, which the limit does not cover).
		 */
		d.cpu_s = 3600, d.as_bytes = (uint64_t)2 << 30, d.fsize_bytes = 0;
		d.nofile = 16;
		break;
	case CONFINE_LAUNCHER:
		/*
		 * Its children's limits cannot pass its own hard limits: it has ctags' (above),
		 * but for its refusals on standard error, which may be a file.
		 */
		d.cpu_s = 3600, d.as_bytes = (uint64_t)2 << 30, d.fsize_bytes = (uint64_t)1 << 20;
		d.nofile = 128; /* a pidfd per live ctags, at most CTAGS_LAUNCHER_MAX_LIVE */
		break;
	case CONFINE_SERVER:
	default:
		d.cpu_s = CONFINE_UNLIMITED, d.as_bytes = CONFINE_UNLIMITED;
		d.fsize_bytes = CONFINE_UNLIMITED, d.nofile = CONFINE_UNLIMITED;
		break;
	}
	if (spec->cpu_s == 0)
		spec->cpu_s = d.cpu_s;
	if (spec->as_bytes == 0)
		spec->as_bytes = d.as_bytes;
	if (spec->fsize_bytes == 0)
		spec->fsize_bytes = d.fsize_bytes;
	if (spec->nofile == 0)
		spec->nofile = d.nofile;
}

static void detail_add(struct confine_status *st, const char *what)
{
	size_t len = strlen(st->detail);

	snprintf(st->detail + len, sizeof(st->detail) - len, "%s%s", len ? "; " : "", what);
}

/* --- the SIGSYS report ------------------------------------------------------------------ */

static size_t put_str(char *p, size_t at, size_t cap, const char *s)
{
	while (*s && at < cap)
		p[at++] = *s++;
	return at;
}

static size_t put_uint(char *p, size_t at, size_t cap, unsigned long v)
{
	char tmp[24];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(tmp));
	while (n && at < cap)
		p[at++] = tmp[--n];
	return at;
}

/* SECURITY: async-signal-safe only: no malloc, no stdio; the process dies of SIGSYS after. */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	char line[96];
	size_t n = 0;
	int nr = si->si_syscall;
	sigset_t set;

	(void)ctx;
	n = put_str(line, n, sizeof(line), "sandbox: denied system call ");
	if (nr >= 0 && nr < NAMES_MAX && sys_names[nr][0])
		n = put_str(line, n, sizeof(line), sys_names[nr]);
	else
		n = put_str(line, n, sizeof(line), "unknown");
	n = put_str(line, n, sizeof(line), " (");
	n = put_uint(line, n, sizeof(line), (unsigned long)(unsigned)nr);
	n = put_str(line, n, sizeof(line), ")\n");
	if (write(report_to, line, n) < 0) {
		/* Nothing else to tell it with: the signal still says what happened. */
	}
	sigaction(sig, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

static void resolve_names(void)
{
	for (int nr = 0; nr < NAMES_MAX; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (name)
			snprintf(sys_names[nr], NAME_LEN, "%s", name);
		free(name);
	}
}

/* --- seccomp ----------------------------------------------------------------------------- */

static int rule_add(scmp_filter_ctx ctx, uint32_t action, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name), rc;

	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0; /* not a system call on this architecture */
	if ((rc = seccomp_rule_add(ctx, action, nr, 0)) < 0 && rc != -EEXIST) {
		error_set("sandbox: seccomp rule for %s: %s", name, strerror(-rc));
		return TRAWL_EPERM;
	}
	return 0;
}

static int rules_add(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n && err == 0; i++)
		err = rule_add(ctx, action, names[i]);
	return err;
}

#define NEW_NS \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | \
	 CLONE_NEWCGROUP)

/*
 * The program confine_exec runs, or the launcher's children (its address: the one execve
 * allowed). A static: the filter is built in the same process (confine_apply's spec).
 */
static const char *exec_path;

/* What the ctags role and its launcher may ask of prctl besides the workers' queries. */
static const int prctl_ctags[] = { PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_GET_SECCOMP };

/* The one execve: of exec_path, compared by address. */
static int exec_allow(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execve), 1,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)(uintptr_t)exec_path)) < 0
		       ? TRAWL_EPERM
		       : 0;
}

/* Allows prctl with these options (ASan builds allow every prctl: see worker_rules). */
static int prctl_allow(scmp_filter_ctx ctx, const int *options, size_t n)
{
	for (size_t i = 0; !HAS_ASAN && i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)options[i])) < 0)
			return TRAWL_EPERM;
	return 0;
}

/*
 * What the ctags role adds to the base list: its one execve (the path's address compared, so a
 * later execve from the program, whose path lies elsewhere, is killed), what ld.so calls while
 * starting a program (arch_prctl), and what ctags needs to load its own, narrower filter
 * (`--_interactive=sandbox`): no_new_privs and seccomp. Filters stack, so its filter can only
 * take away.
 */
static int ctags_rules(scmp_filter_ctx ctx)
{
	if (!exec_path)
		goto fail;
	if (exec_allow(ctx) < 0 || rule_add(ctx, SCMP_ACT_ALLOW, "arch_prctl") < 0 ||
	    rule_add(ctx, SCMP_ACT_ALLOW, "seccomp") < 0 ||
	    prctl_allow(ctx, prctl_ctags, sizeof(prctl_ctags) / sizeof(*prctl_ctags)) < 0)
		goto fail;
	return 0;
fail:
	error_set("sandbox: cannot build the ctags filter");
	return TRAWL_EPERM;
}

/*
 * What the launcher adds to the base list: what its children do before their own filter is
 * loaded (the ctags role's confine_exec: Landlock, limits, capabilities, the parent-death
 * signal; the ctags role's calls after it, since filters stack), its socket pairs, and the
 * processes it starts and kills (clone without CLONE_THREAD or a namespace flag, with
 * CLONE_PIDFD; pidfd_send_signal on those). No socket, connect, file creation, ptrace, kill;
 * execve only of exec_path, by address.
 */
static int launcher_rules(scmp_filter_ctx ctx)
{
	static const char *const more[] = {
		"pidfd_send_signal", "wait4", "close_range", "arch_prctl", "seccomp", "capset",
		"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
		"setrlimit",
	};
	static const int ok[] = { PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_CAP_AMBIENT };
	int err;

	if ((err = rules_add(ctx, SCMP_ACT_ALLOW, more, sizeof(more) / sizeof(*more))) < 0 ||
	    (err = rules_add(ctx, SCMP_ACT_ALLOW, sys_sockio,
			     sizeof(sys_sockio) / sizeof(*sys_sockio))) < 0)
		return err;
	/*
	 * A ctags' socket pair, and nothing a datagram could leave by (a SOCK_DGRAM pair's sendto
	 * reaches any named socket on the host). It signals its children through the pidfds
	 * clone gave it, never by pid: no kill, which without Landlock's signal scope (ABI 6)
	 * would reach every process of its user. Its children may clear the dumpable flag only.
	 */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 2,
			     SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
			     SCMP_A1(SCMP_CMP_EQ, SOCK_STREAM | SOCK_CLOEXEC)) < 0 ||
	    (!HAS_ASAN && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 2,
					   SCMP_A0(SCMP_CMP_EQ, PR_SET_DUMPABLE),
					   SCMP_A1(SCMP_CMP_EQ, 0)) < 0))
		goto fail;
	if ((exec_path && exec_allow(ctx) < 0) ||
	    prctl_allow(ctx, prctl_ctags, sizeof(prctl_ctags) / sizeof(*prctl_ctags)) < 0 ||
	    prctl_allow(ctx, ok, sizeof(ok) / sizeof(*ok)) < 0)
		goto fail;
	return 0;
fail:
	error_set("sandbox: cannot build the launcher filter");
	return TRAWL_EPERM;
}

/*
 * The worker filter. clone is allowed for threads only: CLONE_THREAD set and no namespace
 * flag, so a worker cannot fork a process that outlives it (fork and vfork are not allowed
 * either). clone3, whose flags are out of a filter's reach, fails with ENOSYS, on which glibc
 * falls back to clone for pthread_create. Under ASan, LeakSanitizer's tracer is cloned without
 * CLONE_THREAD, so an ASan build also allows clone without namespace flags (a release build
 * never). prctl is limited to the thread-name and dumpable queries glibc and libraries make.
 */
static int worker_rules(scmp_filter_ctx ctx, enum confine_role role)
{
	const uint32_t allow = SCMP_ACT_ALLOW;
	int err;

	if ((err = rules_add(ctx, allow, sys_base, sizeof(sys_base) / sizeof(*sys_base))) < 0)
		return err;
	if (role == CONFINE_CTAGS && (err = ctags_rules(ctx)) < 0)
		return err;
	if (role == CONFINE_LAUNCHER && (err = launcher_rules(ctx)) < 0)
		return err;
	if (role != CONFINE_COMPILE && role != CONFINE_CTAGS && role != CONFINE_LAUNCHER &&
	    (err = rules_add(ctx, allow, sys_write, sizeof(sys_write) / sizeof(*sys_write))) < 0)
		return err;
	if (role == CONFINE_FETCH &&
	    (err = rules_add(ctx, allow, sys_net, sizeof(sys_net) / sizeof(*sys_net))) < 0)
		return err;
	if (role == CONFINE_INDEX &&
	    (err = rules_add(ctx, allow, sys_sockio, sizeof(sys_sockio) / sizeof(*sys_sockio))) < 0)
		return err;
	if (HAS_ASAN &&
	    (err = rules_add(ctx, allow, sys_asan, sizeof(sys_asan) / sizeof(*sys_asan))) < 0)
		return err;
	/*
	 * SECURITY: a signal to one of its own threads (raise, pthread_kill) and its own limits,
	 * nothing of another process: without Landlock's signal scope (ABI 6) tgkill reaches every
	 * process of the user, and no Landlock rule covers prlimit64, with which a worker could
	 * starve or kill (SIGXCPU) the server. The process id is the one confining itself; a
	 * child forked later (the launcher's) has its own filter for its own id.
	 */
	if (!HAS_ASAN &&
	    (seccomp_rule_add(ctx, allow, SCMP_SYS(tgkill), 1,
			      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid())) < 0 ||
	     seccomp_rule_add(ctx, allow, SCMP_SYS(prlimit64), 1, SCMP_A0(SCMP_CMP_EQ, 0)) < 0))
		goto fail;
	if (HAS_ASAN) {
		if ((err = rule_add(ctx, allow, "prctl")) < 0)
			return err;
	} else {
		static const int ok[] = { PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_SET_VMA,
					  PR_GET_NO_NEW_PRIVS, PR_CAPBSET_READ };

		if (prctl_allow(ctx, ok, sizeof(ok) / sizeof(*ok)) < 0)
			goto fail;
	}
	/* The launcher starts processes (fork), not threads. */
	if (seccomp_rule_add(ctx, allow, SCMP_SYS(clone), 1,
			     HAS_ASAN ? SCMP_A0(SCMP_CMP_MASKED_EQ, NEW_NS, 0)
			     : role == CONFINE_LAUNCHER
				     ? SCMP_A0(SCMP_CMP_MASKED_EQ, NEW_NS | CLONE_THREAD, 0)
				     : SCMP_A0(SCMP_CMP_MASKED_EQ, NEW_NS | CLONE_THREAD,
					       CLONE_THREAD)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0)
		goto fail;
	return 0;
fail:
	error_set("sandbox: cannot build the %s filter", confine_role_name(role));
	return TRAWL_EPERM;
}

static int seccomp_load_role(enum confine_role role)
{
	scmp_filter_ctx ctx;
	int err = 0, rc;

	ctx = seccomp_init(role == CONFINE_SERVER ? SCMP_ACT_ALLOW : SCMP_ACT_TRAP);
	if (!ctx) {
		error_set("sandbox: cannot start a seccomp filter");
		return TRAWL_EPERM;
	}
	if (role == CONFINE_SERVER) {
		for (size_t i = 0; i < sizeof(sys_server_deny) / sizeof(*sys_server_deny); i++)
			if (server_denies(sys_server_deny[i]) &&
			    (err = rule_add(ctx, SCMP_ACT_TRAP, sys_server_deny[i])) < 0)
				goto out;
		/*
		 * No new namespaces: clone with any such flag is denied, and clone3, whose flags
		 * are out of a filter's reach, fails with ENOSYS (glibc then uses clone).
		 */
		for (unsigned i = 0; i < 64; i++) {
			scmp_datum_t bit = (scmp_datum_t)1 << i;

			if ((NEW_NS & bit) &&
			    seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(clone), 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ, bit, bit)) < 0)
				goto fail;
		}
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0)
			goto fail;
	} else if ((err = worker_rules(ctx, role)) < 0) {
		goto out;
	}
	if ((rc = seccomp_load(ctx)) < 0) {
		error_set("sandbox: cannot load the seccomp filter: %s", strerror(-rc));
		err = TRAWL_EPERM;
	}
	goto out;
fail:
	error_set("sandbox: cannot build the server filter");
	err = TRAWL_EPERM;
out:
	seccomp_release(ctx);
	return err;
}

/* Whether the kernel can load a filter whose action is SECCOMP_RET_TRAP. */
static bool seccomp_available(void)
{
	uint32_t action = SECCOMP_RET_TRAP;

	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

/* --- descriptors ------------------------------------------------------------------------- */

static bool is_kept(const struct confine_spec *spec, int fd)
{
	if (fd <= 2 || fd == spec->report_fd)
		return true;
	for (size_t i = 0; i < spec->n_keep_fds; i++)
		if (spec->keep_fds[i] == fd)
			return true;
	return false;
}

/* How many descriptors /proc/self/fd lists that are not kept; -1 when it cannot be read. */
static int count_unkept(const struct confine_spec *spec)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (e->d_name[0] == '.' || *end || fd == dirfd(d))
			continue;
		n += !is_kept(spec, (int)fd);
	}
	closedir(d);
	return n;
}

/*
 * Closes every descriptor but the kept ones, with close_range() over the gaps between them;
 * on a kernel without it, one close() per descriptor up to the highest open one.
 */
static int close_fds(const struct confine_spec *spec, struct confine_status *st)
{
	int n = count_unkept(spec);
	unsigned from = 3;
	bool has_range = true;

	for (;;) {
		unsigned next = UINT_MAX, last; /* next: the lowest kept descriptor >= from */

		if (is_kept(spec, (int)from)) {
			from++;
			continue;
		}
		if (spec->report_fd >= (int)from)
			next = (unsigned)spec->report_fd;
		for (size_t i = 0; i < spec->n_keep_fds; i++)
			if (spec->keep_fds[i] >= (int)from && (unsigned)spec->keep_fds[i] < next)
				next = (unsigned)spec->keep_fds[i];
		last = next == UINT_MAX ? UINT_MAX : next - 1;
		if (has_range && syscall(SYS_close_range, from, last, 0) < 0) {
			if (errno != ENOSYS && errno != EINVAL) {
				error_set("sandbox: cannot close inherited descriptors: %s",
					  strerror(errno));
				return TRAWL_EPERM;
			}
			has_range = false;
		}
		if (!has_range) {
			long max = sysconf(_SC_OPEN_MAX);

			if (max > 0 && (unsigned long)max - 1 < last)
				last = (unsigned)max - 1;
			for (unsigned fd = from; fd <= last && fd >= from; fd++)
				close((int)fd);
		}
		if (next == UINT_MAX)
			break;
		from = next + 1;
	}
	st->n_fds_closed = n > 0 ? (unsigned)n : 0;
	if (n < 0)
		detail_add(st, "descriptors closed without /proc/self/fd: not counted");
	return 0;
}

/* --- limits -------------------------------------------------------------------------------- */

/* Lowers resource to want (soft and hard), never above the inherited hard limit. */
static int limit_set(int resource, const char *name, uint64_t want)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) < 0)
		goto fail;
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
		want = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = (rlim_t)want;
	if (setrlimit(resource, &rl) == 0)
		return 0;
fail:
	error_set("sandbox: cannot set %s: %s", name, strerror(errno));
	return TRAWL_EPERM;
}

/* UINT64_MAX: leave the limit as inherited. */
static uint64_t want(uint64_t v)
{
	return v == CONFINE_UNLIMITED ? UINT64_MAX : v;
}

static int limits_set(const struct confine_spec *spec, struct confine_status *st)
{
	const struct {
		int resource;
		const char *name;
		uint64_t want;
	} lim[] = {
		{ RLIMIT_CPU, "RLIMIT_CPU", want(spec->cpu_s) },
		{ RLIMIT_AS, "RLIMIT_AS", HAS_SHADOW ? UINT64_MAX : want(spec->as_bytes) },
		{ RLIMIT_FSIZE, "RLIMIT_FSIZE", want(spec->fsize_bytes) },
		{ RLIMIT_NOFILE, "RLIMIT_NOFILE", want(spec->nofile) },
		{ RLIMIT_CORE, "RLIMIT_CORE", 0 },
	};
	int err;

	for (size_t i = 0; i < sizeof(lim) / sizeof(*lim); i++) {
		/* An unlimited role default leaves the inherited limit as it is. */
		if (lim[i].want == UINT64_MAX)
			continue;
		if ((err = limit_set(lim[i].resource, lim[i].name, lim[i].want)) < 0)
			return err;
	}
	if (HAS_SHADOW && spec->as_bytes != CONFINE_UNLIMITED)
		detail_add(st, "RLIMIT_AS not applied under a sanitizer");
	st->rlimits = true;
	return 0;
}

/* --- Landlock trees ------------------------------------------------------------------------ */

/* What ld.so, glibc and libgit2 read once the process runs: shared libraries, dlopen's cache. */
static const char *const tree_libs[] = {
	"/usr/lib", "/usr/lib64", "/lib", "/lib64", "/etc/ld.so.cache", "/dev/urandom",
};

/* TLS (the fetch worker's https, the server's single sign-on): the CA bundles. */
static const char *const tree_tls[] = {
	"/etc/ssl", "/etc/pki", "/etc/ca-certificates", "/usr/share/ca-certificates", "/etc/gnutls",
};

/* Name resolution (the fetch worker, the server). */
static const char *const tree_net[] = {
	"/etc/resolv.conf", "/etc/hosts",    "/etc/nsswitch.conf", "/etc/gai.conf",
	"/etc/host.conf",   "/etc/services", "/etc/protocols",     "/etc/passwd",
	"/etc/group",       "/etc/localtime", "/usr/share/zoneinfo",
};

static int trees_apply(const struct confine_spec *spec, int abi)
{
	size_t cap = spec->n_read + spec->n_write + sizeof(tree_libs) / sizeof(*tree_libs) +
		     sizeof(tree_tls) / sizeof(*tree_tls) + sizeof(tree_net) / sizeof(*tree_net) + 3;
	struct landlock_path *t = calloc(cap, sizeof(*t));
	char self[64];
	size_t n = 0;
	int err;

	if (!t)
		return error_nomem("building the Landlock ruleset");
	for (size_t i = 0; i < spec->n_read; i++)
		t[n++] = (struct landlock_path){ .path = spec->read_paths[i] };
	for (size_t i = 0; i < spec->n_write; i++)
		t[n++] = (struct landlock_path){ .path = spec->write_paths[i], .is_write = true };
	/* The role's system trees are optional: a machine may lack any of them. */
	if (spec->role != CONFINE_COMPILE) {
		/* CTAGS, LAUNCHER: ld.so and the C library only; the program is a read path. */
		for (size_t i = 0; i < sizeof(tree_libs) / sizeof(*tree_libs); i++)
			t[n++] = (struct landlock_path){ .path = tree_libs[i], .is_optional = true };
		t[n++] = (struct landlock_path){ .path = "/dev/null",
						 .is_write = true,
						 .is_optional = true };
	}
	if (spec->role == CONFINE_FETCH || spec->role == CONFINE_SERVER)
		for (size_t i = 0; i < sizeof(tree_net) / sizeof(*tree_net); i++)
			t[n++] = (struct landlock_path){ .path = tree_net[i], .is_optional = true };
	if (spec->role == CONFINE_SERVER || (spec->role == CONFINE_FETCH && !spec->without_tls))
		for (size_t i = 0; i < sizeof(tree_tls) / sizeof(*tree_tls); i++)
			t[n++] = (struct landlock_path){ .path = tree_tls[i], .is_optional = true };
	/* Its own /proc entry: libraries read /proc/self/maps, LeakSanitizer its tasks. */
	if ((spec->role != CONFINE_COMPILE && spec->role != CONFINE_CTAGS &&
	     spec->role != CONFINE_LAUNCHER) ||
	    HAS_ASAN) {
		snprintf(self, sizeof(self), "/proc/%ld", (long)getpid());
		t[n++] = (struct landlock_path){ .path = self, .is_optional = true };
	}
	/*
	 * SECURITY: no abstract UNIX socket of another process, for every role; no signal to a
	 * process outside the sandbox but for the server, which stops the syncs its spawner
	 * started (sched.c) and so must reach them (a gap: docs/security.md section 6).
	 */
	err = landlock_restrict(abi, t, n, spec->role != CONFINE_SERVER);
	free(t);
	return err;
}

/* --- capabilities -------------------------------------------------------------------------- */

/*
 * SECURITY: a worker, ctags and the launcher keep no capability, even run as root: none
 * permitted, effective, inheritable or ambient, and (with CAP_SETPCAP, as root has) none left
 * in the bounding set. With no_new_privs an execve cannot gain one back. Without CAP_SETPCAP
 * the bounding set cannot be changed, and there is nothing in it to regain.
 */
static int caps_drop(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = { 0 };

	for (unsigned long c = 0; c < 64; c++) {
		int has = prctl(PR_CAPBSET_READ, c, 0, 0, 0);

		if (has < 0)
			break; /* past the kernel's last capability */
		if (has && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EPERM) {
			error_set("sandbox: cannot drop capability %lu: %s", c, strerror(errno));
			return TRAWL_EPERM;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		error_set("sandbox: cannot clear the ambient capabilities: %s", strerror(errno));
		return TRAWL_EPERM;
	}
	if (syscall(SYS_capset, &h, none) < 0) {
		error_set("sandbox: cannot drop the capabilities: %s", strerror(errno));
		return TRAWL_EPERM;
	}
	return 0;
}

/* --- the whole ----------------------------------------------------------------------------- */

int confine_apply(const struct confine_spec *spec_in, struct confine_status *st)
{
	struct confine_spec spec = *spec_in;
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	sigset_t set;
	int err;

	memset(st, 0, sizeof(*st));
	confine_defaults(&spec);
	report_to = spec.report_fd >= 0 ? spec.report_fd : 2;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		error_set("sandbox: cannot set no_new_privs: %s", strerror(errno));
		return TRAWL_EPERM;
	}
	st->no_new_privs = true;
	/*
	 * SECURITY: a worker is not dumpable: no other process of the same user (another worker
	 * someone took over) may ptrace it or read its memory through /proc, and it leaves no
	 * core. The server stays dumpable so an administrator can debug it.
	 */
	if (spec.role != CONFINE_SERVER && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		error_set("sandbox: cannot clear the dumpable flag: %s", strerror(errno));
		return TRAWL_EPERM;
	}
	if (spec.role != CONFINE_SERVER && (err = caps_drop()) < 0)
		return err;
	exec_path = spec.exec_path;
	/*
	 * A worker starts with nothing it did not ask for. The server confines itself after
	 * start-up, holding its listening sockets, database and log: it keeps its descriptors.
	 */
	if ((spec.role != CONFINE_SERVER && (err = close_fds(&spec, st)) < 0) ||
	    (err = limits_set(&spec, st)) < 0)
		return err;
	st->landlock_abi = landlock_abi();
	if (st->landlock_abi > 0) {
		if ((err = trees_apply(&spec, st->landlock_abi)) < 0)
			return err;
		st->landlock = true;
	} else {
		detail_add(st,
			   "Landlock: not in this kernel (or disabled): file access unrestricted");
	}
	if (!seccomp_available()) {
		detail_add(st, "seccomp: not in this kernel: system calls unrestricted");
		return 0;
	}
	resolve_names();
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		error_set("sandbox: cannot install the SIGSYS handler: %s", strerror(errno));
		return TRAWL_EPERM;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if ((err = seccomp_load_role(spec.role)) < 0)
		return err;
	st->seccomp = true;
	if (HAS_ASAN)
		detail_add(st, "AddressSanitizer build: ptrace allowed for LeakSanitizer");
	return 0;
}

int confine_exec(const struct confine_spec *spec, pid_t parent, const char *path,
		 char *const argv[], char *const envp[])
{
	struct confine_spec with_path = *spec;
	struct confine_status st;
	int err;

	if (spec->role != CONFINE_CTAGS) {
		error_set("sandbox: confine_exec runs the ctags role only");
		return TRAWL_EINVAL;
	}
	/*
	 * SECURITY: the program dies with its parent (a killed indexer leaves no ctags behind);
	 * if the parent is already gone, the signal would never come: stop here.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() == 1 ||
	    (parent > 0 && getppid() != parent)) {
		error_set("sandbox: cannot tie the program to its parent");
		return TRAWL_EPERM;
	}
	with_path.exec_path = path;
	if ((err = confine_apply(&with_path, &st)) < 0)
		return err;
	execve(path, argv, envp);
	error_set("sandbox: cannot run %s: %s", path, strerror(errno));
	return TRAWL_EPERM;
}

int confine_probe(struct confine_status *st)
{
	memset(st, 0, sizeof(*st));
	st->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) >= 0;
	st->seccomp = seccomp_available();
	st->landlock_abi = landlock_abi();
	st->landlock = st->landlock_abi > 0;
	st->rlimits = true;
	if (!st->no_new_privs)
		detail_add(st, "no_new_privs: not in this kernel");
	if (!st->seccomp)
		detail_add(st, "seccomp: not in this kernel: system calls unrestricted");
	if (!st->landlock)
		detail_add(st,
			   "Landlock: not in this kernel (or disabled): file access unrestricted");
	if (HAS_ASAN)
		detail_add(st, "AddressSanitizer build: RLIMIT_AS not applied, ptrace allowed");
	return 0;
}
