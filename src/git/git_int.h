/* Shared by the units of src/git only: the libgit2 handle and error mapping. */
#ifndef TRAWL_GIT_GIT_INT_H
#define TRAWL_GIT_GIT_INT_H

#include <string.h>

#include <git2.h>

#include "git/repo.h"

/* The libgit2 repository behind r (borrowed). */
git_repository *gitrepo_handle(struct gitrepo *r);

/*
 * Sets the thread's error detail to "what: " and libgit2's last message (control characters
 * replaced, so a name from a repository cannot drive a terminal), and returns the TRAWL_E* code
 * for git_err: ENOTFOUND for GIT_ENOTFOUND, ENOMEM when libgit2 ran out of memory, else
 * ECORRUPT.
 */
int gitrepo_error(int git_err, const char *what);

static inline void gitrepo_oid_from(struct gitrepo_oid *out, const git_oid *id)
{
	memcpy(out->id, id->id, GITREPO_OID_RAWSZ);
}

static inline void gitrepo_oid_to(git_oid *out, const struct gitrepo_oid *id)
{
	memcpy(out->id, id->id, GITREPO_OID_RAWSZ);
}

#endif
