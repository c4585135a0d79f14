/*
 * Proving a role's confinement in a forked child (confine.h: confine_prove), for `trawl
 * sandbox-check`. The child reports what it checked from inside over a pipe, as one fixed-size
 * record, and then makes a system call its role forbids; the parent reads the record, the
 * report line and the wait status.
 */
#include "sandbox/confine.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "util/error.h"
#include "util/sanitizer.h"


/* What the child checked from inside; written once to the parent. */
struct inside {
	bool is_applied;
	struct confine_status st;
	bool landlock, rlimits, fds, caps;
	char error[256];
};

/* No capability left (confine.c caps_drop); the bounding set only matters when it could drop. */
static bool caps_none(bool had_setpcap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return false;
	for (int c = 0; had_setpcap && c < 64; c++) {
		int has = prctl(PR_CAPBSET_READ, c, 0, 0, 0);

		if (has < 0)
			break;
		if (has)
			return false;
	}
	return true;
}

/* Whether this process may change its bounding set (CAP_SETPCAP effective). */
static bool has_setpcap(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	return syscall(SYS_capget, &h, d) == 0 && (d[CAP_SETPCAP / 32].effective >> (CAP_SETPCAP % 32)) & 1;
}

/* The limit is at most want, and the process cannot raise it (soft equals hard). */
static bool limit_is(int resource, uint64_t want)
{
	struct rlimit rl;

	if (want == CONFINE_UNLIMITED)
		return true; /* left as inherited */
	/* An inherited hard limit below the role's is kept: lower is stricter. */
	return getrlimit(resource, &rl) == 0 && rl.rlim_cur <= want && rl.rlim_max == rl.rlim_cur;
}

static bool limits_hold(const struct confine_spec *spec)
{
	return limit_is(RLIMIT_CPU, spec->cpu_s) && limit_is(RLIMIT_FSIZE, spec->fsize_bytes) &&
	       limit_is(RLIMIT_NOFILE, spec->nofile) && limit_is(RLIMIT_CORE, 0) &&
	       (HAS_SHADOW || limit_is(RLIMIT_AS, spec->as_bytes));
}

static bool landlock_holds(const char *dir)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/outside/secret", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	snprintf(path, sizeof(path), "%s/rw/made", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void forbidden_call(enum confine_role role)
{
	static char *const argv[] = { "true", NULL };

	if (role == CONFINE_INDEX || role == CONFINE_COMPILE || role == CONFINE_LAUNCHER)
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	else
		syscall(SYS_execve, "/bin/true", argv, NULL);
}

static void child(enum confine_role role, const char *dir, int rec_fd, int report_fd, int stray_fd)
{
	char ro[600], rw[600];
	const char *ro_v[] = { ro }, *rw_v[] = { rw };
	int keep[] = { rec_fd };
	struct confine_spec spec = {
		.role = role,
		.read_paths = ro_v,
		.n_read = 1,
		.write_paths = rw_v,
		.n_write = 1,
		.keep_fds = keep,
		.n_keep_fds = 1,
		.report_fd = report_fd,
	};
	struct inside in = { 0 };
	bool could_drop = has_setpcap();

	snprintf(ro, sizeof(ro), "%s/ro", dir);
	snprintf(rw, sizeof(rw), "%s/rw", dir);
	if (confine_apply(&spec, &in.st) < 0) {
		snprintf(in.error, sizeof(in.error), "%s", error_last());
	} else {
		in.is_applied = true;
		confine_defaults(&spec);
		in.rlimits = in.st.rlimits && limits_hold(&spec);
		in.landlock = in.st.landlock && landlock_holds(dir);
		in.fds = role == CONFINE_SERVER ? fcntl(stray_fd, F_GETFD) >= 0
						: fcntl(stray_fd, F_GETFD) < 0 && errno == EBADF;
		in.caps = role == CONFINE_SERVER || caps_none(could_drop);
	}
	if (write(rec_fd, &in, sizeof(in)) != (ssize_t)sizeof(in))
		_exit(3);
	close(rec_fd);
	if (in.is_applied)
		forbidden_call(role);
	_exit(in.is_applied ? 0 : 2);
}

static int make_dirs(char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	char path[600];
	int fd;

	snprintf(dir, len, "%s/trawl-sandbox-check.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		goto fail;
	snprintf(path, sizeof(path), "%s/ro", dir);
	if (mkdir(path, 0700) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/rw", dir);
	if (mkdir(path, 0700) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/outside", dir);
	if (mkdir(path, 0700) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/outside/secret", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	error_set("sandbox check: cannot make its directories under %s: %s", dir, strerror(errno));
	return TRAWL_EIO;
}

static void remove_dirs(const char *dir)
{
	static const char *const names[] = { "outside/secret", "outside", "rw/made", "rw", "ro" };
	char path[600];

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (remove(path) < 0 && errno != ENOENT)
			break;
	}
	rmdir(dir);
}

/* Reads exactly len bytes, or fewer when the writer is gone. */
static size_t read_full(int fd, void *p, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len &&
	       ((n = read(fd, (char *)p + got, len - got)) > 0 || (n < 0 && errno == EINTR)))
		got += n > 0 ? (size_t)n : 0;
	return got;
}

int confine_prove(struct confine_proof *out, enum confine_role role)
{
	char dir[512], want[64];
	int rec[2] = { -1, -1 }, rep[2] = { -1, -1 }, stray = -1, status = 0, err = 0;
	struct inside in = { 0 };
	size_t n;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	out->role = role;
	out->limits.role = role;
	confine_defaults(&out->limits);
	out->forbidden = role == CONFINE_INDEX || role == CONFINE_COMPILE || role == CONFINE_LAUNCHER
				 ? "socket"
				 : "execve";
	if ((err = make_dirs(dir, sizeof(dir))) < 0)
		return err;
	if (pipe2(rec, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0 ||
	    (stray = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		error_set("sandbox check: %s", strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		error_set("sandbox check: cannot fork: %s", strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	if (pid == 0) {
		close(rec[0]);
		close(rep[0]);
		child(role, dir, rec[1], rep[1], stray);
	}
	close(rec[1]);
	close(rep[1]);
	rec[1] = rep[1] = -1;
	n = read_full(rec[0], &in, sizeof(in));
	out->report[read_full(rep[0], out->report, sizeof(out->report) - 1)] = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	out->report[strcspn(out->report, "\n")] = 0;
	if (n != sizeof(in)) {
		snprintf(out->error, sizeof(out->error), "the check's child ended early (status %#x)",
			 status);
		goto out;
	}
	out->is_applied = in.is_applied;
	out->st = in.st;
	snprintf(out->error, sizeof(out->error), "%s", in.error);
	out->landlock_held = in.landlock;
	out->rlimits_held = in.rlimits;
	out->fds_held = in.fds;
	out->caps_held = in.caps;
	snprintf(want, sizeof(want), "sandbox: denied system call %s (", out->forbidden);
	out->seccomp_held = in.is_applied && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS &&
			    strncmp(out->report, want, strlen(want)) == 0;
out:
	for (int i = 0; i < 2; i++) {
		if (rec[i] >= 0)
			close(rec[i]);
		if (rep[i] >= 0)
			close(rep[i]);
	}
	if (stray >= 0)
		close(stray);
	remove_dirs(dir);
	return err;
}
