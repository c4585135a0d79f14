/*
 * Walking a committed git tree: every entry that is not a directory, with its full path as
 * bytes, its kind and its object id. The walk reads tree objects only (never a blob) and holds at
 * most one tree object at a time: a directory's entries are reported or queued, then the tree is
 * freed before the next one is read.
 *
 * Paths are repository data and are reported as they are: any byte but NUL and '/', including
 * newlines, control characters, a leading '-' and "." or ".." components (which git refuses to
 * create but a hand-made tree can hold). Nothing here uses a path as a file name.
 *
 * SECURITY: F2: limits bound the walk of a hostile tree: depth, path length, number of files,
 * number of directories, bytes of a single tree object, and the bytes of paths queued.
 */
#ifndef TRAWL_GIT_WALK_H
#define TRAWL_GIT_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "git/repo.h"

enum gitwalk_kind {
	GITWALK_BLOB,      /* 100644 */
	GITWALK_EXEC,      /* 100755 */
	GITWALK_SYMLINK,   /* 120000: a blob holding the link text */
	GITWALK_SUBMODULE, /* 160000: a commit of another repository */
};

struct gitwalk_entry {
	const char *path; /* '/'-separated, relative to the tree; borrowed for the callback */
	size_t path_len;  /* path is also NUL-terminated (a git name holds no NUL) */
	enum gitwalk_kind kind;
	struct gitrepo_oid oid;
};

struct gitwalk_limits {
	uint64_t max_files;      /* entries reported; one more is ELIMIT */
	uint64_t max_trees;      /* directories read; one more is ELIMIT */
	size_t max_depth;        /* directories nested deeper are not read (counted) */
	size_t max_path_len;     /* longer paths are not reported (counted) */
	uint64_t max_tree_bytes; /* a larger tree object is not read (counted) */
	size_t max_queue_bytes;  /* paths of directories waiting to be read; more is ELIMIT */
};

#define GITWALK_MAX_DEPTH_DEFAULT 512
#define GITWALK_MAX_PATH_DEFAULT 16384
#define GITWALK_MAX_TREE_BYTES_DEFAULT ((uint64_t)64 << 20)
#define GITWALK_MAX_QUEUE_BYTES_DEFAULT ((size_t)256 << 20)

/* Fills limits with the defaults above and max_files = max_trees = max_files. */
void gitwalk_limits_default(struct gitwalk_limits *lim, uint64_t max_files);

struct gitwalk_stats {
	uint64_t files;         /* entries reported */
	uint64_t trees;         /* directories read, the root included */
	uint64_t trees_skipped; /* directories not read: too deep, too large, missing or corrupt */
	uint64_t paths_too_long; /* entries (files or directories) whose path was over the limit */
	uint64_t bad_names;      /* entries named "." or "..": skipped */
};

/* Called for each entry; a negative return stops the walk and is returned by gitwalk_run. */
typedef int (*gitwalk_fn)(const struct gitwalk_entry *e, void *arg);

/*
 * Walks the tree root of r, calling fn for every file, symlink and submodule entry, in no
 * particular order. A subdirectory that cannot be read is counted in st and skipped; the root
 * tree must be readable (ENOTFOUND, ECORRUPT). ELIMIT when max_files, max_trees or
 * max_queue_bytes is exceeded (the message says which), ENOMEM, or fn's error.
 */
int gitwalk_run(struct gitwalk_stats *st, struct gitrepo *r, const struct gitrepo_oid *root,
		const struct gitwalk_limits *lim, gitwalk_fn fn, void *arg);

#endif
