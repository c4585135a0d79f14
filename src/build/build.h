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

#include "index/shard.h"
#include "symbols/ctags.h"

#define BUILD_MAX_FILE_SIZE_DEFAULT ((uint64_t)1 << 20)
#define BUILD_BINARY_PROBE 8192 /* a NUL byte in this many leading bytes makes a file binary */

#define BUILD_MAX_FILES_DEFAULT 1000000ull
#define BUILD_MAX_THREADS 64 /* indexing threads at most */

struct build_opts {
	uint64_t max_file_size; /* larger files are recorded but not indexed */
	unsigned n_threads;     /* 0 = one per core */
	/*
	 * Symbols (docs/internals/symbols.md): NULL writes shards without them; else each
	 * indexing thread runs one confined ctags with these options.
	 */
	const struct ctags_opts *symbols;
};

/*
 * How many indexing threads a run of n_threads (0: one per core) uses at most, 1 to
 * BUILD_MAX_THREADS; the ctags launcher of a sync worker allows as many live ctags.
 */
unsigned build_n_threads(unsigned n_threads);

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
	uint64_t symbols;         /* symbols extracted (with build_opts.symbols) */
	uint64_t symbols_failed;  /* files whose symbols ctags did not give: timeout, crash,
				   * too much output, not started (their content is indexed) */
	double elapsed_ms;
	/* Git repositories only (build_git): */
	uint64_t submodules;      /* gitlinks: recorded, not followed */
	uint64_t trees_skipped;   /* directories not read: too deep, too large, unreadable */
	uint64_t paths_too_long;  /* entries whose path is over the limit: not recorded */
	uint64_t bad_names;       /* entries named "." or "..": not recorded */
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

/*
 * build_dir for n trees at once, root[r] as repository names[r], in one pipeline and one
 * commit: small repositories share compound shards (docs/index-format.md, "REPOS"), so the
 * number of shards follows the amount of content, not of repositories. st[r] gets repository
 * r's counts (elapsed: the run's), total the run's (and the progress callback's). Errors as
 * build_dir, for the whole run: nothing is committed.
 */
int build_dirs(struct build_stats *st, struct build_stats *total, const char *index_dir,
	       char *const *names, char *const *roots, size_t n, const struct build_opts *o,
	       build_progress_fn progress, void *arg);

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

/* Per-repository limits of build_git_repo; beyond one, the run fails with ELIMIT. */
struct build_git_limits {
	uint64_t max_files;   /* documents (distinct files over all branches); 0 = default */
	uint64_t max_bytes;   /* content bytes to index (blobs within --max-file-size); 0 = none */
	uint64_t max_seconds; /* wall time of the run; 0 = none */
};

struct build_git_branch {
	char *name;        /* "main"; "HEAD" for a detached HEAD */
	char commit[65];   /* the commit indexed, hex */
	bool is_default;   /* searched without rev: (HEAD's branch) */
	bool is_reindexed; /* its commit changed (or it is new) in this run */
};

struct build_git_result {
	struct build_git_branch *branches; /* sorted by name */
	size_t n_branches;
	size_t n_invalid;      /* matching branches left out: names trawl refuses (e.g. "-x") */
	bool is_incremental;   /* the previous shards were kept; only changes were written */
	bool is_unchanged;     /* no branch moved: the index was not touched */
	uint64_t changed_files; /* incremental: entries that differ from the indexed commits */
	uint64_t delta_shards;  /* incremental: shards written by this run */
};

/* Frees what res holds (not res itself) and zeroes it; NULL is a no-op. */
void build_git_result_free(struct build_git_result *res);

/*
 * Indexes the git repository at root as repository name into index_dir: the committed trees of
 * the branches patterns select (names or globs, as build_git_branches; none = HEAD, which may
 * be detached), into one set of shards where a file identical on several branches is one
 * document with a set of branches. The branch HEAD points to is the default (searched without
 * rev:); with patterns that do not select it, the first selected branch is.
 *
 * When the index already holds the repository from a compatible run (same --max-file-size,
 * every branch still selected), only the branches whose head moved are compared with the
 * commits indexed before, only the changed files are read and written (into new delta shards),
 * and the old shards are kept untouched; an overlay in the MANIFEST reassigns or deletes their
 * documents. Past 8 delta shards or 10% of the repository's content in deltas, or when the
 * previous commits are gone, the run rebuilds everything instead (docs/git.md). The results
 * are the same either way.
 *
 * res (dispose with build_git_result_free) lists each branch with its commit. Errors are for
 * the whole run and leave the previous index untouched: EINVAL (bad name or pattern),
 * ENOTFOUND (not a repository, no such branch, no commit yet), ECORRUPT (an unreadable tree),
 * ELIMIT (lim exceeded: "limit: more than N files", "... bytes", "... seconds"; or a walk
 * limit), EUNSUPPORTED (alternates), EIO (also when another run committed the repository
 * meanwhile), ENOMEM.
 */
int build_git_repo(struct build_stats *st, struct build_git_result *res, const char *index_dir,
		   const char *name, const char *root, char *const *patterns, size_t n_patterns,
		   const struct build_opts *o, const struct build_git_limits *lim,
		   build_progress_fn progress, void *arg);

/*
 * What producing a repository's index gave, before it is committed: the branches (res) and the
 * new MANIFEST entry, whose first n_kept shards are the previous entry's (already in the index)
 * and the others new files in the directory they were written to. Its branches are made from
 * res at commit. Nothing to commit when res.is_unchanged.
 */
struct build_git_output {
	struct build_git_result res;
	struct index_repo_entry e; /* owned: name, shards, overlay; branches empty */
	size_t n_kept;
};

/*
 * Frees what out holds and zeroes it; with remove_dir, first unlinks its new shard files from
 * that directory (a run that is not committed leaves nothing). NULL is a no-op.
 */
void build_git_output_dispose(struct build_git_output *out, const char *remove_dir);

/*
 * The first half of build_git_repo (the index worker's part): indexes the git repository at
 * root as repository name, as build_git_repo does, starting from old (the repository's entry in
 * the MANIFEST of index_dir, or NULL), but writes the new shard files into out_dir and commits
 * nothing: *out describes the entry. Reads index_dir's old shards for an incremental run; never
 * writes there unless out_dir is index_dir. Errors as build_git_repo; on error nothing is left
 * in out_dir.
 */
int build_git_produce(struct build_stats *st, struct build_git_output *out, const char *out_dir,
		      const char *index_dir, const struct index_repo_entry *old, const char *name,
		      const char *root, char *const *patterns, size_t n_patterns,
		      const struct build_opts *o, const struct build_git_limits *lim,
		      build_progress_fn progress, void *arg);

/*
 * The second half: commits out into index_dir, replacing expect (the repository's entry the
 * output was built on; NULL or an empty entry when it had none), under the caller's
 * index_writer_begin. With work_dir NULL the new files are already in index_dir.
 *
 * With work_dir (the index worker's output, not trusted) each new file is checked before it is
 * linked (SECURITY): a plain shard name, a regular file in work_dir with one link (opened
 * without following symlinks), a shard that shard_open and shard_verify accept, of repository
 * out->e.name, with the entry's branch table; the kept shards must be exactly expect's and the
 * overlay may name only their documents. Then the files are renamed into index_dir (never over
 * an existing file) and the entry committed with index_commit_entry(expect). Any failure
 * removes what was renamed: the index stays as it was. ECORRUPT (a bad file or entry), EIO
 * (also "changed during this run"), EINVAL, ENOMEM; the message names the file.
 */
int build_commit(const char *index_dir, const char *work_dir, struct build_git_output *out,
		 const struct index_repo_entry *expect);

/*
 * build_commit in two steps, for a caller that commits many repositories at once (trawl sync):
 * build_commit_link checks out's new files in work_dir and renames them into index_dir, as
 * build_commit does, without committing (*n_linked renamed: on error, none stays); the caller
 * then commits build_entry_of(out) (out->e with res's branches: free e->branches alone, the
 * names are res's) with index_commit_entries_expect, and on failure unlinks the renamed files
 * with build_commit_unlink. Hold index_writer_begin from the link to the commit: the sweep of
 * another run removes files no MANIFEST lists.
 */
int build_commit_link(size_t *n_linked, const char *index_dir, const char *work_dir,
		      const struct build_git_output *out, const struct index_repo_entry *expect);
void build_commit_unlink(const char *index_dir, const struct build_git_output *out,
			 size_t n_linked);
int build_entry_of(struct index_repo_entry *e, const struct build_git_output *out);

#endif
