/*
 * Extracting symbols with universal-ctags, confined. docs/internals/symbols.md.
 *
 * DESIGN: one long-lived ctags per indexing thread, in its interactive JSON mode with its own
 * seccomp sandbox (`--_interactive=sandbox`): each file goes to it as a request line and the
 * file's bytes on its standard input, never as a path, so ctags opens no file of the
 * repository; `--options=NONE` comes first so no .ctags.d/, .ctags or ~/.ctags is ever read.
 * It is started through a helper (`trawl __ctags`, ctags_helper_main; in `trawl sync` a child
 * of the index worker's ctags launcher, below, does the same) that confines itself
 * (confine_exec, role CONFINE_CTAGS: no_new_privs, a seccomp allow-list with one execve,
 * Landlock reading only the C library's trees and the program, rlimits with RLIMIT_FSIZE 0,
 * PR_SET_PDEATHSIG) and then becomes ctags, so the limits hold from its first instruction.
 *
 * A file that takes longer than the per-file deadline, makes ctags write more than the
 * per-file cap, or kills it, gets no symbols and a status saying why (enum symsec_status); its
 * content is indexed as always. ctags is killed and started again for the next file. After
 * CTAGS_MAX_FAILURES such failures in one process's life of the run, ctags is no longer
 * started (every later file: SYMSEC_UNAVAILABLE), so a hostile repository cannot stretch a run
 * by the deadline times its number of files.
 *
 * Not thread-safe: one struct ctags per thread.
 */
#ifndef TRAWL_SYMBOLS_CTAGS_H
#define TRAWL_SYMBOLS_CTAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbols/symsec.h"

#define CTAGS_PATH "/usr/bin/ctags"
#define CTAGS_TIMEOUT_MS_DEFAULT 5000.0
#define CTAGS_MAX_OUTPUT_DEFAULT ((size_t)16 << 20)
#define CTAGS_MAX_FAILURES 16

struct ctags_opts {
	double timeout_ms;  /* per file; 0: CTAGS_TIMEOUT_MS_DEFAULT */
	size_t max_output;  /* bytes of ctags output per file; 0: CTAGS_MAX_OUTPUT_DEFAULT */
	/*
	 * The program run as "PROGRAM __ctags" that confines itself and becomes ctags
	 * (ctags_helper_main); NULL: /proc/self/exe, the running trawl.
	 */
	const char *helper;
	/*
	 * NULL: ctags is started by this process. Else by this launcher (below), for a process
	 * that may not start programs itself (the confined index worker). Borrowed.
	 */
	struct ctags_launcher *launcher;
};

struct ctags;
struct ctags_launcher;

/* A handle; ctags itself starts with the first file. o is copied. ENOMEM. */
int ctags_new(struct ctags **out, const struct ctags_opts *o);

/*
 * Gives the file (its path, for ctags to choose a parser by name; only a sanitized base name
 * is passed) to ctags and adds its symbols to b's current document. *st says what happened
 * (SYMSEC_OK, or why there are none); a problem with ctags or the file is a status, not an
 * error (the shard's symbol tables full, the builder's ELIMIT, too: SYMSEC_TOO_MUCH). Errors:
 * ENOMEM.
 */
int ctags_extract(enum symsec_status *st, struct ctags *c, struct symsec_builder *b,
		  const char *path, size_t path_len, const uint8_t *content, size_t len);

/* Files whose symbols failed (timeout, crash, too much output) so far. */
unsigned ctags_failures(const struct ctags *c);
/*
 * The files that follow are another repository's (a compound shard): the failures that made c
 * give up were the last repository's, so one repository's hostile files never cost another
 * its symbols.
 */
void ctags_next_repository(struct ctags *c);

/* The running ctags' process id, 0 when none is running: for tests and diagnostics. */
int ctags_pid(const struct ctags *c);

/* Stops ctags (killed, reaped) and frees c. NULL is a no-op. */
void ctags_free(struct ctags *c);

/*
 * Whether universal-ctags is installed (CTAGS_PATH is executable; in the test builds, the
 * TRAWL_TEST_CTAGS program when set): the default of a repository's symbols setting.
 */
bool ctags_installed(void);

/*
 * `trawl __ctags`: confines this process as CONFINE_CTAGS and becomes ctags in interactive
 * mode on its standard input and output. Returns only on failure (exit status 127).
 * TRAWL_TEST_CTAGS=PATH runs PATH instead of /usr/bin/ctags, with /usr/bin readable for its
 * interpreter (the tests' fake ctags); documented in docs/internals/symbols.md.
 */
int ctags_helper_main(void);

/*
 * The ctags launcher: a process forked by one that is about to confine itself so that it may
 * not start programs any more (the index worker, which may neither execve nor fork), which
 * keeps that one right for it: on request over a SOCK_SEQPACKET socket pair it forks a child
 * that confines itself and becomes ctags (as `trawl __ctags` does for ctags_new's handle) and
 * passes our end of its socket back with SCM_RIGHTS, and it kills and reaps the ones it
 * started when asked.
 *
 * SECURITY: the requests carry no path, argument or descriptor (a request that does is
 * refused and its descriptors closed), so the launcher can be made to run the ctags helper
 * only, at most max_starts times and at most max_live (<= CTAGS_LAUNCHER_MAX_LIVE) at a time
 * (the worker's indexing threads: one ctags each, so a compromised worker cannot hold more
 * ctags, each with its own rlimits, than an honest one), and to kill
 * only the processes it started and has not reaped (by its own id, never a pid). It holds no
 * descriptor but its socket and standard error, dies with its parent (PR_SET_PDEATHSIG),
 * confines itself (sandbox/confine.h, CONFINE_LAUNCHER: no_new_privs, no capability, a
 * seccomp allow-list without socket, connect or file creation whose one execve is ctags',
 * Landlock, limits) and, at the end of the requests (its parent closed the socket or died),
 * kills what it started and exits. docs/internals/symbols.md, docs/security.md.
 *
 * Call ctags_launcher_start while the process is single-threaded (it forks). EIO. The handle
 * is thread-safe (a request and its answer under a lock).
 */
#define CTAGS_LAUNCHER_MAX_LIVE 64

int ctags_launcher_start(struct ctags_launcher **out, unsigned max_live, unsigned max_starts);

/* The launcher's process id (tests). */
int ctags_launcher_pid(const struct ctags_launcher *l);

/* Our end of the launcher's socket: a process that closes descriptors must keep it. */
int ctags_launcher_fd(const struct ctags_launcher *l);

/* Closes the socket: the launcher kills its ctags and exits. NULL is a no-op. */
void ctags_launcher_free(struct ctags_launcher *l);

#endif
