/*
 * Confining a process to what its role needs: no_new_privs, a seccomp allow-list fitted to the
 * role (libseccomp), Landlock where the kernel has it (read these trees, write those), resource
 * limits, and every inherited descriptor closed but those kept. docs/internals/sandbox.md.
 *
 * DESIGN: a worker confines itself before it reads any repository byte (OpenSSH's privsep
 * child, Chromium's renderer): the parent starts it with an argv and a pipe, the worker calls
 * confine_apply() once, then works. A forbidden system call kills the process with SIGSYS after
 * it has written one line, "sandbox: denied system call NAME (NR)", to the report descriptor
 * (async-signal-safe), so the parent can say which rule was broken. Only src/sandbox/ knows
 * about seccomp, Landlock and processes (STYLE.md).
 *
 * Not thread-safe: call it before the process starts threads (seccomp's TSYNC is not used).
 */
#ifndef TRAWL_SANDBOX_CONFINE_H
#define TRAWL_SANDBOX_CONFINE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum confine_role {
	CONFINE_FETCH,   /* libgit2 fetch: network, writes one mirror */
	CONFINE_INDEX,   /* reads one mirror and the index, writes one work directory; no network */
	CONFINE_COMPILE, /* the pattern compiler child: reads stdin, writes stdout; nothing else */
	CONFINE_SERVER,  /* the server after start-up: network (accept), DATA; no execve, ptrace */
	CONFINE_CTAGS,   /* the helper that becomes ctags (confine_exec): one execve, reads system
			  * libraries and the program only, no network, no file written */
	CONFINE_LAUNCHER, /* the ctags launcher: messages on its socket, forks children that
			   * become exec_path (as CONFINE_CTAGS), kills them; reads system
			   * libraries and the program only, no network, no file written */
};

struct confine_spec {
	enum confine_role role;
	const char *const *read_paths;  /* Landlock: trees it may read (and execute: ld.so) */
	size_t n_read;
	const char *const *write_paths; /* Landlock: trees it may read, write, create, remove */
	size_t n_write;
	/* Kept open besides 0, 1, 2 and report_fd. The SERVER role closes nothing: it holds
	 * its listening sockets, database and log. */
	const int *keep_fds;
	size_t n_keep_fds;
	int report_fd;                  /* where a denied call is reported; -1: standard error */
	/*
	 * LAUNCHER: the program its children may execve, compared by address: they must pass this
	 * very pointer (CTAGS: set by confine_exec). NULL: no execve at all.
	 */
	const char *exec_path;
	/*
	 * Resource limits; 0 takes the role's default (confine_defaults), CONFINE_UNLIMITED leaves
	 * the inherited limit as it is (the server's defaults). A limit is never raised above the
	 * inherited hard limit; soft and hard are both set, so the process cannot raise it again.
	 */
	unsigned cpu_s;       /* RLIMIT_CPU */
	uint64_t as_bytes;    /* RLIMIT_AS (not applied under AddressSanitizer) */
	uint64_t fsize_bytes; /* RLIMIT_FSIZE */
	unsigned nofile;      /* RLIMIT_NOFILE */
	/* FETCH: no TLS trees (the CA bundles): a fetch that is not https needs none. */
	bool without_tls;
};

/* A limit's value meaning "leave the inherited limit" (all four fields compare equal to it). */
#define CONFINE_UNLIMITED UINT_MAX

/* What is enforced (after confine_apply) or available (after confine_probe). */
struct confine_status {
	bool no_new_privs;
	bool seccomp;          /* a filter is loaded (probe: the kernel and libseccomp allow it) */
	int landlock_abi;      /* the kernel's Landlock ABI version; 0 when it has none */
	bool landlock;         /* a ruleset is enforced (probe: could be) */
	bool rlimits;          /* CPU, AS, FSIZE, NOFILE set and RLIMIT_CORE 0 */
	unsigned n_fds_closed; /* inherited descriptors closed */
	char detail[256];      /* what is not enforced and why; "" when everything is */
};

/* The role's default limits, filled into spec's zero fields. */
void confine_defaults(struct confine_spec *spec);

/*
 * Confines the calling process as spec says and fills *st. Everything the kernel offers is
 * applied; what it lacks (Landlock on an old kernel) is said in st->detail and is not an error.
 * EPERM (with a message) when something the kernel offers could not be applied: the caller must
 * not go on to touch repository data. Irreversible.
 */
int confine_apply(const struct confine_spec *spec, struct confine_status *st);

/* What this machine can enforce, without confining the caller (`trawl sandbox-check`). */
int confine_probe(struct confine_status *st);

/*
 * What confine_prove found for one role: the role's confinement applied in a forked child,
 * which then tries what the role may not do. Each *_held is true only when the proof held.
 */
struct confine_proof {
	enum confine_role role;
	bool is_applied;            /* confine_apply succeeded in the child (else error says why) */
	struct confine_status st;   /* what confine_apply reported in the child */
	const char *forbidden;      /* the system call tried: "socket" or "execve" */
	bool seccomp_held;          /* it killed the child with SIGSYS after the report line */
	char report[128];           /* the line the child reported, without its newline */
	bool landlock_held;         /* outside its trees: EACCES; inside its write tree: created */
	bool rlimits_held;          /* getrlimit in the child gave the role's limits, core 0 */
	bool fds_held;              /* an inherited descriptor it did not keep was closed (the
				     * server: kept, as it keeps its descriptors) */
	bool caps_held;             /* no capability left: none effective, permitted,
				     * inheritable, and none in the bounding set when it ran with
				     * CAP_SETPCAP (the server keeps its own: true) */
	struct confine_spec limits; /* the role's limits (confine_defaults), for showing */
	char error[256];
};

/*
 * Proves role's confinement on this machine (`trawl sandbox-check`): forks a child that
 * confines itself with two trees of a temporary directory, checks its limits, descriptors and
 * Landlock from inside, then makes the role's forbidden system call. The caller must be
 * single-threaded (it forks). EIO when the child cannot be started; a proof that failed is
 * not an error (see *out).
 */
int confine_prove(struct confine_proof *out, enum confine_role role);

/*
 * Confines the calling process as spec says (role CONFINE_CTAGS; spec->read_paths must list
 * path), asks for SIGKILL when its parent ends (PR_SET_PDEATHSIG; parent, when not 0, is the
 * process id the parent must still have: one that died before that call is seen even under a
 * subreaper), and replaces it with the
 * program path, argv and envp: the only execve its filter allows is this one (the filter
 * compares the path's address). no_new_privs, the seccomp filter, Landlock and the limits stay
 * on the program. Returns only on failure (EPERM with a message).
 */
int confine_exec(const struct confine_spec *spec, pid_t parent, const char *path,
		 char *const argv[], char *const envp[]);

/* "fetch", "index", "compile", "server", "ctags", "launcher". */
const char *confine_role_name(enum confine_role role);

#endif
