/*
 * The indexing pipeline for a directory tree: walk (never following symlinks, skipping .git
 * directories), classify each file, cut the sorted file list into shards of about
 * SHARD_TARGET_BYTES, write the shards in parallel, then swap them into the index atomically.
 */
#ifndef TRAWL_BUILD_BUILD_H
#define TRAWL_BUILD_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#define BUILD_MAX_FILE_SIZE_DEFAULT ((uint64_t)1 << 20)
#define BUILD_BINARY_PROBE 8192 /* a NUL byte in this many leading bytes makes a file binary */

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

#endif
