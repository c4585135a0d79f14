/*
 * Reading a commit of a repository's mirror for the file, raw and tree routes, through the
 * confined `trawl worker show` (handlers_mirror.c; docs/internals/sandbox.md, "The show
 * worker"). Thread-safe.
 */
#ifndef TRAWL_SERVER_MIRROR_H
#define TRAWL_SERVER_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct req;
struct snap_repo;

#define MIRROR_MAX_ENTRIES 5000u /* a directory's entries listed; more: "truncated" */
/* Reads at once (srv.mirror_pool's threads); one more is a 503. */
#define MIRROR_MAX_WORKERS 4

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

void mirror_answer_dispose(struct mirror_answer *a);

/*
 * The worker's answer out[0..len) into *a (zeroed by the caller): WIRE_SHOW, then
 * WIRE_SHOW_DATA parts (a file) or WIRE_SHOW_ENTRY (a directory), then WIRE_END. ECORRUPT or
 * ELIMIT for anything else (order, kinds, sizes, names), EIO for a WIRE_ERROR (its text in
 * error_last(), for the log), ENOTFOUND for one whose code is ENOTFOUND (the repository has
 * no mirror), ENOMEM. Dispose of *a after, also on failure.
 */
int mirror_parse(struct mirror_answer *a, const char *out, size_t len);

enum mirror_route { MIRROR_ROUTE_FILE, MIRROR_ROUTE_RAW, MIRROR_ROUTE_TREE };

/*
 * The answer of the file, raw or tree route (route) for commit (40 lowercase hex digits), which
 * no indexed branch of r is at: read from the repository's mirror on a mirror thread, the
 * request resumed with the answer (the file or tree JSON, "indexed": false; 404 "no such commit
 * in REPO", "not found", "commit not indexed"; 502, 503, 504: docs/api.md, "Commit
 * permalinks"). The caller has checked the repository is readable and the path; commit and path
 * must live as long as rq (req_param, req_keep). 0 (the answer is set or will be), ENOMEM.
 */
int mirror_route(struct req *rq, const struct snap_repo *r, const char *commit,
		 const char *path, size_t path_len, enum mirror_route route);

#endif
