/*
 * A directory's entries on a revision (server_int.h, "struct dir_walk"): the tree route lists
 * them, the README route looks for its file among them. A repository's documents are sorted by
 * path, so a directory's are consecutive under "dir/", with documents of other revisions
 * interleaved (passed over) and each subdirectory's in a run that one binary search skips.
 */
#include <string.h>

#include "server/server_int.h"

int dir_walk_init(struct dir_walk *w, const struct snap_repo *r, struct handlers_rev *rev,
		  const char *dir, size_t dir_len)
{
	int err;

	*w = (struct dir_walk){ .r = r, .rev = rev };
	buf_init(&w->pre, BUF_MAX_DEFAULT);
	if ((err = buf_put(&w->pre, dir, dir_len)) < 0 ||
	    (dir_len && (err = buf_putc(&w->pre, '/')) < 0))
		return err;
	w->pre_len = w->pre.len;
	w->i = snap_repo_lower_bound(r, w->pre.ptr, w->pre_len);
	return 0;
}

static bool under(const struct dir_walk *w, const struct snap_doc *d)
{
	return d->path_len >= w->pre_len && memcmp(d->path, w->pre.ptr, w->pre_len) == 0;
}

int dir_walk_next(struct dir_walk *w, struct dir_entry *out)
{
	while (w->i < w->r->n_docs && under(w, &w->r->docs[w->i])) {
		const struct snap_doc *d = &w->r->docs[w->i];
		const char *name = d->path + w->pre_len;
		size_t name_len = d->path_len - w->pre_len;
		const char *slash = memchr(name, '/', name_len);
		int err;

		if (!handlers_rev_has(w->rev, d)) {
			w->i++;
			continue;
		}
		*out = (struct dir_entry){ .doc = d, .name = name, .name_len = name_len,
					   .is_dir = slash != NULL };
		if (!slash) {
			w->i++;
			return 1;
		}
		/* A subdirectory: its entries are passed over at once ('0' follows '/' in byte order). */
		out->name_len = (size_t)(slash - name);
		w->pre.len = w->pre_len;
		if ((err = buf_put(&w->pre, name, out->name_len)) < 0 || (err = buf_putc(&w->pre, '0')) < 0)
			return err;
		w->i = snap_repo_lower_bound(w->r, w->pre.ptr, w->pre.len);
		w->pre.len = w->pre_len;
		return 1;
	}
	return 0;
}

void dir_walk_dispose(struct dir_walk *w)
{
	buf_dispose(&w->pre);
}
