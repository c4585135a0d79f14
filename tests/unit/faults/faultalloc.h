/*
 * A test allocator that fails the Nth allocation. The fault tests are linked with
 * -Wl,--wrap=malloc,--wrap=calloc,... (see the Makefile), so every allocation trawl's own code
 * makes goes through the wrappers in faultalloc.c. A shared library's calls are not wrapped by
 * the linker: jansson's reach the wrappers only because trawl routes them through its own
 * malloc (json_alloc_failures in util/json.h); Vectorscan's, SQLite's and libc's never do.
 *
 * jansson 2.14 itself can crash when an allocation fails while it reads (a NULL write in its
 * string lexer), so json_loadb is wrapped too, and by default allocations inside it are
 * counted but never failed. FAULTALLOC_JANSSON counts and fails only those, for the tests of
 * what trawl does with jansson's failures; such runs belong in a child process.
 *
 * Usage: faultalloc_arm(n) before the code under test, faultalloc_disarm() after; the n-th
 * allocation from arming fails (returns NULL, as the C library would), every other succeeds.
 * faultalloc_disarm() says whether the failure happened: when it did not, the run was complete
 * and the sweep is over. Counting is atomic, so threads may allocate, but which allocation is
 * the n-th is then up to the scheduler; the tests run their code on one thread.
 */
#ifndef TRAWL_TESTS_UNIT_FAULTS_FAULTALLOC_H
#define TRAWL_TESTS_UNIT_FAULTS_FAULTALLOC_H

#include <stdbool.h>
#include <stddef.h>

enum faultalloc_mode {
	FAULTALLOC_OURS,    /* every allocation but jansson's while it reads */
	FAULTALLOC_JANSSON, /* only jansson's while it reads (json_loadb) */
};

/* Fails allocation number n (1-based) from now; 0 counts without failing. */
void faultalloc_arm(size_t n);
void faultalloc_arm_mode(size_t n, enum faultalloc_mode mode);

/* Stops counting; true when the armed allocation was reached (and failed). */
bool faultalloc_disarm(void);

/* Allocations counted since the last faultalloc_arm(). */
size_t faultalloc_count(void);

/*
 * The sweep: calls run(arg) with allocation 1, 2, 3, ... failing, until a run completes without
 * reaching the failing allocation; check(err, is_injected, arg) judges every run. Returns the
 * number of runs with an injected failure (the N swept).
 */
size_t faultalloc_sweep(int (*run)(void *arg), void (*check)(int err, bool is_injected, void *arg),
			void *arg);

#endif
