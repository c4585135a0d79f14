/*
 * Reading a commit of a repository's mirror for the file, raw and tree routes, through the
 * confined `trawl worker show` (handlers_mirror.c; docs/internals/sandbox.md, "The show
 * worker").
 */
#ifndef TRAWL_SERVER_MIRROR_H
#define TRAWL_SERVER_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct req;

#define MIRROR_MAX_ENTRIES 5000u /* a directory's entries listed; more: "truncated" */
/* Reads at once (srv.mirror_pool's threads); one more is a 503. */
#define MIRROR_MAX_WORKERS 4

/* mirror_show's failures that are no TRAWL_E* code: mirror_fail answers them. */
#define MIRROR_BUSY (-1001)    /* 503: every worker slot is taken */
#define MIRROR_TIMEOUT (-1002) /* 504: the worker ran past its deadline or CPU time */
#define MIRROR_FAILED (-1003)  /* 502: it failed or answered nonsense (logged) */

struct mirror_entry {
	char *name;
	int type; /* enum gitshow_etype (git/show.h) */
	uint64_t size;
};

struct mirror_answer {
	int kind;      /* enum gitshow_kind (git/show.h) */
	uint64_t size; /* FILE: the blob's size */
	bool is_too_large, is_truncated;
	struct buf content; /* FILE: the content, unless too large */
	struct mirror_entry *entries; /* DIR */
	size_t n_entries;
};

/*
 * What commit (40 hex digits, lowercase) of the repository repo holds at path ("" the root),
 * read from its mirror: 0 with out->kind GITSHOW_FILE, _DIR, _NO_COMMIT or _NO_PATH. The caller
 * has checked the repository is readable and the path. ENOTFOUND "commit not indexed" when the
 * repository is in no registry (an index served without a data directory's registry), EIO
 * (the registry), MIRROR_TIMEOUT, MIRROR_FAILED. It waits for a process: call it on
 * srv.mirror_pool (mirror_defer), never on an HTTP thread. Dispose of *out after, also on
 * failure.
 */
int mirror_show(struct mirror_answer *out, struct req *rq, const char *repo, const char *commit,
		const char *path);
void mirror_answer_dispose(struct mirror_answer *a);

/*
 * The worker's answer out[0..len) into *a (zeroed by the caller): WIRE_SHOW, then
 * WIRE_SHOW_DATA parts (a file) or WIRE_SHOW_ENTRY (a directory), then WIRE_END. ECORRUPT or
 * ELIMIT for anything else (order, kinds, sizes, names), EIO for a WIRE_ERROR (its text in
 * error_last(), for the log), ENOMEM. Dispose of *a after, also on failure.
 */
int mirror_parse(struct mirror_answer *a, const char *out, size_t len);

/* For a MIRROR_* err: the 503, 504 or 502 answer set on rq, and 0; any other err returned. */
int mirror_fail(struct req *rq, int err);

/*
 * Runs fn(rq) on srv.mirror_pool with rq->work = work (fn frees it and calls mirror_done),
 * or answers 503 (MIRROR_BUSY) when MIRROR_MAX_WORKERS reads run; work is freed then. 0.
 */
int mirror_defer(struct req *rq, void *work, int (*fn)(struct req *rq));
/* The end of a deferred read: its slot is free again. */
void mirror_done(struct req *rq);

#endif
