/*
 * What changed between two committed trees, through libgit2's tree-to-tree diff, which skips
 * every subtree whose object id is unchanged: comparing two commits of the Linux kernel that
 * differ in one file reads a dozen tree objects, not 5,000. Only the trees are read, never a
 * blob (the deltas are taken from the diff list, no patch or binary detection is made).
 *
 * No rename or copy detection: a rename is a deletion and an addition. A change of type (file
 * to symlink) is a deletion and an addition too; a mode change within regular files (644 to
 * 755) is a modification whose two sides may have the same blob.
 */
#ifndef TRAWL_GIT_DIFF_H
#define TRAWL_GIT_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "git/repo.h"
#include "git/walk.h"

struct gitdiff_side {
	bool is_present;
	enum gitwalk_kind kind;
	struct gitrepo_oid oid;
};

struct gitdiff_entry {
	const char *path; /* full path in the tree, NUL-terminated; borrowed for the callback */
	size_t path_len;
	struct gitdiff_side old_side, new_side;
};

typedef int (*gitdiff_fn)(const struct gitdiff_entry *e, void *arg);

/*
 * Calls fn for every file, symlink or submodule entry that differs between tree old_tree (NULL:
 * the empty tree, so every entry of new_tree is an addition) and new_tree. ENOTFOUND or
 * ECORRUPT (a tree cannot be read), ENOMEM, or fn's error.
 */
int gitdiff_trees(struct gitrepo *r, const struct gitrepo_oid *old_tree,
		  const struct gitrepo_oid *new_tree, gitdiff_fn fn, void *arg);

/*
 * The tree of commit hex (40 hex digits). ENOTFOUND when the commit is not in the repository
 * (any more), ECORRUPT, EINVAL for a bad hex string.
 */
int gitrepo_commit_tree(struct gitrepo_oid *tree, struct gitrepo *r, const char *hex);

/*
 * The branch HEAD points to ("main" for refs/heads/main), in a new string, or *out = NULL when
 * HEAD is detached or points outside refs/heads. ENOMEM, ECORRUPT (HEAD unreadable).
 */
int gitrepo_head_branch(char **out, struct gitrepo *r);

#endif
