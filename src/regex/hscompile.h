/*
 * Compiling one emitted Vectorscan pattern, in this process or, for a pattern that may be
 * expensive, in a helper process under a memory, CPU and wall-clock limit (sandbox/child.h):
 * Vectorscan's compiler cannot be interrupted and allocates with C++ new, so a pattern that
 * costs too much must cost it in a process that can be killed.
 *
 * The helper is this program again (/proc/self/exe) with the hidden command `__compile`, which
 * calls hscompile_main(): it reads the request (flags, target platform, pattern) on standard
 * input, compiles, and writes the serialized database, or Vectorscan's message, on standard
 * output. A program that compiles patterns must serve `__compile` this way: trawl's main does, and
so do the unit tests that compile large patterns. Only src/regex/ and those mains include this.
Thread-safe.
 */
#ifndef TRAWL_REGEX_HSCOMPILE_H
#define TRAWL_REGEX_HSCOMPILE_H

#include <hs/hs.h>
#include <stdbool.h>
#include <stddef.h>

/* Limits of the helper process (hscompile_set_limits changes them, for tests). */
#define HSCOMPILE_MAX_MS 10000                    /* wall clock; CPU: as many seconds */
#define HSCOMPILE_MAX_MEMORY ((size_t)1 << 30)   /* address space */
#define HSCOMPILE_MAX_HELPERS 2                   /* running at once, per process */

/* hscompile_run()'s result when Vectorscan refused the pattern: its message is in msg. */
#define HSCOMPILE_REFUSED 1

/*
 * Compiles pattern (NUL-terminated) with hs_flags for platform (NULL: this host) into *out, in a
 * helper process when is_isolated. deadline_ms (CLOCK_MONOTONIC ms, 0 for none) is the caller's
 * own deadline; the helper is killed at it or at HSCOMPILE_MAX_MS (five times that in an ASan or
 * TSan build), whichever comes first.
 * Returns 0, HSCOMPILE_REFUSED with Vectorscan's message in msg[0..msg_size), or with a message
 * set: TRAWL_ETIMEOUT (the caller's deadline passed), TRAWL_ELIMIT (the helper's time or memory
 * limit), TRAWL_EIO (the helper could not run or answered garbage), TRAWL_ENOMEM.
 */
int hscompile_run(hs_database_t **out, char *msg, size_t msg_size, const char *pattern,
		  unsigned hs_flags, const hs_platform_info_t *platform, bool is_isolated,
		  double deadline_ms);

/*
 * Says that this program answers `__compile` (its main calls hscompile_main for it), so heavy
 * patterns may be sent to /proc/self/exe. Until it is called every pattern compiles in this
 * process: a program that does not serve `__compile` (a test, a fuzz target) would otherwise
 * start itself again for every heavy pattern, and those copies start themselves in turn.
 */
void hscompile_serve_helpers(void);

/* The helper's side: serves one request from standard input. Returns the exit status. */
int hscompile_main(void);

/* Sets the helper's limits (0: the default); for tests. Not thread-safe. */
void hscompile_set_limits(unsigned max_ms, size_t max_memory);

#endif
