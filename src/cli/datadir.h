/*
 * The data directory of the repository registry (docs/operations.md):
 *
 *     DATA/trawl.db        the registry (src/store)
 *     DATA/repos/ID/       one directory per repository, named by its numeric id: the fetch
 *                          worker's only tree (docs/internals/sandbox.md)
 *     DATA/repos/ID/mirror.git  its bare mirror
 *     DATA/repos/ID/clone.tmp   a first clone while it is written (trawl sync renames it)
 *     DATA/index/          a trawl index directory (MANIFEST + shards) of every repository
 *     DATA/credentials     code host credentials (optional, mode 0600)
 *     DATA/known_hosts     pinned SSH host key fingerprints (needed for ssh:// URLs)
 *     DATA/sync.lock       held while a sync or a removal runs
 *     DATA/policy/ID       the URL and URL policy a sync obeys (src/store/policy.h)
 *     DATA/audit/          the audit log and its rotated copies (src/auth)
 *
 * DATA is --data DIR, else $TRAWL_DATA, else ./trawl-data. Directories are created with mode
 * 0700: mirrors of private repositories live there.
 */
#ifndef TRAWL_CLI_DATADIR_H
#define TRAWL_CLI_DATADIR_H

#include <stdbool.h>
#include <stdint.h>

#include "git/url.h"
#include "store/store.h"

#define DATADIR_DEFAULT "trawl-data"

struct datadir {
	char *root, *db, *repos, *index, *credentials, *known_hosts, *lock, *policy;
	int lock_fd;
};

/*
 * Resolves dir (NULL: $TRAWL_DATA, else DATADIR_DEFAULT) and, when create is set, creates the
 * directory and its repos/ and index/ with mode 0700. ENOTFOUND when it does not exist and
 * create is not set (the message says how to start one), EIO, ENOMEM. Sets the process umask
 * to 077: whatever a registry command creates is private.
 */
int datadir_init(struct datadir *d, const char *dir, bool create);
void datadir_dispose(struct datadir *d);

/* A repository's paths under DATA/repos (new strings). */
struct datadir_repo {
	char *dir;    /* DATA/repos/ID */
	char *mirror; /* DATA/repos/ID/mirror.git */
	char *clone;  /* DATA/repos/ID/clone.tmp */
	char *old;    /* DATA/repos/ID.git: where an older trawl kept the mirror */
};

/* Fills p with repository id's paths. ENOMEM. */
int datadir_repo_init(struct datadir_repo *p, const struct datadir *d, int64_t id);
void datadir_repo_dispose(struct datadir_repo *p);

/*
 * Before a fetch: makes p->dir (mode 0700; an existing one must be a directory, not a symlink)
 * and moves a mirror an older trawl kept at p->old into it as p->mirror (its leftover
 * p->old.tmp is removed). 1 when a mirror was moved, else 0; EIO with a message.
 */
int datadir_repo_prepare(const struct datadir_repo *p);

/*
 * After a successful fetch (the worker and all it started have ended): a new clone
 * (is_cloned) is renamed from p->clone to p->mirror, never over an existing entry; then
 * p->mirror must be a directory, not a symlink (SECURITY: the index worker's read rule is made
 * by following that path, so the fetch worker must not point it at another repository's
 * mirror). ECORRUPT or EIO with a message.
 */
int datadir_repo_adopt(const struct datadir_repo *p, bool is_cloned);

/*
 * After a failed fetch: removes what a killed or failed clone left at p->clone, by directory
 * descriptors, never following a symlink (index_work_dir_remove).
 */
void datadir_repo_clean(const struct datadir_repo *p);

/* `trawl repo remove`: deletes p->dir and an older trawl's p->old with all they hold. EIO. */
int datadir_repo_remove(const struct datadir_repo *p);

/* Takes DATA/sync.lock without waiting: EPERM naming the directory when another holds it. */
int datadir_lock(struct datadir *d);

/* Deletes a directory tree at any depth, by descriptors (file_remove_tree). EIO, ELIMIT. */
int datadir_remove_tree(const char *dir);

/*
 * The URL policy: the --allow-* flags already in *p, plus TRAWL_ALLOW_INSECURE,
 * TRAWL_ALLOW_LOCAL and TRAWL_ALLOW_PRIVATE set to 1 in the environment.
 */
void datadir_policy_env(struct gurl_policy *p);

/*
 * The policy a sync checks a repository's URL under: what the repository was added with
 * (stored), widened by *p (the run's flags and environment).
 */
void datadir_policy_widen(struct gurl_policy *p, const struct store_policy *stored);

/*
 * A registry from before the URL policy files gets them (store_policy_migrate), with a notice
 * on stderr when any was written. EIO, ENOMEM.
 */
int datadir_policy_migrate(const struct datadir *d, struct store *s);

/* The policy `repo add` checked a URL under, as the registry stores it. */
struct store_policy datadir_policy_to_store(const struct gurl_policy *p);

/*
 * Whether r's index is to have symbols: its setting, or by default whether universal-ctags is
 * installed (ctags_installed).
 */
bool datadir_repo_symbols(const struct store_repo *r);

/*
 * Whether index repository name index_repo belongs to registered repository name: one
 * repository in the index holds all its branches (branch sets), under the same name.
 */
bool datadir_owns(const char *name, const char *index_repo);

#endif
