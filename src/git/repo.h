/*
 * Git repositories read through libgit2: opening (a work tree's .git or a bare repository),
 * branch names and patterns, resolving a branch to its committed tree, and reading objects.
 *
 * Everything here reads the object database and the refs; nothing reads or writes a work tree,
 * nothing runs git or any other program, and no name from a repository is ever used to build a
 * file name. Names (branches, paths) are data: they are validated where the user typed them and
 * passed on as bytes where the repository holds them.
 *
 * SECURITY: a repository is opened with its own objects directory only. Alternates
 * (objects/info/alternates) are not followed, so a repository cannot read objects of another
 * repository on the same machine through a path it chose.
 *
 * A struct gitrepo is not thread-safe (libgit2 objects are not): every thread opens its own.
 * gitrepo_global_init() must have been called (once per process) before any other function here.
 */
#ifndef TRAWL_GIT_REPO_H
#define TRAWL_GIT_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GITREPO_OID_RAWSZ 20
#define GITREPO_OID_HEXSZ 40
/* The longest branch name accepted (also the shard format's limit on a branch name). */
#define GITREPO_BRANCH_MAX 1024

struct gitrepo;

struct gitrepo_oid {
	uint8_t id[GITREPO_OID_RAWSZ];
};

enum gitrepo_otype {
	GITREPO_OBJ_OTHER = 0,
	GITREPO_OBJ_BLOB,
	GITREPO_OBJ_TREE,
};

/*
 * Initialises libgit2 (reference-counted: pair every call with gitrepo_global_shutdown()).
 * EIO when libgit2 cannot start.
 */
int gitrepo_global_init(void);

/*
 * No system, XDG, global or program-data git configuration is read from now on (a worker
 * calls it before it confines itself: those files lie outside its trees). EIO.
 */
int gitrepo_config_isolate(void);
void gitrepo_global_shutdown(void);
/* Whether this libgit2 was built thread-safe (if not, use one thread). */
bool gitrepo_threads_ok(void);

enum gitrepo_probe {
	GITREPO_NONE,   /* not a git repository: index it as a directory */
	GITREPO_OK,     /* a repository libgit2 opens */
	GITREPO_BROKEN, /* looks like one (has a .git) but cannot be opened; error_last() says why */
};

/* What path is, without searching parent directories. */
enum gitrepo_probe gitrepo_probe(const char *path);

/*
 * Opens the repository at path: a work tree holding .git, a bare repository, or a git
 * directory; parent directories are never searched. ENOTFOUND when path is not a repository,
 * EIO (or ECORRUPT) when it is one libgit2 cannot read, ENOMEM.
 */
int gitrepo_open(struct gitrepo **out, const char *path);
/* NULL is a no-op. */
void gitrepo_close(struct gitrepo *r);
/* The git directory (borrowed, for the life of r). Opening it again gives the same repository. */
const char *gitrepo_path(const struct gitrepo *r);
/*
 * Whether the repository borrows objects from another one (objects/info/alternates exists, as
 * after git clone --shared or --reference). Such objects are not read (see above), so the caller
 * should refuse the repository with a clear message rather than index part of it.
 */
bool gitrepo_has_alternates(const struct gitrepo *r);

/*
 * Whether name is a branch name trawl accepts from a user: "refs/heads/NAME" is a valid ref
 * name (git_reference_name_is_valid), it does not start with '-' (V2), it is UTF-8 and at most
 * GITREPO_BRANCH_MAX bytes.
 */
bool gitrepo_branch_name_valid(const char *name);

/* Whether pattern holds fnmatch metacharacters (*, ?, [). */
bool gitrepo_is_pattern(const char *pattern);

/*
 * Whether pattern is acceptable as --branch: a plain name must pass gitrepo_branch_name_valid();
 * a glob must not start with '-', hold no control character, be UTF-8 and at most
 * GITREPO_BRANCH_MAX bytes.
 */
bool gitrepo_branch_pattern_valid(const char *pattern);

/*
 * The local branches (refs/heads/) matching any of patterns (fnmatch with no flags, so '*'
 * matches '/' too; a plain name must exist), sorted and without duplicates, in a new
 * NULL-terminated array of new strings (free with gitrepo_names_free). A matching branch whose
 * name gitrepo_branch_name_valid() refuses (a leading '-' included: V2 applies to names found
 * in a repository too) is left out and counted in *n_invalid. ENOTFOUND when a plain name does not exist or
 * when nothing matches (the message names it), EINVAL for a bad pattern, EIO, ENOMEM.
 */
int gitrepo_branches(char ***out, size_t *n, size_t *n_invalid, struct gitrepo *r,
		     char *const *patterns, size_t n_patterns);
void gitrepo_names_free(char **names);

/*
 * The tree of the commit that branch (NULL = HEAD, which may be detached) points to; *commit
 * gets the commit id in hex (NUL-terminated). ENOTFOUND (no such branch, or HEAD has no commit
 * yet), ECORRUPT (a ref that does not lead to a commit), ENOMEM.
 */
int gitrepo_resolve(struct gitrepo_oid *tree, char commit[GITREPO_OID_HEXSZ + 1],
		    struct gitrepo *r, const char *branch);

/*
 * The type and size of an object, read from its header only (a large blob is not loaded).
 * ENOTFOUND (missing object), ECORRUPT, ENOMEM.
 */
int gitrepo_object_header(enum gitrepo_otype *type, uint64_t *size, struct gitrepo *r,
			  const struct gitrepo_oid *id);

struct gitrepo_blob {
	const uint8_t *data; /* borrowed until gitrepo_blob_dispose; NULL when empty */
	size_t len;
	void *obj;
};

/*
 * Loads a blob. Its size is checked against max from the object header before anything is
 * loaded: a larger blob is ELIMIT, and is never read. ENOTFOUND (missing), ECORRUPT (not a
 * blob, or unreadable), ENOMEM.
 */
int gitrepo_blob_read(struct gitrepo_blob *out, struct gitrepo *r, const struct gitrepo_oid *id,
		      uint64_t max);
/* Frees the blob's memory; safe on a zeroed struct and after a failed read. */
void gitrepo_blob_dispose(struct gitrepo_blob *b);

#endif
