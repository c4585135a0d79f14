/*
 * Bare mirrors of remote repositories, fetched through libgit2 (built into trawl-git.so and
 * reached through the table of src/build/gitapi.h).
 *
 * A mirror is a bare repository whose branches equal the remote's (every branch fetched and
 * forced, deleted ones pruned, no tags) and whose HEAD names the remote's default branch.
 * Nothing is ever checked out, no hook or program runs, no user or system git configuration is
 * read (so no url.*.insteadOf rewrites a URL), and redirects are never followed
 * (GIT_REMOTE_REDIRECT_NONE).
 *
 * SECURITY: P1: the URL is checked against the policy (url.h) and its host resolved and checked
 * before every fetch; then every connection libgit2 opens (http, https, git, ssh) goes through
 * trawl's own socket stream, which connects only to the URL's own host and port (so no redirect
 * leads anywhere else: libgit2 1.5 still follows a redirect to the same host name, on any port,
 * under GIT_REMOTE_REDIRECT_NONE), resolves the host again and refuses blocked addresses at
 * connect time, so a DNS answer that changes between the check and the fetch (rebinding)
 * reaches no internal address either.
 *
 * SECURITY: T2: TLS certificates are verified by libgit2 and an invalid one fails the fetch; an
 * SSH host key is accepted only when its SHA-256 fingerprint is pinned for the URL's host and
 * port in the known_hosts file (knownhosts.h), checked before any credential is offered.
 *
 * Credentials come from the credentials file (mode 0600, owned by the user running trawl; see
 * docs/operations.md), never from the URL: the caller passes the one entry that matches the URL
 * (cred.h), which is handed to libgit2 once per connection through its credential callback
 * (for ssh: the user name step, then one secret) and never logged or stored elsewhere.
 */
#ifndef TRAWL_GIT_MIRROR_H
#define TRAWL_GIT_MIRROR_H

#include <stdbool.h>

#include "git/cred.h"
#include "git/url.h"

struct gitmirror_opts {
	struct gurl_policy policy;
	const struct gcred *cred; /* the credentials entry for the URL (cred.h); NULL: none */
	const char *credentials;  /* the credentials file's path, only named in messages */
	const char *known_hosts;  /* path of the pinned SSH host keys (knownhosts.h); NULL: none */
	/*
	 * Called as objects arrive (received so far, of total), NULL: not; a return other than
	 * 0 cancels the fetch (EIO). The worker's test hook pauses a first clone half-way there.
	 */
	int (*progress)(unsigned received, unsigned total, void *arg);
	void *progress_arg;
};

struct gitmirror_result {
	bool cloned;               /* a new clone is in tmp, for the caller to rename to dir */
	bool recloned;             /* it existed but was corrupt: deleted and cloned again */
	char reclone_reason[512];  /* why, when recloned */
	char default_branch[1025]; /* the remote's default branch ("" when unknown or none) */
	/*
	 * The fetch moved nothing: the mirror's references (every branch's commit, and what HEAD
	 * names) are what they were before it. Never with cloned (a first clone is all new).
	 */
	bool is_unchanged;
};

/*
 * Checks url against the policy and resolves and checks its host (what `trawl repo add` runs
 * before storing a URL). *normalized gets the URL to store: url itself, or for a local path its
 * absolute form. EPERM (policy), EINVAL (malformed), ENOTFOUND (host or local path not found),
 * ENOMEM. Needs build_git_init().
 */
int gitmirror_url_check(char **normalized, const char *url, const struct gurl_policy *p);

/*
 * Brings the bare mirror at dir up to date with url: fetches into it when it exists, else clones
 * into the directory tmp (a leftover of a killed clone there is deleted first) and leaves the
 * complete clone there (res->cloned): the caller renames it to dir, so that dir is always a
 * whole mirror or absent, and a process confined to their common directory never needs the
 * right to replace dir's parent's entries. A mirror that cannot be opened or whose refs or
 * objects are unreadable is deleted and cloned again (res->recloned and res->cloned, with the
 * reason). The caller runs one sync of a mirror at a time (DATA/sync.lock):
 * git lock files in an existing mirror (HEAD.lock, packed-refs.lock, refs/.../NAME.lock) are
 * then what a killed fetch left, and are removed before fetching. Errors leave an existing
 * mirror as it was: EPERM (policy or
 * blocked address), EAUTH (credentials refused or missing), EIO (network, server), ECORRUPT,
 * ENOMEM. The message never holds a credential.
 */
int gitmirror_sync(struct gitmirror_result *res, const char *dir, const char *tmp,
		   const char *url, const struct gitmirror_opts *o);

#endif
