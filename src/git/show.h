/*
 * Reading one path of one commit of a mirror: a file's content or a directory's entries, for
 * the commit permalinks of the file, raw and tree routes once no indexed branch is at that
 * commit any more (docs/internals/sandbox.md, "The show worker"). Runs in `trawl worker show`
 * only, confined to the one mirror.
 *
 * SECURITY: F2: the commit is named by its full id only (no ref, no abbreviation, no revision
 * syntax reaches libgit2); a blob over max_size is never loaded (its header says its size); a
 * directory lists at most max_entries entries; the path is looked up component by component
 * in tree objects and never used as a file name.
 */
#ifndef TRAWL_GIT_SHOW_H
#define TRAWL_GIT_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gitshow_kind {
	GITSHOW_FILE = 1,      /* a blob: content (unless too large) */
	GITSHOW_DIR = 2,       /* a tree: entries */
	GITSHOW_NO_COMMIT = 3, /* the mirror has no commit of that id */
	GITSHOW_NO_PATH = 4,   /* the commit has no such path (or it is a symlink, a submodule) */
};

enum gitshow_etype {
	GITSHOW_E_FILE = 0,      /* a blob, executable or not */
	GITSHOW_E_DIR = 1,       /* a tree */
	GITSHOW_E_SYMLINK = 2,   /* listed, never followed (the index skips it too) */
	GITSHOW_E_SUBMODULE = 3, /* a gitlink: listed, not followed */
};

struct gitshow_entry {
	char *name;
	enum gitshow_etype type;
	uint64_t size; /* a file's, from its object header; 0 for the others */
};

struct gitshow_result {
	enum gitshow_kind kind;
	uint64_t size;       /* FILE: the blob's size */
	bool is_too_large;   /* FILE: over max_size, content not read */
	uint8_t *content;    /* FILE: size bytes (NULL when empty or too large) */
	struct gitshow_entry *entries; /* DIR: in the tree's order */
	size_t n_entries;
	bool is_truncated;   /* DIR: more than max_entries, the rest left out */
};

/*
 * Reads path (relative, '/'-separated; "" is the root) at commit (40 hex digits: hex_is_commit_id) of the
 * repository at mirror into *out. 0 with out->kind set (NO_COMMIT, NO_PATH included); EINVAL
 * for a commit that is no commit id, ECORRUPT, EIO, ENOMEM. Dispose of *out after, also on
 * failure. gitrepo_global_init() must have run.
 */
int gitshow_read(struct gitshow_result *out, const char *mirror, const char *commit,
		 const char *path, uint64_t max_size, size_t max_entries);
void gitshow_result_dispose(struct gitshow_result *r);

#endif
