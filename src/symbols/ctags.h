/*
 * Extracting symbols with universal-ctags, confined. docs/internals/symbols.md.
 *
 * DESIGN: one long-lived ctags per indexing thread, in its interactive JSON mode with its own
 * seccomp sandbox (`--_interactive=sandbox`): each file goes to it as a request line and the
 * file's bytes on its standard input, never as a path, so ctags opens no file of the
 * repository; `--options=NONE` comes first so no .ctags.d/, .ctags or ~/.ctags is ever read.
 * It is started through a helper (`trawl __ctags`, ctags_helper_main) that confines itself
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
};

struct ctags;

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

/* The running ctags' process id, 0 when none is running: for tests and diagnostics. */
int ctags_pid(const struct ctags *c);

/* Stops ctags (killed, reaped) and frees c. NULL is a no-op. */
void ctags_free(struct ctags *c);

/*
 * `trawl __ctags`: confines this process as CONFINE_CTAGS and becomes ctags in interactive
 * mode on its standard input and output. Returns only on failure (exit status 127).
 * TRAWL_TEST_CTAGS=PATH runs PATH instead of /usr/bin/ctags, with /usr/bin readable for its
 * interpreter (the tests' fake ctags); documented in docs/internals/symbols.md.
 */
int ctags_helper_main(void);

#endif
