/*
 * Tree walking; see walk.h.
 *
 * DESIGN: an explicit stack instead of recursion (libgit2's git_tree_walk recurses, and a
 * hostile tree can be thousands of levels deep). Reading a directory reports its files at once
 * and pushes its subdirectories; their paths live back to back in one bounded buffer in stack
 * order, so popping a directory frees its path. Only one git_tree is alive at a time, so the
 * memory of the walk is bounded by the queue, not by the sizes of the trees on the current path.
 */
#include "git/walk.h"

#include <stdlib.h>
#include <string.h>

#include "git/git_int.h"
#include "util/array.h"
#include "util/buf.h"
#include "util/error.h"

struct pending {
	size_t path_off, path_len; /* within the queue buffer */
	size_t depth;              /* 0 for the root */
	struct gitrepo_oid oid;
};

struct walker {
	struct gitrepo *r;
	const struct gitwalk_limits *lim;
	struct gitwalk_stats *st;
	struct pending *v;
	size_t n, cap;
	struct buf queue; /* paths of the pending directories */
	struct buf cur;   /* the directory being read, then "dir/name" of each entry */
};

void gitwalk_limits_default(struct gitwalk_limits *lim, uint64_t max_files)
{
	*lim = (struct gitwalk_limits){
		.max_files = max_files,
		.max_trees = max_files,
		.max_depth = GITWALK_MAX_DEPTH_DEFAULT,
		.max_path_len = GITWALK_MAX_PATH_DEFAULT,
		.max_tree_bytes = GITWALK_MAX_TREE_BYTES_DEFAULT,
		.max_queue_bytes = GITWALK_MAX_QUEUE_BYTES_DEFAULT,
	};
}

static int push(struct walker *w, const char *prefix, size_t prefix_len, const char *name,
		size_t name_len, size_t depth, const git_oid *oid)
{
	struct pending *p;
	size_t off = w->queue.len;
	int err;

	if (w->st->trees + w->n >= w->lim->max_trees) {
		error_set("more than %llu directories (limit)", (unsigned long long)w->lim->max_trees);
		return TRAWL_ELIMIT;
	}
	if ((err = ARRAY_GROW(&w->v, &w->cap, w->n + 1)) < 0)
		return err;
	if ((err = buf_put(&w->queue, prefix, prefix_len)) < 0 ||
	    (prefix_len && (err = buf_putc(&w->queue, '/')) < 0) ||
	    (err = buf_put(&w->queue, name, name_len)) < 0) {
		if (err == TRAWL_ELIMIT)
			error_set("directory paths queued exceed %zu bytes (limit)",
				  w->lim->max_queue_bytes);
		return err;
	}
	p = &w->v[w->n++];
	*p = (struct pending){ .path_off = off, .path_len = w->queue.len - off, .depth = depth };
	gitrepo_oid_from(&p->oid, oid);
	return 0;
}

/* Loads the tree of p, or says why not. For the root a failure is an error, else a skip. */
static int load_tree(git_tree **out, struct walker *w, const struct pending *p)
{
	enum gitrepo_otype type;
	uint64_t size;
	git_oid oid;
	int rc, err;

	*out = NULL;
	if ((err = gitrepo_object_header(&type, &size, w->r, &p->oid)) < 0)
		return err;
	if (type != GITREPO_OBJ_TREE) {
		error_set("a directory entry is not a tree object");
		return TRAWL_ECORRUPT;
	}
	if (size > w->lim->max_tree_bytes) {
		error_set("a tree object of %llu bytes is over the %llu-byte limit",
			  (unsigned long long)size, (unsigned long long)w->lim->max_tree_bytes);
		return TRAWL_ELIMIT;
	}
	gitrepo_oid_to(&oid, &p->oid);
	if ((rc = git_tree_lookup(out, gitrepo_handle(w->r), &oid)) < 0)
		return gitrepo_error(rc, "reading a tree");
	return 0;
}

static int read_dir(struct walker *w, git_tree *tree, size_t depth, gitwalk_fn fn, void *arg)
{
	size_t base = w->cur.len, n = git_tree_entrycount(tree);
	int err;

	for (size_t i = 0; i < n; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(te);
		size_t name_len = strlen(name);
		size_t path_len = base + (base ? 1 : 0) + name_len;
		git_filemode_t mode = git_tree_entry_filemode(te);
		struct gitwalk_entry e;

		if (path_len > w->lim->max_path_len) {
			w->st->paths_too_long++;
			continue;
		}
		/*
		 * SECURITY: git never writes "." or ".." (fsck refuses them), but a hostile tree can
		 * hold them: "x/../../admin" is no file anyone can open (the server refuses such
		 * paths), and a link to it would leave /file/REPO/ in the browser.
		 */
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			w->st->bad_names++;
			continue;
		}
		if (mode == GIT_FILEMODE_TREE) {
			if (depth + 1 > w->lim->max_depth) {
				w->st->trees_skipped++;
				continue;
			}
			if ((err = push(w, w->cur.ptr, base, name, name_len, depth + 1,
					git_tree_entry_id(te))) < 0)
				return err;
			continue;
		}
		switch (mode) {
		case GIT_FILEMODE_BLOB_EXECUTABLE: e.kind = GITWALK_EXEC; break;
		case GIT_FILEMODE_LINK: e.kind = GITWALK_SYMLINK; break;
		case GIT_FILEMODE_COMMIT: e.kind = GITWALK_SUBMODULE; break;
		default: e.kind = GITWALK_BLOB; break; /* libgit2 maps any other mode to a blob */
		}
		if (w->st->files >= w->lim->max_files) {
			error_set("more than %llu files (limit)", (unsigned long long)w->lim->max_files);
			return TRAWL_ELIMIT;
		}
		w->cur.len = base;
		if ((base && (err = buf_putc(&w->cur, '/')) < 0) ||
		    (err = buf_put(&w->cur, name, name_len)) < 0)
			return err;
		e.path = w->cur.ptr;
		e.path_len = w->cur.len;
		gitrepo_oid_from(&e.oid, git_tree_entry_id(te));
		w->st->files++;
		if ((err = fn(&e, arg)) < 0)
			return err;
	}
	w->cur.len = base;
	return 0;
}

int gitwalk_run(struct gitwalk_stats *st, struct gitrepo *r, const struct gitrepo_oid *root,
		const struct gitwalk_limits *lim, gitwalk_fn fn, void *arg)
{
	struct walker w = { .r = r, .lim = lim, .st = st };
	git_oid root_oid;
	int err;

	memset(st, 0, sizeof(*st));
	buf_init(&w.queue, lim->max_queue_bytes);
	/* The current path holds at most one entry's path, itself under max_path_len. */
	buf_init(&w.cur, lim->max_path_len + 1);
	gitrepo_oid_to(&root_oid, root);
	if ((err = push(&w, "", 0, "", 0, 0, &root_oid)) < 0)
		goto out;
	while (w.n > 0) {
		struct pending p = w.v[--w.n];
		git_tree *tree = NULL;

		w.cur.len = 0;
		if ((err = buf_put(&w.cur, w.queue.ptr + p.path_off, p.path_len)) < 0)
			goto out;
		w.queue.len = p.path_off; /* stack order: this path was the last one queued */
		if ((err = load_tree(&tree, &w, &p)) < 0) {
			if (p.depth == 0 || err == TRAWL_ENOMEM)
				goto out;
			st->trees_skipped++;
			err = 0;
			continue;
		}
		st->trees++;
		err = read_dir(&w, tree, p.depth, fn, arg);
		git_tree_free(tree);
		if (err < 0)
			goto out;
	}
out:
	free(w.v);
	buf_dispose(&w.queue);
	buf_dispose(&w.cur);
	return err;
}
