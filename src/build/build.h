/*
 * The indexing pipeline for a directory tree: walk (never following symlinks, skipping .git
 * directories), classify each file, cut the sorted file list into shards of about
 * SHARD_TARGET_BYTES, write the shards in parallel, then swap them into the index atomically.
 */
#ifndef TRAWL_BUILD_BUILD_H
#define TRAWL_BUILD_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUILD_MAX_FILE_SIZE_DEFAULT ((uint64_t)1 << 20)
#define BUILD_BINARY_PROBE 8192 /* a NUL byte in this many leading bytes makes a file binary */

#define BUILD_MAX_FILES_DEFAULT 1000000ull

struct build_opts {
	uint64_t max_file_size; /* larger files are recorded but not indexed */
	unsigned n_threads;     /* 0 = one per core */
};

struct build_stats {
	uint64_t files;           /* regular files found */
	uint64_t bytes;           /* their total size */
	uint64_t files_done;      /* processed so far (for progress) */
	uint64_t bytes_done;
	uint64_t indexed;
	uint64_t indexed_bytes;
	uint64_t skipped_binary;
	uint64_t skipped_large;
	uint64_t skipped_unreadable;
	uint64_t symlinks;        /* not followed, not indexed */
	uint64_t other;           /* sockets, fifos, devices: ignored */
	uint64_t walk_errors;     /* directories that could not be read */
	uint64_t shards;
	double elapsed_ms;
	/* Git repositories only (build_git): */
	uint64_t submodules;      /* gitlinks: recorded, not followed */
	uint64_t trees_skipped;   /* directories not read: too deep, too large, unreadable */
	uint64_t paths_too_long;  /* entries whose path is over the limit: not recorded */
	char commit[65];          /* the commit indexed, in hex; "" for a directory */
};

/* Called about ten times a second while files are processed, on the calling thread. */
typedef void (*build_progress_fn)(const struct build_stats *st, void *arg);

/*
 * Indexes the tree at root as repository name into index_dir (created if missing), replacing
 * the repository's previous shards atomically. A problem with one file is a skip reason, never
 * an error; errors are for the whole run (EIO, ENOMEM, ENOTFOUND when root is not a directory,
 * EINVAL for a bad name), and leave the previous index untouched.
 */
int build_dir(struct build_stats *st, const char *index_dir, const char *name, const char *root,
	      const struct build_opts *o, build_progress_fn progress, void *arg);

/* Whether name is acceptable as a repository name (no '/', no control characters, ...). */
bool build_name_valid(const char *name);

/*
 * Git repositories (build_git.c). The committed tree of one branch is read through libgit2:
 * never a work tree, never uncommitted files, no program run. Regular blobs are indexed like
 * files; symlinks (DOC_SKIP_SYMLINK) and submodules (DOC_SKIP_SUBMODULE) are recorded by path
 * and never followed. docs/git.md has the details.
 *
 * build_git_init() starts libgit2 (call it once before the other build_git functions, and
 * build_git_shutdown() when done; EIO when it cannot start).
 */
int build_git_init(void);
void build_git_shutdown(void);

enum build_git_kind {
	BUILD_GIT_NONE,   /* not a git repository: use build_dir */
	BUILD_GIT_REPO,   /* a repository (work tree with .git, or bare) */
	BUILD_GIT_BROKEN, /* has a .git libgit2 cannot open; error_last() says why */
};

/* What root is (parent directories are never searched). */
enum build_git_kind build_git_probe(const char *root);

/*
 * The branches of the repository at root selected by patterns (names or fnmatch globs such as
 * "release/v*", validated: see gitrepo_branch_pattern_valid in src/git/repo.h), sorted, unique,
 * in a new NULL-terminated array freed with build_git_names_free. *n_invalid counts branches
 * left out because their names are not valid ref names. EINVAL (bad pattern), ENOTFOUND (a
 * named branch is missing, or nothing matches), EIO, ECORRUPT, ENOMEM.
 */
int build_git_branches(char ***out, size_t *n, size_t *n_invalid, const char *root,
		       char *const *patterns, size_t n_patterns);
void build_git_names_free(char **names);

/*
 * Whether pattern is acceptable for --branch: a branch name ("refs/heads/NAME" a valid ref name,
 * not starting with '-', UTF-8, at most 1024 bytes) or a glob (no control characters, not
 * starting with '-').
 */
bool build_git_branch_pattern_valid(const char *pattern);

/*
 * The repository name for branch of repository name: "NAME@BRANCH", or NAME when branch is
 * NULL. NULL when name or branch is not valid (build_name_valid, and a valid branch name) or on
 * ENOMEM (the detail is set). Caller frees. The branch part may hold '/' (release/1.0): that
 * repository name is data for the index and search, never a file name.
 */
char *build_git_repo_name(const char *name, const char *branch);

/*
 * Indexes the committed tree of branch (NULL = HEAD) of the git repository at root as
 * repository build_git_repo_name(name, branch) into index_dir, like build_dir: a problem with one
 * file is a skip reason; errors are for the whole run and leave the previous index untouched:
 * EINVAL (bad name), ENOTFOUND (not a repository, no such branch, no commit yet), ECORRUPT
 * (an unreadable root tree), ELIMIT (more than max_files files, or as many directories; 0 means
 * BUILD_MAX_FILES_DEFAULT), EUNSUPPORTED (objects borrowed through alternates), EIO, ENOMEM.
 */
int build_git(struct build_stats *st, const char *index_dir, const char *name, const char *root,
	      const char *branch, const struct build_opts *o, uint64_t max_files,
	      build_progress_fn progress, void *arg);

#endif
