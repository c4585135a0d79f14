/*
 * The git support module: src/git and src/build/build_git.c are built into trawl-git.so, next
 * to the trawl binary, and loaded by `trawl index` only. libgit2 brings a dozen libraries whose
 * loading cost every trawl process ~2.4 ms at start; searches never pay it now.
 *
 * gitmod_init() loads the module, checks its table (build/gitapi.h: one symbol, the same ABI
 * version as this binary's) and starts libgit2, EIO naming the file when it cannot; then the
 * gitmod.* pointers call the build_git_* functions of build/build.h and the gitmirror_*
 * functions of git/mirror.h.
 */
#ifndef TRAWL_CLI_GITMOD_H
#define TRAWL_CLI_GITMOD_H

#include "build/gitapi.h"

/* The loaded module's table, copied once gitmod_init() has checked it. */
extern struct trawl_git_api gitmod;

int gitmod_init(void);
/*
 * gitmod_init without starting libgit2 (gitmod.init() does, later): the sync workers load the
 * module before confining themselves and start libgit2 within their sandbox, where the index
 * worker and a fetch without TLS cannot read the system's CA bundle, which Debian's libgit2
 * otherwise parses at start (a quarter of an unchanged sync's CPU).
 */
int gitmod_load(void);

#endif
