/*
 * What confine.c needs from landlock.c: the kernel's Landlock ABI and a ruleset built from
 * read and write trees. Only src/sandbox/ includes this header.
 */
#ifndef TRAWL_SANDBOX_CONFINE_INT_H
#define TRAWL_SANDBOX_CONFINE_INT_H

#include <stdbool.h>
#include <stddef.h>

/* The running kernel's Landlock ABI version; 0 when it has none (or it is disabled). */
int landlock_abi(void);

/* One tree of a ruleset: a required tree that is missing is EINVAL, an optional one skipped. */
struct landlock_path {
	const char *path;
	bool is_write; /* all file-system rights; else read and execute */
	bool is_optional;
};

/*
 * Restricts the calling process (no_new_privs must be set) to the trees in paths[0..n),
 * handling every file-system right the kernel's ABI knows (best effort: what an older ABI
 * does not know stays allowed). From ABI 6 the process may no longer connect to an abstract
 * UNIX socket made outside its Landlock domain, and with scope_signals it may no longer signal
 * a process outside it. EINVAL names a missing required tree; EPERM when the kernel refuses
 * the ruleset. Irreversible.
 */
int landlock_restrict(int abi, const struct landlock_path *paths, size_t n, bool scope_signals);

#endif
