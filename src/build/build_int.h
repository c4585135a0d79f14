/*
 * The part of the indexing pipeline that directories (build.c) and git repositories
 * (build_git.c) share: cutting a sorted entry list into shards of about SHARD_TARGET_BYTES,
 * writing them on parallel threads with progress, and cleaning up after a failure. The entry
 * source says how many entries there are, how many content bytes each will add (for planning),
 * and adds one to a shard writer on a thread's own context (a directory fd and a buffer, or a
 * libgit2 repository, which must not be shared between threads).
 */
#ifndef TRAWL_BUILD_BUILD_INT_H
#define TRAWL_BUILD_BUILD_INT_H

#include "build/build.h"
#include "index/shard.h"
#include "util/clock.h"

struct pipeline;

struct pipeline_src {
	size_t n;  /* entries, in the order they go into shards */
	void *arg; /* passed to every callback */
	/* Content bytes entry i adds if indexed (0 for a skipped one): where shards are cut. */
	uint64_t (*weight)(void *arg, size_t i);
	/* A thread's context (NULL ctx allowed); close gets what open made, even on failure. */
	int (*thread_open)(void **ctx, void *arg);
	void (*thread_close)(void *ctx);
	/* Called on each new writer before any document (the branch table); may be NULL. */
	int (*writer_init)(struct shard_writer *w, void *arg);
	/* Adds entry i; reports what it did with pipeline_count. */
	int (*add)(struct pipeline *p, struct shard_writer *w, void *ctx, size_t i);
	/*
	 * Several repositories in one run (0: one, pipeline_opts.name): entries are grouped by
	 * repository, in order (repo_of never decreases; a repository may have none), and a
	 * shard that holds more than one is a compound shard (shard_writer_new_compound).
	 */
	size_t n_repos;
	size_t (*repo_of)(void *arg, size_t i);
	const char *(*repo_name)(void *arg, size_t r);
};

struct pipeline_opts {
	const char *index_dir;
	const char *name;      /* the repository name written into each shard */
	unsigned n_threads;    /* 0 = one per core */
	bool is_single_thread; /* the source cannot run on several threads */
	bool is_empty_ok;      /* no entries gives no shard (else one empty shard) */
	double deadline_ms;    /* clock_now_ms() past which the run fails with ELIMIT; 0 = none */
	uint64_t max_seconds;  /* for the message */
	unsigned seq_base;     /* first shard sequence number in file names */
	const struct ctags_opts *symbols; /* NULL: no symbols (build_opts.symbols) */
};

/*
 * Plans and writes the shards. On success *files holds the n new file names (relative to the
 * index directory, renamed into place, not yet listed in the MANIFEST). On failure nothing is
 * left behind. Errors: the first thread's (its message kept), ELIMIT past the deadline, ENOMEM.
 */
int pipeline_run(char ***files, size_t *n, struct build_stats *st, const struct pipeline_src *src,
		 const struct pipeline_opts *po, build_progress_fn progress, void *arg);

/*
 * pipeline_run for a source of several repositories: also, in *ranges (2 n numbers, caller
 * frees), the first and last repository each shard holds (an empty repository goes with a
 * neighbouring shard, so every repository is in at least one).
 */
int pipeline_run_repos(char ***files, size_t **ranges, size_t *n, struct build_stats *st,
		       const struct pipeline_src *src, const struct pipeline_opts *po,
		       build_progress_fn progress, void *arg);

/* Counts one entry done: its skip reason, content bytes indexed and size for progress. */
void pipeline_count(struct pipeline *p, enum doc_skip skip, uint64_t indexed_bytes,
		    uint64_t size_done);

/* The source's arg, for an add callback. */
void *pipeline_src_arg(const struct pipeline *p);

/* Frees files (n names); with remove, unlinks them from index_dir first. */
void pipeline_files_free(char **files, size_t n, const char *index_dir, bool remove);

#endif
